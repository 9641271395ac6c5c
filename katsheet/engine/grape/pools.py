"""GREMS parity (grape.md section 6): task pools, the per-member cap, several assets.

Task pools (GRIPv2): each task's pool PAT_t = B x share_t / sum of shares. Within a task, a
member's PWR = PWS / TPWS x PAT_t when two or more members score above 0; the task's only scorer
gets PWS x PAT_t, and the rest of that pool is not allocated. A member's total is ROUNDDOWN of the
sum of their PWR, after the per-member cap (at most B x max%, when one is set); what is not paid
returns to the treasury. Every intermediate figure is kept exact (Fractions) and reported.

Several assets are the same scores allocated again with another budget and decimals: one
``allocate_pools`` call per asset, never merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from ..errors import InputError
from ..names import member_key
from ..numbers import from_units, round_down, to_units
from .allocation import MAX_DECIMALS, check_budget


@dataclass(frozen=True)
class Task:
    """A task and its pool share as typed (any non-negative number: shares are normalised)."""

    name: str
    share: Decimal
    where: str = ""


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
    #: each member's PWR on the task (exact), in the order they were given
    pwr: dict[str, Fraction] = field(default_factory=dict)

    @property
    def unallocated(self) -> Fraction:
        """What of the pool nobody receives (the lone scorer's rest, or a task nobody scored)."""
        return self.pat - sum(self.pwr.values(), Fraction(0))


@dataclass(frozen=True)
class PoolMember:
    member: str
    #: the sum of the member's PWR over their tasks, before the cap (exact)
    before_cap: Fraction
    #: ROUNDDOWN(min(before_cap, B x max%), d)
    total: Decimal
    capped: bool = False


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


def check_max_share(max_share: Decimal | None, *, where: str = "--max-reward") -> None:
    if max_share is not None and not Decimal(0) < max_share <= Decimal(1):
        raise InputError("the per-member cap must lie in (0%, 100%]", where=where, value=max_share)


def capped_total(amount: Fraction, budget: Decimal, max_share: Decimal | None, decimals: int) -> tuple[Decimal, bool]:
    """A member's total after the per-member cap (grape.md 6, both models) and the ROUNDDOWN."""
    if max_share is not None:
        cap = Fraction(budget) * Fraction(max_share)
        if amount > cap:
            return round_down(cap, decimals), True
    return round_down(amount, decimals), False


def _check(tasks: Sequence[Task], scores: Sequence[TaskScore]) -> dict[str, Task]:
    by_key: dict[str, Task] = {}
    for t in tasks:
        key = member_key(t.name)
        if not key:
            raise InputError("a task needs a name", where=t.where, value=t.name)
        if key in by_key:
            raise InputError(f"the task is listed twice (also at {by_key[key].where})", where=t.where, value=t.name)
        if t.share < 0:
            raise InputError("a task's share must be 0 or more", where=t.where, value=t.share)
        by_key[key] = t
    if not by_key or sum(t.share for t in tasks) <= 0:
        raise InputError("the tasks' shares are all zero: give each task its share of the budget",
                         where=tasks[0].where if tasks else "tasks")  # fmt: skip
    seen: dict[tuple[str, str], str] = {}
    for s in scores:
        if member_key(s.task) not in by_key:
            raise InputError(f"no such task (the tasks are {', '.join(t.name for t in tasks)})", where=s.where,
                             value=s.task)  # fmt: skip
        if not member_key(s.member):
            raise InputError("a score needs a member", where=s.where, value=s.member)
        if not Decimal(0) <= s.score <= Decimal(1):
            raise InputError("a score must lie in [0, 1] (0% to 100%)", where=s.where, value=s.score)
        pair = (member_key(s.member), member_key(s.task))
        if pair in seen:
            raise InputError(f"the same member and task twice (also at {seen[pair]})", where=s.where, value=s.member)
        seen[pair] = s.where
    return by_key


def allocate_pools(budget: Decimal, tasks: Iterable[Task], scores: Iterable[TaskScore], *, decimals: int = 6,
                   max_share: Decimal | None = None) -> PoolAllocation:  # fmt: skip
    """Share ``budget`` over the tasks' pools as grape.md section 6 says."""
    if not 0 <= decimals <= MAX_DECIMALS:
        raise InputError(f"decimals must be a whole number from 0 to {MAX_DECIMALS}", where="decimals", value=decimals)
    check_budget(budget, decimals)
    check_max_share(max_share)
    tasks, scores = list(tasks), list(scores)
    by_key = _check(tasks, scores)
    B = Fraction(budget)
    shares = sum((Fraction(t.share) for t in tasks), Fraction(0))
    names: dict[str, str] = {}
    sums: dict[str, Fraction] = {}
    results = []
    for key, task in by_key.items():
        on = [s for s in scores if member_key(s.task) == key]
        pat = B * Fraction(task.share) / shares
        tpws = sum((s.score for s in on), Decimal(0))
        scorers = sum(1 for s in on if s.score > 0)
        pwr: dict[str, Fraction] = {}
        for s in on:
            value = (
                Fraction(s.score) * pat
                if scorers == 1
                else (Fraction(s.score) / Fraction(tpws) * pat if tpws else Fraction(0))
            )
            pwr[s.member] = value
            k = member_key(s.member)
            names.setdefault(k, s.member)
            sums[k] = sums.get(k, Fraction(0)) + value
        results.append(TaskResult(task.name, task.share, pat, tpws, scorers, pwr))
    members = []
    units = 0
    for k in sorted(sums, key=lambda k: (k, names[k])):
        total, capped = capped_total(sums[k], budget, max_share, decimals)
        units += to_units(total, decimals)
        members.append(PoolMember(names[k], sums[k], total, capped))
    allocated = from_units(units, decimals)
    return PoolAllocation(budget, decimals, max_share, tuple(results), tuple(members), allocated,
                          from_units(to_units(budget, decimals) - units, decimals))  # fmt: skip
