"""What every computed cell of a layout should hold, and when a found value agrees with it.

Used by the tests that recalculate workbooks in other engines, and by the checker: both compare
a spreadsheet's numbers with the engine's through the same layout and the same tolerance
(grape.md section 3: one unit in the d-th decimal for amounts, absolute; exact for counts,
flags and weights). The workbooks compute totals in whole units (layouts/grape.py), so every
engine shows the engine's digits and one unit, absolute, is room enough: a stored amount raised
by two units is a finding at any budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, NamedTuple

from ..engine.dates import EXCEL_EPOCH
from ..layouts.model import Column, Param, WorkbookLayout, col_letter, compile_row_formula

#: Relative noise of a double that went through a few operations (ratios, shares, the guard).
FLOAT_NOISE = 1e-12


class FormulaCell(NamedTuple):
    """One cell the layout gives a formula: where, the formula itself, what declared it, which row.
    (A named tuple, not a frozen dataclass: a 10,000-row month makes 200,000 of them per check.)"""

    sheet: str
    cell: str
    formula: str
    spec: Param | Column
    #: the table row index (0-based), None for a parameter cell
    row: int | None


def formula_cells(layout: WorkbookLayout) -> Iterator[FormulaCell]:
    """Every formula cell of the layout, rendered for its geometry: the one walk over a layout."""
    for sheet in layout.sheets:
        for p in sheet.params:
            if p.formula:
                yield FormulaCell(sheet.name, p.cell, p.formula, p, None)
        table = sheet.table
        if table is None:
            continue
        for col in table.columns:
            if not col.formula:
                continue
            render = compile_row_formula(col.formula, sheet, layout)
            letter = col_letter(table.index(col.key))
            for i in range(table.rows):
                yield FormulaCell(sheet.name, f"{letter}{table.first_row + i}", render(i), col, i)


class Expected(NamedTuple):
    """One computed cell: where it is, which formula it holds, the engine's value, and the scale
    its tolerance is measured in (the decimals of its SubDAO's totals and its budget)."""

    sheet: str
    cell: str
    fmt: str
    value: Any
    label: str
    formula: str
    decimals: int
    budget: Decimal


def _scales(layout: WorkbookLayout, month: Any) -> dict[str, tuple[int, Decimal]]:
    """Per sheet: the decimals of the totals it shows and the budget its shares divide by."""
    from ..layouts.grape import as_book

    scale = getattr(month, "tolerance_scale", None)  # one for a whole KAT month: its decimals and global cap
    if scale is not None:
        return {sheet.name: scale for sheet in layout.sheets}

    book = as_book(month)
    out = {}
    for sheet in layout.sheets:
        if sheet.part is not None and sheet.part < len(book.parts):
            part = book.parts[sheet.part]
            out[sheet.name] = (part.options.decimals, part.budget or Decimal(0))
        else:
            out[sheet.name] = (max(p.options.decimals for p in book.parts), book.total_budget)
    return out


class ExpectedRun(NamedTuple):
    """The formula cells of one parameter or one table column, in the order given, with the value
    the engine says each must show: what is the same for all of them is looked up once (a check of
    a 10,000-row month compares 195,000 cells, 10,000 to a column)."""

    sheet: str
    fmt: str
    label: str
    decimals: int
    budget: Decimal
    cells: Sequence[FormulaCell]
    values: list[Any]


def expected_runs(
    layout: WorkbookLayout,
    month: Any,
    row_maps: dict[str, list[int]] | None = None,
    cells: list[FormulaCell] | None = None,
) -> Iterator[ExpectedRun]:
    """Every formula cell of the layout with the value the engine says it must show, a run of
    cells of one parameter or column at a time.

    ``row_maps[sheet][i]`` is the index whose figures row i shows, when rows were sorted (a table
    whose rows carry their own number, No.); by default row i shows index i.
    """
    maps = row_maps or {}
    scales = _scales(layout, month)
    cells = list(formula_cells(layout)) if cells is None else cells
    start, n = 0, len(cells)
    while start < n:
        sheet, spec = cells[start].sheet, cells[start].spec
        end = start + 1
        while end < n and cells[end].spec is spec and cells[end].sheet == sheet:
            end += 1
        run = cells[start:end]
        if isinstance(spec, Param):
            label, values = spec.label, [spec.value(month) for _ in run]
        else:
            value, row_map = spec.value, maps.get(sheet)
            rows = [fc.row for fc in run] if row_map is None else [row_map[fc.row] for fc in run]
            label, values = spec.header, [value(month, k) for k in rows]
        decimals, budget = spec.scale(month) if spec.scale is not None else scales[sheet]
        yield ExpectedRun(sheet, spec.fmt, label, decimals, budget, run, values)
        start = end


def expected_cells(
    layout: WorkbookLayout,
    month: Any,
    row_maps: dict[str, list[int]] | None = None,
    cells: list[FormulaCell] | None = None,
) -> Iterator[Expected]:
    """Every formula cell of the layout with the value the engine says it must show, one by one
    (``expected_runs``, cell by cell)."""
    for r in expected_runs(layout, month, row_maps, cells):
        for fc, value in zip(r.cells, r.values, strict=True):
            yield Expected(r.sheet, fc.cell, r.fmt, value, r.label, fc.formula, r.decimals, r.budget)


def is_blank(value: Any) -> bool:
    return value is None or value == ""


def _exact(value: Any) -> Fraction | None:
    """A number as an exact fraction (a float through its shortest repr, as Excel shows it)."""
    try:
        if isinstance(value, float):
            return Fraction(Decimal(repr(value)))
        return Fraction(value)
    except (ValueError, TypeError, InvalidOperation, OverflowError):
        return None


def _serial(value: Any) -> Any:
    """A date as the serial number a spreadsheet holds (a reader may give a date cell as a
    datetime, and 0 in a date format as midnight)."""
    if isinstance(value, dt.datetime):
        return (value.date() - EXCEL_EPOCH).days
    if isinstance(value, dt.date):
        return (value - EXCEL_EPOCH).days
    if isinstance(value, dt.time) and value == dt.time(0, 0):
        return 0
    return value


#: the types a spreadsheet's number and the engine's figure come as (bool is not one of them:
#: ``type(True) is bool``, so flags take agrees' general path)
NUMBER_TYPES = frozenset((int, float, Decimal, Fraction))
#: two texts agree when equal ("" only with ""), two booleans too: what the general path decides
_SELF_COMPARED = frozenset((str, bool))


def agrees(expected: Any, found: Any, fmt: str, decimals: int, budget: Any = 1) -> bool:
    """Does a spreadsheet's ``found`` value match the engine's ``expected`` within grape.md 3?

    Amounts: one unit in the d-th decimal, absolute. Shares of the budget: that unit divided by
    the budget. Counts, flags and weights: exactly. Ratios and the rounding guard: up to the
    noise of a double.
    """
    if type(found) in NUMBER_TYPES and type(expected) in NUMBER_TYPES:  # most cells of a check
        return _close(expected, found, fmt, decimals, budget)
    if type(found) is type(expected) and type(found) in _SELF_COMPARED:  # texts and flags, as below
        return found == expected
    expected, found = _serial(expected), _serial(found)
    if is_blank(expected) or is_blank(found):
        return is_blank(expected) and is_blank(found)
    if isinstance(expected, bool) or isinstance(found, bool):
        return isinstance(found, (bool, int, float)) and bool(found) == bool(expected) and found in (0, 1, True, False)
    if isinstance(expected, str) or isinstance(found, str):
        return str(expected) == str(found)
    return _close(expected, found, fmt, decimals, budget)


def _close(expected: Any, found: Any, fmt: str, decimals: int, budget: Any) -> bool:
    """Two numbers within the tolerance of ``fmt``."""
    try:
        fast = abs(float(expected) - float(found))
    except (TypeError, ValueError, OverflowError):
        return False
    # in floats first: equal, clearly within or clearly beyond the tolerance; exactly only near it
    scale = max(1.0, abs(float(expected)))
    if fmt == "amount":
        tolerance = 10.0**-decimals
    elif fmt == "percent":
        tolerance = 10.0**-decimals / float(budget) + FLOAT_NOISE * scale if budget else FLOAT_NOISE * scale
    elif fmt in ("ratio", "general"):
        tolerance = FLOAT_NOISE * scale
    else:
        tolerance = 0.0
    if fast <= 0.5 * tolerance or fast == 0:
        return True
    if fast >= 2 * tolerance + 1e-9 * scale:
        return False
    exp, got = _exact(expected), _exact(found)
    if exp is None or got is None:
        return False
    difference = abs(exp - got)
    if fmt == "amount":
        return difference <= Fraction(1, 10**decimals)
    if fmt == "percent":
        unit = Fraction(1, 10**decimals) / Fraction(budget) if budget else Fraction(0)
        return difference <= unit + Fraction(FLOAT_NOISE) * abs(exp)
    if fmt in ("ratio", "general"):
        return difference <= Fraction(FLOAT_NOISE) * max(Fraction(1), abs(exp))
    return difference == 0  # counts, units, ROUND(..., 6) weights
