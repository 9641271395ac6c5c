"""Printing benchmark tables the same way in every script."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def installed_bytecode() -> None:
    """Compile katsheet's modules to bytecode, as `pip install .` does (README): a process then
    starts the way an installed katsheet starts. From a source checkout, or with
    PYTHONDONTWRITEBYTECODE set, every `katsheet` process would compile the package again (about
    0.2 s of each whole-process figure on this machine)."""
    import compileall

    import katsheet

    compileall.compile_dir(Path(katsheet.__file__).parent, quiet=1)


def as_command(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` run in this process as the `katsheet` command runs it: with Python's cycle collector
    paused (katsheet/cli/main.py, ``gc_paused``)."""
    from katsheet.cli.main import gc_paused

    def run() -> Any:
        with gc_paused():
            return fn()

    return run


def one_core(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` run with KATSHEET_SERIAL=1: everything in this process, nothing on the other core
    (katsheet/workbook/background.py), for the figure of a one-core machine."""
    import os

    from katsheet.workbook.background import SERIAL_VARIABLE

    def run() -> Any:
        before = os.environ.get(SERIAL_VARIABLE)
        os.environ[SERIAL_VARIABLE] = "1"
        try:
            return fn()
        finally:
            if before is None:
                del os.environ[SERIAL_VARIABLE]
            else:
                os.environ[SERIAL_VARIABLE] = before

    return run


def timed(fn: Callable[[], Any], *, repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def timed_together(fns: dict[str, Callable[[], Any]], *, repeat: int = 1) -> tuple[dict[str, float], dict[str, Any]]:
    """Best wall time of each function over ``repeat`` rounds, run in turn within each round: this
    machine's speed drifts by a third from minute to minute, and a ratio of two timings is only fair
    when both were taken in the same minutes. Also the last result of each."""
    best = dict.fromkeys(fns, float("inf"))
    results: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def peak_mib(fn: Callable[[], Any]) -> float:
    """Peak Python-allocated memory of one run, in MiB (tracemalloc: Python objects only)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def show(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for c in columns:
        table.add_column(c, justify="right" if c != columns[0] else "left")
    for r in rows:
        table.add_row(*[str(x) for x in r])
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 200)  # a file or a pipe gets the whole table, not cut columns
    console.print(table)
