"""GREMS parity (grape.md section 6): task pools, the per-member cap (both models), several assets.

Task pools (GRIPv2): each task's pool PAT_t = B x share_t / sum of shares. Within a task, a
member's PWR = PWS / TPWS x PAT_t when two or more members score above 0; the task's only scorer
gets PWS x PAT_t, and the rest of that pool is not allocated. A member's total is ROUNDDOWN of the
sum of their PWR, after the per-member cap (at most B x max%, when one is set); what is not paid
returns to the treasury. Every intermediate figure is kept exact (Fractions) and reported. As in
the tiers model, the sum and the cap are raised by 2^-47 of themselves before they are rounded
down (the rounding guard, docs/decisions.md "Spreadsheet arithmetic"), so the workbooks' doubles
give the same digits: a whole number of units stays whole.

Several assets are the same scores allocated again with another budget and decimals: one
allocation per asset, never merged (the scores checked and summed once, ``pool_scoring``, then
``allocate_scoring`` per asset).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from ..errors import InputError
from ..names import member_key
from ..numbers import from_units, places_of, to_units
from .allocation import MAX_DECIMALS, Allocation, check_budget, nudge_for


@dataclass(frozen=True)
class Task:
    """A task and its pool share as typed (any non-negative number: shares are normalised)."""

    name: str
    share: Decimal
    where: str = ""


@dataclass(frozen=True)
class Asset:
    """One asset a month pays (GRAPE, USDC, SOL): its budget and the decimals of its amounts."""

    name: str
    budget: Decimal
    decimals: int


@dataclass(frozen=True)
class TaskScore:
    """One member's score on one task, in [0, 1] (a level already turned into its score)."""

    member: str
    task: str
    score: Decimal
    where: str = ""


@dataclass(frozen=True)
class TaskResult:
    task: str
    share: Decimal
    #: the task's pool, PAT (exact), and the sum of its scores, TPWS
    pat: Fraction
    tpws: Decimal
    #: how many members score above 0 (one: the lone-scorer rule applies)
    scorers: int
    #: PWR = a score's units x ``coefficient`` (PAT / TPWS, or PAT for the lone scorer, per unit)
    coefficient: Fraction = Fraction(0)
    #: each member's score on the task in units of 10^-places, in the order they were given
    units: dict[str, int] = field(default_factory=dict)

    @property
    def pwr(self) -> dict[str, Fraction]:
        """Each member's PWR on the task (exact)."""
        return {member: u * self.coefficient for member, u in self.units.items()}

    def pwr_rounded(self, places: int) -> dict[str, Decimal]:
        """Each member's PWR rounded half up to ``places`` (whole-number arithmetic: fast)."""
        n, d, scale = self.coefficient.numerator, self.coefficient.denominator, 10**places
        by_units: dict[int, Decimal] = {}  # scores repeat (levels): each distinct one computed once
        for u in set(self.units.values()):
            by_units[u] = from_units((2 * u * n * scale + d) // (2 * d), places)
        return {member: by_units[u] for member, u in self.units.items()}

    @property
    def rate(self) -> Fraction:
        """What one whole score (100%) earns on the task: PAT / TPWS, or PAT for its only scorer."""
        return self.pat if self.scorers == 1 else (self.pat / Fraction(self.tpws) if self.tpws else Fraction(0))

    @property
    def unallocated(self) -> Fraction:
        """What of the pool nobody receives (the lone scorer's rest, or a task nobody scored)."""
        return self.pat - sum(self.units.values()) * self.coefficient


@dataclass(frozen=True)
class PoolMember:
    member: str
    #: the sum of the member's PWR over their tasks, before the cap (exact)
    before_cap: Fraction
    #: ROUNDDOWN(min(before_cap, B x max%), d), each after the rounding guard
    total: Decimal
    #: the cap cut at least one unit
    capped: bool = False
    #: ROUNDDOWN(before_cap, d) after the rounding guard, in units of 10^-d
    before_units: int = 0


@dataclass(frozen=True)
class PoolAllocation:
    budget: Decimal
    decimals: int
    max_share: Decimal | None
    tasks: tuple[TaskResult, ...]
    members: tuple[PoolMember, ...]
    total_allocated: Decimal
    returned_to_treasury: Decimal

    @property
    def cap_amount(self) -> Fraction | None:
        return None if self.max_share is None else Fraction(self.budget) * Fraction(self.max_share)


ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")


def check_asset_name(name: str) -> None:
    """An asset's name names its payout file: 1 to 20 letters, digits or . _ -."""
    if not ASSET_NAME.fullmatch(name):
        raise InputError("an asset's name is 1 to 20 letters, digits or . _ - (it names the asset's payout file)",
                         where="--asset", value=name)  # fmt: skip


def check_assets(assets: Sequence[Asset]) -> None:
    """A month's assets: names that name payout files, none twice, decimals in range, and budgets
    a workbook holds to the last decimal."""
    from ..limits import check_budget_fits

    for a in assets:
        check_asset_name(a.name)
    names = [member_key(a.name) for a in assets]
    if len(set(names)) != len(names):
        raise InputError("an asset is given twice", where="--asset", value=", ".join(a.name for a in assets))
    for a in assets:
        if not 0 <= a.decimals <= MAX_DECIMALS:
            raise InputError(f"decimals run from 0 to {MAX_DECIMALS}", where=f"--asset {a.name}", value=a.decimals)
        check_budget_fits(a.budget, a.decimals, where=f"--asset {a.name}")
        check_budget(a.budget, a.decimals, where=f"--asset {a.name}")


@functools.lru_cache(maxsize=64)
def asset_cap_units(asset: Asset, max_share: Decimal | None) -> int:
    """An asset's per-member cap in units; without a cap its whole budget (no member's sum exceeds it).
    Remembered: a workbook's cap columns ask for it once per member row."""
    limit = cap_units(asset.budget, max_share, asset.decimals)
    return to_units(asset.budget, asset.decimals) if limit is None else limit


def cap_units(budget: Decimal, max_share: Decimal | None, decimals: int) -> int | None:
    """The per-member cap in units of 10^-d: ROUNDDOWN(B x max%, d) after the rounding guard, as
    every total is (docs/decisions.md, "Spreadsheet arithmetic"); None without a cap."""
    if max_share is None:
        return None
    nudge = nudge_for(to_units(budget, decimals))
    exact = Fraction(budget) * Fraction(max_share) * 10**decimals * nudge
    return exact.numerator // exact.denominator


def check_max_share(max_share: Decimal | None, *, where: str = "--max-reward") -> None:
    if max_share is not None and not Decimal(0) < max_share <= Decimal(1):
        raise InputError("the per-member cap must lie in (0%, 100%]", where=where, value=max_share)


class _Keys(dict):
    """member_key, remembered: a month names each member and task thousands of times."""

    def __missing__(self, text: str) -> str:
        self[text] = member_key(text)
        return self[text]


def _check(tasks: Sequence[Task], scores: Sequence[TaskScore], key: _Keys) -> dict[str, Task]:
    by_key: dict[str, Task] = {}
    for t in tasks:
        name = key[t.name]
        if not name:
            raise InputError("a task needs a name", where=t.where, value=t.name)
        if name in by_key:
            raise InputError(f"the task is listed twice (also at {by_key[name].where})", where=t.where, value=t.name)
        if t.share < 0:
            raise InputError("a task's share must be 0 or more", where=t.where, value=t.share)
        by_key[name] = t
    if not by_key or sum(t.share for t in tasks) <= 0:
        raise InputError("the tasks' shares are all zero: give each task its share of the budget",
                         where=tasks[0].where if tasks else "tasks")  # fmt: skip
    seen: dict[tuple[str, str], str] = {}
    for s in scores:
        if key[s.task] not in by_key:
            raise InputError(f"no such task (the tasks are {', '.join(t.name for t in tasks)})", where=s.where,
                             value=s.task)  # fmt: skip
        if not key[s.member]:
            raise InputError("a score needs a member", where=s.where, value=s.member)
        if not Decimal(0) <= s.score <= Decimal(1):
            raise InputError("a score must lie in [0, 1] (0% to 100%)", where=s.where, value=s.score)
        pair = (key[s.member], key[s.task])
        if pair in seen:
            raise InputError(f"the same member and task twice (also at {seen[pair]})", where=s.where, value=s.member)
        seen[pair] = s.where
    return by_key


@dataclass(frozen=True, eq=False)
class PoolScoring:
    """What the scores make of the tasks whatever the budget: checked once, shared by every asset
    of a month (each asset's allocation only scales it)."""

    #: per task (every task, in the tasks' order): its score units by member as given, their sum,
    #: its scorers
    units: tuple[tuple[Task, dict[str, int], int, int], ...]
    places: int
    key: _Keys = field(repr=False, compare=False)


def pool_scoring(tasks: Iterable[Task], scores: Iterable[TaskScore]) -> PoolScoring:
    tasks, scores = list(tasks), list(scores)
    key = _Keys()
    by_key = _check(tasks, scores, key)
    # Scores as whole units of 10^-places; each task's PWR is units x one coefficient, and each
    # member's sum a whole number over the coefficients' common denominator: exact and fast.
    values = {s.score for s in scores}
    places = max((places_of(v) for v in values), default=0)
    as_units = {v: to_units(v, places) for v in values}
    on_task: dict[str, list[TaskScore]] = {k: [] for k in by_key}
    for s in scores:
        on_task[key[s.task]].append(s)
    out = []
    for k, task in by_key.items():
        units: dict[str, int] = {}
        for s in on_task[k]:
            units[s.member] = units.get(s.member, 0) + as_units[s.score]
        out.append((task, units, sum(units.values()), sum(1 for u in units.values() if u > 0)))
    return PoolScoring(tuple(out), places, key)


def check_pool_budget(budget: Decimal, decimals: int, max_share: Decimal | None) -> None:
    """An asset's budget, decimals and the cap, as allocate_pools takes them."""
    if not 0 <= decimals <= MAX_DECIMALS:
        raise InputError(f"decimals must be a whole number from 0 to {MAX_DECIMALS}", where="decimals", value=decimals)
    check_budget(budget, decimals)
    check_max_share(max_share)


def allocate_pools(budget: Decimal, tasks: Iterable[Task], scores: Iterable[TaskScore], *, decimals: int = 6,
                   max_share: Decimal | None = None) -> PoolAllocation:  # fmt: skip
    """Share ``budget`` over the tasks' pools as grape.md section 6 says."""
    check_pool_budget(budget, decimals, max_share)
    return allocate_scoring(budget, pool_scoring(tasks, scores), decimals=decimals, max_share=max_share)


def allocate_scoring(budget: Decimal, scoring: PoolScoring, *, decimals: int = 6,
                     max_share: Decimal | None = None) -> PoolAllocation:  # fmt: skip
    """``allocate_pools`` on tasks and scores already checked and summed (``pool_scoring``): how a
    month's assets share one scoring."""
    check_pool_budget(budget, decimals, max_share)
    key, places = scoring.key, scoring.places
    B = Fraction(budget)
    shares = sum((Fraction(task.share) for task, *_ in scoring.units), Fraction(0))
    results = []
    for task, units, total_units, scorers in scoring.units:
        pat = B * Fraction(task.share) / shares
        coefficient = pat / 10**places if scorers == 1 else pat / total_units if total_units else Fraction(0)
        results.append(TaskResult(task.name, task.share, pat, from_units(total_units, places), scorers, coefficient,
                                  units))  # fmt: skip
    common = math.lcm(*(r.coefficient.denominator for r in results))
    names: dict[str, str] = {}
    sums: dict[str, int] = {}
    for r in results:
        factor = r.coefficient.numerator * (common // r.coefficient.denominator)
        for member, u in r.units.items():
            k = key[member]
            names.setdefault(k, member)
            sums[k] = sums.get(k, 0) + u * factor
    limit = cap_units(budget, max_share, decimals)
    nudge = nudge_for(to_units(budget, decimals))
    scale = 10**decimals
    members = []
    units = 0
    for k in sorted(sums, key=lambda k: (k, names[k])):
        amount = sums[k]
        before = amount * scale * nudge.numerator // (common * nudge.denominator)
        paid = before if limit is None else min(before, limit)
        units += paid
        members.append(PoolMember(names[k], Fraction(amount, common), from_units(paid, decimals),
                                  limit is not None and before > limit, before))  # fmt: skip
    allocated = from_units(units, decimals)
    return PoolAllocation(budget, decimals, max_share, tuple(results), tuple(members), allocated,
                          from_units(to_units(budget, decimals) - units, decimals))  # fmt: skip


@dataclass(frozen=True)
class CappedMember:
    """A member of the tiers model under the per-member cap: their role rows' totals summed."""

    member: str
    before_cap: Decimal
    total: Decimal
    capped: bool


def cap_members(allocation: Allocation, max_share: Decimal | None) -> tuple[list[CappedMember], Decimal, Decimal]:
    """The per-member cap on a BASE/BONUS/EXCESS allocation (grape.md 6, "both models"): each
    member's totals over their role rows, summed, at most the cap (ROUNDDOWN(B x max%, d) after the
    rounding guard, as for task pools; no cap when ``max_share`` is None); what is cut returns.
    Returns the members (first spelling, by name), the total allocated and returned after the cap."""
    check_max_share(max_share)
    d = allocation.options.decimals
    limit = cap_units(allocation.budget, max_share, d)
    sums: dict[str, int] = {}
    names: dict[str, str] = {}
    for m in allocation.members:
        k = member_key(m.member)
        names.setdefault(k, m.member)
        sums[k] = sums.get(k, 0) + to_units(m.total, d)

    def paid(units: int) -> int:
        return units if limit is None else min(units, limit)

    out = [CappedMember(names[k], from_units(sums[k], d), from_units(paid(sums[k]), d), paid(sums[k]) < sums[k])
           for k in sorted(sums, key=lambda k: (k, names[k]))]  # fmt: skip
    total = sum(paid(u) for u in sums.values())
    return out, from_units(total, d), from_units(to_units(allocation.budget, d) - total, d)
