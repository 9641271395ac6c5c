"""grape.md section 4, through the engine and through `katsheet compute --format json`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from conftest import role_rows, write_roster
from hypothesis import given
from hypothesis import strategies as st
from vectors import (
    CAP_FLAW_BUDGET,
    CAP_FLAW_TOTALS,
    CAP_FLAW_WEIGHTS,
    GRID,
    INTERMEDIATES,
    VECTORS,
    Vector,
)

from katsheet.cli.render import json_text
from katsheet.engine import FOUR_CRITERIA, Options, allocate, grape_weight, parse_score, round_half_up, summarize


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.id)
def test_vector_engine(v: Vector) -> None:
    result = allocate(Decimal(v.budget), role_rows(v.weights), Options(**v.options))
    assert [m.total for m in result.members] == [Decimal(t) for t in v.totals]
    assert result.returned_to_treasury == Decimal(v.returned)
    for key, expected in INTERMEDIATES.get(v.id, {}).items():
        got = getattr(result, key)
        assert got == (Decimal(expected) if isinstance(expected, str) else expected), key


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.id)
def test_vector_cli_json(v: Vector, run, tmp_path) -> None:
    roster = write_roster(tmp_path / "roster.csv", v.weights)
    out = run.json("compute", str(roster), "--budget", v.budget, *v.flags)
    assert [Decimal(m["total"]) for m in out["members"]] == [Decimal(t) for t in v.totals]
    assert Decimal(out["returned_to_treasury"]) == Decimal(v.returned)
    assert Decimal(out["total_allocated"]) + Decimal(out["returned_to_treasury"]) == Decimal(v.budget)
    for key, expected in INTERMEDIATES.get(v.id, {}).items():
        assert (Decimal(out[key]) if isinstance(expected, str) else out[key]) == (
            Decimal(expected) if isinstance(expected, str) else expected
        ), key


def test_json_contract_keys(run, tmp_path) -> None:
    out = run.json("compute", str(write_roster(tmp_path / "r.csv", ["1", "0.5"])), "--budget", "10")
    assert list(out) == [
        "budget", "role_holders", "base_allotted", "average_weight", "threshold", "bonus_eligible",
        "bonus_divisor", "bonus_pool", "excess_pool", "cap_engaged", "cap_ratio", "total_allocated",
        "returned_to_treasury", "members",
    ]  # fmt: skip
    assert list(out["members"][0]) == [
        "member", "role", "grape_weight", "base", "bonus", "excess", "total", "bonus_eligible",
    ]  # fmt: skip
    assert all(isinstance(out[k], str) for k in ("budget", "bonus_pool", "total_allocated", "cap_ratio"))


@pytest.mark.parametrize(("scores", "expected"), GRID)
def test_scoring_grid(scores: list[str], expected: str) -> None:
    parsed = [parse_score(s, where="test") for s in scores]
    assert grape_weight(parsed, FOUR_CRITERIA) == Decimal(expected)


@pytest.mark.parametrize(("scores", "expected"), GRID)
def test_scoring_grid_cli(scores: list[str], expected: str, run, tmp_path) -> None:
    roster = tmp_path / "grid.csv"
    roster.write_text("member,role,Work Produced,Work Utilized,Activity,Ops/Org\nAda,Dev," + ",".join(scores) + "\n")
    out = run.json("compute", str(roster), "--budget", "1000")
    assert Decimal(out["members"][0]["grape_weight"]) == Decimal(expected)


def test_levels_map_to_percentages() -> None:
    assert [parse_score(f"LEVEL {i}", where="t") for i in range(4)] == [Decimal(x) for x in ("0", "0.33", "0.66", "1")]
    assert parse_score("level  2", where="t") == Decimal("0.66")


def test_single_criterion_variant(run, tmp_path) -> None:
    roster = tmp_path / "single.csv"
    roster.write_text("member,role,performance\nAda,Dev,80%\nBo,Ops,LEVEL 1\n")
    out = run.json("compute", str(roster), "--budget", "1000", "--criteria", "single")
    assert [m["grape_weight"] for m in out["members"]] == ["0.8", "0.33"]


def test_custom_criteria_are_normalised(run, tmp_path) -> None:
    criteria = tmp_path / "criteria.csv"
    criteria.write_text("name,weight\nDelivery,3\nCare,1\n")
    roster = tmp_path / "r.csv"
    roster.write_text("member,role,delivery,care\nAda,Dev,100%,0%\n")
    out = run.json("compute", str(roster), "--budget", "1000", "--criteria", str(criteria))
    assert out["members"][0]["grape_weight"] == "0.75"


def test_cap_flaw_is_real_and_shown(run, tmp_path) -> None:
    """grape.md 2.8: under `scale`, raising one's own weight can cut one's total."""
    before = allocate(Decimal(CAP_FLAW_BUDGET), role_rows(CAP_FLAW_WEIGHTS))
    after = allocate(Decimal(CAP_FLAW_BUDGET), role_rows(["0.98", *CAP_FLAW_WEIGHTS[1:]]))
    # the spec quotes the two totals to the cent
    cents = (round_half_up(before.members[0].total, 2), round_half_up(after.members[0].total, 2))
    assert cents == tuple(map(Decimal, CAP_FLAW_TOTALS))
    assert not before.cap_engaged and after.cap_engaged
    code, out, _ = run("compute", str(write_roster(tmp_path / "r.csv", ["0.98", *CAP_FLAW_WEIGHTS[1:]])),
                       "--budget", CAP_FLAW_BUDGET)  # fmt: skip
    assert code == 0 and "Dynamic cap ENGAGED" in out


def test_summary_sums_roles_across_sheets() -> None:
    a = allocate(Decimal(90000), role_rows(["1", "1", "1"]))
    b = allocate(Decimal(100), [*role_rows(["1"]), *role_rows(["0.5", "1"])[1:]])
    summary = {s.member: s for s in summarize([a, b])}
    assert summary["member 1"].total == Decimal(30000) + b.members[0].total
    assert summary["member 1"].role_rows == 2
    assert summary["member 2"].total == Decimal(30000) + b.members[1].total
    assert sum(s.total for s in summary.values()) == a.total_allocated + b.total_allocated


def test_frame_and_records_agree() -> None:
    result = allocate(Decimal(100000), role_rows(["1", "0.8", "0.6", "0.4", "0"]))
    frame = result.to_frame()
    assert list(frame["total"]) == [m.total for m in result.members]
    assert frame["total"].sum() == result.total_allocated
    assert result.records()[0]["member"] == "member 1"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
        max_leaves=20,
    )
)
def test_json_output_parses_back_with_one_record_per_line(value) -> None:
    """`--format json` indents down to the records and writes each record on one line."""
    text = json_text(value)
    assert json.loads(text) == value
    for line in text.split("\n"):  # not splitlines: U+0085 in a text is no line break in JSON
        record = line.strip().rstrip(",")
        if record.startswith(("{", "[")) and record not in ("{", "["):
            assert isinstance(json.loads(record), (dict, list))
