"""`katsheet excel-addin OUT.xlsm`: a macro-enabled workbook ready for the classic xlwings add-in.

It starts from xlwings' own standalone quickstart workbook (its VBA module included), activates
the xlwings.conf sheet with "UDF Modules" set to katsheet.udfs, and adds a Demo sheet that calls
every function on the built-in sample roster. openpyxl keeps the VBA project (keep_vba).
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import xlwings

from ..io.atomic import write_atomic
from ..samples import SAMPLE_BUDGET, sample_scored_roster

UDF_MODULE = "katsheet.udfs"
QUICKSTART = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"


def _text(cell, value: str) -> None:
    """A user's text stays text: never let openpyxl read a leading = as a formula."""
    cell.value = value
    cell.data_type = "s"


def build_addin_workbook() -> openpyxl.Workbook:
    wb = openpyxl.load_workbook(QUICKSTART, keep_vba=True)
    conf = wb["_xlwings.conf"]
    conf.title = "xlwings.conf"  # the leading underscore keeps it inactive in the quickstart
    conf["B6"] = UDF_MODULE
    wb.remove(wb["Sheet1"])
    demo = wb.create_sheet("Demo", 0)
    demo["A1"] = "katsheet: the GRAPE rules as Excel functions (xlwings). Click 'Import Functions' in the xlwings tab."
    demo["A3"], demo["B3"] = "Budget", float(SAMPLE_BUDGET)
    headers = ["Member", "Skill Role", "Work Produced", "Work Utilized", "Activity", "Ops/Org", "GRAPE weight"]
    for i, h in enumerate(headers):
        demo.cell(row=5, column=i + 1, value=h)
    rows = sample_scored_roster()
    first, last = 6, 5 + len(rows)
    for r, row in enumerate(rows, start=first):
        _text(demo.cell(row=r, column=1), row.member)
        _text(demo.cell(row=r, column=2), row.role)
        for c, score in enumerate(row.scores, start=3):
            cell = demo.cell(row=r, column=c)
            if isinstance(score, str):
                _text(cell, score)
            else:
                cell.value = float(score)
                cell.number_format = "0%"
        demo.cell(row=r, column=7, value=f"=GRAPE_WEIGHT(C{r}:F{r})").number_format = "0.00##%"
    demo["I5"] = "GRAPE_ALLOCATE (spills one row per member)"
    demo["I6"] = f"=GRAPE_ALLOCATE($B$3,$G${first}:$G${last},,,,,,,TRUE)"
    demo["O5"] = "GRAPE_SUMMARY"
    demo["O6"] = f"=GRAPE_SUMMARY($B$3,$G${first}:$G${last})"
    demo["A22"], demo["B22"] = "GRAPE_LEVEL", '=GRAPE_LEVEL("LEVEL 2")'
    return wb


def write_addin(out: Path, *, force: bool = False) -> Path:
    if out.suffix.lower() != ".xlsm":
        from ..engine import InputError

        raise InputError("the add-in workbook must be an .xlsm file (it carries macros)", where="OUT", value=str(out))
    wb = build_addin_workbook()
    buffer = io.BytesIO()
    try:
        wb.save(buffer)
    finally:
        # openpyxl keeps the VBA parts in a zip of its own (keep_vba) and never closes it; left to
        # the cycle collector, it may find its buffer closed first and complain at exit
        wb.vba_archive.close()
    write_atomic(out, buffer.getvalue(), force=force)
    return out
