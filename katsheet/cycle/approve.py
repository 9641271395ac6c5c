"""`katsheet approve`: sign a checked month's approval (ApprovedBy, ApprovedOn) without a spreadsheet.

The month is written again by katsheet's own writer, from what the reader read, with the two cells
filled: the formulas, formats, lists, charts and print setup come back as the template has them.
Before anything is written, the new file is read back and every value a person typed in the old
one must still be there (on the same sheet, wherever its row now sits): a note in a column of the
user's own, or a formula of their own, would be lost, so such a month is refused with the cells
named (sign it in the spreadsheet instead). Refused too: a month `katsheet check` finds anything
in, or one already settled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path
from typing import Any

from ..workbook.checker import check
from ..workbook.reader import SIGNED, Workbook, _named, read_workbook
from ..workbook.xlsx import read_xlsx
from .settle import Refused, framework


def _value(value: Any) -> Any:
    """A typed value as compared: numbers as floats (an int and a float of one number are one)."""
    return repr(float(value)) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _typed(formulas: dict, keys: set, skip: set) -> dict[tuple[str, Any], tuple[str, str]]:
    """What a person typed, per (sheet, value): the first cell holding it."""
    out: dict[tuple[str, Any], tuple[str, str]] = {}
    for key, value in formulas.items():
        if key not in keys and key not in skip and value not in (None, ""):
            out.setdefault((key[0], _value(value)), key)
    return out


def _lost(book: Workbook, data: bytes) -> list[str]:
    """The old file's typed values and formulas of the user's own that the new bytes do not hold."""
    signed = {_named(book.names, n, book.path)[:2] for n in SIGNED if n in book.names}
    ours = {(fc.sheet, fc.cell) for fc in book.formula_cells()}
    new = read_xlsx(io.BytesIO(data))  # type: ignore[arg-type]
    old, kept = _typed(book.formulas, book.formula_keys, signed), _typed(new.formulas, new.formula_keys, signed)
    reasons = [f"{s}!{c}: a formula of your own ({book.formulas[s, c]}) the template does not hold"
               for s, c in sorted(k for k in book.formula_keys if k not in ours)]  # fmt: skip
    reasons += [f"{s}!{c}: {value!r} is not a cell of the template"
                for (_, value), (s, c) in old.items() if (s, value) not in kept]  # fmt: skip
    return reasons


def approve(path: Path, by: str, on: dt.date) -> bytes:
    """The month in ``path`` with its approval signed by ``by`` on ``on`` (the new file's bytes)."""
    by = " ".join(str(by).split())
    if not by:
        raise Refused(["the approval needs a name: who approved the month for the DAO"])
    book = read_workbook(Path(path))
    month = book.month
    if month is None:
        raise Refused(["the workbook's inputs cannot be read: run katsheet check"])
    if month.stamp is not None:
        raise Refused([f"{path}: was settled as {month.stamp.settlement_id}: its approval is sealed"])
    report = check(book)
    if report.findings:
        raise Refused.findings(report.findings)
    approved: Any = dataclasses.replace(month, approval={**month.approval, "ApprovedBy": by, "ApprovedOn": on})
    data = framework(book.template).workbook(approved)
    lost = _lost(book, data)
    if lost:
        raise Refused([*lost, "approving here would lose these: sign ApprovedBy and ApprovedOn in the spreadsheet"])
    return data
