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
from katsheet.engine.grape.allocation import NUDGE
from katsheet.engine.grape.pools import Task, TaskScore, allocate_pools, allocate_scoring, pool_scoring

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
    assert (task_a.rate, task_b.rate) == (Fraction(600) / Fraction("1.66"), Fraction(400))  # B: its only scorer
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
    for m in a.members:  # the rounding guard may lift a total by less than 2^-47 of itself, never more
        assert m.total >= 0 and m.total <= m.before_cap * NUDGE
        assert Fraction(m.total) > m.before_cap - Fraction(1, 10**d) or m.capped  # a floor: less than a unit off
        if cap is not None:
            assert m.total <= Fraction(budget) * Fraction(cap) * NUDGE
    assert sum(m.total for m in a.members) + a.returned_to_treasury == budget
    assert a.returned_to_treasury >= 0
    shuffled = list(scores)
    rnd.shuffle(shuffled)
    b = allocate_pools(budget, tasks, shuffled, decimals=d, max_share=cap)
    assert [(m.member, m.total) for m in b.members] == [(m.member, m.total) for m in a.members]


@settings(max_examples=200, deadline=None)
@given(months(), st.integers(1, 10**6), st.integers(0, 9))
def test_one_scoring_shared_by_several_assets_allocates_each_as_alone(month, other_budget, other_d) -> None:
    """A month's assets share one pool_scoring (the scores checked and summed once): each asset's
    allocation is the one it gets on its own."""
    budget, tasks, scores, cap, d = month
    scoring = pool_scoring(tasks, scores)
    for b, places in ((budget, d), (Decimal(other_budget), other_d)):
        assert allocate_scoring(b, scoring, decimals=places, max_share=cap) == allocate_pools(
            b, tasks, scores, decimals=places, max_share=cap
        )


# -- katsheet compute --model pools ------------------------------------------------------------


def _files(tmp_path, tasks, scores):
    (tmp_path / "tasks.csv").write_text("task,share\n" + "".join(f"{t.name},{t.share}\n" for t in tasks))
    (tmp_path / "roster.csv").write_text(
        "member,task,score\n" + "".join(f"{s.member},{s.task},{s.score}\n" for s in scores)
    )
    return str(tmp_path / "roster.csv"), str(tmp_path / "tasks.csv")


@pytest.mark.parametrize("vector", VECTORS, ids=[v[0] for v in VECTORS])
def test_the_vectors_through_compute_json(vector, tmp_path, run) -> None:
    _, budget, d, cap, tasks, scores, totals, returned = vector
    roster, tasks_csv = _files(tmp_path, tasks, scores)
    args = ["compute", roster, "--model", "pools", "--tasks", tasks_csv, "--budget", budget, "--decimals", str(d)]
    out = run.json(*args, *(["--max-reward", f"{Decimal(cap) * 100}%"] if cap else []))
    assert {m["member"]: Decimal(m["total"]) for m in out["members"]} == {k: Decimal(v) for k, v in totals.items()}
    assert Decimal(out["returned_to_treasury"]) == Decimal(returned)
    engine = allocate_pools(Decimal(budget), tasks, scores, decimals=d, max_share=Decimal(cap) if cap else None)
    assert [t["scorers"] for t in out["tasks"]] == [t.scorers for t in engine.tasks]


def test_several_assets_from_one_scoring_are_allocated_apart(tmp_path, run) -> None:
    """P5: the same scores pay SOL (9 decimals) and USDC (2 decimals), each its own list."""
    roster, tasks_csv = _files(tmp_path, P1_TASKS, P1_SCORES)
    out = run.json(
        "compute", roster, "--model", "pools", "--tasks", tasks_csv, "--asset", "SOL=1:9", "--asset", "USDC=100:2"
    )
    sol, usdc = out["assets"]
    assert (sol["asset"], usdc["asset"]) == ("SOL", "USDC")
    assert {m["member"]: m["total"] for m in sol["members"]} == {"x": "0.361445783", "y": "0.502554216", "z": "0"}
    assert (usdc["returned_to_treasury"], sol["returned_to_treasury"]) == ("13.61", "0.136000001")


@pytest.mark.parametrize(("roster", "tasks", "extra", "message"), [
    ("member,task,score\nx,C,1\n", "task,share\nA,1\n", [], "roster.csv row 2, value 'C': no such task"),
    ("member,task,score\nx,A,140%\n", "task,share\nA,1\n", [], "roster.csv row 2, column score"),
    ("member,task,score\nx,A,1\n", "task,share\nA,-1\n", [], "tasks.csv row 2"),
    ("member,task\nx,A\n", "task,share\nA,1\n", [], "missing score"),
    ("member,task,score\nx,A,1\n", "task,share\nA,1\n", ["--max-reward", "140%"], "--max-reward"),
    ("member,task,score\nx,A,1\n", "task,share\nA,1\n", ["--asset", "SOL"], "NAME=BUDGET"),
])  # fmt: skip
def test_bad_pools_input_is_one_line_naming_the_place(tmp_path, run, roster, tasks, extra, message) -> None:
    (tmp_path / "roster.csv").write_text(roster)
    (tmp_path / "tasks.csv").write_text(tasks)
    budget = [] if "--asset" in extra else ["--budget", "100"]
    code, _, err = run("compute", str(tmp_path / "roster.csv"), "--model", "pools", "--tasks",
                         str(tmp_path / "tasks.csv"), *budget, *extra)  # fmt: skip
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


# -- the per-member cap and several assets in the tiers model ------------------------------------


def test_the_tiers_model_takes_the_member_cap(run) -> None:
    plain = run.json("compute", "--sample")
    capped = run.json("compute", "--sample", "--max-reward", "15%")
    budget = Decimal(capped["budget"])
    by_member: dict[str, Decimal] = {}
    for row in plain["members"]:
        by_member[row["member"]] = by_member.get(row["member"], Decimal(0)) + Decimal(row["total"])
    members = {m["member"]: m for m in capped["members_capped"]}
    assert set(members) == set(by_member)
    for name, m in members.items():
        assert Decimal(m["before_cap"]) == by_member[name]
        assert Decimal(m["total"]) == min(by_member[name], budget * Decimal("0.15"))
        assert m["capped"] == (by_member[name] > budget * Decimal("0.15"))
    assert any(m["capped"] for m in members.values())
    assert sum(Decimal(m["total"]) for m in members.values()) + Decimal(capped["returned_to_treasury"]) == budget
    assert capped["members"] == plain["members"]  # the role rows as before the member cap


def test_the_tiers_model_allocates_each_asset_apart(run) -> None:
    both = run.json("compute", "--sample", "--asset", "GRAPE=100000", "--asset", "USDC=5000:2")
    grape, usdc = both["assets"]
    alone = run.json("compute", "--sample", "--budget", "5000", "--decimals", "2")
    assert {k: v for k, v in usdc.items() if k != "asset"} == alone
    assert grape["budget"] == "100000" and grape["asset"] == "GRAPE"


def test_an_asset_named_twice_is_refused_in_both_models(run, tmp_path) -> None:
    code, _, err = run("compute", "--sample", "--asset", "GRAPE=1", "--asset", "grape=2")
    assert code == 2 and "an asset is given twice" in err


def test_tasks_are_for_the_pools_model(run, tmp_path) -> None:
    code, _, err = run("compute", "--sample", "--tasks", str(tmp_path / "t.csv"))
    assert code == 2 and "--tasks is for --model pools" in err
