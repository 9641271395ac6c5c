"""The dynamic cap's switch (grape.md section 2.8): the rows whose small weight change engages or
releases the cap, found without an allocation per guess, and the jump they cause."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from katsheet.engine.grape.allocation import Options, RoleRow, allocate
from katsheet.engine.grape.sensitivity import _micro, _Sums, cap_switches

SPEC_WEIGHTS = ["0.85", "0", "0", "0.48", "0", "0.78", "0.68", "0", "0.59", "0", "0"]


def rows(weights: list) -> list[RoleRow]:
    return [RoleRow(f"m{i}", "r", Decimal(w)) for i, w in enumerate(weights)]


def test_the_specs_example_the_first_member_loses_by_raising_their_weight() -> None:
    switches = cap_switches(Decimal(156659), rows(SPEC_WEIGHTS), step=Decimal("0.13"))
    first = next(s for s in switches if s.member == "m0")
    assert (first.weight, first.new_weight) == (Decimal("0.85"), Decimal("0.98"))
    assert not first.engaged_before and first.engaged_after
    assert f"{first.total_before:.2f}" == "49925.37" and f"{first.total_after:.2f}" == "27817.54"
    assert first.jump < 0
    assert abs(switches[0].jump) == max(abs(s.jump) for s in switches)  # the largest jump first


def test_nothing_switches_under_cap_rule_off_or_far_from_the_switch() -> None:
    assert cap_switches(Decimal(156659), rows(SPEC_WEIGHTS), Options(cap_rule="off"), step=Decimal("0.13")) == []
    assert cap_switches(Decimal(1000), rows(["1"] * 6)) == []  # everyone at 100%: far from it


weight = st.decimals(min_value=0, max_value=1, places=4)


@settings(max_examples=300, deadline=None)
@given(weights=st.lists(weight, min_size=1, max_size=12), i=st.integers(0, 11), new=weight,
       threshold=st.one_of(st.none(), weight), k=st.integers(1, 5), bonus=st.booleans(), excess=st.booleans())  # fmt: skip
def test_the_quick_judgement_of_a_moved_weight_is_the_allocations_own(
    weights, i, new, threshold, k, bonus, excess
) -> None:
    i %= len(weights)
    options = Options(threshold=threshold, min_divisor=k, bonus=bonus, excess=excess)
    base = rows(weights)
    moved = [*base[:i], dataclasses.replace(base[i], weight=new), *base[i + 1 :]]
    sums = _Sums(Decimal(156659), [_micro(r.weight) for r in base], options)
    assert (
        sums.condition(_micro(base[i].weight), _micro(new)) == allocate(Decimal(156659), moved, options).cap_condition
    )


@settings(max_examples=100, deadline=None)
@given(weights=st.lists(weight, min_size=1, max_size=10))
def test_every_reported_switch_is_real(weights) -> None:
    budget = Decimal(156659)
    before = allocate(budget, rows(weights))
    for s in cap_switches(budget, rows(weights)):
        i = int(s.member[1:])
        after = allocate(budget, [*rows(weights)[:i], RoleRow(s.member, "r", s.new_weight), *rows(weights)[i + 1 :]])
        assert after.cap_condition != before.cap_condition
        assert after.members[i].total == s.total_after and before.members[i].total == s.total_before
