"""GREMS task pools at the issue's size: 1,000 members x 20 tasks x 3 assets (issue 14).

    python benchmarks/bench_pools.py [--members 1000 --tasks 20]

Baseline in the same run: pandas computing the same pools with binary floats (a groupby per
task and a sum per member), what a script beside a spreadsheet would do. katsheet computes in
exact fractions and checks every row. Target (issue 14): `katsheet compute` under 1 s.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd
from _table import installed_bytecode, show, timed

from katsheet.engine.grape.pools import Task, TaskScore, allocate_scoring, pool_scoring

ASSETS = [("GRAPE", Decimal(1_000_000), 6), ("USDC", Decimal(25_000), 2), ("SOL", Decimal(40), 9)]
LEVELS = [Decimal(0), Decimal("0.33"), Decimal("0.66"), Decimal(1)]


def month(members: int, tasks: int) -> tuple[list[Task], list[TaskScore]]:
    rnd = random.Random(14)
    ts = [Task(f"task {t + 1}", Decimal(rnd.randint(1, 20))) for t in range(tasks)]
    scores = [TaskScore(f"member {m + 1}", t.name, rnd.choice(LEVELS)) for m in range(members) for t in ts]
    return ts, scores


def with_pandas(tasks: list[Task], scores: list[TaskScore]) -> None:
    frame = pd.DataFrame({"member": [s.member for s in scores], "task": [s.task for s in scores],
                          "score": [float(s.score) for s in scores]})  # fmt: skip
    share = pd.Series({t.name: float(t.share) for t in tasks})
    for _, budget, d in ASSETS:
        pat = frame["task"].map(share / share.sum() * float(budget))
        tpws = frame.groupby("task")["score"].transform("sum")
        scorers = frame.assign(on=frame["score"] > 0).groupby("task")["on"].transform("sum")
        pwr = (frame["score"] / tpws * pat).where(scorers > 1, frame["score"] * pat).fillna(0)
        (pwr.groupby(frame["member"]).sum() * 10**d // 1 / 10**d).sum()


def main() -> None:
    installed_bytecode()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=20)
    args = parser.parse_args()
    tasks, scores = month(args.members, args.tasks)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "tasks.csv").write_text("task,share\n" + "".join(f"{t.name},{t.share}\n" for t in tasks))
        (folder / "scores.csv").write_text(
            "member,task,score\n" + "".join(f"{s.member},{s.task},{s.score}\n" for s in scores)
        )

        def engine() -> list:
            scoring = pool_scoring(tasks, scores)  # as katsheet compute does: the scores checked once
            return [allocate_scoring(b, scoring, decimals=d, max_share=Decimal("0.05"))
                    for _, b, d in ASSETS]  # fmt: skip

        engine_s, _ = timed(engine, repeat=3)
        pandas_s, _ = timed(lambda: with_pandas(tasks, scores), repeat=3)
        command = [sys.executable, "-m", "katsheet", "compute", str(folder / "scores.csv"), "--model", "pools", "--tasks",
                   str(folder / "tasks.csv"), "--max-reward", "5%", "--format", "json",
                   *[x for name, b, d in ASSETS for x in ("--asset", f"{name}={b}:{d}")]]  # fmt: skip
        cli_s, _ = timed(lambda: subprocess.run(command, check=True, capture_output=True), repeat=3)
        start_s, _ = timed(lambda: subprocess.run([sys.executable, "-m", "katsheet", "--version"], check=True,
                                                  capture_output=True), repeat=3)  # fmt: skip
        book = folder / "month.xlsx"
        assets = [x for name, b, d in ASSETS for x in ("--asset", f"{name}={b}:{d}")]
        new = [sys.executable, "-m", "katsheet", "new", str(book), "--template", "pools", "--tasks",
               str(folder / "tasks.csv"), "--roster", str(folder / "scores.csv"), "--max-reward", "5%", "--month",
               "2026-12", "--force", *assets]  # fmt: skip
        new_s, _ = timed(lambda: subprocess.run(new, check=True, capture_output=True), repeat=3)
        check_s, _ = timed(lambda: subprocess.run([sys.executable, "-m", "katsheet", "check", str(book)],
                                                  check=True, capture_output=True), repeat=3)  # fmt: skip
        lo_s = libreoffice_seconds(book, folder / "lo")
    rows = [
        [f"pandas, binary floats ({len(scores):,} scores x {len(ASSETS)} assets; baseline)", f"{pandas_s:.3f}", "-", "1.00x"],
        ["katsheet engine, exact (same)", f"{engine_s:.3f}", "-", f"{engine_s / pandas_s:.2f}x"],
        ["katsheet compute --model pools, CSV in, JSON out (whole process)", f"{cli_s:.3f}", "1", f"{cli_s / pandas_s:.2f}x"],
        ["  of which: starting Python and katsheet (katsheet --version)", f"{start_s:.3f}", "-", "-"],
    ]  # fmt: skip
    show(f"Task pools: {args.members:,} members x {args.tasks} tasks x {len(ASSETS)} assets",
         ["what", "seconds", "target s", "vs pandas"], rows)  # fmt: skip
    lo = f"{lo_s:.3f}" if lo_s else "not installed"
    rows = [
        ["LibreOffice headless: open, recalculate, save (baseline)", lo, "-", "1.00x" if lo_s else "-"],
        ["katsheet new --template pools (whole process)", f"{new_s:.3f}", "3", f"{new_s / lo_s:.2f}x" if lo_s else "-"],
        ["katsheet check, formulas evaluated (whole process)", f"{check_s:.3f}", "3",
         f"{check_s / lo_s:.2f}x" if lo_s else "-"],
    ]  # fmt: skip
    show("The pools workbook, same month", ["what", "seconds", "target s", "vs LibreOffice"], rows)


def libreoffice_seconds(book: Path, out: Path) -> float | None:
    """LibreOffice's own recalculation of the file (one run: its start is most of it)."""
    from katsheet.workbook.libreoffice import recalculate, soffice

    if soffice() is None:
        return None
    seconds, _ = timed(lambda: recalculate([book], out), repeat=1)
    return seconds


if __name__ == "__main__":
    main()
