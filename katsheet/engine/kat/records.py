"""The KAT engine's input records: ledger rows, exceptions and carried member state, as typed.

Shells (CSV readers, workbook readers) build them; dates are already dates (engine/dates.py
refused anything else). Quantity and status stay as typed, because kat.md section 2 makes a bad
quantity or status a row problem to report, not unusable input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from operator import attrgetter

STATUSES = ("pending", "verified", "disputed", "void")
DECISIONS = ("open", "upheld", "dismissed")


@dataclass(slots=True)
class LedgerRow:
    """One claimed contribution (kat.md section 2). ``settled`` is the period (YYYY-MM) that sealed
    it, blank while it is open; ``where`` locates it for messages (``row 7``, ``Ledger!B9``).

    Treated as immutable; not frozen because a ledger has 100,000 of them and a frozen dataclass
    takes six times as long to build."""

    entry: str
    date: dt.date | None
    member: str
    stakeholder: str
    rule: str
    quantity: object = 1
    evidence: str = ""
    verified_by: str = ""
    verified_on: dt.date | None = None
    status: str = "verified"
    notes: str = ""
    settled: str = ""
    where: str = ""
    #: the row's seal when settled (engine/kat/seal.py), blank while open
    seal: str = ""


class Ledger(Sequence[LedgerRow]):
    """A ledger held column by column: what the engine reads (a column at a time runs at C speed;
    a ledger has 100,000 rows). Rows are made on demand, so it reads as a list of LedgerRow."""

    __slots__ = ("_ordered", "columns")

    def __init__(self, columns: dict[str, list]) -> None:
        if set(columns) != set(LEDGER_FIELDS) or len({len(c) for c in columns.values()}) > 1:
            raise ValueError(f"a ledger needs the columns {', '.join(LEDGER_FIELDS)}, all of one length")
        self.columns = columns
        self._ordered = tuple(columns[name] for name in LEDGER_FIELDS)

    @classmethod
    def of(cls, rows: Iterable[LedgerRow]) -> Ledger:
        """Any ledger rows, as columns (a Ledger is returned as it is)."""
        if isinstance(rows, Ledger):
            return rows
        rows = list(rows)
        return cls({name: list(map(attrgetter(name), rows)) for name in LEDGER_FIELDS})

    def __len__(self) -> int:
        return len(self.columns["entry"])

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return LedgerRow(*[column[i] for column in self._ordered])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Ledger({len(self)} rows)"


LEDGER_FIELDS = tuple(f.name for f in fields(LedgerRow))


@dataclass(frozen=True)
class ExceptionRecord:
    """A decision about a member (kat.md section 6): open ones are carried, upheld ones step Karma down."""

    id: str
    date: dt.date | None
    member: str
    kind: str = ""
    decision: str = "open"
    notes: str = ""
    settled: str = ""
    where: str = ""
    seal: str = ""


@dataclass(frozen=True)
class MemberState:
    """What a member carries from the last settled period (kat.md section 3)."""

    member: str
    level: int
    streak: int = 0
    last_active: dt.date | None = None
    first_seen: dt.date | None = None
    cumulative: Decimal = Decimal(0)
    where: str = ""
    #: the member's EVM wallet for the mint list (checked where it is read), blank if none
    wallet: str = ""
