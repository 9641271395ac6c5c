"""An annotated copy of a checked workbook: every failing cell filled red and commented."""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill

from ..io.atomic import write_atomic
from .checker import Report

RED = PatternFill(fill_type="solid", fgColor="FFFF7C80", bgColor="FFFF7C80")
MAX_COMMENT = 2000


def _on_top(ws, cells: list[str]) -> None:
    """The red fill above the sheet's own conditional formats (an eligible row's green would
    otherwise paint over it): a rule that always holds, first in priority, stopping the others,
    and first in the file too (LibreOffice goes by the order of the blocks, Excel by priority)."""
    existing = ws.conditional_formatting
    for cf in existing:
        for rule in cf.rules:
            rule.priority += 1
    red = FormulaRule(formula=["TRUE"], fill=RED, stopIfTrue=True)
    red.priority = 1
    ordered = ConditionalFormattingList()
    ordered.add(" ".join(cells), red)
    for cf in existing:
        for rule in cf.rules:
            ordered.add(str(cf.sqref), rule)
    ws.conditional_formatting = ordered


def annotate(source: Path, report: Report, out: Path, *, force: bool = False) -> int:
    """Write ``out``: a copy of ``source`` with the report's cells marked. Returns cells marked.

    openpyxl re-saves the workbook, which keeps formulas, names, validation and styles but not
    charts: the copy is for reading the findings, the original stays the treasurer's file.
    """
    by_cell: dict[tuple[str, str], list[str]] = defaultdict(list)
    for f in report.findings:
        by_cell[(f.sheet, f.cell)].append(f"{f.kind}: {f.message}\nexpected: {f.expected}\nfound: {f.found}")
    wb = openpyxl.load_workbook(source)
    marked: dict[str, list[str]] = defaultdict(list)
    for (sheet, cell), notes in by_cell.items():
        if sheet not in wb.sheetnames:
            continue
        target = wb[sheet][cell]
        target.fill = RED
        target.comment = Comment("\n\n".join(notes)[:MAX_COMMENT], "katsheet check", width=400, height=160)
        marked[sheet].append(cell)
    for sheet, cells in marked.items():
        _on_top(wb[sheet], cells)
    buffer = io.BytesIO()
    wb.save(buffer)
    write_atomic(out, buffer.getvalue(), force=force)
    return len(by_cell)
