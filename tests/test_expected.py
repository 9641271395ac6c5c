"""The tolerance of grape.md section 3, as the checker and the cross-engine tests apply it."""

from __future__ import annotations

from decimal import Decimal

from katsheet.workbook.expected import agrees


def test_one_unit_in_the_dth_decimal_for_amounts() -> None:
    assert agrees(Decimal("100.123456"), 100.123455, "amount", 6)
    assert not agrees(Decimal("100.123456"), 100.123454, "amount", 6)
    assert agrees(Decimal("100"), 99.99, "amount", 2) and not agrees(Decimal("100"), 99.98, "amount", 2)


def test_a_sum_of_k_rounded_totals_may_differ_by_k_units_and_no_more() -> None:
    assert agrees(Decimal("94173.01"), 94172.99, "amount", 2, units=13)
    assert not agrees(Decimal("94173.01"), 94172.99, "amount", 2, units=1)
    assert not agrees(Decimal("94173.01"), 94172.87, "amount", 2, units=13)


def test_counts_flags_weights_exact() -> None:
    assert agrees(5, 5.0, "count", 6) and not agrees(5, 4, "count", 6)
    assert agrees(True, 1, "flag", 6) and not agrees(True, 0, "flag", 6)
    assert agrees(Decimal("0.682818"), 0.682818, "weight", 6)
    assert not agrees(Decimal("0.682818"), 0.682817, "weight", 6)


def test_blank_only_matches_blank() -> None:
    assert agrees("", None, "amount", 6) and agrees(None, "", "text", 6)
    assert not agrees("", 0, "amount", 6) and not agrees(Decimal(0), None, "amount", 6)


def test_shares_scale_with_the_budget() -> None:
    assert agrees(Decimal("0.5"), 0.5 + 1e-6 / 2, "percent", 6, budget=2)
    assert not agrees(Decimal("0.5"), 0.5 + 3e-6, "percent", 6, budget=2)
