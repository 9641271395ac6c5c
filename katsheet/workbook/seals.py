"""What `katsheet check` verifies of a sealed ledger and a settled month.

- The ledger's and the exceptions' hash chains (kat.md section 2, engine/kat/seal.py): the first
  sealed record that no longer follows is one finding at its cell, named by its entry id.
- A settled month (layouts/settled.py): the hidden Sealed sheet must still hash to the seal the
  month was settled with, and every sealed cell must still hold its sealed value. Each sheet's
  first changed cell is one finding, with the count of the others (one deletion moves every cell
  below it: one cause, one finding).
"""

from __future__ import annotations

from typing import Any

from ..engine.kat.seal import Sealed, exception_fields, ledger_fields, verify
from ..layouts.model import split_cell
from ..layouts.settled import SEALED, seal_of, seal_text, ungroup_rows
from .reader import Finding, Workbook, stamp_of


def _value(book: Workbook, key: tuple[str, str]) -> Any:
    return book.cached.get(key) if key in book.formula_keys else book.formulas.get(key)


def _where(where: str) -> tuple[str, str]:
    sheet, _, cell = where.partition("!")
    return sheet, cell or "A1"


def chain_findings(month: Any) -> list[Finding]:
    """The ledger's and the exceptions' chains, in the sheet's order of their sealed records."""
    out = []
    for kind, records, fields_of in (("ledger", month.ledger, ledger_fields), ("exception", month.exceptions,
                                                                                 exception_fields)):  # fmt: skip
        sealed = [
            Sealed(kind, (r.entry if kind == "ledger" else r.id).strip(), r.settled.strip(), tuple(fields_of(r)),
                   r.seal, r.where)
            for r in records if r.seal or r.settled.strip()
        ]  # fmt: skip
        broken = verify(sealed)
        if broken is not None and broken.record is not None:
            sheet, cell = _where(broken.record.where)
            out.append(Finding("sealed", sheet, cell, "the sealed record as settled", broken.record.id,
                               f"{kind} entry {broken.record.id}: {broken.message}"))  # fmt: skip
    return out


def settlement_findings(book: Workbook) -> list[Finding]:
    """A settled month's seal and sealed cells (nothing for a month not settled)."""
    stamp = stamp_of(book.names)
    if stamp is None:
        return []
    grouped = []
    row = 2
    while (SEALED, f"A{row}") in book.formulas:
        grouped.append((str(book.formulas[(SEALED, f"A{row}")]), str(book.formulas.get((SEALED, f"B{row}")) or "[]")))
        row += 1
    try:
        copy = ungroup_rows(grouped)
    except (ValueError, TypeError):
        copy = []
    if seal_of(copy) != stamp.seal:
        return [Finding("sealed", SEALED, "A1", stamp.seal, seal_of(copy),
                        f"the month settled as {stamp.settlement_id} was changed: its sealed copy no longer gives "
                        "its seal")]  # fmt: skip
    changed: dict[str, list[tuple[str, str, str]]] = {}
    for sheet, cell, text in copy:
        now = seal_text(_value(book, (sheet, cell)))
        if now != text:
            changed.setdefault(sheet, []).append((cell, text, now))
    out = []
    for sheet, cells in changed.items():
        cell, text, now = min(cells, key=lambda c: (split_cell(c[0])[1], c[0]))
        more = f" ({len(cells) - 1} more cells on this sheet differ)" if len(cells) > 1 else ""
        out.append(Finding("sealed", sheet, cell, repr(text), repr(now),
                           f"changed after the month was settled as {stamp.settlement_id}{more}: a settled month is "
                           "never edited (answer a mistake with an exception record next month)"))  # fmt: skip
    return out
