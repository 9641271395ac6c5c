"""`katsheet next SETTLED.xlsx`: the next month's workbook, started from a settled one (kat.md
section 7). Refused for a month that is not settled, or whose seal or chains no longer verify.

KAT carries, in this order on the new Ledger: the sealed ledger (every sealed row since the first
month, seals kept, its input cells locked), then the open rows (pending, disputed, verified after
the period); on the Exceptions sheet the sealed exceptions, then the open ones; and per member the
level, streak, last_active, first_seen, cumulative KAT (so the tier) and wallet after the settled
period. New rows sealed next month extend the same chains: the history is append-only across files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ..engine.errors import InputError
from ..engine.kat import Ledger, MemberState
from ..layouts.kat import TEMPLATE, KatMonth
from ..workbook.checker import check
from ..workbook.reader import read_workbook
from .settle import Refused


def following(period_end: dt.date) -> str:
    day = period_end + dt.timedelta(days=1)
    return f"{day.year:04d}-{day.month:02d}"


def next_kat_month(path: Path) -> KatMonth:
    book = read_workbook(Path(path))
    if book.template != TEMPLATE:
        raise InputError("is a GRAPE month: katsheet next starts KAT months so far (GRAPE comes next)",
                         where=str(path))  # fmt: skip
    month = book.month
    stamp = month.stamp if month is not None else None
    report = check(book)
    if report.findings:
        raise Refused([f"{f.sheet}!{f.cell}: {f.message}" for f in report.findings])
    if month is None or stamp is None:
        raise InputError("is not settled: the next month starts from a settled one (katsheet settle it first)",
                         where=str(path))  # fmt: skip
    p = month.period
    rows = list(month.rows)
    sealed = [r for r in rows if r.seal]
    open_rows = [r for r in rows if not r.seal]
    exceptions = [e for e in month.exceptions if e.seal] + [e for e in month.exceptions if not e.seal]
    states = tuple(
        MemberState(m.member, m.level, m.streak, m.last_active, m.first_seen, m.cumulative,
                    wallet=month.wallet_of(m.member) or "")
        for m in month.members
    )  # fmt: skip
    return KatMonth(month.config, following(p.end), Ledger.of([*sealed, *open_rows]), tuple(exceptions), states)
