"""Tables (a header and numbered rows of text, as from a CSV) to KAT input records. Pure: no file
is opened here, so the CSV readers and the workbook readers share it.

Headers match case- and punctuation-blind (``Verified By`` is ``verified_by``); other columns (a
wallet, a comment) are ignored. Dates are ISO only (engine/dates.py). Blank lines are skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import compress

from ..bulk import without_cycle_collection
from ..dates import parse_date
from ..errors import InputError
from ..grape.criteria import slug
from ..names import MAX_NAME, check_name, check_text, has_forbidden
from ..numbers import parse_decimal
from .records import LEDGER_FIELDS, ExceptionRecord, Ledger, MemberState

LEDGER_COLUMNS = ("entry", "date", "member", "stakeholder", "rule", "quantity", "evidence", "verified_by",
                  "verified_on", "status", "notes", "settled", "seal")  # fmt: skip
LEDGER_REQUIRED = ("entry", "date", "member", "stakeholder", "rule", "evidence", "verified_by", "verified_on", "status")
EXCEPTION_COLUMNS = ("id", "date", "member", "kind", "decision", "notes", "settled", "seal")
EXCEPTION_REQUIRED = ("id", "date", "member", "decision")
STATE_COLUMNS = ("member", "level", "streak", "last_active", "first_seen", "cumulative_kat", "wallet")
STATE_REQUIRED = ("member", "level")

#: other names a column goes by (the KAT workbook's Ledger sheet says "Settled in")
ALIASES = {"settled_in": "settled"}

Rows = Iterable[tuple[int, Sequence[str]]]


def _text(value: str, column: str, where: str, *, name: bool = False) -> str:
    at = f"{where}, column {column}"
    return check_name(value, what=column, where=at) if name else check_text(value, what=column, where=at)


class _Table:
    """The non-blank rows of a table, transposed once into columns (C speed: a ledger has 100,000 rows)."""

    def __init__(self, header: Sequence[str], rows: Rows, required: Sequence[str], what: str, source: str) -> None:
        self.index: dict[str, int] = {}
        for i, name in enumerate(header):
            key = slug(name)
            self.index.setdefault(ALIASES.get(key, key), i)
        missing = [c for c in required if c not in self.index]
        if missing:
            raise InputError(f"the {what} has no {', '.join(missing)} column (needs {', '.join(required)})",
                             where=f"{source} header row".strip(), value=",".join(header)[:60])  # fmt: skip
        self.source = source
        width = max(len(header), 1)
        rows = rows if isinstance(rows, list) else list(rows)
        numbers, cells_of = (list(x) for x in zip(*rows, strict=True)) if rows else ([], [])
        filled = list(map(str.strip, map("".join, cells_of)))  # blank lines are skipped
        if not all(filled):
            numbers, cells_of = list(compress(numbers, filled)), list(compress(cells_of, filled))
        self.numbers = numbers
        padded = cells_of
        if any(len(cells) != width for cells in padded):
            padded = [
                cells if len(cells) == width else [*cells[:width], *[""] * (width - len(cells))] for cells in padded
            ]
        self.columns = list(zip(*padded, strict=True)) if padded else [()] * width

    def __len__(self) -> int:
        return len(self.numbers)

    @property
    def where_prefix(self) -> str:
        return f"{self.source} row ".lstrip()

    def wheres(self) -> Sequence[str]:
        """Every row's location, for the records' ``where`` (made when read: most never are)."""
        return _Locations(self.where_prefix, self.numbers)

    def where(self, i: int, column: str | None = None) -> str:
        at = f"{self.where_prefix}{self.numbers[i]}"
        return f"{at}, column {column}" if column else at

    def text(self, column: str, *, name: bool = True) -> list[str]:
        """One column's stripped text, checked as a whole; the per-cell check runs only where the
        column-wide test found something."""
        i = self.index.get(column)
        if i is None:
            return [""] * len(self)
        values = list(map(str.strip, self.columns[i]))
        joined = "\n".join(values)
        too_long = name and max(map(len, values), default=0) > MAX_NAME
        if too_long or has_forbidden(joined):
            for j, value in enumerate(values):
                _text(value, column, self.where(j), name=name)
        return values

    def dates(self, column: str, what: str, *, required: bool) -> list[dt.date | None]:
        """A date column, each distinct text parsed once (a month's ledger has about 30 distinct dates)."""
        values = self.text(column)
        parsed = dict.fromkeys(values)  # the distinct texts, in the order they first appear
        for text in parsed:
            parsed[text] = parse_date(text, what=what, where=self.where(values.index(text), column), required=required)
        return [parsed[text] for text in values]


class _Locations(Sequence[str]):
    """``{prefix}{number}`` for each row number, made on demand."""

    def __init__(self, prefix: str, numbers: list[int]) -> None:
        self.prefix, self.numbers = prefix, numbers

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [f"{self.prefix}{n}" for n in self.numbers[i]]
        return f"{self.prefix}{self.numbers[i]}"


def ledger_rows(header: Sequence[str], rows: Rows, *, source: str = "") -> Ledger:
    """The ledger of kat.md section 2 (quantity and status kept as typed: the engine judges them)."""
    with without_cycle_collection():
        t = _Table(header, rows, LEDGER_REQUIRED, "ledger", source)
        columns = (
            t.text("entry"), t.dates("date", "the date", required=False), t.text("member"), t.text("stakeholder"),
            t.text("rule"), t.text("quantity", name=False), t.text("evidence", name=False), t.text("verified_by"),
            t.dates("verified_on", "verified_on", required=False), t.text("status"), t.text("notes", name=False),
            t.text("settled"), t.wheres(), t.text("seal"),
        )  # fmt: skip
        return Ledger(dict(zip(LEDGER_FIELDS, columns, strict=True)))


def exception_records(header: Sequence[str], rows: Rows, *, source: str = "") -> list[ExceptionRecord]:
    """Exceptions: id, date, member, kind, decision (open, upheld, dismissed), notes."""
    t = _Table(header, rows, EXCEPTION_REQUIRED, "exceptions file", source)
    columns = (
        t.text("id"), t.dates("date", "the date", required=True), t.text("member"), t.text("kind"),
        t.text("decision"), t.text("notes", name=False), t.text("settled"), t.wheres(), t.text("seal"),
    )  # fmt: skip
    return [ExceptionRecord(*values) for values in zip(*columns, strict=True)]


def member_states(
    header: Sequence[str], rows: Rows, *, source: str = "", decimal_comma: bool = False
) -> list[MemberState]:
    """The carried state: member, level, streak, last_active, first_seen, cumulative_kat, and the
    wallet (as typed: the shells check it, engine code never needs it)."""
    t = _Table(header, rows, STATE_REQUIRED, "state file", source)
    members = t.text("member")
    for i, member in enumerate(members):
        if not member:
            raise InputError("the member is blank", where=t.where(i, "member"))
    levels, streaks, cumulative = t.text("level", name=False), t.text("streak", name=False), t.text("cumulative_kat")
    wallets = t.text("wallet")
    return [
        MemberState(
            member, _whole(levels[i], "level", t.where(i, "level")),
            _whole(streaks[i] or "0", "streak", t.where(i, "streak")), last_active, first_seen,
            _cumulative(cumulative[i], t.where(i, "cumulative_kat"), decimal_comma), t.where(i), wallets[i],
        )
        for i, (member, last_active, first_seen) in enumerate(zip(
            members, t.dates("last_active", "last_active", required=False),
            t.dates("first_seen", "first_seen", required=False), strict=True,
        ))
    ]  # fmt: skip


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
