"""`katsheet next SETTLED.xlsx`: the next month's workbook, started from a settled one (kat.md
section 7). Refused for a month that is not settled, or whose seal or chains no longer verify.

KAT carries, in this order on the new Ledger: the sealed ledger (every sealed row since the first
month, seals kept, its input cells locked), then the open rows (pending, disputed, verified after
the period); on the Exceptions sheet the sealed exceptions, then the open ones; and per member the
level, streak, last_active, first_seen, cumulative KAT (so the tier) and wallet after the settled
period. New rows sealed next month extend the same chains: the history is append-only across files.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from ..engine.errors import InputError
from ..engine.grape.allocation import parse_budget_text
from ..engine.grape.pools import Asset
from ..engine.kat import Ledger, MemberState
from ..engine.numbers import parse_decimal, round_down
from ..layouts.grape import Book
from ..layouts.kat import TEMPLATE, KatMonth
from ..layouts.pools import TEMPLATE_ID as POOLS_TEMPLATE
from ..layouts.pools import PoolsMonth
from ..workbook.background import Background
from ..workbook.checker import check
from ..workbook.reader import read_workbook
from .settle import GRAPE, KAT, POOLS, Refused

T = TypeVar("T")

#: _TRUSTED: `next` checks the settled workbook without evaluating its formulas. The settlement seal
#: covers every constant cell (so every input), the drift check holds every formula to the
#: template's, and what is carried is the engine's computation on those inputs, not a cached value:
#: evaluating the formulas again could find nothing these do not. Settling evaluates them.


def month_after(period: str) -> str:
    """2026-11 -> 2026-12, 2026-12 -> 2027-01."""
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def next_kat_month(path: Path) -> KatMonth:
    return _next_kat(path)[0]


def _next_kat(path: Path, render: Callable[[KatMonth], bytes] | None = None) -> tuple[KatMonth, bytes | None]:
    """The KAT month after a settled one, and its workbook when ``render`` is given: made while
    the settled month is checked on the other core (``_checked``)."""
    book = read_workbook(Path(path))
    if book.template != TEMPLATE:
        raise InputError("is a GRAPE month (next_grape_book starts those)", where=str(path))

    def make() -> tuple[KatMonth, bytes | None]:
        month = _kat_after(book, path)
        return month, render(month) if render is not None else None

    return _checked(book, make)


def _checked(book: Any, make: Callable[[], T]) -> T:
    """``make()``, once ``book`` passes `katsheet check` (without evaluating: see _TRUSTED). The
    check runs on the other core while this process makes the next month (background.py): a
    10,000-row month's check and its successor's workbook take about 1.5 s each. What is refused,
    and why, is the same as checking first: the check's findings come before ``make``'s error."""
    with Background(functools.partial(check, book, evaluate_formulas=False)) as checking:
        try:
            made, error = make(), None
        except InputError as e:
            made, error = None, e
        report = checking.result()
    if report.findings:
        raise Refused.findings(report.findings)
    if error is not None:
        raise error
    return made  # type: ignore[return-value]


def _kat_after(book: Any, path: Path) -> KatMonth:
    month = book.month
    stamp = month.stamp if month is not None else None
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
    return KatMonth(month.config, month_after(p.period), Ledger.of([*sealed, *open_rows]), tuple(exceptions), states)


def next_grape_book(path: Path, *, budget: str | None = None, carry_over: str = "0%") -> Book:
    """The GRAPE month after a settled one: the same members, roles, wallets, criteria, levels and
    options, scores blank; each SubDAO's budget = its base budget (``budget``; else the base last
    month recorded, or its budget) +
    carry-over x what it returned last month, rounded down to its decimals (grape.md section 5)."""
    settled, share = _settled_grape(path, carry_over)
    if budget is not None and len(settled.parts) > 1:
        raise InputError("a workbook of several SubDAOs keeps each SubDAO's own budget: leave --budget out",
                         where="--budget", value=budget)  # fmt: skip
    label = month_after(settled.month)
    parts, origin = [], []
    for part in settled.parts:
        d = part.options.decimals
        base = parse_budget_text(budget, d) if budget is not None else (part.base_budget or part.budget or Decimal(0))
        # with the per-member cap, what the cap cut returned too
        returned = settled.returned(0) if settled.cap_section else part.allocation.returned_to_treasury
        name = f" ({part.subdao})" if part.subdao else f" ({settled.main_asset})" if settled.assets else ""
        amount, line = _budget(base, share, returned, d, name, settled.month)
        origin.append(line)
        rows = tuple(dataclasses.replace(r, scores=tuple("" for _ in r.scores), weight=Decimal(0)) for r in part.rows)
        parts.append(
            dataclasses.replace(part, month=label, budget=amount, rows=rows, slots=None, order=None, base_budget=base)
        )
    if not settled.cap_section:
        return Book(tuple(parts), origin=tuple(origin))
    returned = [settled.returned(k) for k in range(1, len(settled.asset_list))]
    assets, bases, lines = _carried(settled.assets, settled.asset_bases, returned, share, settled.month)
    return Book(tuple(parts), origin=(*origin, *lines), cap_section=True, max_share=settled.max_share,
                main_asset=settled.main_asset, assets=assets, asset_bases=bases)  # fmt: skip


def _settled_grape(path: Path, carry_over: str) -> tuple[Any, Decimal]:
    """A settled GRAPE month (tiers or pools), its seal and formulas verified, and the carry-over."""
    book = read_workbook(Path(path))
    if book.template == TEMPLATE:
        raise InputError("--budget and --carry-over are for GRAPE months", where=str(path))
    settled = book.month
    report = check(book, evaluate_formulas=False)  # see _TRUSTED
    if report.findings:
        raise Refused.findings(report.findings)
    if settled is None or settled.stamp is None:
        raise InputError("is not settled: the next month starts from a settled one (katsheet settle it first)",
                         where=str(path))  # fmt: skip
    share = parse_decimal(carry_over, what="carry-over", where="--carry-over", percent=True)
    if not 0 <= share <= 1:
        raise InputError("the carry-over is a share of the returned amount, 0% to 100%", where="--carry-over",
                         value=carry_over)  # fmt: skip
    return settled, share


def _budget(base: Decimal, share: Decimal, returned: Decimal, d: int, name: str, period: str) -> tuple[Decimal, str]:
    """Base + carry-over x returned, rounded down to d decimals, and the Guide's line saying so."""
    amount = round_down(base + share * returned, d)
    return amount, (f"Budget{name} {amount:,.{d}f} = base {base:,.{d}f} + carry-over {share * 100:g}% x "
                    f"{returned:,.{d}f} returned in {period} (rounded down to {d} decimals)")  # fmt: skip


def _carried(assets: tuple[Asset, ...], bases: tuple[Decimal | None, ...], returned: list[Decimal], share: Decimal,
             period: str) -> tuple[tuple[Asset, ...], tuple[Decimal, ...], tuple[str, ...]]:  # fmt: skip
    """Each asset's next budget: its base (``bases``, else its budget) + carry-over x what it
    returned; the new assets, their bases and the Guide's lines."""
    out, kept, lines = [], [], []
    for k, asset in enumerate(assets):
        known = bases[k] if k < len(bases) else None
        base = known if known is not None else asset.budget
        amount, line = _budget(base, share, returned[k], asset.decimals, f" ({asset.name})", period)
        out.append(dataclasses.replace(asset, budget=amount))
        kept.append(base)
        lines.append(line)
    return tuple(out), tuple(kept), tuple(lines)


def next_pools_month(path: Path, *, budget: str | None = None, carry_over: str = "0%") -> PoolsMonth:
    """The task-pool month after a settled one: the same tasks and shares, assets, cap, levels,
    members and wallets, scores blank; each asset's budget = its base + carry-over x what it
    returned (``budget`` sets the base of a month of one asset)."""
    settled, share = _settled_grape(path, carry_over)
    if budget is not None and len(settled.assets) > 1:
        raise InputError("a month of several assets keeps each asset's own budget: leave --budget out",
                         where="--budget", value=budget)  # fmt: skip
    given = (parse_budget_text(budget, settled.assets[0].decimals),) if budget is not None else ()
    returned = [a.returned_to_treasury for a in settled.allocations]
    assets, bases, origin = _carried(settled.assets, given or settled.base_budgets, returned, share, settled.month)
    rows = tuple(dataclasses.replace(r, shown=tuple(Decimal(0) for _ in r.shown), scores=tuple(Decimal(0) for _ in
                 r.scores)) for r in settled.rows)  # fmt: skip
    return dataclasses.replace(settled, month=month_after(settled.month), assets=tuple(assets), rows=rows, slots=None,
                               approval={}, stamp=None, origin=origin, base_budgets=bases,
                               capacity=max(settled.capacity, len(rows)))  # fmt: skip


@dataclasses.dataclass(frozen=True)
class NextMonth:
    """The next month's workbook: its default file name, its bytes (rendered on demand; KAT's are
    made beforehand, while the settled month is checked), a summary."""

    name: str
    render: Callable[[], bytes]
    summary: str


def next_month(settled: Path, *, budget: str | None = None, carry_over: str = "0%") -> NextMonth:
    """The month after ``settled`` (KAT or GRAPE, as the workbook says), for `katsheet next` and
    the dashboard's "start the next month"."""
    from ..workbook.reader import _constant
    from ..workbook.xlsx import Refused as Unreadable
    from ..workbook.xlsx import defined_names

    try:
        names = defined_names(settled)
    except (Unreadable, OSError) as e:
        raise InputError(f"cannot be read as a workbook ({e})", where=str(settled)) from None
    if _constant(names, "KatsheetTemplate") == TEMPLATE:
        if budget is not None or carry_over != "0%":
            raise InputError("--budget and --carry-over are for GRAPE months", where="--budget/--carry-over")
        month, data = _next_kat(settled, KAT.workbook)
        return NextMonth(f"{month.period.settlement_id}.xlsx",
                         lambda: data,  # type: ignore[arg-type,return-value]
                         f"{month.period.period}: {month.sealed_rows} sealed ledger rows carried, "
                         f"{len(month.ledger) - month.sealed_rows} open; {len(month.states)} members carried")  # fmt: skip
    if _constant(names, "KatsheetTemplate") == POOLS_TEMPLATE:
        pools = next_pools_month(settled, budget=budget, carry_over=carry_over)
        return NextMonth(f"GRAPE-{pools.month}.xlsx", lambda: POOLS.workbook(pools),
                         f"{pools.month}: {len(pools.rows)} members, {len(pools.tasks)} tasks, scores blank; "
                         + "; ".join(pools.origin))  # fmt: skip
    book = next_grape_book(settled, budget=budget, carry_over=carry_over)
    return NextMonth(f"GRAPE-{book.month}.xlsx",
                     lambda: GRAPE.workbook(book),
                     f"{book.month}: {sum(len(p.rows) for p in book.parts)} role rows, scores blank; "
                     + "; ".join(book.origin))  # fmt: skip
