"""One test per guardrail and per input problem: exit 2, one line naming the key or row and the value,
nothing on stdout. And `katsheet kat` as a user runs it: init, the samples, exit codes, CSV variants."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from kat_helpers import CED, MONTH, ced, ced_data, row, state, write_config, write_ledger, write_states
from rich.console import Console

from katsheet.cli.kat_render import print_period
from katsheet.engine.kat import Ledger, LedgerRow, compute_period, parse_config
from katsheet.io.katfiles import ced_text, load_guardrails, parse_toml, read_ledger


def _refused(run, *args: str, words: list[str]) -> str:
    """`katsheet kat ARGS` refuses: exit 2, nothing on stdout, one line holding every word."""
    code, out, err = run("kat", *args)
    assert code == 2 and out == "" and err.count("\n") == 1
    for word in words:
        assert word in err, err
    return err


def _changed(change) -> dict:
    data = copy.deepcopy(CED)
    change(data)
    return data


def _set(path: str, value):
    def change(data):
        *parents, key = path.split(".")
        target = data
        for p in parents:
            target = target[int(p)] if p.isdigit() else target[p]
        target[key] = value

    return change


D = Decimal
GUARDRAIL_CASES = [
    # (id, change, the words the line must hold)
    ("kat_per_credit zero", _set("settlement.kat_per_credit", D(0)), ["settlement.kat_per_credit", "'0'", "(0, 10]"]),
    ("kat_per_credit high", _set("settlement.kat_per_credit", D("10.5")), ["settlement.kat_per_credit", "10.5", "(0, 10]"]),
    ("global_cap zero", _set("settlement.global_cap", D(0)), ["settlement.global_cap", "> 0"]),
    ("per_user_cap over 5%", _set("settlement.per_user_cap", D(251)), ["settlement.per_user_cap", "251", "(0, 250]", "5%"]),
    ("per_user_cap zero", _set("settlement.per_user_cap", D(0)), ["settlement.per_user_cap", "(0, 250]"]),
    ("decimals 19", _set("settlement.decimals", 19), ["settlement.decimals", "19", "from 0 to 18"]),
    ("period weekly", _set("settlement.period", "weekly"), ["settlement.period", "weekly", "monthly"]),
    ("levels misnumbered", _set("karma.levels.1.level", 7), ["karma.levels[2].level", "7", "from 0 to 4"]),
    ("level twice", _set("karma.levels.1.level", 0), ["karma.levels[2].level", "twice"]),
    ("multiplier over 2", _set("karma.levels.4.multiplier", D("2.5")), ["karma.levels[5].multiplier", "2.5", "[0, 2]"]),
    ("multiplier negative", _set("karma.levels.2.multiplier", D(-1)), ["karma.levels[3].multiplier", "-1", "[0, 2]"]),
    ("level 0 pays", _set("karma.levels.0.multiplier", D("0.1")), ["level 0", "0.1", "multiplier 0"]),
    ("start level at 0", _set("karma.start_level", 0), ["karma.start_level", "'0'", "multiplier is > 0"]),
    ("start level missing", _set("karma.start_level", 5), ["karma.start_level", "5", "0..4"]),
    ("credits zero", _set("rules.0.credits", D(0)), ["rules[1].credits", "'0'", "(0, 5]"]),
    ("credits six", _set("rules.0.credits", D(6)), ["rules[1].credits", "'6'", "(0, 5]"]),
    ("limit zero", _set("rules.6.limit", 0), ["rules[7].limit", "'0'", "whole number >= 1"]),
    ("limit fraction", _set("rules.6.limit", D("1.5")), ["rules[7].limit", "1.5", "whole number >= 1"]),
    ("rule id twice", _set("rules.1.id", "g1"), ["rules[2].id", "g1", "unique"]),
    ("undeclared stakeholder", _set("rules.0.stakeholder", "Mentors"), ["rules[1].stakeholder", "Mentors", "declared"]),
    ("first tier not 0", _set("tiers.0.threshold", D(10)), ["tiers[1].threshold", "10", "must be 0"]),
    ("tiers not rising", _set("tiers.2.threshold", D(100)), ["tiers[3].threshold", "100", "rise strictly"]),
    ("financial privilege", _set("tiers.1.privileges", ["Monthly USDC airdrop"]), ["tiers[2].privileges", "usdc", "non-financial"]),
    ("paid privilege", _set("tiers.1.privileges", "Paid speaking slots"), ["tiers[2].privileges", "paid"]),
    ("code with a dash", _set("dao.code", "CE-D"), ["dao.code", "CE-D", "letters or digits"]),
    ("unknown key", _set("settlement.per_user_cups", D(5)), ["settlement.per_user_cups", "not a key"]),
    ("huge exponent", _set("settlement.kat_per_credit", D("1e1000000")), ["settlement.kat_per_credit", "'1E+1000000'", "1e308"]),
]  # fmt: skip


@pytest.mark.parametrize(("change", "words"), [c[1:] for c in GUARDRAIL_CASES], ids=[c[0] for c in GUARDRAIL_CASES])
def test_guardrail_refused(change, words, run, tmp_path) -> None:
    config = write_config(tmp_path / "dao.toml", _changed(change))
    ledger = write_ledger(tmp_path / "ledger.csv", [row("Ada", "G1")])
    code, out, err = run("kat", str(ledger), "--config", str(config), "--month", MONTH)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("katsheet: error: dao.toml ")
    for word in words:
        assert word.lower() in err.lower(), (word, err)


def test_a_cohort_may_tighten_the_guardrails(run, tmp_path) -> None:
    text = (Path(__file__).parents[1] / "katsheet" / "data" / "kat_guardrails.toml").read_text()
    tight = tmp_path / "cohort.toml"
    tight.write_text(text.replace("kat_per_credit_max = 10", "kat_per_credit_max = 4"))
    ledger = write_ledger(tmp_path / "ledger.csv", [row("Ada", "G1")])
    config = write_config(tmp_path / "dao.toml", ced_data())
    code, _, err = run("kat", str(ledger), "--config", str(config), "--month", MONTH, "--guardrails", str(tight))
    assert code == 2 and "settlement.kat_per_credit" in err and "(0, 4]" in err and "cohort.toml" in err
    code, _, _ = run("kat", str(ledger), "--config", str(config), "--month", MONTH)
    assert code == 0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[dao\nname = 1", ["not valid TOML", "line 1"]),
        ('stakeholders = ["A"]\n[dao]\nname = "X"\n', ["dao.code", "missing"]),
        ("[settlement]\nkat_per_credit = 'five'\n", ["dao.name", "missing"]),
    ],
)
def test_malformed_config(text, words, run, tmp_path) -> None:
    (tmp_path / "dao.toml").write_text(text)
    ledger = write_ledger(tmp_path / "ledger.csv", [row("Ada", "G1")])
    _refused(run, str(ledger), "--config", str(tmp_path / "dao.toml"), "--month", MONTH, words=words)


def _ledger_text(tmp_path: Path, rows: list[list[str]], header=None, *, sep=",", encoding="utf-8") -> Path:
    path = tmp_path / "ledger.csv"
    with path.open("w", newline="", encoding=encoding) as f:
        w = csv.writer(f, delimiter=sep)
        w.writerow(header or ["entry", "date", "member", "stakeholder", "rule", "quantity", "evidence", "verified_by",
                              "verified_on", "status", "notes"])  # fmt: skip
        w.writerows(rows)
    return path


GOOD = ["E1", "2026-11-03", "Ada", "Guides", "G1", "1", "https://e/1", "Org", "2026-11-04", "verified", ""]


def _with(i: int, value: str) -> list[str]:
    out = list(GOOD)
    out[i] = value
    return out


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([_with(1, "11/03/2026")], ["ledger.csv row 2, column date", "'11/03/2026'", "YYYY-MM-DD", "never guessed"]),
        ([_with(1, "2026-02-30")], ["row 2, column date", "2026-02-30", "not a real date"]),
        ([GOOD, _with(8, "3.11.2026")], ["row 3, column verified_on", "3.11.2026"]),
        ([_with(2, "Ada\x07")], ["row 2, column member", "control character"]),
        ([GOOD, _with(6, "https://e/\ufffe")], ["row 3, column evidence", "control character"]),
    ],
)
def test_bad_ledger_cells(rows, words, run, tmp_path) -> None:
    ledger = _ledger_text(tmp_path, rows)
    config = str(write_config(tmp_path / "d.toml", ced_data()))
    _refused(run, str(ledger), "--config", config, "--month", MONTH, words=words)


def test_missing_ledger_column(run, tmp_path) -> None:
    ledger = _ledger_text(tmp_path, [GOOD[:9]], header=["entry", "date", "member", "stakeholder", "rule", "quantity",
                                                          "evidence", "verified_by", "verified_on"])  # fmt: skip
    code, _, err = run(
        "kat", str(ledger), "--config", str(write_config(tmp_path / "d.toml", ced_data())), "--month", MONTH
    )
    assert code == 2 and "ledger.csv header row" in err and "no status column" in err


@pytest.mark.parametrize(
    ("state_rows", "words"),
    [
        ([["Ada", "5", "0", "", "", "0"]], ["state.csv row 2", "level must be one of 0..4", "5"]),
        ([["Ada", "2", "-1", "", "", "0"]], ["state.csv row 2, column streak", "-1"]),
        ([["Ada", "2", "0", "", "", "0"], ["ada ", "2", "0", "", "", "0"]], ["state.csv row 3", "twice"]),
        ([["Ada", "2", "0", "10/20/2026", "", "0"]], ["row 2, column last_active", "10/20/2026"]),
        ([["Ada", "2", "0", "", "", "-3"]], ["row 2, column cumulative_kat", "-3"]),
        ([["Ada", "two", "0", "", "", "0"]], ["row 2, column level", "two"]),
    ],
)
def test_bad_state(state_rows, words, run, tmp_path) -> None:
    path = tmp_path / "state.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(
            [["member", "level", "streak", "last_active", "first_seen", "cumulative_kat"], *state_rows]
        )
    ledger = _ledger_text(tmp_path, [GOOD])
    config = str(write_config(tmp_path / "d.toml", ced_data()))
    _refused(run, str(ledger), "--config", config, "--month", MONTH, "--state", str(path), words=words)


@pytest.mark.parametrize(
    ("records", "words"),
    [
        (
            [["X1", "2026-11-05", "Ada", "misconduct", "maybe", ""]],
            ["x.csv row 2", "open, upheld or dismissed", "maybe"],
        ),
        (
            [["X1", "2026-11-05", "Ada", "k", "open", ""], ["x1", "2026-11-06", "Ada", "k", "open", ""]],
            ["row 3", "twice"],
        ),
        ([["X1", "2026-11-05", "Zed", "k", "upheld", ""]], ["row 2", "neither in the state nor in the ledger", "Zed"]),
        ([["X1", "", "Ada", "k", "upheld", ""]], ["row 2, column date", "missing"]),
    ],
)
def test_bad_exceptions(records, words, run, tmp_path) -> None:
    path = tmp_path / "x.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([["id", "date", "member", "kind", "decision", "notes"], *records])
    ledger = _ledger_text(tmp_path, [GOOD])
    config = str(write_config(tmp_path / "d.toml", ced_data()))
    _refused(run, str(ledger), "--config", config, "--month", MONTH, "--exceptions", str(path), words=words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--month", "2026-13"], ["--month", "YYYY-MM"]),
        (["--month", "Nov 2026"], ["--month", "Nov 2026"]),
        ([], ["--month"]),
        (["--month", MONTH, "--format", "xml"], ["--format", "table, json, csv"]),
    ],
)
def test_bad_options(args, words, run, tmp_path) -> None:
    ledger = _ledger_text(tmp_path, [GOOD])
    _refused(run, str(ledger), "--config", str(write_config(tmp_path / "d.toml", ced_data())), *args, words=words)


ROW_PROBLEMS = [
    ("self-verified", {"verifier": " ADA "}, "verified by the member themself"),
    ("no evidence", {"evidence": ""}, "no evidence"),
    ("stakeholder not the rule's", {"stakeholder": "Explorers"}, "stakeholder Explorers is not rule G1's (Guides)"),
    ("dated after the period", {"day": dt.date(2026, 12, 1), "verified_on": dt.date(2026, 11, 30)},
     "dated after the period's end (2026-11-30)"),
    ("quantity 1.5", {"quantity": "1.5"}, "quantity must be a whole number >= 1"),
    ("quantity 0", {"quantity": "0"}, "quantity must be a whole number >= 1"),
    ("status outside the list", {"status": "approved"}, "status must be pending, verified, disputed or void"),
    ("no verifier", {"verifier": ""}, "no verifier (verified_by is blank)"),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "problem"), [c[1:] for c in ROW_PROBLEMS],
                         ids=[c[0] for c in ROW_PROBLEMS])  # fmt: skip
def test_row_problem_blocks(kwargs, problem, run, tmp_path) -> None:
    rows = [row("Ada", "G1", **kwargs), row("Bo", "G2")]
    p = compute_period(ced(), MONTH, rows, states=[state("Ada"), state("Bo")])
    assert [r.problems for r in p.rows] == [(problem,), ()]
    assert not p.rows[0].counted and p.rows[1].counted
    code, out, _ = run("kat", str(write_ledger(tmp_path / "l.csv", rows)), "--config",
                       str(write_config(tmp_path / "d.toml", ced_data())), "--month", MONTH, "--format", "json")  # fmt: skip
    data = json.loads(out)
    assert code == 1 and data["blocking"] == 1 and data["rows"][0]["problems"] == [problem]


def test_unknown_rule_and_duplicate_id_block() -> None:
    rows = [row("Ada", "G1", entry="E1"), row("Bo", "G2", entry="e1"), row("Cy", "G1")]
    rows[2] = replace(rows[2], rule="Z9")
    p = compute_period(ced(), MONTH, rows)
    assert [r.problems for r in p.rows] == [("entry id E1 is used twice",), ("entry id e1 is used twice",),
                                            ("rule Z9 does not exist",)]  # fmt: skip
    assert not any(r.counted for r in p.rows)


def test_two_rows_without_an_entry_id_block_and_the_others_count() -> None:
    """A blank id used twice is one problem per row, "the entry id is blank", never "used twice"."""
    rows = [row("Ada", "G1", entry=" "), row("Bo", "G1", entry=" "), row("Cy", "G1", entry="E9")]
    p = compute_period(ced(), MONTH, rows)
    assert [r.problems for r in p.rows] == [("the entry id is blank",), ("the entry id is blank",), ()]
    assert [r.counted for r in p.rows] == [False, False, True]


def test_a_row_without_a_member_blocks_and_makes_no_member() -> None:
    p = compute_period(ced(), MONTH, [row(" ", "G1"), row("Bo", "G1")])
    assert p.rows[0].problems == ("the member is blank",) and [m.member for m in p.members] == ["Bo"]


def test_a_void_row_with_a_bad_quantity_does_not_block() -> None:
    p = compute_period(ced(), MONTH, [row("Ada", "G1", "x", status="void")])
    assert p.rows[0].problems == () and not p.blocking


def test_inactivity_boundary() -> None:
    """Exactly inactivity_days is inactive (kat.md: >=); one day fewer is not."""
    end = dt.date(2026, 11, 30)
    on = compute_period(ced(), MONTH, [], states=[state("Ada", last_active=end - dt.timedelta(days=60))])
    off = compute_period(ced(), MONTH, [], states=[state("Ada", last_active=end - dt.timedelta(days=59))])
    assert (on.members[0].inactive, on.members[0].level) == (True, 1)
    assert (off.members[0].inactive, off.members[0].level) == (False, 2)


def test_verified_after_the_period_counts_next_month() -> None:
    late = row("Ada", "G1", day=dt.date(2026, 11, 29), verified_on=dt.date(2026, 12, 2))
    november = compute_period(ced(), MONTH, [late])
    december = compute_period(ced(), "2026-12", [late])
    assert not november.rows[0].counted and not november.rows[0].problems
    assert december.rows[0].counted and december.rows[0].late


def test_settled_rows_are_history() -> None:
    old = row("Ada", "G1", day=dt.date(2026, 10, 3))
    old = replace(old, settled="2026-10")
    p = compute_period(ced(), MONTH, [old, row("Ada", "G1")])
    assert [r.counted for r in p.rows] == [False, True] and p.members[0].credits == 1
    with pytest.raises(Exception, match="settled in a period after 2026-11"):
        compute_period(ced(), MONTH, [replace(old, settled="2026-12")])


def test_init_writes_the_commented_ced_configuration(run, tmp_path) -> None:
    out = tmp_path / "mydao.toml"
    code, _, err = run("kat", "init", str(out))
    assert code == 0, err
    text = out.read_text()
    assert parse_config(parse_toml(text.encode(), source="x"), load_guardrails()) == ced()
    # every key is explained: a comment on its line or in the block above it
    lines = text[: text.index("[[")].splitlines()  # the single keys; arrays of tables are explained above them
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith(("#", " ", '"')) and line.split("=")[0].strip() in {
            "stakeholders", "name", "code", "period", "kat_per_credit", "global_cap", "per_user_cap", "decimals",
            "method", "start_level", "promote_after", "inactivity_days",
        }:  # fmt: skip
            assert "#" in line or any(lines[j].startswith("#") for j in range(max(0, i - 3), i)), line
    code, _, err = run("kat", "init", str(out))
    assert code == 2 and "exists" in err and "--force" in err
    assert run("kat", "init", str(out), "--force")[0] == 0
    assert text == ced_text()


def test_samples(run) -> None:
    code, out, err = run("kat", "--sample")
    assert code == 0, err
    for words in ("2 -> 3 Trusted", "3 -> 2 Member", "2 -> 1 Provisional", "inactive 76 days", "an upheld exception",
                  "Late rows", "CED-0060", "beyond a rule's limit", "CED-0045", "CED-0061 (pending)",
                  "CED-0062 (disputed)", "No row blocks settlement", "Global cap not engaged"):  # fmt: skip
        assert words in out, words
    code, out, _ = run("kat", "--sample", "blocked")
    assert code == 1
    assert "9 rows block settlement" in out
    one = compute_period(ced(), MONTH, [row("Ada", "G1", evidence="")])
    console = Console(width=200, record=True)
    print_period(one, console)
    assert "1 row blocks settlement" in console.export_text()
    code, out, _ = run("kat", "--sample", "blocked", "--format", "csv")
    assert code == 1 and out.splitlines()[0] == "settlement_id,period,member,amount"
    assert run("kat", "--sample", "nonsense")[0] == 2


def test_excel_csv_variants(run, tmp_path) -> None:
    """A European Excel's ;-separated Windows-1252 file with quoted names reads as the UTF-8 one does."""
    rows = [["E1", "2026-11-03", 'Zoë "Z" Müller', "Guides", "G1", "2", "https://e/1", "Org", "2026-11-04", "verified",
             "line one\nline two; with a separator"]]  # fmt: skip
    config = str(write_config(tmp_path / "d.toml", ced_data()))
    plain_ = run.json("kat", str(_ledger_text(tmp_path, rows)), "--config", config, "--month", MONTH)
    european = _ledger_text(tmp_path, rows, sep=";", encoding="cp1252")
    assert run.json("kat", str(european), "--config", config, "--month", MONTH) == plain_
    assert plain_["members"][0]["member"] == 'Zoë "Z" Müller' and plain_["members"][0]["kat"] == "10.00"


def test_state_with_decimal_comma(run, tmp_path) -> None:
    path = tmp_path / "state.csv"
    path.write_text("member;level;streak;last_active;first_seen;cumulative_kat\nAda;2;0;2026-10-20;2026-01-05;99,5\n")
    config = str(write_config(tmp_path / "d.toml", ced_data()))
    ledger = write_ledger(tmp_path / "l.csv", [row("Ada", "G1", 2)])
    out = run.json("kat", str(ledger), "--config", config, "--month", MONTH, "--state", str(path))
    assert out["members"][0]["cumulative"] == "109.5" and out["members"][0]["tier"] == "Sprout"


def test_new_member_starts_at_start_level_and_is_first_seen() -> None:
    p = compute_period(ced(), MONTH, [row("Newcomer", "G1", day=dt.date(2026, 11, 7))])
    m = p.members[0]
    assert (m.level_before, m.level, m.first_seen, m.streak, m.kat) == (2, 2, dt.date(2026, 11, 7), 1, 5)


def test_states_written_back(tmp_path) -> None:
    """write_states/read_states agree (the helper the CLI tests rely on is itself right)."""
    from katsheet.io.katfiles import read_states

    s = [state("Ada", 3, 2, cumulative="12.5")]
    assert read_states(write_states(tmp_path / "s.csv", s))[0].cumulative == Decimal("12.5")


def test_the_ledger_reader_skips_blank_rows_and_keeps_spreadsheet_row_numbers(tmp_path) -> None:
    """Blank and whitespace-only lines are skipped (not rows); every row keeps the number a spreadsheet shows."""
    path = tmp_path / "ledger.csv"
    header = "entry,date,member,stakeholder,rule,quantity,evidence,verified_by,verified_on,status"
    row = "E{},2026-11-0{},Ada,Guides,G1,1,ev,Org,2026-11-0{},verified"
    path.write_text("\n".join([header, row.format(1, 3, 4), "", " , ,", row.format(2, 5, 6), ",,,,,,,,,"]) + "\n")
    ledger = read_ledger(path)
    assert isinstance(ledger, Ledger) and len(ledger) == 2
    assert [r.where for r in ledger] == ["ledger.csv row 2", "ledger.csv row 5"]
    assert ledger[1] == LedgerRow("E2", dt.date(2026, 11, 5), "Ada", "Guides", "G1", "1", "ev", "Org",
                                  dt.date(2026, 11, 6), "verified", "", "", "ledger.csv row 5")  # fmt: skip
    assert ledger == list(ledger) and ledger[:1] == [ledger[0]] and Ledger.of(list(ledger)) == ledger


def test_a_ledger_needs_every_column_of_one_length() -> None:
    with pytest.raises(ValueError, match="all of one length"):
        Ledger({"entry": ["E1"]})
    one = Ledger.of([LedgerRow("E1", None, "Ada", "Guides", "G1")])
    with pytest.raises(ValueError, match="all of one length"):
        Ledger({**one.columns, "member": []})


def test_an_unreadable_csv_names_its_row(run, tmp_path) -> None:
    """A field over csv's limit (a pasted blob) is refused at its record: row 4, after a two-line record."""
    path = tmp_path / "ledger.csv"
    path.write_text(
        'entry,date,member\nE1,2026-11-03,Ada\n"E2\nstill E2",2026-11-04,Bo\nE3,2026-11-05,' + "x" * 200_000
    )
    config = str(write_config(tmp_path / "d.toml", ced_data()))
    _refused(run, str(path), "--config", config, "--month", MONTH, words=["ledger.csv row 4", "not a readable CSV"])


def test_the_audit_checklist_names_what_fails() -> None:
    """kat.md section 6 on the sample months: the clean one passes every item; the blocked one fails
    the rule, verification, entry-id and open-problem items with the rows each names."""
    from katsheet.engine.kat.checklist import checklist, karma_ok
    from katsheet.io.katfiles import sample_inputs

    found = {}
    for name in ("month", "blocked"):
        config, ledger, exceptions, states = sample_inputs(name)
        period = compute_period(config, MONTH, ledger, exceptions, states)
        found[name] = {i.key: (i.count, i.passed) for i in checklist(period, ledger)}
    assert all(passed for _, passed in found["month"].values())
    assert found["month"]["limits"] == (1, True)  # one member over a limit: listed, and the limit applied
    assert {k: v for k, v in found["blocked"].items() if not v[1]} == {
        "rules": (2, False), "verification": (2, False), "entries": (2, False), "problems": (9, False),
    }  # fmt: skip
    member = compute_period(ced(), MONTH, [row("Ada", "G1")]).members[0]
    assert karma_ok(member) and not karma_ok(replace(member, level=member.level_before + 2))
    assert not karma_ok(replace(member, inactive=True))  # inactive, yet the level did not step down
