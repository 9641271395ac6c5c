"""kat.md section 5, K1 to K10, through the engine and through `katsheet kat --format json`."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import pytest
from conftest import SPEC_DIR
from kat_helpers import MONTH, ced, ced_data, row, state, write_config, write_exceptions, write_ledger, write_states

from katsheet.engine.kat import ExceptionRecord, KatPeriod, LedgerRow, MemberState, compute_period

#: The spec's table, as we read it; test_spec_table_unchanged fails when kat.md changes it.
SPEC_RESULTS = {
    "K1": "raw 20, KAT 20",
    "K2": "raw 60, capped 50, KAT 50",
    "K3": "T = 6000 > 5000, r = 5/6, 41.66 each, minted 4999.20, residue 0.80",
    "K4": "KAT 0, 17.5, 42, 50 (raw 52.5 capped)",
    "K5": "credited events 1, credits 3, KAT 15; the second row reported as beyond the limit",
    "K6": "none counts; the first two block settlement until fixed or voided; the pending row is carried",
    "K7": "76 days >= 60: inactive, level 2 -> 1, streak 0",
    "K8": "streak 3 >= 3: level 3, streak carried 0; KAT 6 (the new level's x1.2 applies in P)",
    "K9": "level 2, streak 0, KAT 5 (the exception outweighs activity)",
    "K10": "raw 75, 57, 1.25; capped 50, 50, 1.25; T 1051.25; r = 1000/1051.25; KAT 47.56 (21 members) and 1.18; "
    "minted 999.94, residue 0.06",
}


@dataclass
class Case:
    ledger: list[LedgerRow]
    states: list[MemberState] = field(default_factory=list)
    exceptions: list[ExceptionRecord] = field(default_factory=list)
    settlement: dict = field(default_factory=dict)


def k1() -> Case:
    return Case([row("Ada", "G1", 4)])


def k2() -> Case:
    return Case([row("Ada", "G2", 6)])


def k3() -> Case:
    return Case([row(f"member {i:03d}", "G2", 5) for i in range(120)])


def k4() -> Case:
    names = {0: "Lv0", 1: "Lv1", 3: "Lv3", 4: "Lv4"}
    return Case([row(n, "G1", 7) for n in names.values()], [state(n, level) for level, n in names.items()])


def k5() -> Case:
    return Case([row("Ada", "D1", day=dt.date(2026, 11, 3)), row("Ada", "D1", day=dt.date(2026, 11, 20))])


def k6() -> Case:
    return Case([row("Ada", "G1", verifier=" ada "), row("Ada", "G2", evidence=" "), row("Ada", "E1", status="pending")],
                [state("Ada")])  # fmt: skip


def k7() -> Case:
    return Case([], [state("Ada", 2, streak=1, last_active=dt.date(2026, 9, 15))])


def k8() -> Case:
    return Case([row("Ada", "G1")], [state("Ada", 2, streak=2)])


def k9() -> Case:
    return Case([row("Ada", "G1")], [state("Ada", 3)],
                [ExceptionRecord("X1", dt.date(2026, 11, 12), "Ada", "misconduct", "upheld", where="x row 2")])  # fmt: skip


def k10() -> Case:
    top = [f"steward {i:02d}" for i in range(20)]
    ledger = [row(n, "G2", 5) for n in top]  # credits 10
    ledger += [row("trusted", "G2", 4), row("trusted", "G1"), row("trusted", "E1")]  # 8 + 1 + 0.5 = 9.5
    ledger += [row("provisional", "E1")]  # 0.5
    states = [state(n, 4) for n in top] + [state("trusted", 3), state("provisional", 1)]
    return Case(ledger, states, settlement={"global_cap": 1000})


CASES = {"K1": k1, "K2": k2, "K3": k3, "K4": k4, "K5": k5, "K6": k6, "K7": k7, "K8": k8, "K9": k9, "K10": k10}


def engine(case: Case) -> KatPeriod:
    return compute_period(ced(**case.settlement), MONTH, case.ledger, case.exceptions, case.states)


def by_member(p: KatPeriod) -> dict:
    return {m.member: m for m in p.members}


def check(vector: str, p: KatPeriod, case: Case) -> None:
    """The spec's result for ``vector``, asserted on the engine's period."""
    m = by_member(p)
    D = Decimal
    if vector == "K1":
        assert (m["Ada"].credits, m["Ada"].raw, m["Ada"].kat) == (4, 20, D("20.00"))
    elif vector == "K2":
        assert (m["Ada"].credits, m["Ada"].raw, m["Ada"].capped, m["Ada"].kat) == (12, 60, 50, 50)
    elif vector == "K3":
        assert p.total_capped == 6000 and p.global_cap_engaged
        assert p.scale_exact.numerator == 5 and p.scale_exact.denominator == 6
        assert {x.kat for x in p.members} == {D("41.66")}
        assert (p.minted, p.residue) == (D("4999.20"), D("0.80"))
    elif vector == "K4":
        assert [m[n].kat for n in ("Lv0", "Lv1", "Lv3", "Lv4")] == [0, D("17.5"), 42, 50]
        assert m["Lv4"].raw == D("52.5") and m["Lv4"].capped == 50
        assert all(m[n].level == m[n].level_before for n in m)
    elif vector == "K5":
        assert (m["Ada"].credits, m["Ada"].kat) == (3, 15)
        assert [r.beyond_limit for r in p.rows] == [False, True] and all(r.counted for r in p.rows)
    elif vector == "K6":
        assert not any(r.counted for r in p.rows)
        assert [bool(r.problems) for r in p.rows] == [True, True, False]
        assert p.rows[0].problems == ("verified by the member themself",)
        assert p.rows[1].problems == ("no evidence",)
        assert [r.entry for r in p.carried] == [case.ledger[2].entry]
        assert m["Ada"].credits == 0 and m["Ada"].kat == 0
    elif vector == "K7":
        a = m["Ada"]
        assert (a.idle_days, a.inactive, a.level_before, a.level, a.streak) == (76, True, 2, 1, 0)
    elif vector == "K8":
        a = m["Ada"]
        assert (a.level, a.streak, a.multiplier, a.kat) == (3, 0, D("1.2"), 6)
    elif vector == "K9":
        a = m["Ada"]
        assert (a.upheld, a.active, a.level, a.streak, a.kat) == (True, True, 2, 0, 5)
    elif vector == "K10":
        assert [m[n].raw for n in ("steward 00", "trusted", "provisional")] == [75, 57, D("1.25")]
        assert [m[n].capped for n in ("steward 00", "trusted", "provisional")] == [50, 50, D("1.25")]
        assert p.total_capped == D("1051.25") and p.global_cap_engaged
        assert p.scale_exact == Fraction(1000) / Fraction(D("1051.25"))
        assert sorted(x.kat for x in p.members).count(D("47.56")) == 21
        assert m["provisional"].kat == D("1.18")
        assert (p.minted, p.residue) == (D("999.94"), D("0.06"))


@pytest.mark.parametrize("vector", list(CASES))
def test_vector_engine(vector: str) -> None:
    case = CASES[vector]()
    check(vector, engine(case), case)


@pytest.mark.parametrize("vector", list(CASES))
def test_vector_cli_json(vector: str, run, tmp_path) -> None:
    """The same vector through CSV files and `katsheet kat --format json`; the JSON equals the engine's figures."""
    case = CASES[vector]()
    args = ["kat", str(write_ledger(tmp_path / "ledger.csv", case.ledger)), "--month", MONTH,
            "--config", str(write_config(tmp_path / "dao.toml", ced_data(**case.settlement)))]  # fmt: skip
    if case.states:
        args += ["--state", str(write_states(tmp_path / "state.csv", case.states))]
    if case.exceptions:
        args += ["--exceptions", str(write_exceptions(tmp_path / "x.csv", case.exceptions))]
    code, out, err = run(*args, "--format", "json")
    p = engine(case)
    assert code == (1 if p.blocking else 0), err
    data = json.loads(out)
    members = {x["member"]: x for x in data["members"]}
    for mine in p.members:
        theirs = members[mine.member]
        assert Decimal(theirs["kat"]) == mine.kat and Decimal(theirs["credits"]) == mine.credits
        assert (theirs["level_before"], theirs["level"], theirs["streak"]) == (
            mine.level_before,
            mine.level,
            mine.streak,
        )
        assert Decimal(theirs["raw"]) == mine.raw and Decimal(theirs["capped"]) == mine.capped
    assert Decimal(data["minted"]) == p.minted and Decimal(data["residue"]) == p.residue
    assert data["global_cap_engaged"] == p.global_cap_engaged and data["blocking"] == len(p.blocking)
    assert [r["beyond_limit"] for r in data["rows"]] == [r.beyond_limit for r in p.rows]
    assert sum(Decimal(x["amount"]) for x in data["mint_list"]) == Decimal(data["minted"])
    check(vector, p, case)  # the engine's period is the spec's, so the JSON is too


def test_json_contract_keys(run) -> None:
    code, out, err = run("kat", "--sample", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["dao", "period", "settlement_id", "kat_per_credit", "global_cap", "per_user_cap", "decimals",
                          "total_capped", "scale", "global_cap_engaged", "minted", "residue", "members", "rows",
                          "mint_list", "blocking"]  # fmt: skip
    assert list(data["members"][0]) == ["member", "level_before", "level", "multiplier", "active", "inactive", "upheld",
                                        "streak", "last_active", "first_seen", "credits", "raw", "capped", "scaled",
                                        "kat", "cumulative", "tier"]  # fmt: skip
    assert list(data["rows"][0]) == ["entry", "counted", "late", "beyond_limit", "problems"]
    assert list(data["mint_list"][0]) == ["settlement_id", "period", "member", "amount"]
    assert all(isinstance(data[k], str) for k in ("kat_per_credit", "minted", "residue", "scale", "total_capped"))


def test_spec_table_unchanged() -> None:
    spec = SPEC_DIR / "kat.md"
    if not spec.exists():
        pytest.fail(f"the spec is missing at {spec}")
    table = dict(re.findall(r"^\| (K\d+) \| [^|]* \| (.*) \|$", spec.read_text(), re.MULTILINE))
    assert table == SPEC_RESULTS
