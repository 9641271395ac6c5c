"""An annotated copy of a checked workbook: every failing cell filled red and commented."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from ..io.atomic import write_atomic
from .checker import Report

RED = PatternFill(fill_type="solid", fgColor="FFFF7C80", bgColor="FFFF7C80")
MAX_COMMENT = 2000


def annotate(source: Path, report: Report, out: Path, *, force: bool = False) -> int:
    """Write ``out``: a copy of ``source`` with the report's cells marked. Returns cells marked.

    openpyxl re-saves the workbook, which keeps formulas, names, validation and styles but not
    charts: the copy is for reading the findings, the original stays the treasurer's file.
    """
    by_cell: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in report.findings:
        by_cell[(f.sheet, f.cell)].append(f"{f.kind}: {f.message}\nexpected: {f.expected}\nfound: {f.found}")
    wb = openpyxl.load_workbook(source)
    for (sheet, cell), notes in by_cell.items():
        if sheet not in wb.sheetnames:
            continue
        target = wb[sheet][cell]
        target.fill = RED
        target.comment = Comment("\n\n".join(notes)[:MAX_COMMENT], "katsheet check", width=400, height=160)
    buffer = io.BytesIO()
    wb.save(buffer)
    write_atomic(out, buffer.getvalue(), force=force)
    return len(by_cell)
