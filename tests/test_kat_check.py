"""`katsheet check` on KAT months (issue 11): silent on clean months, before and after a
LibreOffice round trip; each real LibreOffice edit reported at its cell, or tolerated when the
sheet's formulas follow it (a row typed in, a status changed, a row deleted, rows sorted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from katsheet.layouts.kat import LEDGER, MEMBERS, KatMonth, kat_layout
from katsheet.layouts.model import col_letter
from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import kat_sample_month, shipped_templates, write_month

ROOT = Path(__file__).resolve().parents[1]
SERIAL_2026_11_12 = 46338  # 2026-11-12 as a spreadsheet date


@pytest.fixture(scope="module")
def month() -> KatMonth:
    return kat_sample_month()


@pytest.fixture(scope="module")
def base(month, tmp_path_factory) -> Path:
    return write_month(month, tmp_path_factory.mktemp("kat") / "kat.xlsx")


@pytest.fixture
def edit(lo_editor, tmp_path):
    def run(base: Path, *ops: list) -> Path:
        return lo_editor.edit(base, tmp_path / f"edited-{base.name}", list(ops))

    return run


def findings(path: Path) -> list:
    return check(read_workbook(path)).findings


def cell(month: KatMonth, sheet: str, key: str, row: int) -> str:
    table = kat_layout(month).sheet(sheet).table
    assert table is not None
    return f"{table.letter(key)}{table.first_row + row}"


def test_shipped_kat_files_are_clean(base) -> None:
    assert findings(base) == []
    assert findings(ROOT / "sample_workbooks" / "2026-11-kat-ced.xlsx") == []
    assert findings(ROOT / "templates" / "kat-ced.xlsx") == []
    assert "kat-ced.xlsx" in shipped_templates()


def test_input_problems_are_reported_and_the_numbers_still_checked(tmp_path) -> None:
    """The blocked sample: a rule not in the list, a quantity that is text, a status not in the
    list, an entry id used twice. Each is one finding at its cell; the sheet and the engine agree
    on what they do to the numbers, so there is no number finding."""
    from katsheet.io.katfiles import sample_inputs
    from katsheet.layouts.kat import SAMPLE_MONTH

    config, ledger, exceptions, states = sample_inputs("blocked")
    path = write_month(KatMonth(config, SAMPLE_MONTH, ledger, tuple(exceptions), tuple(states)), tmp_path / "b.xlsx")
    book = read_workbook(path)
    report = check(book)
    assert [(f.kind, f.cell) for f in report.findings] == [
        ("bad-input", "E71"), ("bad-input", "F73"), ("bad-input", "J74"), ("bad-input", "A76"),
    ]  # fmt: skip
    assert report.numbers_checked and book.month is not None


@pytest.mark.libreoffice
def test_clean_after_a_libreoffice_round_trip(base, edit) -> None:
    assert findings(edit(base)) == []


@pytest.mark.libreoffice
def test_tolerated_edits(month, base, edit) -> None:
    """A row typed into the spare rows, a status changed, a row deleted, the ledger sorted by date:
    the formulas follow, LibreOffice recalculates, and the checker finds the engine's numbers."""
    n = len(month.ledger)
    row = n + 5  # the first spare row
    typed = edit(
        base,
        ["set_text", LEDGER, f"A{row}", "NEW-1"], ["set", LEDGER, f"B{row}", SERIAL_2026_11_12],
        ["set_text", LEDGER, f"C{row}", month.period.members[0].member], ["set_text", LEDGER, f"D{row}", "Guides"],
        ["set_text", LEDGER, f"E{row}", "G1"], ["set", LEDGER, f"F{row}", 2],
        ["set_text", LEDGER, f"G{row}", "https://example.org/new"], ["set_text", LEDGER, f"H{row}", "Organizer"],
        ["set", LEDGER, f"I{row}", SERIAL_2026_11_12], ["set_text", LEDGER, f"J{row}", "verified"],
    )  # fmt: skip
    assert findings(typed) == []
    assert findings(edit(base, ["set_text", LEDGER, "J5", "void"])) == []
    assert findings(edit(base, ["delete_rows", LEDGER, 9, 1])) == []
    last = col_letter(kat_layout(month).sheet(LEDGER).table.last_col)  # type: ignore[union-attr]
    assert findings(edit(base, ["sort", LEDGER, f"A5:{last}{n + 4}", 1, True])) == []


@pytest.mark.libreoffice
def test_members_sorted_by_kat(month, base, edit) -> None:
    """The Members sheet sorted by KAT, largest first (what a reviewer does): the member numbers
    follow the rows, and the checker holds each row to its own member's figures."""
    table = kat_layout(month).sheet(MEMBERS).table
    assert table is not None
    n = len(month.period.members)
    rows = f"A{table.first_row}:{col_letter(table.last_col)}{table.first_row + n - 1}"
    kat = table.index("kat")
    sorted_path = edit(base, ["sort", MEMBERS, rows, kat, True])
    assert findings(sorted_path) == []
    book = read_workbook(sorted_path)
    order = [m.kat for m in book.month.members]
    assert order == sorted(order, reverse=True) and order != [m.kat for m in month.period.members]


@pytest.mark.libreoffice
def test_a_formula_overwritten_is_one_finding_at_its_cell(month, base, edit) -> None:
    target = cell(month, MEMBERS, "credits", 0)
    found = findings(edit(base, ["set", MEMBERS, target, 99]))
    assert [(f.kind, f.sheet, f.cell) for f in found if f.kind == "formula-drift"] == [
        ("formula-drift", MEMBERS, target)
    ]


@pytest.mark.libreoffice
def test_a_date_typed_as_text_stops_the_number_check(month, base, edit) -> None:
    target = cell(month, LEDGER, "date", 3)
    report = check(read_workbook(edit(base, ["set_text", LEDGER, target, "12/11/2026"])))
    assert [(f.kind, f.cell) for f in report.findings] == [("bad-input", target)]
    assert "not a date" in report.findings[0].message and not report.numbers_checked


def test_check_command_on_kat_months(run, base, tmp_path) -> None:
    code, out, _ = run("check", str(base))
    assert code == 0 and "clean (kat)" in out


def test_the_configuration_read_back_is_the_toml_files(month, base, run, tmp_path) -> None:
    """The Config sheet holds the whole configuration: read back, it equals the CED TOML's; with
    --config, a field that differs is one finding at its cell."""
    from katsheet.io.katfiles import ced_text

    assert read_workbook(base).month.config == month.config  # type: ignore[union-attr]
    same = tmp_path / "ced.toml"
    same.write_text(ced_text())
    assert run("check", str(base), "--config", str(same))[0] == 0
    other = tmp_path / "other.toml"
    other.write_text(ced_text().replace("per_user_cap = 50 ", "per_user_cap = 40 ", 1))
    code, out, _ = run("check", str(base), "--config", str(other), "--json")
    import json

    found = json.loads(out)["findings"]
    assert code == 1 and [(f["sheet"], f["cell"], f["expected"], f["found"]) for f in found] == [
        ("Config", "B11", "40", "50")
    ]
    outside = tmp_path / "outside.toml"
    outside.write_text(ced_text().replace("per_user_cap = 50 ", "per_user_cap = 5000 ", 1))
    code, _, err = run("check", str(base), "--config", str(outside))
    assert code == 2 and "per_user_cap" in err and err.count("\n") == 1
