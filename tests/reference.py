"""grape.md section 2 transcribed step by step in Fractions, one member at a time.

Slow and literal on purpose: the engine's class-coefficient shortcut is checked against it. The
one rule that is katsheet's own (docs/decisions.md, "Spreadsheet arithmetic") is transcribed too:
a total is ROUNDDOWN(amount x (1 + 2^-47), d) while the budget is below 2^47 units of 10^-d.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction


def _exact(x: Fraction, places: int, mode: str) -> Decimal:
    scaled = x * 10**places
    if mode == ROUND_DOWN:
        units = scaled.numerator // scaled.denominator
    else:
        units = (2 * scaled.numerator + scaled.denominator) // (2 * scaled.denominator)
    assert mode in (ROUND_DOWN, ROUND_HALF_UP)
    return Decimal(units).scaleb(-places)


def total_rule(amount: Fraction, decimals: int, budget) -> Decimal:
    """ROUNDDOWN(amount, d), after the rounding guard of 2^-47 when the budget has < 2^47 units."""
    if Fraction(budget) * 10**decimals < 2**47:
        amount = amount * (1 + Fraction(1, 2**47))
    return _exact(amount, decimals, ROUND_DOWN)


def fit_budget(budget: Decimal, decimals: int) -> Decimal:
    """A drawn budget brought to at most ``decimals`` decimals (a budget the rules accept)."""
    return _exact(Fraction(budget), decimals, ROUND_DOWN)


def amounts(budget, weights, threshold=None, min_divisor=3, bonus=True, excess=True, cap_rule="scale"):
    """Each role row's exact amount (base + bonus + excess, after the cap), before any rounding."""
    return _allocate(budget, weights, threshold, min_divisor, bonus, excess, cap_rule)[0]


def reference(budget, weights, threshold=None, min_divisor=3, bonus=True, excess=True, cap_rule="scale", decimals=6):
    exact, engaged = _allocate(budget, weights, threshold, min_divisor, bonus, excess, cap_rule)
    totals = [total_rule(x, decimals, budget) for x in exact]
    return totals, Decimal(budget) - sum(totals), engaged


def _allocate(budget, weights, threshold, min_divisor, bonus, excess, cap_rule):
    B = Fraction(budget)
    w = [Fraction(_exact(Fraction(x), 6, ROUND_HALF_UP)) for x in weights]
    N = len(w)
    A = B / N
    base = [wi * A for wi in w]
    P = [wi for wi in w if wi > 0]
    avg = Fraction(_exact(sum(P) / len(P), 6, ROUND_HALF_UP)) if P else Fraction(0)
    t = Fraction(threshold) if threshold is not None else avg
    E = [wi > 0 and wi > t for wi in w]
    D = max(min_divisor, sum(E))
    bonus_pool = B - sum(base)
    bon = [wi * bonus_pool / D if e and bonus else Fraction(0) for wi, e in zip(w, E, strict=True)]
    excess_pool = B - sum(base) - sum(bon)
    exc = [wi * excess_pool / D if e and excess else Fraction(0) for wi, e in zip(w, E, strict=True)]
    engaged = False
    for i in range(N):
        if E[i] and bon[i] + exc[i] > base[i] + bon[i] and cap_rule != "off":
            engaged = True
            if cap_rule == "scale":
                r = excess_pool / B
                bon[i], exc[i] = bon[i] * r, exc[i] * r
            else:
                exc[i] = base[i]
    return [base[i] + bon[i] + exc[i] for i in range(N)], engaged
