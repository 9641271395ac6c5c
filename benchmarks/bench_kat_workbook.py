"""The KAT workbook at the issue's size: a month of 10,000 ledger rows and 1,000 members.

    python benchmarks/bench_kat_workbook.py [--rows 10000 --members 1000]

Timed in one run: `katsheet new --template kat` (engine, layout, XlsxWriter with every cached
value), `katsheet check` (reading, the formulas evaluated column by column, every figure against
the engine), and the baseline: LibreOffice's own headless recalculation of the same file
(start-up included). Targets (issue 11): new and check under 2 s each.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import as_command, one_core, show, timed
from bench_kat import MONTH, write_month

from katsheet.io.katfiles import load_config, load_guardrails, read_ledger, read_states
from katsheet.layouts.kat import KatMonth, kat_layout
from katsheet.workbook.checker import check
from katsheet.workbook.libreoffice import recalculate, soffice
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.writer import workbook_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=1_000)
    args = parser.parse_args()
    config = load_config(None, load_guardrails())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ledger_csv, state_csv = write_month(folder, args.rows, args.members, config)
        ledger, states = read_ledger(ledger_csv), tuple(read_states(state_csv))
        path = folder / "kat.xlsx"

        def new() -> None:
            month = KatMonth(config, MONTH, ledger, (), states)
            path.write_bytes(workbook_bytes(kat_layout(month), month, decimals=config.decimals))

        def checked() -> Any:  # as `katsheet check FILE` runs it: evaluated on the other core as it is read
            return check(read_workbook(path, evaluate_early=True))

        new_s, _ = timed(as_command(new))
        check_s, report = timed(as_command(checked))
        serial_s, _ = timed(as_command(one_core(checked)))
        rows = [
            ["katsheet new --template kat", f"{new_s:.2f}", "2"],
            [f"katsheet check ({len(report.findings)} findings)", f"{check_s:.2f}", "2"],
            ["katsheet check on one core (KATSHEET_SERIAL=1)", f"{serial_s:.2f}", "-"],
        ]
        if soffice():
            lo_s, _ = timed(lambda: recalculate([path], folder / "lo"))
            rows.append(["LibreOffice headless recalculation (baseline, start-up included)", f"{lo_s:.2f}", "-"])
            for row, s in zip(rows, (new_s, check_s, serial_s, lo_s), strict=True):
                row.append(f"{s / lo_s:.2f}x")
        else:
            for r in rows:
                r.append("LibreOffice not installed")
            rows.append(["LibreOffice headless recalculation", "not installed", "-", "-"])
    show(f"KAT workbook: {args.rows:,} ledger rows, {args.members:,} members", ["what", "seconds", "target s",
         "vs LibreOffice"], rows)  # fmt: skip


if __name__ == "__main__":
    main()
