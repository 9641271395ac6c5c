"""What a monthly workbook can hold, so that every spreadsheet computes the engine's digits.

The engine itself is exact at any magnitude. These bounds are applied by every shell (``compute``,
``new``, ``check``) so that what it accepts can also be held by a workbook, where numbers are binary
doubles with about 15 significant digits (docs/decisions.md, "Spreadsheet arithmetic").
"""

from __future__ import annotations

from decimal import Decimal

from .errors import InputError
from .numbers import places_of

#: Budget x 10^decimals (the budget in units of the last decimal) must stay below this: amounts are
#: then whole numbers of units far inside a double's 53 bits, and the rounding guard (2^-47 of an
#: amount) stays far above a double's own error yet below one unit of the whole budget.
MAX_UNITS = 10**13
#: Table rows (role rows plus spare rows) a workbook may have, all SubDAOs together: a 10,000-member
#: month with its spare rows fits, and `new` and `check` stay within their
#: performance targets up to here (benchmarks/bench_check.py measures the largest).
MAX_ROLE_ROWS = 12_000
#: The minimum bonus divisor counts shares; a million is already absurd, and larger values would
#: overflow the squares the cap test takes in a spreadsheet.
MAX_MIN_DIVISOR = 1_000_000
#: Criterion weights are relative (they are normalised); this keeps their products exact in a sheet.
MAX_CRITERION_WEIGHT = Decimal(1_000_000)
#: Decimals a criterion weight may have (a double holds these exactly enough to round alike).
CRITERION_WEIGHT_PLACES = 6


def budget_units_limit(decimals: int) -> Decimal:
    """The largest budget a workbook holds at ``decimals``: just below 10^13 units."""
    return (Decimal(MAX_UNITS) - 1).scaleb(-decimals)


def check_budget_fits(budget: Decimal, decimals: int, *, where: str, value: object = None) -> None:
    """Refuse a budget a spreadsheet cannot hold to the last decimal (budget x 10^decimals >= 10^13).

    Compares magnitudes without expanding them, so ``1e300000`` is refused at once.
    """
    if budget and budget.adjusted() + decimals >= 13:
        limit = budget_units_limit(decimals)
        raise InputError(
            f"at {decimals} decimals a workbook holds budgets up to {limit:,.{decimals}f} (10^13 units of the "
            "last decimal); give fewer --decimals or a smaller budget",
            where=where,
            value=str(budget) if value is None else value,
        )


def check_budget_places(budget: Decimal, decimals: int, *, where: str, value: object = None) -> None:
    """A budget with more decimals than the totals cannot be shared exactly: refuse it."""
    places = places_of(budget)
    if places > decimals:
        raise InputError(
            f"the budget has {places} decimals but totals are rounded to {decimals}: give the budget with at most "
            f"{decimals} decimals, or raise the decimals",
            where=where,
            value=str(budget) if value is None else value,
        )
