"""GREMS parity in the engine (grape.md section 6): task pools with the lone-scorer rule, the
per-member cap and several assets: the spec's vectors P1 to P5, and the invariants by hypothesis."""

from __future__ import annotations

import random
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from conftest import SPEC_DIR
from hypothesis import given, settings
from hypothesis import strategies as st

from katsheet.engine import InputError
from katsheet.engine.grape.pools import Task, TaskScore, allocate_pools

P1_TASKS = [Task("A", Decimal(60)), Task("B", Decimal(40))]
P1_SCORES = [TaskScore("x", "A", Decimal(1)), TaskScore("y", "A", Decimal("0.66")), TaskScore("z", "A", Decimal(0)),
             TaskScore("y", "B", Decimal("0.66"))]  # fmt: skip
ONE = [Task("T", Decimal(1))]

#: (id, budget, decimals, max share, tasks, scores, {member: total}, returned), as grape.md 6 gives them
VECTORS = [
    ("P1", "1000", 6, None, P1_TASKS, P1_SCORES, {"x": "361.445783", "y": "502.554216", "z": "0"}, "136.000001"),
    ("P2", "1000", 6, "0.4", P1_TASKS, P1_SCORES, {"x": "361.445783", "y": "400", "z": "0"}, "238.554217"),
    ("P3", "300", 6, None, ONE, [TaskScore("a", "T", Decimal("0.33")), TaskScore("b", "T", Decimal("0.33"))],
     {"a": "150", "b": "150"}, "0"),
    ("P4", "300", 6, None, ONE, [TaskScore("a", "T", Decimal("0.66"))], {"a": "198"}, "102"),
    ("P5 SOL", "1", 9, None, P1_TASKS, P1_SCORES, {"x": "0.361445783", "y": "0.502554216", "z": "0"}, "0.136000001"),
    ("P5 USDC", "100", 2, None, P1_TASKS, P1_SCORES, {"x": "36.14", "y": "50.25", "z": "0"}, "13.61"),
]  # fmt: skip


@pytest.mark.parametrize("vector", VECTORS, ids=[v[0] for v in VECTORS])
def test_the_specs_vectors(vector) -> None:
    _, budget, d, cap, tasks, scores, totals, returned = vector
    a = allocate_pools(Decimal(budget), tasks, scores, decimals=d, max_share=Decimal(cap) if cap else None)
    assert {m.member: m.total for m in a.members} == {k: Decimal(v) for k, v in totals.items()}
    assert a.returned_to_treasury == Decimal(returned)
    assert all(m.total.as_tuple().exponent == -d for m in a.members)  # the asset's own decimals


def test_the_vectors_are_the_specs() -> None:
    """Every figure above is written in grape.md section 6 (the data cannot drift from the spec)."""
    text = (SPEC_DIR / "grape.md").read_text(encoding="utf-8")
    section = " ".join(text[text.index("## 6.") :].split())
    for _, _, _, _, _, _, totals, returned in VECTORS:
        for figure in [*totals.values(), returned]:
            if figure != "0":
                assert re.search(rf"(?<![\d.]){re.escape(figure)}(?![\d])", section), figure


def test_every_intermediate_figure_is_reported() -> None:
    a = allocate_pools(Decimal(1000), P1_TASKS, P1_SCORES)
    task_a, task_b = a.tasks
    assert (task_a.pat, task_b.pat) == (Fraction(600), Fraction(400))
    assert (task_a.tpws, task_a.scorers, task_b.scorers) == (Decimal("1.66"), 2, 1)
    assert task_a.pwr["x"] == Fraction(600) / Fraction("1.66") and task_b.pwr["y"] == Fraction(264)
    assert task_a.unallocated == 0 and task_b.unallocated == 136  # the lone scorer's rest
    y = next(m for m in a.members if m.member == "y")
    assert y.before_cap == task_a.pwr["y"] + task_b.pwr["y"] and not y.capped


@pytest.mark.parametrize(("tasks", "scores", "message"), [
    ([Task("A", Decimal(1), "tasks.csv row 2"), Task("a", Decimal(1), "tasks.csv row 3")], [], "listed twice"),
    ([Task("A", Decimal(0), "tasks.csv row 2")], [], "shares are all zero"),
    ([Task("A", Decimal(-1), "tasks.csv row 2")], [], "0 or more"),
    (ONE, [TaskScore("a", "Q", Decimal(1), "roster.csv row 2")], "no such task"),
    (ONE, [TaskScore("a", "T", Decimal(1), "row 2"), TaskScore("A ", "t", Decimal(0), "row 3")], "same member and task twice"),
    (ONE, [TaskScore("a", "T", Decimal("1.5"), "roster.csv row 2")], "[0, 1]"),
])  # fmt: skip
def test_bad_input_is_named(tasks, scores, message) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        allocate_pools(Decimal(100), tasks, scores)


score = st.decimals(min_value=0, max_value=1, places=2)


@st.composite
def months(draw):
    n_tasks = draw(st.integers(1, 4))
    tasks = [Task(f"t{i}", draw(st.decimals(min_value=0, max_value=100, places=1))) for i in range(n_tasks)]
    if sum(t.share for t in tasks) == 0:
        tasks[0] = Task("t0", Decimal(1))
    members = [f"m{i}" for i in range(draw(st.integers(1, 6)))]
    scores = [TaskScore(m, t.name, draw(score)) for m in members for t in tasks if draw(st.booleans())]
    d = draw(st.integers(0, 9))
    budget = Decimal(draw(st.integers(1, 10**9))).scaleb(-min(d, 2))  # no more places than the totals
    cap = draw(st.one_of(st.none(), st.decimals(min_value=Decimal("0.01"), max_value=1, places=2)))
    return budget, tasks, scores, cap, d


@settings(max_examples=300, deadline=None)
@given(months(), st.randoms(use_true_random=False))
def test_invariants(month, rnd: random.Random) -> None:
    budget, tasks, scores, cap, d = month
    a = allocate_pools(budget, tasks, scores, decimals=d, max_share=cap)
    for t in a.tasks:
        paid = sum(t.pwr.values(), Fraction(0))
        assert paid <= t.pat
        if t.scorers >= 2:
            assert paid == t.pat  # the whole pool when two or more score
    for m in a.members:
        assert m.total >= 0 and m.total <= m.before_cap
        if cap is not None:
            assert m.total <= budget * cap
    assert sum(m.total for m in a.members) + a.returned_to_treasury == budget
    assert a.returned_to_treasury >= 0
    shuffled = list(scores)
    rnd.shuffle(shuffled)
    b = allocate_pools(budget, tasks, shuffled, decimals=d, max_share=cap)
    assert [(m.member, m.total) for m in b.members] == [(m.member, m.total) for m in a.members]
