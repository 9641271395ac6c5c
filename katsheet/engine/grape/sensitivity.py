"""Where the dynamic cap switches (grape.md section 2.8): the `scale` rule's known flaw, shown.

Under `scale` the cap engages for every eligible member at once, so a small change of one weight
can engage it (every bonus and excess shrinks by r = excess pool / B) or release it. A DAO should
see that before it pays: for each role row, its weight moved by a step either way, does the cap's
condition flip, and by how much would that member's total jump?

The condition depends only on a few sums (N, the sum of weights, the performers, the eligible
members and their sum), so each moved weight is judged with a bisection over the sorted weights,
not a new allocation; only the rows that flip the switch are allocated in full, for the totals.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import accumulate

from ..numbers import WEIGHT_PLACES, round_half_up, to_units
from .allocation import Options, RoleRow, allocate

_MICRO = 10**WEIGHT_PLACES
#: how far a weight is moved either way: five points of a percentage score
DEFAULT_STEP = Decimal("0.05")


@dataclass(frozen=True)
class CapSwitch:
    """One role row whose weight, moved to ``new_weight``, flips the cap's condition."""

    member: str
    role: str
    weight: Decimal
    new_weight: Decimal
    engaged_before: bool
    engaged_after: bool
    total_before: Decimal
    total_after: Decimal
    #: the whole month's allocation after the move (total allocated, returned)
    allocated_after: Decimal

    @property
    def jump(self) -> Decimal:
        """The member's own total after the move minus before (negative: they would lose)."""
        return self.total_after - self.total_before


def _micro(weight: Decimal) -> int:
    return to_units(round_half_up(weight, WEIGHT_PLACES), WEIGHT_PLACES)


class _Sums:
    """The allocation's sums over every row, to judge one changed weight in O(log N)."""

    def __init__(self, budget: Decimal, micro: list[int], options: Options) -> None:
        self.B, self.N, self.options = Fraction(budget), len(micro), options
        self.sorted = sorted(micro)
        self.suffix = [*list(accumulate(reversed(self.sorted)))[::-1], 0]  # suffix[k] = sum(sorted[k:])
        self.S = sum(micro)
        self.P = sum(1 for m in micro if m > 0)

    def condition(self, old: int, new: int) -> bool:
        """The cap's condition (c_excess > A) with one row's weight ``old`` replaced by ``new``."""
        o = self.options
        S = self.S - old + new
        P = self.P - (old > 0) + (new > 0)
        avg = round_half_up(Fraction(S, P * _MICRO), WEIGHT_PLACES) if P else Decimal(0)
        t = o.threshold if o.threshold is not None else avg
        floor = math.floor(Fraction(t) * _MICRO)  # eligible: m > t, i.e. m > floor(t) for whole m
        k = bisect.bisect_right(self.sorted, floor)
        n_e, s_e = self.N - k, self.suffix[k]
        if old > floor:
            n_e, s_e = n_e - 1, s_e - old
        if new > floor:
            n_e, s_e = n_e + 1, s_e + new
        D = max(o.min_divisor, n_e)
        A = self.B / self.N
        bonus_pool = self.B - A * Fraction(S, _MICRO)
        c_bonus = bonus_pool / D if o.bonus else Fraction(0)
        excess_pool = bonus_pool - c_bonus * Fraction(s_e, _MICRO)
        c_excess = excess_pool / D if o.excess else Fraction(0)
        return n_e > 0 and c_excess > A


def cap_switches(budget: Decimal, rows: Sequence[RoleRow], options: Options | None = None,
                 step: Decimal = DEFAULT_STEP) -> list[CapSwitch]:  # fmt: skip
    """Every role row whose weight, moved by ``step`` up or down (kept in [0, 1]), flips the cap,
    the largest jump first. Empty under cap rule `off` (the cap never changes anything)."""
    options = options or Options()
    rows = list(rows)
    if not rows or options.cap_rule == "off":
        return []
    before = allocate(budget, rows, options)
    micro = [_micro(r.weight) for r in rows]
    sums = _Sums(budget, micro, options)
    out = []
    for i, row in enumerate(rows):
        for moved in (row.weight - step, row.weight + step):
            moved = min(Decimal(1), max(Decimal(0), moved))
            if _micro(moved) == micro[i] or sums.condition(micro[i], _micro(moved)) == before.cap_condition:
                continue
            after = allocate(budget, [*rows[:i], dataclasses.replace(row, weight=moved), *rows[i + 1 :]], options)
            out.append(CapSwitch(row.member, row.role, row.weight, moved, before.cap_engaged, after.cap_engaged,
                                 before.members[i].total, after.members[i].total, after.total_allocated))  # fmt: skip
    out.sort(key=lambda s: (-abs(s.jump), s.member, s.role, s.new_weight))
    return out
