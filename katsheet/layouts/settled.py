"""A settled month's layout: the month's own layout with every input locked, a visible stamp, and
a hidden, locked "Sealed" sheet holding a copy of every constant cell (inputs, labels, the
configuration) as text, one row per sheet row: where it is, and its cells as [column, value] pairs.

The settlement seal is the SHA-256 of that copy (the compact JSON array of [sheet, cell, text]
rows, UTF-8), stored in the file as the defined name KatsheetSeal and in the settlement record
beside the files. `katsheet check` recomputes it and compares every sealed cell with the cell as it
is now, so a changed number, name or wallet is named at its cell.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..engine.dates import EXCEL_EPOCH
from .model import Note, Printing, Sheet, WorkbookLayout, split_cell

SEALED = "Sealed"


@dataclass(frozen=True)
class Stamp:
    """What settling wrote into a month: its id, who approved it and when, and the seal."""

    settlement_id: str
    approved_by: str
    approved_on: dt.date | None
    seal: str = ""
    #: the payout file's format (--again writes the same one)
    payout: str = ""


def seal_text(value: Any) -> str:
    """A cell's value as sealed text, the same whether it comes from the engine (a date, a Decimal,
    True) or from the file (a serial number, a float, 1)."""
    if value is None:
        return ""
    if isinstance(value, bool):  # LibreOffice saves TRUE as the number 1 (formatted as a boolean)
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        value = (value - EXCEL_EPOCH).days
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    return str(value)


def constant_cells(layout: WorkbookLayout, month: Any) -> list[tuple[str, str, str]]:
    """Every cell the layout fills with a constant (not a formula): (sheet, cell, text), blank
    table cells included (a value typed into one after settlement is a change too), sheet by
    sheet and row by row."""
    out: list[tuple[str, str, str]] = []
    for sheet in layout.sheets:
        if sheet.name == SEALED:
            continue
        for p in sheet.params:
            if p.formula is None:
                out.append((sheet.name, p.cell, seal_text(p.value(month))))
        for b in sheet.blocks:
            for i, values in enumerate(b.values(month)):
                for j, value in enumerate(values):
                    r, c = b.cell(i, j)
                    out.append((sheet.name, f"{_letter(c)}{r + 1}", seal_text(value)))
        table = sheet.table
        if table is None:
            continue
        for col in table.columns:
            if col.formula is not None:
                continue
            letter = table.letter(col.key)
            out += [(sheet.name, f"{letter}{table.first_row + i}", seal_text(col.value(month, i)))
                    for i in range(table.rows)]  # fmt: skip
    # in the Sealed sheet's order: sheet by sheet, row by row, then as the layout lists the cells
    return [(where.rpartition("!")[0], f"{letters}{where.rpartition('!')[2]}", text)
            for where, pairs in group_rows(out) for letters, text in pairs]  # fmt: skip


def _letter(index: int) -> str:
    from .model import col_letter

    return col_letter(index)


def group_rows(cells: Iterable[tuple[str, str, str]]) -> list[tuple[str, list[list[str]]]]:
    """The sealed cells one sheet row at a time (a month of 10,000 ledger rows is 10,000 rows of
    the Sealed sheet, not 130,000): ("Ledger!7", [["A", "CED-0003"], ["B", "46330"], ...])."""
    out: dict[str, list[list[str]]] = {}
    for sheet, cell, text in cells:
        letters, row = split_cell(cell)
        out.setdefault(f"{sheet}!{row}", []).append([letters, text])
    return list(out.items())


def ungroup_rows(rows: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The Sealed sheet's rows back to (sheet, cell, text), in order (ValueError if unreadable)."""
    out = []
    for where, pairs in rows:
        sheet, _, row = where.rpartition("!")
        out += [(sheet, f"{letters}{row}", text) for letters, text in json.loads(pairs)]
    return out


def seal_of(cells: Iterable[tuple[str, str, str]]) -> str:
    text = json.dumps([list(c) for c in cells], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _locked(sheet: Sheet) -> Sheet:
    columns = sheet.table.columns if sheet.table else ()
    table = None
    if sheet.table is not None:
        table = dataclasses.replace(sheet.table, columns=tuple(
            dataclasses.replace(c, role="label", validation=None) if c.role in ("input", "override") else c
            for c in columns
        ))  # fmt: skip
    params = tuple(
        dataclasses.replace(p, role="label", validation=None) if p.role in ("input", "override") else p
        for p in sheet.params
    )
    return dataclasses.replace(sheet, table=table, params=params, protect=True)


def settled_layout(layout: WorkbookLayout, month: Any, stamp: Stamp, guide: str) -> WorkbookLayout:
    """``layout`` settled: inputs locked, the stamp on the ``guide`` sheet, the Sealed sheet, and
    the stamp's fields as defined names. The seal is computed here when the stamp has none."""
    cells = constant_cells(layout, month)
    seal = stamp.seal or seal_of(cells)
    on = stamp.approved_on.isoformat() if stamp.approved_on else ""
    line = f"SETTLED {stamp.settlement_id}: approved by {stamp.approved_by} on {on}. Seal (SHA-256) {seal}"
    sheets = []
    for sheet in layout.sheets:
        locked = _locked(sheet)
        if sheet.name == guide:
            locked = dataclasses.replace(locked, notes=(*locked.notes, Note("A2", line, "heading")))
        sheets.append(locked)
    notes = [Note("A1", "Sheet!Row", "heading"), Note("B1", "Cells as sealed: [column, value] pairs", "heading")]
    for i, (where, pairs) in enumerate(group_rows(cells), start=2):
        notes += [Note(f"A{i}", where), Note(f"B{i}", json.dumps(pairs, ensure_ascii=False, separators=(",", ":")))]
    sheets.append(Sheet(name=SEALED, notes=tuple(notes), protect=True, hidden=True,
                        printing=Printing(landscape=False), widths=(("A", 18), ("B", 60))))  # fmt: skip
    constants = {**layout.constants, "KatsheetSettled": stamp.settlement_id, "KatsheetSeal": seal,
                 "KatsheetApprovedBy": stamp.approved_by, "KatsheetApprovedOn": on,
                 "KatsheetPayout": stamp.payout}  # fmt: skip
    return dataclasses.replace(layout, sheets=tuple(sheets), constants=constants, settled=True)
