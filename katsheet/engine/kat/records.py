"""The KAT engine's input records: ledger rows, exceptions and carried member state, as typed.

Shells (CSV readers, workbook readers) build them; dates are already dates (engine/dates.py
refused anything else). Quantity and status stay as typed, because kat.md section 2 makes a bad
quantity or status a row problem to report, not unusable input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

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
