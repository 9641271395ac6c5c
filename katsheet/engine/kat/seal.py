"""The sealed ledger (kat.md section 2): settling a period seals every ledger row and exception
decided in it, each chained to the one before.

    seal = SHA-256(previous seal + canonical text), hex, lower case; the first previous seal is
    64 zeros; ledger rows and exceptions are two chains.

The canonical text of a record is the JSON array (UTF-8, no spaces: separators "," and ":", no
ASCII escaping) of its kind, its period and its fields as text, each trimmed, dates as YYYY-MM-DD:

    ["ledger", period, entry, date, member, stakeholder, rule, quantity, evidence, verified_by,
     verified_on, status, notes]
    ["exception", period, id, date, member, kind, decision, notes]

so anyone can recompute a chain from the published files with any SHA-256 tool. An edit,
deletion, insertion or reordering of a sealed record breaks the chain at that record or the next,
and is named by its entry id. Pure: hashlib and json only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .records import ExceptionRecord, LedgerRow

GENESIS = "0" * 64


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def ledger_fields(row: LedgerRow) -> list[str]:
    return [_text(v) for v in (row.entry, row.date, row.member, row.stakeholder, row.rule, row.quantity,
                               row.evidence, row.verified_by, row.verified_on, row.status, row.notes)]  # fmt: skip


def exception_fields(record: ExceptionRecord) -> list[str]:
    return [_text(v) for v in (record.id, record.date, record.member, record.kind, record.decision, record.notes)]


def canonical(kind: str, period: str, fields: Sequence[str]) -> str:
    return json.dumps([kind, period, *fields], ensure_ascii=False, separators=(",", ":"))


def seal(previous: str, text: str) -> str:
    return hashlib.sha256((previous + text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Sealed:
    """One sealed record as a file holds it: its id, where it is, its period, fields and seal."""

    kind: str  # "ledger" or "exception"
    id: str
    period: str
    fields: tuple[str, ...]
    seal: str
    where: str = ""


def chain(kind: str, records: Iterable[tuple[str, str, Sequence[str]]], previous: str = GENESIS) -> list[str]:
    """The seals of (id, period, fields) records, in order, after ``previous`` (the chain's head)."""
    out = []
    for _id, period, fields in records:
        previous = seal(previous, canonical(kind, period, fields))
        out.append(previous)
    return out


@dataclass(frozen=True)
class Break:
    """Where a chain stops verifying: the record, and what most likely happened to it."""

    record: Sealed | None  # None: the chain is empty where a head was recorded
    message: str


def verify(records: Sequence[Sealed], previous: str = GENESIS, last: str | None = None) -> Break | None:
    """The first record whose seal does not follow from the chain before it, or None; with
    ``last`` (the head the settlement recorded), also a chain cut short at its end.

    A record whose text hashes to its seal after another record's seal was moved, or a record
    above it was removed or inserted; one whose text hashes to its seal after none of them was
    edited, inserted, or the record just above it deleted (the seal alone cannot tell which)."""
    seals = {GENESIS, *(r.seal for r in records)}
    for r in records:
        text = canonical(r.kind, r.period, r.fields)
        if seal(previous, text) == r.seal:
            previous = r.seal
            continue
        if any(seal(p, text) == r.seal for p in seals):
            return Break(r, "sealed record out of place: a sealed record above it was moved, removed or inserted")
        return Break(r, "sealed record does not verify: its fields were changed after settlement, it was "
                        "inserted, or the sealed record above it was deleted (answer a mistake with an exception "
                        "record, never an edit)")  # fmt: skip
    if last is not None and previous != last:
        return Break(records[-1] if records else None, "sealed records at the end of the chain were deleted (it "
                     "ends before the head its settlement recorded)")  # fmt: skip
    return None


def seal_period(period: str, rows: Iterable[LedgerRow], exceptions: Iterable[ExceptionRecord],
                heads: tuple[str, str] = (GENESIS, GENESIS)) -> tuple[list[Sealed], list[Sealed]]:  # fmt: skip
    """Seal the ledger rows and exceptions decided in ``period`` after the chains' heads."""
    out = []
    for kind, records, fields_of, head in (("ledger", rows, ledger_fields, heads[0]),
                                            ("exception", exceptions, exception_fields, heads[1])):  # fmt: skip
        listed = [(_text(getattr(r, "entry", None) or getattr(r, "id", "")), period, fields_of(r)) for r in records]
        seals = chain(kind, listed, head)
        out.append([Sealed(kind, i, p, tuple(f), s) for (i, p, f), s in zip(listed, seals, strict=True)])
    return out[0], out[1]


def head(records: Sequence[Sealed]) -> str:
    return records[-1].seal if records else GENESIS
