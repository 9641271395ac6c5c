"""The invariants of grape.md section 2, over random rosters, budgets and options (hypothesis)."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

from conftest import role_rows
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from reference import fit_budget, reference, total_rule

from katsheet.engine import Options, allocate

weights_st = st.one_of(
    st.integers(0, 10**6).map(lambda m: str(Decimal(m).scaleb(-6))),
    st.sampled_from(["0", "1", "0.5", "0.1", "0.2", "0.3", "0.333333", "0.666667"]),
)
rosters = st.lists(weights_st, min_size=1, max_size=40)
budgets = st.one_of(
    st.integers(0, 10**9).map(Decimal),
    st.decimals(min_value=0, max_value=10**7, places=4, allow_nan=False, allow_infinity=False),
)
options_st = st.builds(
    Options,
    threshold=st.one_of(st.none(), st.integers(0, 10**6).map(lambda m: Decimal(m).scaleb(-6))),
    min_divisor=st.integers(1, 6),
    bonus=st.booleans(),
    excess=st.booleans(),
    cap_rule=st.sampled_from(["scale", "at-base", "off"]),
    decimals=st.integers(0, 8),
)


def _on_average(weights: list[str]) -> list[str]:
    """Add a member exactly at the (exact) average of the others, so the tie is real."""
    micro = [int(Decimal(w).scaleb(6)) for w in weights if Decimal(w) > 0] or [500000]
    k = len(micro)
    micro[-1] -= sum(micro) % k  # make the mean a whole number of millionths
    if micro[-1] <= 0:
        micro[-1] += k
    avg = sum(micro) // k
    return [str(Decimal(m).scaleb(-6)) for m in micro] + [str(Decimal(avg).scaleb(-6))]


@settings(max_examples=300, deadline=None)
@given(budget=budgets, weights=rosters, options=options_st)
@example(budget=Decimal(30000), weights=["0.1", "0.2", "0.3"], options=Options())
def test_engine_equals_literal_reference(budget, weights, options) -> None:
    budget = fit_budget(budget, options.decimals)
    result = allocate(budget, role_rows(weights), options)
    totals, returned, engaged = reference(
        budget, weights, options.threshold, options.min_divisor, options.bonus, options.excess,
        options.cap_rule, options.decimals,
    )  # fmt: skip
    assert [m.total for m in result.members] == totals
    assert result.returned_to_treasury == returned
    assert result.cap_engaged == engaged


@settings(max_examples=300, deadline=None)
@given(budget=budgets, weights=rosters, options=options_st)
def test_amounts_nonnegative_and_budget_conserved(budget, weights, options) -> None:
    budget = fit_budget(budget, options.decimals)
    r = allocate(budget, role_rows(weights), options)
    for m in r.members:
        assert min(m.base, m.bonus, m.excess, m.total) >= 0
    assert r.total_allocated + r.returned_to_treasury == budget
    assert r.total_allocated <= budget
    assert r.returned_to_treasury >= 0
    assert r.bonus_pool >= 0 and r.excess_pool >= 0


@settings(max_examples=200, deadline=None)
@given(budget=budgets, n=st.integers(1, 60), options=options_st)
def test_everyone_at_full_weight_gets_budget_over_n(budget, n, options) -> None:
    assume(options.threshold is None or options.threshold == 1)
    budget = fit_budget(budget, options.decimals)
    r = allocate(budget, role_rows(["1"] * n), options)
    share = total_rule(Fraction(budget) / n, options.decimals, budget)
    assert all(m.total == share for m in r.members)
    assert r.returned_to_treasury == budget - n * share
    if share * n == budget:  # B/N has at most d decimals: nothing goes back
        assert r.returned_to_treasury == 0


@settings(max_examples=200, deadline=None)
@given(budget=budgets, weights=rosters, options=options_st, seed=st.integers(0, 2**32))
def test_result_does_not_depend_on_row_order(budget, weights, options, seed) -> None:
    budget = fit_budget(budget, options.decimals)
    rows = role_rows(weights)
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    a = {m.member: m for m in allocate(budget, rows, options).members}
    b = {m.member: m for m in allocate(budget, shuffled, options).members}
    assert a == b


@settings(max_examples=300, deadline=None)
@given(
    budget=budgets,
    weights=rosters,
    options=options_st.filter(lambda o: o.cap_rule in ("at-base", "off")),
    who=st.integers(0, 39),
    rise=st.integers(1, 10**6),
)
def test_own_rise_never_lowers_total_without_scale_cap(budget, weights, options, who, rise) -> None:
    who %= len(weights)
    budget = fit_budget(budget, options.decimals)
    before_w = Decimal(weights[who])
    after_w = min(Decimal(1), before_w + Decimal(rise).scaleb(-6))
    assume(after_w > before_w)
    raised = [*weights[:who], str(after_w), *weights[who + 1 :]]
    before = allocate(budget, role_rows(weights), options).members[who]
    after = allocate(budget, role_rows(raised), options).members[who]
    assume(before.bonus_eligible == after.bonus_eligible and before.performer == after.performer)
    assert after.total >= before.total


@settings(max_examples=200, deadline=None)
@given(budget=budgets, weights=rosters, options=options_st)
def test_member_exactly_on_average_is_not_eligible(budget, weights, options) -> None:
    options = Options(**{**options.__dict__, "threshold": None})
    budget = fit_budget(budget, options.decimals)
    tied = _on_average(weights)
    r = allocate(budget, role_rows(tied), options)
    assert r.average_weight == Decimal(tied[-1])
    tie = r.members[-1]
    assert not tie.bonus_eligible and tie.bonus == 0 and tie.excess == 0
    assert tie.total == total_rule(Fraction(budget) / len(tied) * Fraction(tie.grape_weight), options.decimals, budget)


@settings(max_examples=100, deadline=None)
@given(budget=budgets, weights=rosters, options=options_st)
def test_cap_reports_its_ratio_and_at_base_keeps_excess_within_base(budget, weights, options) -> None:
    budget = fit_budget(budget, options.decimals)
    r = allocate(budget, role_rows(weights), options)
    eligible = [m for m in r.members if m.bonus_eligible]
    if r.cap_engaged:
        assert eligible and options.cap_rule != "off"
        expected = Fraction(r.excess_pool) / Fraction(budget) if options.cap_rule == "scale" else None
        if expected is not None:  # both figures are reported to 12 places: allow for that rounding
            half_unit = Fraction(1, 2 * 10**12)
            assert abs(Fraction(r.cap_ratio) - expected) <= half_unit + half_unit / Fraction(budget)
        assert 0 < r.cap_ratio < 1
    else:
        assert r.cap_ratio == 1
    if options.cap_rule == "at-base":
        assert all(m.excess <= m.base for m in eligible)


@given(st.text(alphabet=" \u00a0\tab", max_size=12))
def test_excel_trim_is_the_rule_written_out(text) -> None:
    """engine/names.py's excel_trim, whose fast path gives an already trimmed text back, against
    Excel's TRIM written out: U+0020 spaces around removed, runs inside made one (a no-break space
    or a tab is not a space to it); member_key is that, case-blind."""
    from katsheet.engine.names import excel_trim, member_key

    expected = " ".join(part for part in text.split(" ") if part)
    assert excel_trim(text) == expected
    assert member_key(text) == expected.casefold()
