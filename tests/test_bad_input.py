"""grape.md section 2's bad-input cases (and unreadable files): one line, exit 2, nothing else."""

from __future__ import annotations

import pytest

GOOD = "member,role,grape_weight\nAda,Lead,0.9\nBo,Dev,0.5\n"


def _fails(run, args, *needles: str) -> str:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def roster(tmp_path):
    def make(text: str, name: str = "roster.csv"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return make


def test_budget_missing(run, roster) -> None:
    _fails(run, ["compute", roster(GOOD)], "--budget", "budget is missing")


def test_budget_negative(run, roster) -> None:
    _fails(run, ["compute", roster(GOOD), "--budget", "-5"], "--budget", "'-5'", ">= 0")


def test_budget_not_a_number(run, roster) -> None:
    _fails(run, ["compute", roster(GOOD), "--budget", "lots"], "--budget", "'lots'", "must be a number")


@pytest.mark.parametrize("value", ["1.2", "-0.1", "120%"])
def test_weight_outside_unit_interval(run, roster, value) -> None:
    text = GOOD + f"Cy,Ops,{value}\n"
    _fails(run, ["compute", roster(text), "--budget", "100"], "row 4", "column grape_weight", repr(value), "[0, 1]")


def test_weight_not_a_number(run, roster) -> None:
    _fails(run, ["compute", roster(GOOD + "Cy,Ops,high\n"), "--budget", "100"], "row 4", "grape_weight", "'high'")


def test_weight_missing(run, roster) -> None:
    _fails(run, ["compute", roster(GOOD + "Cy,Ops,\n"), "--budget", "100"], "row 4", "grape_weight", "missing")


def test_score_outside_unit_interval(run, roster) -> None:
    text = "member,role,work_produced,work_utilized,activity,ops_org\nAda,Dev,90%,70%,180%,50%\n"
    _fails(run, ["compute", roster(text), "--budget", "100"], "row 2", "column activity", "'180%'")


def test_score_not_a_number(run, roster) -> None:
    text = "member,role,work_produced,work_utilized,activity,ops_org\nAda,Dev,90%,LEVEL 9,80%,50%\n"
    _fails(run, ["compute", roster(text), "--budget", "100"], "row 2", "column work_utilized", "'LEVEL 9'")


@pytest.mark.parametrize("value", ["1.5", "-0.2", "150%"])
def test_threshold_outside_unit_interval(run, roster, value) -> None:
    _fails(run, ["compute", roster(GOOD), "--budget", "100", "--threshold", value], "--threshold", repr(value))


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "x"])
def test_min_divisor_below_one_or_not_whole(run, roster, value) -> None:
    _fails(run, ["compute", roster(GOOD), "--budget", "100", "--min-divisor", value], "--min-divisor", repr(value))


def test_no_role_holders(run, roster) -> None:
    _fails(run, ["compute", roster("member,role,grape_weight\n,,\n"), "--budget", "100"], "no role holders")


def test_same_member_and_role_twice(run, roster) -> None:
    text = GOOD + " ada ,LEAD,0.3\n"
    _fails(run, ["compute", roster(text), "--budget", "100"], "row 4", "first at row 2", "ada")


def test_member_without_name(run, roster) -> None:
    _fails(run, ["compute", roster(GOOD + ",Ops,0.4\n"), "--budget", "100"], "row 4", "column member", "no member name")


def test_criteria_weights_all_zero(run, roster, tmp_path) -> None:
    criteria = roster("name,weight\nDelivery,0\nCare,0\n", "criteria.csv")
    text = "member,role,delivery,care\nAda,Dev,1,1\n"
    _fails(run, ["compute", roster(text), "--budget", "100", "--criteria", criteria], "all zero")


def test_criteria_weight_negative(run, roster) -> None:
    criteria = roster("name,weight\nDelivery,3\nCare,-1\n", "criteria.csv")
    _fails(run, ["compute", roster(GOOD), "--budget", "1", "--criteria", criteria], "Care", "'-1'", ">= 0")


def test_empty_csv(run, roster) -> None:
    _fails(run, ["compute", roster(""), "--budget", "100"], "roster.csv", "is empty")


def test_unreadable_csv(run, tmp_path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"member,role\n\x81\x8dgarbage\x90\n")  # bytes neither UTF-8 nor Windows-1252 has
    _fails(run, ["compute", str(path), "--budget", "100"], "binary.csv", "neither UTF-8 nor Windows-1252")


def test_folder_instead_of_csv(run, tmp_path) -> None:
    _fails(run, ["compute", str(tmp_path), "--budget", "100"], str(tmp_path), "is a folder")


def test_missing_file(run, tmp_path) -> None:
    _fails(run, ["compute", str(tmp_path / "nope.csv"), "--budget", "100"], "nope.csv", "no such file")


def test_missing_member_column(run, roster) -> None:
    _fails(run, ["compute", roster("name,role,grape_weight\nAda,Dev,1\n"), "--budget", "1"], "'member' column")


def test_missing_weight_columns(run, roster) -> None:
    text = "member,role,work_produced,activity\nAda,Dev,1,1\n"
    _fails(run, ["compute", roster(text), "--budget", "1"], "header row", "missing work_utilized, ops_org")


def test_unknown_cap_rule(run, roster) -> None:
    _fails(
        run,
        ["compute", roster(GOOD), "--budget", "1", "--cap-rule", "cut"],
        "--cap-rule",
        "'cut'",
        "scale, at-base, off",
    )


def test_unknown_format(run, roster) -> None:
    _fails(run, ["compute", roster(GOOD), "--budget", "1", "--format", "xml"], "--format", "'xml'")


@pytest.mark.parametrize("value", ["-1", "19", "two"])
def test_bad_decimals(run, roster, value) -> None:
    _fails(run, ["compute", roster(GOOD), "--budget", "1", "--decimals", value], "--decimals", repr(value))


def test_unknown_option(run) -> None:
    _fails(run, ["compute", "--bogus"], "--bogus")


def test_console_script_exit_code_and_no_traceback(tmp_path) -> None:
    """The installed entry point, not just main(): exit 2 and one line."""
    import subprocess
    import sys

    path = tmp_path / "r.csv"
    path.write_text(GOOD + "Cy,Ops,2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "katsheet", "compute", str(path), "--budget", "10"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "row 4" in proc.stderr and "'2'" in proc.stderr
