"""Work on the other core (katsheet/workbook/background.py): the answer never depends on the fork.

Each function here records, in this process, that it ran: a result that comes back while the
record stays empty was computed in the child."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from katsheet.workbook import background
from katsheet.workbook.background import Background, can_fork

forking = pytest.mark.skipif(not can_fork(), reason="forks only on Linux, with two cores and one thread")


class Counted:
    """A function that counts its runs in this process (a forked child's count is its own)."""

    def __init__(self, fn):
        self.fn, self.runs = fn, 0

    def __call__(self):
        self.runs += 1
        return self.fn()


def _pid_and_sum() -> tuple[int, int]:
    return os.getpid(), sum(range(1_000_000))


@forking
def test_a_result_computed_in_the_child_comes_back_whole() -> None:
    fn = Counted(_pid_and_sum)
    with Background(fn) as job:
        assert job.forked
        pid, total = job.result()
    assert pid != os.getpid() and total == sum(range(1_000_000))
    assert fn.runs == 0  # not computed here


@forking
def test_an_exception_in_the_child_is_raised_here_by_computing_again() -> None:
    def fails() -> None:
        raise ValueError("the cell D7 holds 'abc'")

    fn = Counted(fails)
    with Background(fn) as job, pytest.raises(ValueError, match="D7 holds 'abc'"):
        job.result()
    assert fn.runs == 1


@forking
def test_a_result_that_cannot_be_pickled_is_computed_here() -> None:
    fn = Counted(lambda: lambda: 42)
    with Background(fn) as job:
        assert job.result()() == 42
    assert fn.runs == 1


@forking
def test_a_child_killed_midway_is_replaced_by_computing_here() -> None:
    def slow() -> str:
        time.sleep(0.5)
        return "done"

    fn = Counted(slow)
    job = Background(fn)
    os.kill(job.pid, 9)
    assert job.result() == "done" and fn.runs == 1


@forking
def test_close_stops_a_child_whose_result_is_not_wanted() -> None:
    job = Background(lambda: time.sleep(60))
    pid = job.pid
    start = time.monotonic()
    job.close()
    assert time.monotonic() - start < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more


def test_katsheet_serial_runs_everything_here(monkeypatch) -> None:
    monkeypatch.setenv(background.SERIAL_VARIABLE, "1")
    fn = Counted(_pid_and_sum)
    with Background(fn) as job:
        assert not job.forked
        assert job.result()[0] == os.getpid() and fn.runs == 1


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        fn = Counted(_pid_and_sum)
        with Background(fn) as job:
            assert not job.forked
            assert job.result()[0] == os.getpid() and fn.runs == 1
    finally:
        stop.set()
        other.join()


SAMPLES = sorted((Path(__file__).resolve().parents[1] / "sample_workbooks").glob("*.xlsx"))


@forking
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_a_check_evaluated_on_the_other_core_finds_what_a_check_in_one_process_finds(sample, monkeypatch) -> None:
    """Each shipped sample, the hand-edited one with its planted mistakes too: the same findings."""
    from katsheet.workbook.checker import check
    from katsheet.workbook.reader import FunctionsWorkbook, read_workbook

    forks: list[bool] = []
    real = Background._fork
    monkeypatch.setattr(Background, "_fork", lambda self: forks.append(True) or real(self))
    try:
        forked = check(read_workbook(sample))
    except FunctionsWorkbook:
        pytest.skip("a sheet of katsheet's Excel functions: checked call by call, nothing evaluated")
    assert forks == [True]
    book = read_workbook(sample, evaluate_early=True)  # evaluated from the moment the cells are read
    assert len(forks) == 2 and book.early is not None
    own = not book.formula_keys <= book.formula_cell_keys()  # the hand-edited month's formulas of its own
    assert check(book) == forked
    # taken by the check, or (formulas of the file's own) dropped for an evaluation without them
    assert len(forks) == 2 + own and book.early is None
    monkeypatch.setenv(background.SERIAL_VARIABLE, "1")
    assert check(read_workbook(sample)) == forked
    assert len(forks) == 2 + own


@forking
def test_an_early_evaluation_is_dropped_when_the_file_has_formulas_of_its_own(tmp_path, monkeypatch) -> None:
    """A score typed as a formula counts by its stored value (1), never by what it would give (0.5):
    the evaluation begun before the layout was known counted it as a formula, so the check
    evaluates again without it, and finds what a check in one process finds."""
    from workbooks import with_sheet_edited

    from katsheet.workbook.checker import check
    from katsheet.workbook.reader import read_workbook

    sample = next(p for p in SAMPLES if p.stem == "2026-11-expanded")
    path = with_sheet_edited(sample, tmp_path / "typed.xlsx", "Scoring", rb'(<c r="E16"[^>]*>)<v>1</v>',
                             rb"\g<1><f>0+0.5</f><v>1</v>")  # fmt: skip
    book = read_workbook(path, evaluate_early=True)
    assert ("Scoring", "E16") in book.formula_keys and book.early is not None
    early = check(book)
    monkeypatch.setenv(background.SERIAL_VARIABLE, "1")
    assert early == check(read_workbook(path))
    assert not [f for f in early.findings if f.kind in ("wrong-number", "stale-value")]
