"""The allocation of grape.md section 2: BASE, BONUS and EXCESS tiers, the cap, the rounding.

Every amount of a member is their GRAPE weight times a coefficient that is the same for the whole
class (eligible or not). The engine therefore computes a handful of exact rational coefficients
once, and each member's figures with integer arithmetic on the weight in millionths: exact, and
fast enough for 100,000 members.

Totals are whole numbers of units (10^-d). A total is ROUNDDOWN of the exact amount after raising
it by 2^-47 of itself (``NUDGE``): an amount that is exactly a whole number of units stays whole
in a spreadsheet's binary doubles, whose error on these formulas is far smaller, and every
spreadsheet then shows the engine's digits (docs/decisions.md, "Spreadsheet arithmetic").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from ..errors import InputError
from ..limits import check_budget_places
from ..names import member_key
from ..numbers import AMOUNT_PLACES, WEIGHT_PLACES, from_units, round_half_up, to_units

CapRule = Literal["scale", "at-base", "off"]
CAP_RULES: tuple[str, ...] = ("scale", "at-base", "off")
MAX_DECIMALS = 18
_MICRO = 10**WEIGHT_PLACES
#: The rounding guard: a total is ROUNDDOWN(amount x (1 + 2^-47)). It never lifts the sum of the
#: totals above the budget while the budget is below 2^47 units (each total rises by less than
#: 2^-47 of itself), so beyond that the plain ROUNDDOWN applies; workbooks stop at 10^13 units.
NUDGE_BITS = 47
NUDGE = Fraction(2**NUDGE_BITS + 1, 2**NUDGE_BITS)


@dataclass(frozen=True)
class Options:
    """The options of grape.md section 2 with their defaults."""

    threshold: Decimal | None = None
    min_divisor: int = 3
    bonus: bool = True
    excess: bool = True
    cap_rule: CapRule = "scale"
    decimals: int = 6

    def __post_init__(self) -> None:
        if self.threshold is not None and not Decimal(0) <= self.threshold <= Decimal(1):
            raise InputError("the bonus threshold must lie in [0, 1]", where="threshold", value=str(self.threshold))
        if isinstance(self.min_divisor, bool) or not isinstance(self.min_divisor, int) or self.min_divisor < 1:
            raise InputError(
                "the minimum bonus divisor must be a whole number >= 1", where="min_divisor", value=self.min_divisor
            )
        if self.cap_rule not in CAP_RULES:
            raise InputError(
                f"the cap rule must be one of {', '.join(CAP_RULES)}", where="cap_rule", value=self.cap_rule
            )
        if (
            isinstance(self.decimals, bool)
            or not isinstance(self.decimals, int)
            or not 0 <= self.decimals <= MAX_DECIMALS
        ):
            raise InputError(
                f"decimals must be a whole number from 0 to {MAX_DECIMALS}", where="decimals", value=self.decimals
            )


@dataclass(frozen=True)
class RoleRow:
    """One role holder: a member in a role with a GRAPE weight. ``where`` locates it for errors."""

    member: str
    role: str
    weight: Decimal
    where: str = ""


@dataclass(frozen=True)
class MemberAllocation:
    """One role row's result. ``total`` is exact (``units`` of 10^-d); base/bonus/excess exact to 12 places."""

    member: str
    role: str
    grape_weight: Decimal
    performer: bool
    bonus_eligible: bool
    base: Decimal
    bonus: Decimal
    excess: Decimal
    total: Decimal
    #: the tiers before the dynamic cap (what the Expanded sheet calls "allotted")
    bonus_before_cap: Decimal
    excess_before_cap: Decimal
    #: the total in units of the last decimal (10^-d): what moves on chain when d is the token's own
    units: int = 0


@dataclass(frozen=True)
class Allocation:
    """Every intermediate figure of grape.md section 2, and the members' rows in input order."""

    budget: Decimal
    options: Options
    role_holders: int
    base_allotted: Decimal
    performers: int
    average_weight: Decimal
    threshold: Decimal
    bonus_eligible: int
    bonus_divisor: int
    bonus_pool: Decimal
    excess_pool: Decimal
    cap_condition: bool
    cap_engaged: bool
    cap_ratio: Decimal
    total_allocated: Decimal
    returned_to_treasury: Decimal
    members: tuple[MemberAllocation, ...] = field(repr=False)

    def figures(self) -> dict[str, Any]:
        """The intermediate figures as a plain dict (no members)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("members", "options")}
        out["options"] = asdict(self.options)
        return out

    def records(self) -> list[dict[str, Any]]:
        """The members' rows as plain dicts, in input order."""
        return [asdict(m) for m in self.members]

    def to_frame(self):  # -> pandas.DataFrame; pandas imported here so the engine stays light
        """The members' rows as a pandas DataFrame (Decimal values, exact)."""
        import pandas as pd

        return pd.DataFrame(self.records(), columns=list(MemberAllocation.__dataclass_fields__))


def _scaled(micro_weight: int, coefficient: Fraction, places: int) -> Decimal:
    """(micro_weight / 10^6) * coefficient, ROUND to ``places`` decimals, exactly."""
    num = micro_weight * coefficient.numerator * 10**places
    den = coefficient.denominator * _MICRO
    return from_units((2 * num + den) // (2 * den), places)


def total_units(micro_weight: int, coefficient: Fraction, decimals: int, nudge: Fraction) -> int:
    """ROUNDDOWN((micro_weight / 10^6) * coefficient * nudge, decimals), in units of 10^-decimals."""
    num = micro_weight * coefficient.numerator * 10**decimals * nudge.numerator
    return num // (coefficient.denominator * _MICRO * nudge.denominator)


def nudge_for(budget_units: int) -> Fraction:
    """The rounding guard for a budget of this many units (none beyond 2^47 units: see NUDGE)."""
    return NUDGE if budget_units < 2**NUDGE_BITS else Fraction(1)


def parse_budget_text(text: str, decimals: int, *, where: str = "--budget") -> Decimal:
    """A budget as typed, checked against the rules and against what a workbook can hold."""
    from ..limits import check_budget_fits
    from ..numbers import parse_decimal

    budget = parse_decimal(text, what="budget", where=where)
    if budget < 0:
        raise InputError("the budget must be >= 0", where=where, value=text)
    check_budget_fits(budget, decimals, where=where, value=text)
    check_budget(budget, decimals, where=where, value=text)
    return budget


def check_budget(budget: Decimal, decimals: int, *, where: str = "budget", value: object = None) -> None:
    """A budget the rules can share: a finite number >= 0 with at most ``decimals`` decimals."""
    if not isinstance(budget, Decimal) or not budget.is_finite() or budget < 0:
        raise InputError("the budget must be a number >= 0", where=where, value=str(budget) if value is None else value)
    check_budget_places(budget, decimals, where=where, value=value)


def _check_rows(rows: Sequence[RoleRow]) -> None:
    if not rows:
        raise InputError("no role holders: the member table is empty")
    seen: dict[tuple[str, str], str] = {}
    for row in rows:
        if not row.member.strip():
            raise InputError("a role row has no member name", where=row.where, value=row.member)
        if not Decimal(0) <= row.weight <= Decimal(1):
            raise InputError("GRAPE weight must lie in [0, 1]", where=row.where, value=str(row.weight))
        key = (member_key(row.member), member_key(row.role))
        if key in seen:
            raise InputError(
                f"the same member and role twice (first at {seen[key] or 'an earlier row'})",
                where=row.where,
                value=f"{row.member} / {row.role}",
            )
        seen[key] = row.where


def allocate(budget: Decimal, rows: Iterable[RoleRow], options: Options = Options()) -> Allocation:
    """Share ``budget`` among the role rows as grape.md section 2 says."""
    d = options.decimals
    check_budget(budget, d)
    rows = list(rows)
    _check_rows(rows)
    B = Fraction(budget)
    budget_units = to_units(budget, d)
    nudge = nudge_for(budget_units)
    N = len(rows)
    # Weights rounded to 6 places (grape.md 1), held as whole millionths.
    micro = [to_units(round_half_up(r.weight, WEIGHT_PLACES), WEIGHT_PLACES) for r in rows]
    performers = [m for m in micro if m > 0]
    S = sum(performers)
    avg = round_half_up(Fraction(S, len(performers) * _MICRO), WEIGHT_PLACES) if performers else Decimal(0)
    t = options.threshold if options.threshold is not None else avg
    t_micro = Fraction(t) * _MICRO
    eligible = [m > 0 and m > t_micro for m in micro]
    S_E = sum(m for m, e in zip(micro, eligible, strict=True) if e)
    n_E = sum(eligible)
    D = max(options.min_divisor, n_E)

    A = B / N
    bonus_pool = B - A * Fraction(S, _MICRO)
    c_bonus = bonus_pool / D if options.bonus else Fraction(0)
    excess_pool = bonus_pool - c_bonus * Fraction(S_E, _MICRO)
    c_excess = excess_pool / D if options.excess else Fraction(0)
    c_bonus_before, c_excess_before = c_bonus, c_excess

    # Cap: excess_i > base_i  <=>  c_excess > A, the same for every eligible member.
    cap_condition = n_E > 0 and c_excess > A
    cap_engaged = cap_condition and options.cap_rule != "off"
    ratio = Fraction(1)
    if cap_engaged and options.cap_rule == "scale":
        ratio = excess_pool / B
        c_bonus, c_excess = c_bonus * ratio, c_excess * ratio
    elif cap_engaged:  # at-base: the excess is cut to the base
        ratio = A / c_excess
        c_excess = A
    c_total_eligible = A + c_bonus + c_excess

    members = []
    zero = from_units(0, AMOUNT_PLACES)
    allocated_units = 0
    for row, m, e in zip(rows, micro, eligible, strict=True):
        units = total_units(m, c_total_eligible if e else A, d, nudge)
        allocated_units += units
        members.append(
            MemberAllocation(
                member=row.member,
                role=row.role,
                grape_weight=from_units(m, WEIGHT_PLACES),
                performer=m > 0,
                bonus_eligible=e,
                base=_scaled(m, A, AMOUNT_PLACES),
                bonus=_scaled(m, c_bonus, AMOUNT_PLACES) if e else zero,
                excess=_scaled(m, c_excess, AMOUNT_PLACES) if e else zero,
                total=from_units(units, d),
                bonus_before_cap=_scaled(m, c_bonus_before, AMOUNT_PLACES) if e else zero,
                excess_before_cap=_scaled(m, c_excess_before, AMOUNT_PLACES) if e else zero,
                units=units,
            )
        )
    return Allocation(
        budget=budget,
        options=options,
        role_holders=N,
        base_allotted=round_half_up(A, AMOUNT_PLACES),
        performers=len(performers),
        average_weight=avg,
        threshold=t,
        bonus_eligible=n_E,
        bonus_divisor=D,
        bonus_pool=round_half_up(bonus_pool, AMOUNT_PLACES),
        excess_pool=round_half_up(excess_pool, AMOUNT_PLACES),
        cap_condition=cap_condition,
        cap_engaged=cap_engaged,
        cap_ratio=round_half_up(ratio, AMOUNT_PLACES),
        total_allocated=from_units(allocated_units, d),
        returned_to_treasury=from_units(budget_units - allocated_units, d),
        members=tuple(members),
    )


def empty_allocation(budget: Decimal, options: Options = Options()) -> Allocation:
    """The figures of a month with no role holders yet, as a blank workbook shows them.

    Not an allocation (``allocate`` refuses an empty table): nothing is shared, so both pools are
    the whole budget and all of it is returned.
    """
    zero = Decimal(0)
    return Allocation(
        budget=budget,
        options=options,
        role_holders=0,
        base_allotted=zero,
        performers=0,
        average_weight=zero,
        threshold=options.threshold if options.threshold is not None else zero,
        bonus_eligible=0,
        bonus_divisor=options.min_divisor,
        bonus_pool=budget,
        excess_pool=budget,
        cap_condition=False,
        cap_engaged=False,
        cap_ratio=Decimal(1),
        total_allocated=zero,
        returned_to_treasury=budget,
        members=(),
    )
