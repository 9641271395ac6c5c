"""What every computed cell of a layout should hold, and when a found value agrees with it.

Used by the tests that recalculate workbooks in other engines, and by the checker: both compare
a spreadsheet's numbers with the engine's through the same layout and the same tolerance
(grape.md section 3: one unit in the d-th decimal for amounts; exact for counts, flags, weights).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..layouts.model import Column, Param, WorkbookLayout, col_letter, compile_row_formula

#: Floats carry ~15-16 significant digits; anything closer than this is the same number.
FLOAT_NOISE = 1e-9


@dataclass(frozen=True)
class FormulaCell:
    """One cell the layout gives a formula: where, the formula itself, what declared it, which row."""

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


@dataclass(frozen=True)
class Expected:
    """One computed cell: where it is, which formula it holds, and the engine's value."""

    sheet: str
    cell: str
    fmt: str
    value: Any
    label: str
    formula: str
    #: how many rounded amounts the cell adds up: each may differ by a unit, so the sum by this many
    units: int = 1


def expected_cells(
    layout: WorkbookLayout, month: Any, row_maps: dict[str, list[int]] | None = None
) -> Iterator[Expected]:
    """Every formula cell of the layout with the value the engine says it must show.

    ``row_maps[sheet][i]`` is the index whose figures row i shows, when rows were sorted (a table
    whose rows carry their own number, No.); by default row i shows index i.
    """
    maps = row_maps or {}
    for fc in formula_cells(layout):
        spec = fc.spec
        if isinstance(spec, Param):
            value, spread = spec.value(month), spec.spread(month) if spec.spread else 1
            label = spec.label
        else:
            row_map = maps.get(fc.sheet)
            k = row_map[fc.row] if row_map is not None else fc.row
            value, spread = spec.value(month, k), spec.spread(month, k) if spec.spread else 1
            label = spec.header
        units = max(1, spread) if isinstance(spread, int) else 1
        yield Expected(fc.sheet, fc.cell, spec.fmt, value, label, fc.formula, units)


def is_blank(value: Any) -> bool:
    return value is None or value == ""


def agrees(expected: Any, found: Any, fmt: str, decimals: int, budget: float = 1.0, units: int = 1) -> bool:
    """Does a spreadsheet's ``found`` value match the engine's ``expected`` within grape.md 3?

    Amounts: one unit in the d-th decimal, ``units`` units for a sum of that many rounded totals.
    Shares of the budget: that divided by the budget. Counts and weights: exact. Ratios: the same
    number up to float noise.
    """
    if is_blank(expected) or is_blank(found):
        return is_blank(expected) and is_blank(found)
    if isinstance(expected, bool) or isinstance(found, bool):
        return isinstance(found, (bool, int, float)) and bool(found) == bool(expected) and found in (0, 1, True, False)
    if isinstance(expected, str) or isinstance(found, str):
        return str(expected) == str(found)
    exp, got = float(expected), float(found)
    if fmt == "amount":
        tolerance = units * 10.0**-decimals
    elif fmt == "percent":
        tolerance = units * 10.0**-decimals / budget if budget else 0.0
    else:  # counts and ROUND(..., 6) weights exactly; ratios up to float noise
        tolerance = 0.0
    return abs(exp - got) <= tolerance + FLOAT_NOISE * max(1.0, abs(exp))
