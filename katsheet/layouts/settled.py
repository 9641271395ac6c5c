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
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
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
    #: the constant cells the seal was computed over, by row (``constant_rows``), when settling
    #: has them: the Sealed sheet is written from them instead of computing them again
    rows: tuple[tuple[str, list[list[str]]], ...] = field(default=(), compare=False, repr=False)


def seal_text(value: Any) -> str:
    """A cell's value as sealed text, the same whether it comes from the engine (a date, a Decimal,
    True) or from the file (a serial number, a float, 1)."""
    if type(value) is str:  # most sealed cells: names, ids, wallets
        return value
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


def constant_rows(layout: WorkbookLayout, month: Any) -> list[tuple[str, list[list[str]]]]:
    """Every cell the layout fills with a constant (not a formula), blank table cells included (a
    value typed into one after settlement is a change too), grouped as the Sealed sheet holds them,
    one sheet row at a time (10,000 rows for a month of 10,000 ledger rows, not 130,000):
    ("Ledger!7", [["A", "CED-0003"], ["B", "46330"], ...]), sheet by sheet, row by row, then as
    the layout lists the cells."""
    out: dict[str, list[list[str]]] = {}

    def put(sheet: str, letters: str, row: int, text: str) -> None:
        out.setdefault(f"{sheet}!{row}", []).append([letters, text])

    for sheet in layout.sheets:
        if sheet.name == SEALED:
            continue
        for p in sheet.params:
            if p.formula is None:
                put(sheet.name, *split_cell(p.cell), seal_text(p.value(month)))
        for b in sheet.blocks:
            for i, values in enumerate(b.values(month)):
                for j, value in enumerate(values):
                    r, c = b.cell(i, j)
                    put(sheet.name, _letter(c), r + 1, seal_text(value))
        table = sheet.table
        if table is None:
            continue
        # a column at a time, each row's pairs joined once (10,000 rows x 14 columns were 140,000 puts)
        columns = [(table.letter(col.key), col) for col in table.columns if col.formula is None]
        texts = [[seal_text(col.value(month, i)) for i in range(table.rows)] for _, col in columns]
        letters = [letter for letter, _ in columns]
        for i in range(table.rows if columns else 0):
            out.setdefault(f"{sheet.name}!{table.first_row + i}", []).extend(
                [letter, column[i]] for letter, column in zip(letters, texts, strict=True)
            )
    return list(out.items())


def constant_cells(layout: WorkbookLayout, month: Any) -> list[tuple[str, str, str]]:
    """The constant cells (``constant_rows``) one by one: (sheet, cell, text), in the Sealed
    sheet's order. The seal is the hash of this list."""
    return flat_rows(constant_rows(layout, month))


def flat_rows(rows: Iterable[tuple[str, list[list[str]]]]) -> list[tuple[str, str, str]]:
    out = []
    for where, pairs in rows:
        sheet, _, row = where.rpartition("!")
        out += [(sheet, f"{letters}{row}", text) for letters, text in pairs]
    return out


def _letter(index: int) -> str:
    from .model import col_letter

    return col_letter(index)


def ungroup_rows(rows: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The Sealed sheet's rows (where, JSON pairs) back to (sheet, cell, text), in order
    (ValueError if unreadable)."""
    return flat_rows((where, json.loads(pairs)) for where, pairs in rows)


def seal_of(cells: Iterable[tuple[str, str, str]]) -> str:
    # json writes a tuple as the array it writes for a list: no list per cell (130,000 of them)
    text = json.dumps(list(cells), ensure_ascii=False, separators=(",", ":"))
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


class _SealedRows(Sequence[Note]):
    """The Sealed sheet's notes, made from the constant cells when the sheet is written. A settled
    month read back (check, next, history) has its seal in the file and never writes this sheet:
    at 10,000 ledger rows the constant cells are 130,000 values it need not render."""

    def __init__(self, make: Callable[[], Sequence[tuple[str, list[list[str]]]]]) -> None:
        self._make = functools.cache(make)

    def rows(self) -> Sequence[tuple[str, list[list[str]]]]:
        return self._make()

    @functools.cached_property
    def _notes(self) -> tuple[Note, ...]:
        notes = [Note("A1", "Sheet!Row", "heading"), Note("B1", "Cells as sealed: [column, value] pairs", "heading")]
        for i, (where, pairs) in enumerate(self.rows(), start=2):
            text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
            notes += [Note(f"A{i}", where), Note(f"B{i}", text)]
        return tuple(notes)

    def __getitem__(self, i):  # type: ignore[no-untyped-def,override]
        return self._notes[i]

    def __len__(self) -> int:
        return len(self._notes)


def settled_layout(layout: WorkbookLayout, month: Any, stamp: Stamp, guide: str) -> WorkbookLayout:
    """``layout`` settled: inputs locked, the stamp on the ``guide`` sheet, the Sealed sheet, and
    the stamp's fields as defined names. The seal is computed here when the stamp has none."""
    rows = _SealedRows(lambda: stamp.rows or constant_rows(layout, month))
    seal = stamp.seal or seal_of(flat_rows(rows.rows()))
    on = stamp.approved_on.isoformat() if stamp.approved_on else ""
    line = f"SETTLED {stamp.settlement_id}: approved by {stamp.approved_by} on {on}. Seal (SHA-256) {seal}"
    sheets = []
    for sheet in layout.sheets:
        locked = _locked(sheet)
        if sheet.name == guide:
            locked = dataclasses.replace(locked, notes=(*locked.notes, Note("A2", line, "heading")))
        sheets.append(locked)
    sheets.append(Sheet(name=SEALED, notes=rows, protect=True, hidden=True,  # type: ignore[arg-type]
                        printing=Printing(landscape=False), widths=(("A", 18), ("B", 60))))  # fmt: skip
    constants = {**layout.constants, "KatsheetSettled": stamp.settlement_id, "KatsheetSeal": seal,
                 "KatsheetApprovedBy": stamp.approved_by, "KatsheetApprovedOn": on,
                 "KatsheetPayout": stamp.payout}  # fmt: skip
    return dataclasses.replace(layout, sheets=tuple(sheets), constants=constants, settled=True)
