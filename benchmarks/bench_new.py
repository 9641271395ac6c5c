"""Generate workbooks of 10, 1,000 and 10,000 members; recalculate the 1,000-member one with
LibreOffice (headless, from scratch) and with the `formulas` package in the same run.

    python benchmarks/bench_new.py

Baseline in the same run: openpyxl writing the same cells (formulas and inputs, no cached values:
it cannot write them), the library most Python code would reach for.
"""

from __future__ import annotations

import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import openpyxl
from _months import month
from _table import show, timed
from rich.progress import Progress

from katsheet.layouts.grape import Month, grape_layout
from katsheet.layouts.model import col_letter, compile_row_formula
from katsheet.workbook.evaluate import evaluate
from katsheet.workbook.libreoffice import recalculate, soffice
from katsheet.workbook.writer import write_workbook

SIZES = (10, 1_000, 10_000)
RECALC_SIZE = 1_000


def katsheet_write(m: Month, path: Path) -> None:
    write_workbook(grape_layout(m), m, path, decimals=m.options.decimals)


def openpyxl_write(m: Month, path: Path) -> None:
    """The same formula and input cells through openpyxl (no styles, validation or cached values)."""
    layout = grape_layout(m)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in layout.sheets:
        ws = wb.create_sheet(sheet.name)
        for p in sheet.params:
            ws[p.cell] = p.formula or p.value(m)
        if sheet.table:
            for col in sheet.table.columns:
                letter = col_letter(sheet.table.index(col.key))
                render = compile_row_formula(col.formula, sheet, layout) if col.formula else None
                for i in range(sheet.table.rows):
                    value = render(i) if render else col.value(m, i)
                    ws[f"{letter}{sheet.table.first_row + i}"] = float(value) if isinstance(value, Decimal) else value
    wb.save(path)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
        task = progress.add_task("generating", total=len(SIZES) + 2)
        recalc_file = None
        for n in SIZES:
            m = month(n)
            path = Path(tmp) / f"m{n}.xlsx"
            seconds, _ = timed(lambda m=m, p=path: katsheet_write(m, p))
            base, _ = timed(lambda m=m, n=n: openpyxl_write(m, Path(tmp) / f"o{n}.xlsx"))
            rows.append([f"{n:,}", "katsheet new (XlsxWriter, with cached values)", f"{seconds:.2f}",
                         f"openpyxl {base:.2f} s; katsheet takes {seconds / base:.1f}x its time"])  # fmt: skip
            if n == RECALC_SIZE:
                recalc_file = path
            progress.advance(task)
        assert recalc_file is not None
        if soffice():
            lo, _ = timed(lambda: recalculate([recalc_file], Path(tmp) / "lo"))
            rows.append([f"{RECALC_SIZE:,}", "LibreOffice headless recalculation (incl. start-up)", f"{lo:.2f}", "-"])
        else:
            rows.append([f"{RECALC_SIZE:,}", "LibreOffice headless recalculation", "not installed", "-"])
        progress.advance(task)
        fm, _ = timed(lambda: evaluate(recalc_file, openpyxl.load_workbook(recalc_file, read_only=True).sheetnames))
        rows.append([f"{RECALC_SIZE:,}", "formulas package: load + calculate", f"{fm:.2f}", "-"])
        progress.advance(task)
    show("katsheet new: generation and recalculation", ["members", "what", "seconds", "baseline"], rows)


if __name__ == "__main__":
    main()
