"""Evaluate a workbook's formulas with the `formulas` package (an engine we did not write)."""

from __future__ import annotations

import html
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from ..layouts.model import col_index, col_letter, split_cell
from .columnwise.runs import plain

_KEY = re.compile(r"^'\[[^\]]+\](.+)'!([A-Z]+\d+(?::[A-Z]+\d+)?)$")


def evaluate(path: Path, sheetnames: list[str]) -> dict[tuple[str, str], Any]:
    """Every cell's value as `formulas` computes it, keyed by (sheet as in the file, cell)."""
    return evaluate_with_ranges(path, sheetnames)[0]


def evaluate_with_ranges(
    path: Path, sheetnames: list[str]
) -> tuple[dict[tuple[str, str], Any], list[tuple[str, str, str]]]:
    """Like ``evaluate``, and the ranges `formulas` reported whole: (sheet, first cell, last cell).

    Empty arguments of katsheet's own functions are marked as omitted first (in a private copy
    of the file; the workbook itself is never written)."""
    from ..excel.formulas_functions import register
    from .columnwise.startup import import_formulas

    formulas = import_formulas()  # imported here: slow to import, and only the checker needs it

    register()  # workbooks may call katsheet's own Excel functions
    titles = {name.upper(): name for name in sheetnames}
    with tempfile.TemporaryDirectory(prefix="katsheet-eval-") as tmp:
        copy = _with_omitted_marked(path, Path(tmp) / path.name)
        solution = formulas.ExcelModel().loads(str(copy)).finish().calculate()
    out: dict[tuple[str, str], Any] = {}
    spilled: dict[tuple[str, str], Any] = {}
    ranges_seen: list[tuple[str, str, str]] = []
    for key, ranges in solution.items():
        m = _KEY.match(key)
        if not m:
            continue
        sheet = titles.get(m.group(1), m.group(1))
        values = ranges.value if hasattr(ranges, "value") else [[ranges]]
        first, _, last = m.group(2).partition(":")
        if not last:
            out[(sheet, first)] = plain(values[0][0])
            continue
        # an array formula's range (e.g. a spilled GRAPE_ALLOCATE): its cells, unless given singly
        ranges_seen.append((sheet, first, last))
        (c1, r1), (c2, r2) = _split(first), _split(last)
        for i in range(r2 - r1 + 1):
            for j in range(c2 - c1 + 1):
                spilled[(sheet, f"{_letters(c1 + j)}{r1 + i}")] = plain(values[i][j])
    return {**spilled, **out}, ranges_seen


_FORMULA = re.compile(rb"(<(?:\w+:)?f\b[^>]*>)([^<]*)(</(?:\w+:)?f>)")


def _with_omitted_marked(path: Path, copy: Path) -> Path:
    """A copy of the workbook whose calls of katsheet's functions name their omitted arguments (see
    formulas_functions.mark_omitted); the original when nothing needed marking."""
    from ..excel.formulas_functions import mark_omitted
    from ..functions import FUNCTIONS

    names = tuple(name.encode() for name in FUNCTIONS)

    def mark(m: re.Match[bytes]) -> bytes:
        text = html.unescape(m.group(2).decode("utf-8"))
        marked = mark_omitted(text)
        if marked == text:
            return m.group(0)
        return m.group(1) + html.escape(marked, quote=False).encode("utf-8") + m.group(3)

    changed = False
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/") and any(n in data.upper() for n in names):
                new = _FORMULA.sub(mark, data)
                changed |= new != data
                data = new
            dst.writestr(info.filename, data)
    return copy if changed else path


def _split(cell: str) -> tuple[int, int]:
    """'C3' -> (3, 3): 1-based column and row."""
    col, row = split_cell(cell)
    return col_index(col) + 1, row


def _letters(n: int) -> str:
    """1-based column number -> letters."""
    return col_letter(n - 1)
