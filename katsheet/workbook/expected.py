"""What every computed cell of a layout should hold, and when a found value agrees with it.

Used by the tests that recalculate workbooks in other engines, and by the checker: both compare
a spreadsheet's numbers with the engine's through the same layout and the same tolerance
(grape.md section 3: one unit in the d-th decimal for amounts; exact for counts, flags, weights).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..layouts.model import Sheet, WorkbookLayout, col_letter, split_cell

#: Floats carry ~15-16 significant digits; anything closer than this is the same number.
FLOAT_NOISE = 1e-9


@dataclass(frozen=True)
class Expected:
    """One computed cell: where it is, which formula it holds, and the engine's value."""

    sheet: str
    cell: str
    fmt: str
    value: Any
    label: str
    #: how many rounded amounts the cell adds up: each may differ by a unit, so the sum by this many
    units: int = 1


def expected_cells(
    layout: WorkbookLayout, month: Any, row_maps: dict[str, list[int]] | None = None
) -> Iterator[Expected]:
    """Every formula cell of the layout with the value the engine says it must show.

    ``row_maps[sheet][i]`` is the index whose figures row i shows, when rows were sorted (a table
    whose rows carry their own number, No.); by default row i shows index i.
    """
    for sheet in layout.sheets:
        for p in sheet.params:
            if p.formula:
                units = max(1, p.spread(month)) if p.spread else 1
                yield Expected(sheet.name, p.cell, p.fmt, p.value(month), p.label, units)
        yield from _table_cells(sheet, month, (row_maps or {}).get(sheet.name))


def _table_cells(sheet: Sheet, month: Any, row_map: list[int] | None) -> Iterator[Expected]:
    table = sheet.table
    if table is None:
        return
    for col in table.columns:
        if not col.formula:
            continue
        letter = col_letter(table.index(col.key))
        for i in range(table.rows):
            k = row_map[i] if row_map is not None else i
            spread = col.spread(month, k) if col.spread else 1
            units = max(1, spread) if isinstance(spread, int) else 1
            yield Expected(
                sheet.name, f"{letter}{table.first_row + i}", col.fmt, col.value(month, k), col.header, units
            )


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


def cell_key(sheet: str, cell: str) -> tuple[str, str]:
    col, row = split_cell(cell)
    return sheet, f"{col}{row}"


def as_number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value
