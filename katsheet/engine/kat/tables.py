"""Tables (a header and numbered rows of text, as from a CSV) to KAT input records. Pure: no file
is opened here, so the CSV readers and the workbook readers share it.

Headers match case- and punctuation-blind (``Verified By`` is ``verified_by``); other columns (a
wallet, a comment) are ignored. Dates are ISO only (engine/dates.py). Blank lines are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from ..dates import parse_date
from ..errors import InputError
from ..grape.criteria import slug
from ..names import check_name, check_text
from ..numbers import parse_decimal
from .records import ExceptionRecord, LedgerRow, MemberState

LEDGER_COLUMNS = ("entry", "date", "member", "stakeholder", "rule", "quantity", "evidence", "verified_by",
                  "verified_on", "status", "notes", "settled")  # fmt: skip
LEDGER_REQUIRED = ("entry", "date", "member", "stakeholder", "rule", "evidence", "verified_by", "verified_on", "status")
EXCEPTION_COLUMNS = ("id", "date", "member", "kind", "decision", "notes", "settled")
EXCEPTION_REQUIRED = ("id", "date", "member", "decision")
STATE_COLUMNS = ("member", "level", "streak", "last_active", "first_seen", "cumulative_kat")
STATE_REQUIRED = ("member", "level")

Rows = Iterable[tuple[int, Sequence[str]]]


class _Cells:
    """Column lookup for one table, with the row's location for messages."""

    def __init__(self, header: Sequence[str], required: Sequence[str], what: str, source: str) -> None:
        self.index: dict[str, int] = {}
        for i, name in enumerate(header):
            self.index.setdefault(slug(name), i)
        missing = [c for c in required if c not in self.index]
        if missing:
            raise InputError(f"the {what} has no {', '.join(missing)} column (needs {', '.join(required)})",
                             where=f"{source} header row".strip(), value=",".join(header)[:60])  # fmt: skip

    def __call__(self, cells: Sequence[str], column: str) -> str:
        i = self.index.get(column)
        return cells[i].strip() if i is not None and i < len(cells) else ""


def _text(value: str, column: str, where: str, *, name: bool = False) -> str:
    at = f"{where}, column {column}"
    return check_name(value, what=column, where=at) if name else check_text(value, what=column, where=at)


def ledger_rows(header: Sequence[str], rows: Rows, *, source: str = "") -> list[LedgerRow]:
    """The ledger of kat.md section 2 (quantity and status kept as typed: the engine judges them)."""
    cell = _Cells(header, LEDGER_REQUIRED, "ledger", source)
    out: list[LedgerRow] = []
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        where = f"{source} row {number}".strip()
        out.append(LedgerRow(
            entry=_text(cell(cells, "entry"), "entry", where, name=True),
            date=parse_date(cell(cells, "date"), what="the date", where=f"{where}, column date", required=False),
            member=_text(cell(cells, "member"), "member", where, name=True),
            stakeholder=_text(cell(cells, "stakeholder"), "stakeholder", where, name=True),
            rule=_text(cell(cells, "rule"), "rule", where, name=True),
            quantity=cell(cells, "quantity"),
            evidence=_text(cell(cells, "evidence"), "evidence", where),
            verified_by=_text(cell(cells, "verified_by"), "verified_by", where, name=True),
            verified_on=parse_date(cell(cells, "verified_on"), what="verified_on", where=f"{where}, column verified_on",
                                   required=False),
            status=_text(cell(cells, "status"), "status", where, name=True),
            notes=_text(cell(cells, "notes"), "notes", where),
            settled=cell(cells, "settled"),
            where=where,
        ))  # fmt: skip
    return out


def exception_records(header: Sequence[str], rows: Rows, *, source: str = "") -> list[ExceptionRecord]:
    """Exceptions: id, date, member, kind, decision (open, upheld, dismissed), notes."""
    cell = _Cells(header, EXCEPTION_REQUIRED, "exceptions file", source)
    out: list[ExceptionRecord] = []
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        where = f"{source} row {number}".strip()
        out.append(ExceptionRecord(
            id=_text(cell(cells, "id"), "id", where, name=True),
            date=parse_date(cell(cells, "date"), what="the date", where=f"{where}, column date"),
            member=_text(cell(cells, "member"), "member", where, name=True),
            kind=_text(cell(cells, "kind"), "kind", where, name=True),
            decision=cell(cells, "decision"),
            notes=_text(cell(cells, "notes"), "notes", where),
            settled=cell(cells, "settled"),
            where=where,
        ))  # fmt: skip
    return out


def member_states(
    header: Sequence[str], rows: Rows, *, source: str = "", decimal_comma: bool = False
) -> list[MemberState]:
    """The carried state: member, level, streak, last_active, first_seen, cumulative_kat."""
    cell = _Cells(header, STATE_REQUIRED, "state file", source)
    out: list[MemberState] = []
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        where = f"{source} row {number}".strip()
        member = _text(cell(cells, "member"), "member", where, name=True)
        if not member:
            raise InputError("the member is blank", where=f"{where}, column member")
        out.append(MemberState(
            member=member,
            level=_whole(cell(cells, "level"), "level", f"{where}, column level"),
            streak=_whole(cell(cells, "streak") or "0", "streak", f"{where}, column streak"),
            last_active=parse_date(cell(cells, "last_active"), what="last_active", where=f"{where}, column last_active",
                                   required=False),
            first_seen=parse_date(cell(cells, "first_seen"), what="first_seen", where=f"{where}, column first_seen",
                                  required=False),
            cumulative=_cumulative(cell(cells, "cumulative_kat"), f"{where}, column cumulative_kat", decimal_comma),
            where=where,
        ))  # fmt: skip
    return out


def _whole(text: str, what: str, where: str) -> int:
    number = parse_decimal(text, what=f"the {what}", where=where)
    if number != number.to_integral_value() or number < 0 or number.adjusted() > 9:
        raise InputError(f"the {what} must be a whole number >= 0", where=where, value=text)
    return int(number)


def _cumulative(text: str, where: str, decimal_comma: bool) -> Decimal:
    if not text:
        return Decimal(0)
    number = parse_decimal(text, what="cumulative KAT", where=where, decimal_comma=decimal_comma)
    if number < 0:
        raise InputError("cumulative KAT must be >= 0", where=where, value=text)
    return number
