"""`katsheet new`: what a treasurer types, what lands on disk, and what never does."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest

from katsheet.layouts.grape import next_month


def _names(path) -> dict[str, str]:
    return {n: d.attr_text for n, d in openpyxl.load_workbook(path).defined_names.items()}


def test_sample_month(run, tmp_path) -> None:
    out = tmp_path / "month.xlsx"
    code, stdout, err = run("new", "--sample", str(out))
    assert code == 0, err
    assert "13 role rows" in stdout
    wb = openpyxl.load_workbook(out, data_only=True)
    assert wb.sheetnames == ["Guide", "Scoring", "Expanded", "Members"]
    assert wb["Expanded"]["E2"].value == 100000
    assert wb["Scoring"]["A16"].value == "Ada Okafor"
    assert _names(out)["KatsheetTemplate"] == '"grape-expanded"'
    assert _names(out)["KatsheetMonth"] == f'"{next_month()}"'


def test_refuses_to_overwrite_without_force(run, tmp_path) -> None:
    out = tmp_path / "month.xlsx"
    out.write_bytes(b"the treasurer's own file")
    code, _, err = run("new", "--sample", str(out))
    assert code == 2 and "already exists" in err and "--force" in err
    assert out.read_bytes() == b"the treasurer's own file"
    code, _, err = run("new", "--sample", str(out), "--force")
    assert code == 0, err
    assert openpyxl.load_workbook(out).sheetnames[0] == "Guide"


def test_bad_input_writes_nothing(run, tmp_path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("member,role,grape_weight\nAda,Dev,0.5\nAda,Dev,0.7\n")
    out = tmp_path / "month.xlsx"
    code, _, err = run("new", str(out), "--roster", str(roster), "--budget", "100")
    assert code == 2 and "row 3" in err and "same member and role twice" in err
    assert list(tmp_path.iterdir()) == [roster]  # no workbook, no temporary file left behind


def test_roster_with_weights_uses_single_criterion_grid(run, tmp_path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("member,role,grape_weight\nAda,Dev,80%\nBo,Ops,0.5\n")
    out = tmp_path / "m.xlsx"
    code, _, err = run("new", str(out), "--roster", str(roster), "--budget", "1000", "--template", "compact")
    assert code == 0, err
    wb = openpyxl.load_workbook(out, data_only=True)
    assert wb["Scoring"]["C15"].value == "Performance"
    assert wb["Scoring"]["C16"].value == 0.8
    assert wb["Compact"]["D16"].value == 0.8
    code, _, err = run("new", str(tmp_path / "x.xlsx"), "--roster", str(roster), "--criteria", "four")
    assert code == 2 and "--criteria single" in err


def test_rows_month_and_template_options(run, tmp_path) -> None:
    out = tmp_path / "m.xlsx"
    code, _, err = run("new", str(out), "--rows", "7", "--month", "2027-01", "--template", "compact")
    assert code == 0, err
    names = _names(out)
    assert names["Totals"] == "Compact!$I$16:$I$22"
    assert names["TotalUnits"] == "Compact!$H$16:$H$22"
    assert names["KatsheetMonth"] == '"2027-01"'


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--month", "2027-13"], "YYYY-MM"),
        (["--month", "next"], "YYYY-MM"),
        (["--rows", "0"], "--rows"),
        (["--template", "fancy"], "--template"),
        (["--budget", "-1"], "--budget"),
        (["--cap-rule", "nope"], "--cap-rule"),
    ],
)
def test_bad_options(run, tmp_path, args, needle) -> None:
    out = tmp_path / "m.xlsx"
    code, _, err = run("new", str(out), *args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_not_an_xlsx_name(run, tmp_path) -> None:
    code, _, err = run("new", str(tmp_path / "m.xls"))
    assert code == 2 and ".xlsx" in err


def test_missing_folder(run, tmp_path) -> None:
    code, _, err = run("new", str(tmp_path / "no" / "m.xlsx"))
    assert code == 2 and "folder does not exist" in err


def test_next_month_wraps_the_year() -> None:
    assert next_month(date(2026, 12, 5)) == "2027-01"
    assert next_month(date(2026, 11, 21)) == "2026-12"


def test_options_land_in_their_cells(run, tmp_path) -> None:
    out = tmp_path / "m.xlsx"
    code, _, err = run(
        "new", str(out), "--sample", "--threshold", "70%", "--min-divisor", "4", "--no-bonus", "--cap-rule", "at-base",
        "--decimals", "2", "--budget", "5000",
    )  # fmt: skip
    assert code == 0, err
    ws = openpyxl.load_workbook(out, data_only=True)["Expanded"]
    assert [ws[c].value for c in ("E2", "E3", "E4", "E5", "E6", "E8", "E9")] == [
        5000,
        0.7,
        4,
        False,
        True,
        "at-base",
        2,
    ]
    assert ws["H5"].value == 0.7  # the threshold in use is the override


def test_a_command_pauses_the_cycle_collector_and_gives_it_back(tmp_path, monkeypatch) -> None:
    """The CLI turns Python's cycle collector off while a command runs (speed), and on again
    after it, also when the command fails: tests and other callers run `main` in-process."""
    import gc
    import importlib

    cli_main = importlib.import_module("katsheet.cli.main")  # the module (katsheet.cli.main is also a function)

    seen = []
    real_check = cli_main.cli.get_command(None, "check").callback
    monkeypatch.setattr(cli_main.cli.get_command(None, "check"), "callback",
                        lambda *a, **k: seen.append(gc.isenabled()) or real_check(*a, **k))  # fmt: skip
    assert gc.isenabled()
    assert cli_main.main(["check", str(tmp_path / "missing.xlsx")]) != 0
    assert seen == [False]
    assert gc.isenabled()
