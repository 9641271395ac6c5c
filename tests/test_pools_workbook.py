"""The task-pool workbook (issue 14, grape.md 6): P1 to P5 and random months written by katsheet,
recalculated by LibreOffice and by `formulas` (katsheet's column-wise evaluation), every computed
cell held to the engine; `katsheet new --template pools` and `katsheet check` on real LibreOffice
edits."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from libreoffice import require_libreoffice
from test_pools import VECTORS
from workbooks import cached_values, described, evaluated_values, libreoffice_mismatches, mismatches

from katsheet.engine.grape.pools import Asset, Task, TaskScore
from katsheet.layouts.pools import MEMBERS, SCORING, TASKS, PoolsMonth, pools_layout, pools_month
from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.writer import workbook_bytes
from katsheet.workbook.xlsx import read_xlsx

RANDOM_MONTHS = 40
LEVELS = ("LEVEL 0", "LEVEL 1", "LEVEL 2", "LEVEL 3")


def vector_month(vector) -> PoolsMonth:
    name, budget, d, cap, tasks, scores, _, _ = vector
    return pools_month("2026-12", tasks, [Asset(name.split()[-1], Decimal(budget), d)], scores,
                       max_share=Decimal(cap) if cap else None, capacity=5)  # fmt: skip


def random_month(seed: int) -> PoolsMonth:
    """Tasks with lone scorers, ties and nobody; levels and percentages; a cap or none; 1 to 3
    assets at 0 to 9 decimals."""
    rnd = random.Random(seed)
    tasks = [Task(f"Task {t}", Decimal(rnd.choice([0, 1, 5, 15, 33, 60]))) for t in range(rnd.randint(1, 6))]
    if not any(t.share for t in tasks):
        tasks[0] = Task(tasks[0].name, Decimal(7))
    scores = []
    for m in range(rnd.randint(1, 25)):
        for t in rnd.sample(tasks, rnd.randint(0, len(tasks))):
            value = rnd.choice([Decimal(rnd.randint(0, 100)) / 100, Decimal("0.333333"), Decimal(1), Decimal(0)])
            scores.append(TaskScore(f"member {m}", t.name, value))
    kinds = [("1000", 6), ("1", 9), ("123456.78", 2), ("0", 6), ("7", 0), ("2500", 9), ("9999999", 6)]
    assets = [Asset(n, Decimal(b), d) for n, (b, d) in zip(("GRAPE", "USDC", "SOL"), rnd.sample(kinds, 3), strict=True)]
    assets = assets[: rnd.randint(1, 3)]
    cap = rnd.choice([None, Decimal("0.4"), Decimal("0.05"), Decimal(1)])
    return pools_month("2026-12", tasks, assets, scores, max_share=cap, capacity=rnd.choice([5, 30]))


def months() -> dict[str, PoolsMonth]:
    out = {v[0]: vector_month(v) for v in VECTORS}
    return out | {f"random-{s}": random_month(s) for s in range(RANDOM_MONTHS)}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, tuple[PoolsMonth, Path]]:
    folder = tmp_path_factory.mktemp("pools")
    out = {}
    for name, month in months().items():
        path = folder / f"{name.replace(' ', '-')}.xlsx"
        path.write_bytes(workbook_bytes(pools_layout(month), month, decimals=month.decimals))
        out[name] = (month, path)
    return out


def test_the_months_hold_every_rule(written) -> None:
    """The proof is only as good as its months: lone scorers, shared pools, unscored tasks, the cap."""
    tasks = [t for month, _ in written.values() for a in month.allocations for t in a.tasks]
    assert {0, 1} <= {t.scorers for t in tasks} and any(t.scorers >= 2 for t in tasks)
    members = [m for month, _ in written.values() for a in month.allocations for m in a.members]
    assert any(m.capped for m in members) and any(not m.capped and m.total for m in members)


def test_the_cached_values_are_the_engines(written) -> None:
    bad = {n: m for n, (month, p) in written.items() if (m := mismatches(month, cached_values(p)))}
    assert not bad, bad


def test_formulas_recalculates_the_engines_figures(written) -> None:
    bad = {n: m for n, (month, path) in written.items() if (m := mismatches(month, evaluated_values(path)))}
    assert not bad, described(bad)


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_engines_figures(written, tmp_path) -> None:
    require_libreoffice()
    names = list(written)
    bad, recalculated = libreoffice_mismatches(written, tmp_path / "lo")
    assert not bad, described(bad)
    # and the checker reads LibreOffice's files back to the same months, silent
    for n, p in zip(names[:8], recalculated[:8], strict=True):
        assert check(read_workbook(p)).findings == [], n


def test_the_vectors_totals_are_on_the_members_sheet(written) -> None:
    month, path = written["P2"]
    values = cached_values(path)
    table = pools_layout(month).sheet(MEMBERS).table
    totals = {values[(MEMBERS, f"{table.letter('member')}{table.first_row + i}")]:
              values[(MEMBERS, f"{table.letter('total_1')}{table.first_row + i}")] for i in range(3)}  # fmt: skip
    assert totals == {"x": pytest.approx(361.445783), "y": 400, "z": 0}
    capped = {values[(MEMBERS, f"{table.letter('capped_1')}{table.first_row + i}")] for i in range(3)}
    assert capped == {True, False}


# -- katsheet new and katsheet check -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    from katsheet.cli.main import main

    out = tmp_path_factory.mktemp("sample") / "pools.xlsx"
    assert main(["new", str(out), "--template", "pools", "--sample", "--month", "2026-12", "--max-reward", "15%"]) == 0
    return out


def test_new_writes_the_sample_with_its_three_assets(sample) -> None:
    book = read_workbook(sample)
    assert book.month is not None and [a.name for a in book.month.assets] == ["GRAPE", "USDC", "SOL"]
    assert check(book).findings == []
    allocations = book.month.allocations
    assert any(m.capped for m in allocations[0].members)  # 15%: Ada (19,203 before the cap) is cut to 15,000
    for a in allocations:
        assert sum(m.total for m in a.members) + a.returned_to_treasury == a.budget


def test_new_refuses_bad_pools_input_in_one_line(run, tmp_path) -> None:
    tasks = tmp_path / "tasks.csv"
    tasks.write_text("task,share\nDev,60\nOps,40\n")
    roster = tmp_path / "roster.csv"
    roster.write_text("member,task,score\nAda,Dev,90%\nAda,Design,50%\n")
    result = run("new", str(tmp_path / "m.xlsx"), "--template", "pools", "--tasks", str(tasks), "--roster",
                 str(roster), "--budget", "100")  # fmt: skip
    code, _, err = result
    assert code == 2 and "roster.csv row 3" in err and "no such task" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.xlsx").exists()
    code, _, err = run("new", str(tmp_path / "m.xlsx"), "--template", "pools", "--sample", "--threshold", "0.5")
    assert code == 2 and "--threshold" in err


@pytest.fixture
def edit(lo_editor, tmp_path):
    def run(base: Path, *ops: list) -> Path:
        return lo_editor.edit(base, tmp_path / f"edited-{base.name}", list(ops))

    return run


def _cell(path: Path, sheet: str, key: str, row: int) -> str:
    book = read_workbook(path)
    table = book.layout.sheet(sheet).table
    return f"{table.letter(key)}{table.first_row + row}"


def test_a_libreoffice_round_trip_and_follower_edits_stay_clean(sample, edit) -> None:
    """Saved by LibreOffice, a score changed, a member typed into a spare row, Members sorted by
    a total: the formulas follow, the checker is silent."""
    assert check(read_workbook(edit(sample))).findings == []
    member, score = _cell(sample, SCORING, "member", 12), _cell(sample, SCORING, "s_2", 12)
    typed = edit(sample, ["set", SCORING, score, 0.75], ["set_text", SCORING, member, "Zed Newcomer"],
                 ["set", SCORING, _cell(sample, SCORING, "s_1", 0), "LEVEL 1"])  # fmt: skip
    book = read_workbook(typed)
    assert check(book).findings == [] and len(book.month.rows) == 13
    table = book.layout.sheet(MEMBERS).table
    last = table.letter("capped_3")
    total = table.index("total_1") - table.first_col
    ordered = edit(typed, ["sort", MEMBERS, f"A{table.first_row}:{last}{table.first_row + 12}", total, True])
    assert check(read_workbook(ordered)).findings == []


def test_each_mistake_is_one_finding_at_its_cell(sample, edit) -> None:
    total = _cell(sample, MEMBERS, "total_1", 0)
    found = check(read_workbook(edit(sample, ["set", MEMBERS, total, 99999]))).findings
    assert {(f.kind, f.sheet, f.cell) for f in found} <= {("formula-drift", MEMBERS, total),
                                                          ("wrong-number", MEMBERS, total)}, found  # fmt: skip
    assert found[0].kind == "formula-drift"
    score = _cell(sample, SCORING, "s_1", 1)
    found = check(read_workbook(edit(sample, ["set_text", SCORING, score, "lots"]))).findings
    assert [(f.kind, f.cell) for f in found] == [("bad-input", score)]
    cell = read_workbook(sample).layout.sheet(TASKS).param("Share_2").cell
    share = check(read_workbook(edit(sample, ["set_text", TASKS, cell, "forty"]))).findings
    assert [(f.kind, f.sheet, f.cell) for f in share] == [("bad-input", TASKS, cell)]
    twice = _cell(sample, SCORING, "member", 12)
    found = check(read_workbook(edit(sample, ["set_text", SCORING, twice, "ada okafor"]))).findings
    assert [(f.kind, f.cell, "same member twice" in f.message) for f in found] == [("bad-input", twice, True)]


def test_the_shipped_pools_files_are_clean() -> None:
    root = Path(__file__).resolve().parents[1]
    for path in (root / "templates" / "grape-pools.xlsx", root / "sample_workbooks" / "2026-11-pools.xlsx"):
        book = read_workbook(path)
        assert book.month is not None and check(book).findings == [], path


def test_common_hand_edits_are_not_errors(sample, edit) -> None:
    """A Scoring row inserted with its formulas filled down and a member typed in, a row deleted,
    the Scoring rows sorted by name, a notes column inserted: the formulas follow, and the checker
    holds the numbers to the rules on the edited inputs, silent."""
    book = read_workbook(sample)
    table = book.layout.sheet(SCORING).table
    first, last = table.first_row, table.last_row
    row = first + 3
    inserted = edit(sample, ["insert_rows", SCORING, row, 1], ["fill_down", SCORING, f"A{row - 1}:{table.letter('b_3')}{row - 1}", 1],
                    ["clear", SCORING, f"A{row}:{table.letter('s_4')}{row}"], ["set_text", SCORING, f"A{row}", "Nova Vale"],
                    ["set", SCORING, f"{table.letter('s_2')}{row}", 0.5])  # fmt: skip
    edited = read_workbook(inserted)
    assert check(edited).findings == [] and "Nova Vale" in [r.member for r in edited.month.rows]
    deleted = edit(sample, ["delete_rows", SCORING, first + 1, 1])
    assert check(read_workbook(deleted)).findings == []
    ordered = edit(sample, ["sort", SCORING, f"A{first}:{table.letter('b_3')}{first + 11}", 0, False])
    assert check(read_workbook(ordered)).findings == []
    notes = edit(sample, ["insert_columns", SCORING, "B", 1], ["set_text", SCORING, f"B{first}", "=not a formula"])
    assert check(read_workbook(notes)).findings == []
    below = edit(sample, ["set_text", SCORING, f"A{last + 2}", "Late Comer"])
    found = check(read_workbook(below)).findings
    assert [(f.kind, f.cell) for f in found] == [("bad-input", f"A{last + 2}")]


def test_user_text_stays_text(tmp_path) -> None:
    """Task and member names that look like formulas or markup arrive as the literal strings."""
    tasks = [Task('=HYPERLINK("http://x","y")', Decimal(1)), Task("@SUM(A1)", Decimal(2))]
    scores = [TaskScore("=1+1", tasks[0].name, Decimal("0.5")), TaskScore("<script>", tasks[1].name, Decimal(1))]
    month = pools_month("2026-12", tasks, [Asset("GRAPE", Decimal(100), 2)], scores, capacity=5)
    path = tmp_path / "t.xlsx"
    path.write_bytes(workbook_bytes(pools_layout(month), month, decimals=2))
    raw = read_xlsx(path)
    texts = {v for k, v in raw.formulas.items() if k not in raw.formula_keys}
    assert {"=1+1", "<script>", 'Score: =HYPERLINK("http://x","y")', "@SUM(A1)"} <= texts
    book = read_workbook(path)
    assert check(book).findings == [] and [r.member for r in book.month.rows] == ["=1+1", "<script>"]
