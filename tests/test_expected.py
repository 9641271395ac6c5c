"""The tolerance of grape.md section 3, absolute, as the checker and the cross-engine tests apply it."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from katsheet.workbook.checker import _same, all_equal
from katsheet.workbook.expected import agrees


def test_one_unit_in_the_dth_decimal_for_amounts() -> None:
    assert agrees(Decimal("100.123456"), 100.123455, "amount", 6)
    assert not agrees(Decimal("100.123456"), 100.123454, "amount", 6)
    assert agrees(Decimal("100"), 99.99, "amount", 2) and not agrees(Decimal("100"), 99.98, "amount", 2)


@pytest.mark.parametrize(
    ("total", "raised", "decimals"),
    [
        ("400000000000.00", "400000000250.00", 2),  # a 1e12 budget: 250 tokens more
        ("400000000.00", "400000000.25", 2),  # a 1e9 budget: 0.25 more
        ("400000.000000", "400000.000200", 6),  # a 1e6 budget at 6 decimals: 200 units more
        ("9999999.999998", "9999999.999999", 6),  # the largest budget a workbook holds: 1 unit is tolerated
    ],
)
def test_tampering_is_seen_at_any_magnitude(total, raised, decimals) -> None:
    """The tolerance is one unit, absolute: no share of the amount hides a raised total."""
    one_unit = Decimal(raised) - Decimal(total) == Decimal(1).scaleb(-decimals)
    assert agrees(Decimal(total), float(raised), "amount", decimals) == one_unit


def test_sums_are_held_to_one_unit_too() -> None:
    """Totals allocated and returned are sums of whole units in the workbooks: exact, so one unit."""
    assert agrees(Decimal("94173.01"), 94173.00, "amount", 2)
    assert not agrees(Decimal("94173.01"), 94172.99, "amount", 2)


def test_counts_flags_weights_exact() -> None:
    assert agrees(5, 5.0, "count", 6) and not agrees(5, 4, "count", 6)
    assert agrees(True, 1, "flag", 6) and not agrees(True, 0, "flag", 6)
    assert agrees(Decimal("0.682818"), 0.682818, "weight", 6)
    assert not agrees(Decimal("0.682818"), 0.682817, "weight", 6)
    assert not agrees(9_999_999_999_999, 9_999_999_999_998.0, "count", 6)  # units: no relative slack


def test_blank_only_matches_blank() -> None:
    assert agrees("", None, "amount", 6) and agrees(None, "", "text", 6)
    assert not agrees("", 0, "amount", 6) and not agrees(Decimal(0), None, "amount", 6)


def test_shares_scale_with_the_budget() -> None:
    assert agrees(Decimal("0.5"), 0.5 + 1e-6 / 2, "percent", 6, budget=2)
    assert not agrees(Decimal("0.5"), 0.5 + 3e-6, "percent", 6, budget=2)


_VALUES = st.one_of(
    st.none(),
    st.just(""),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 2.0, -1.0, 0.5, 0.1 + 0.2]),
    st.decimals("-3", "3", places=2),
    st.fractions(-3, 3, max_denominator=7),
    st.sampled_from(["", "x", "1", "TRUE"]),
)


@settings(max_examples=400, deadline=None)
@given(_VALUES, _VALUES, _VALUES, st.sampled_from(["amount", "count", "flag", "weight", "ratio", "percent", "text"]))
def test_values_the_checker_takes_for_the_same_are_judged_alike(expected, computed, stored, fmt) -> None:
    """The checker judges the evaluated value once when it is "the same" as the stored one (1 and
    1.0, None and ""): that shortcut must never change a verdict."""
    if _same(computed, stored):
        assert agrees(expected, computed, fmt, 2, 10) == agrees(expected, stored, fmt, 2, 10)
    assert _same(computed, computed) or computed != computed  # NaN aside, a value is itself


@settings(max_examples=300, deadline=None)
@given(_VALUES, _VALUES, st.sampled_from(["amount", "count", "flag", "text"]))
def test_texts_and_flags_of_one_type_agree_when_equal(expected, found, fmt) -> None:
    """The shortcut for two texts or two booleans gives what the full comparison gives."""
    if type(expected) is type(found) and type(found) in (str, bool):
        assert agrees(expected, found, fmt, 2) == (expected == found)
        assert agrees(expected, found, fmt, 2) == _general(expected, found)


def _general(expected, found) -> bool:
    """agrees' rules for texts and booleans, spelled out."""
    if expected in ("", None) or found in ("", None):
        return expected in ("", None) and found in ("", None)
    return bool(found) == bool(expected) if isinstance(found, bool) else str(expected) == str(found)


#: values of other types a spreadsheet may hold for an engine's value of this type, equal to it
_EQUALS = {bool: [1, 0, 1.0, 0.0], int: [0.0, 1.0, -1.0, True, False], Decimal: [2.5, 0.5, 1.0, 0.0],
           Fraction: [0.5, 1.0, 0.0, -1.0, 2.0]}  # fmt: skip
_EQUAL_PAIRS = st.one_of(
    _VALUES,
    st.sampled_from([-0.0, 1e-300, 9_999_999_999_999.0, 2**53, Decimal("2.50"), Decimal("0.1")]),
    st.dates(),
).flatmap(lambda v: st.tuples(st.just(v), st.sampled_from([*_EQUALS.get(type(v), []), v])))


@settings(max_examples=600, deadline=None)
@given(_EQUAL_PAIRS, st.sampled_from(["amount", "percent", "weight", "count", "flag", "text", "ratio", "general",
                                      "date"]), st.integers(0, 9), st.sampled_from([Decimal(1), Decimal(10)]))  # fmt: skip
def test_equal_values_always_agree(pair, fmt, decimals, budget) -> None:
    """``numbers`` passes a column whose cells all equal the engine's figures (``all_equal``:
    Python's ==, list against list, the empty text as None) without weighing each: sound only if
    what it calls equal agrees in every format."""
    expected, found = pair
    for a, b in ((expected, found), (found, expected), (expected, ""), ("", expected), (expected, None)):
        if all_equal([a], [b], None) or all_equal([a], None, [b]):
            assert agrees(a, b, fmt, decimals, budget)
