"""katsheet check: one test per finding kind and per tolerated edit.

Edits are made the way a person makes them: inside LibreOffice (UNO, tests/lo_edit.py), which
adjusts references and defined names and saves cached values as a spreadsheet program does.
Edits a spreadsheet program would not make (a stale cache) are made on the file itself.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import sample_months, write_month


@pytest.fixture(scope="module", params=["compact", "expanded"])
def base(request, tmp_path_factory) -> Path:
    """The sample month (13 role rows, threshold overridden) with 7 spare rows."""
    month = sample_months()[f"2026-11-{request.param}.xlsx"]
    from dataclasses import replace

    month = replace(month, capacity=20)
    return write_month(month, tmp_path_factory.mktemp(request.param) / f"{request.param}.xlsx")


@pytest.fixture
def edit(lo_editor):
    """Edit a workbook inside LibreOffice (one instance for the session) as a person would."""

    def run(base: Path, tmp_path: Path, *ops: list) -> Path:
        return lo_editor.edit(base, tmp_path / f"edited-{base.name}", list(ops))

    return run


def findings(path: Path) -> list:
    return check(read_workbook(path)).findings


def kinds(path: Path) -> dict[str, int]:
    return check(read_workbook(path)).counts()


def _alloc(base: Path) -> str:
    return "Compact" if "compact" in base.name else "Expanded"


def _total_col(base: Path) -> str:
    return "H" if "compact" in base.name else "N"


# --- the generated file and a plain round trip ------------------------------------------------


def test_generated_file_is_clean(base) -> None:
    assert findings(base) == []


def test_clean_after_libreoffice_round_trip(base, tmp_path, edit) -> None:
    assert findings(edit(base, tmp_path)) == []


# --- tolerated edits --------------------------------------------------------------------------


def test_row_inserted_inside_the_table_with_formulas_filled_down(base, tmp_path, edit) -> None:
    out = edit(
        base, tmp_path,
        ["insert_rows", "Scoring", 20, 1], ["fill_down", "Scoring", "G19:G19", 1],
        ["set_text", "Scoring", "A20", "Zed Newcomer"], ["set_text", "Scoring", "B20", "Developer"],
        ["set", "Scoring", "C20", 0.9], ["set", "Scoring", "D20", 0.8], ["set", "Scoring", "E20", 0.7],
        ["set", "Scoring", "F20", 0.6],
    )  # fmt: skip
    book = read_workbook(out)
    assert any(r.member == "Zed Newcomer" for r in book.month.first.rows)
    assert check(book).findings == []


def test_row_deleted(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["delete_rows", "Scoring", 20, 1])
    book = read_workbook(out)
    assert len(book.month.first.rows) == 12
    assert check(book).findings == []


def test_scoring_rows_sorted(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["sort", "Scoring", "A16:F28", 0, True])  # by name, Z to A
    book = read_workbook(out)
    assert book.month.first.rows[0].member == "Lior Ben-David"
    assert check(book).findings == []


def test_allocation_rows_sorted_by_total(base, tmp_path, edit) -> None:
    last = "K" if "compact" in base.name else "R"
    column = 7 if "compact" in base.name else 13
    out = edit(base, tmp_path, ["sort", _alloc(base), f"A16:{last}35", column, True])
    book = read_workbook(out)
    assert book.row_maps, "the rows really were reordered"
    assert check(book).findings == []


def test_members_typed_into_spare_rows_with_a_gap(base, tmp_path, edit) -> None:
    out = edit(
        base, tmp_path,
        ["set_text", "Scoring", "A31", "Mia Late"], ["set_text", "Scoring", "B31", "Ops"],
        ["set", "Scoring", "C31", 0.5], ["set", "Scoring", "D31", 0.5], ["set", "Scoring", "E31", 0.5],
        ["set", "Scoring", "F31", "LEVEL 2"],
    )  # fmt: skip
    book = read_workbook(out)
    assert book.month.first.rows[-1].member == "Mia Late" and book.month.first.row_at(15) == 13
    assert check(book).findings == []


def test_notes_column_inserted(base, tmp_path, edit) -> None:
    out = edit(
        base, tmp_path,
        ["insert_columns", "Scoring", "G", 1], ["set_text", "Scoring", "G15", "Notes"],
        ["set_text", "Scoring", "G16", "=not a formula, a note"], ["set_text", "Scoring", "G17", "paid late"],
    )  # fmt: skip
    assert findings(out) == []


# --- finding kinds ----------------------------------------------------------------------------


def test_formula_overwritten_with_a_number(base, tmp_path, edit) -> None:
    cell = f"{_total_col(base)}18"
    out = edit(base, tmp_path, ["set", _alloc(base), cell, 12345.67])
    found = findings(out)
    drift = [f for f in found if f.kind == "formula-drift"]
    assert [(f.sheet, f.cell) for f in drift] == [(_alloc(base), cell)]
    assert "overwritten" in drift[0].message and "12345.67" in drift[0].found
    wrong = {(f.sheet, f.cell) for f in found if f.kind == "wrong-number"}
    assert (_alloc(base), cell) in wrong and (_alloc(base), "H12") in wrong  # the total and the sum of totals


def test_formula_changed_without_changing_any_number(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["set", _alloc(base), "H12", "=SUM(Totals)+0"])
    found = findings(out)
    assert [(f.kind, f.cell) for f in found] == [("formula-drift", "H12")]
    assert found[0].message == "the formula was changed"


def test_score_out_of_range(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["set", "Scoring", "D20", 1.5])
    found = findings(out)
    assert ("bad-input", "Scoring", "D20") in {(f.kind, f.sheet, f.cell) for f in found}
    assert not check(read_workbook(out)).numbers_checked


def test_text_in_a_number_cell(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["set_text", "Scoring", "C21", "high"])
    bad = [f for f in findings(out) if f.kind == "bad-input"]
    assert [(f.cell, f.found) for f in bad] == [("C21", "'high'")]


def test_text_percentage_is_one_finding_and_stops_the_numbers(base, tmp_path, edit) -> None:
    """ "80%" typed as text turns every figure of the sheet into an error: one finding, at C21."""
    out = edit(base, tmp_path, ["set_text", "Scoring", "C21", "80%"])
    report = check(read_workbook(out))
    assert [(f.kind, f.cell, "text in a number cell" in f.message) for f in report.findings] == [
        ("bad-input", "C21", True)
    ]
    assert not report.numbers_checked


def test_missing_budget(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["clear", _alloc(base), "E2"])
    report = check(read_workbook(out))
    assert [(f.kind, f.cell) for f in report.findings if f.kind == "bad-input"] == [("bad-input", "E2")]
    assert not report.numbers_checked


def test_negative_budget(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["set", _alloc(base), "E2", -5])
    assert any(f.kind == "bad-input" and f.cell == "E2" and "negative" in f.message for f in findings(out))


def test_duplicate_member_and_role(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["set_text", "Scoring", "A31", "ada okafor"], ["set_text", "Scoring", "B31", "SubDAO Lead"],
               ["set", "Scoring", "C31", 0.5])  # fmt: skip
    bad = [f for f in findings(out) if f.kind == "bad-input"]
    assert [(f.cell, "twice" in f.message, "A16" in f.message) for f in bad] == [("A31", True, True)]


def test_member_row_without_a_name(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["clear", "Scoring", "A20"])
    bad = [f for f in findings(out) if f.kind == "bad-input"]
    assert [(f.cell, "no member name" in f.message) for f in bad] == [("A20", True)]


def test_member_appended_below_the_table_is_reported(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["set_text", "Scoring", "A40", "Outside Table"], ["set", "Scoring", "C40", 1])
    bad = [f for f in findings(out) if f.kind == "bad-input"]
    assert [(f.cell, "not counted" in f.message) for f in bad] == [("A40", True)]


def test_stale_cached_value(base, tmp_path) -> None:
    """A file saved by something that did not recalculate: right formulas, a wrong stored value."""
    out = tmp_path / "stale.xlsx"
    sheet_xml = "xl/worksheets/sheet3.xml"
    cell = f"{_total_col(base)}18"
    with zipfile.ZipFile(base) as good, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in good.infolist():
            data = good.read(item)
            if item.filename == sheet_xml:
                data = re.sub(rf'(<c r="{cell}"[^>]*>.*?<v>)([^<]*)(</v>)'.encode(), rb"\g<1>99999\g<3>", data, count=1)
            z.writestr(item, data)
    found = findings(out)
    assert [(f.kind, f.cell) for f in found] == [("stale-value", cell)]
    assert found[0].found == "99999.0" or found[0].found == "99999"


def test_json_report_is_stable(base, tmp_path, run, edit) -> None:
    out = edit(base, tmp_path, ["set", _alloc(base), "H12", "=SUM(Totals)+0"])
    code, stdout, _ = run("check", str(out), "--json")
    assert code == 1
    data = json.loads(stdout)
    assert data["clean"] is False and data["template"] == ("compact" if "compact" in base.name else "expanded")
    assert list(data["findings"][0]) == ["kind", "sheet", "cell", "expected", "found", "message"]


def test_exit_code_clean(base, run) -> None:
    code, stdout, _ = run("check", str(base))
    assert code == 0 and "clean" in stdout.splitlines()[0]


# --- one mistake, one finding ------------------------------------------------------------------


def _only(report) -> list[tuple[str, str, str]]:
    return [(f.kind, f.sheet, f.cell) for f in report.findings]


def test_row_inserted_on_the_allocation_sheet_is_one_structure_finding(base, tmp_path, edit) -> None:
    """Members are added on the Scoring sheet; a row inserted in the allocation table is one finding,
    at that row, and the numbers (all of which would differ for that reason) are not checked."""
    out = edit(base, tmp_path, ["insert_rows", _alloc(base), 20, 1])
    report = check(read_workbook(out))
    assert _only(report) == [("structure", _alloc(base), "A20")]
    assert "inserted" in report.findings[0].message and not report.numbers_checked


def test_row_deleted_on_the_allocation_sheet_is_one_structure_finding(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, ["delete_rows", _alloc(base), 20, 1])
    report = check(read_workbook(out))
    assert _only(report) == [("structure", _alloc(base), "A20")]
    assert "deleted" in report.findings[0].message and "No. 5" in report.findings[0].message


def test_budget_typed_as_text_is_one_finding(base, tmp_path, edit) -> None:
    """'100,000' typed as text: the sheet cannot compute with it, every figure would be an error."""
    out = edit(base, tmp_path, ["set_text", _alloc(base), "E2", "100,000"])
    report = check(read_workbook(out))
    assert _only(report) == [("bad-input", _alloc(base), "E2")]
    assert "text in a number cell" in report.findings[0].message and not report.numbers_checked


def test_all_criteria_weights_zero_is_one_finding(base, tmp_path, edit) -> None:
    out = edit(base, tmp_path, *[["set", "Scoring", f"E{r}", 0] for r in range(4, 8)])
    report = check(read_workbook(out))
    assert _only(report) == [("bad-input", "Scoring", "E4")]
    assert not report.numbers_checked


def test_a_libreoffice_saved_month_is_evaluated_column_by_column(base, tmp_path, edit) -> None:
    """LibreOffice writes TRUE() for TRUE and keeps spare rows' blank totals: neither may send a
    column to row-by-row evaluation (a 10,000-member month took 16 minutes that way)."""
    from katsheet.workbook.checker import layout_cells
    from katsheet.workbook.columnwise.runs import Evaluator

    out = edit(base, tmp_path)
    book = read_workbook(out)
    assert any("TRUE()" in str(book.formulas[k]) for k in book.formula_keys) is False  # normalised on reading
    cells, keys = layout_cells(book)
    evaluator = Evaluator(cells, keys, book.names)
    evaluator.evaluate()
    assert evaluator.rows_by_row == 0 and not evaluator.unknown


def test_the_evaluator_takes_the_cells_as_read_and_a_foreign_formula_by_its_value(tmp_path) -> None:
    """layout_cells hands the evaluator the cells as read (no copy), except that a formula which is
    not the layout's (one typed in a notes cell) counts with its stored value: the same cells as
    replacing every such formula one by one; and checking never writes into the cells read."""
    from katsheet.workbook.checker import layout_cells

    def reference(book) -> dict:
        ours = {(fc.sheet, fc.cell) for fc in book.formula_cells()}
        return {
            key: (value if key in ours else book.cached.get(key)) if key in book.formula_keys else value
            for key, value in book.formulas.items()
        }

    fresh = write_month(sample_months()["2026-11-expanded.xlsx"], tmp_path / "fresh.xlsx")
    noted = tmp_path / "noted.xlsx"
    with zipfile.ZipFile(fresh) as src, zipfile.ZipFile(noted, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(
                    b"</sheetData>", b'<row r="300"><c r="Z300"><f>1+6</f><v>7</v></c></row></sheetData>'
                )
            dst.writestr(info, data)
    for path, foreign in ((fresh, False), (noted, True)):
        book = read_workbook(path)
        before = dict(book.formulas)
        cells, keys = layout_cells(book)
        assert cells == reference(book) and (cells is book.formulas) is not foreign
        assert keys == {(fc.sheet, fc.cell) for fc in book.formula_cells()} & book.formula_keys
        if foreign:
            sheet = next(k[0] for k in book.formulas if k[1] == "Z300")
            assert book.formulas[(sheet, "Z300")] == "=1+6" and cells[(sheet, "Z300")] == 7
        check(book)
        assert book.formulas == before


def test_the_checker_is_given_the_evaluated_formula_cells_and_a_formula_typed_over(tmp_path) -> None:
    """evaluate_book hands ``numbers`` only what it reads: every formula cell of the layout as the
    full evaluation gives it, a formula replaced by a constant included (as that constant), a
    formula cell emptied left out, exactly as in the evaluation of every cell."""
    from katsheet.workbook.checker import evaluate_book, layout_cells
    from katsheet.workbook.columnwise import evaluate_cells

    book = read_workbook(write_month(sample_months()["2026-11-kat-ced.xlsx"], tmp_path / "kat.xlsx"))
    ours = sorted(book.formula_cell_keys())
    typed_over, emptied = ours[3], ours[-5]
    book.formulas[typed_over] = 42
    book.formula_keys -= {typed_over, emptied}
    del book.formulas[emptied]
    everything = evaluate_cells(*layout_cells(book), book.names, book.positions)
    given = evaluate_book(book)
    assert given == {k: v for k, v in everything.items() if k in book.formula_cell_keys()}
    assert given[typed_over] == 42 and emptied not in given and len(given) == len(ours) - 1


@pytest.mark.parametrize("where", ["computed", "stored", "both"])
def test_a_column_with_one_cell_off_is_weighed_cell_by_cell(tmp_path, where) -> None:
    """``numbers`` passes a column whose cells all equal the engine's figures as one list
    comparison; one cell off, in what the formulas compute or what the file stores, is still found
    at its cell, and only there."""
    from katsheet.workbook.checker import evaluate_book, numbers

    book = read_workbook(write_month(sample_months()["2026-11-kat-ced.xlsx"], tmp_path / "kat.xlsx"))
    evaluated = evaluate_book(book)
    assert numbers(book, evaluated) == []
    fc = next(fc for fc in book.formula_cells() if fc.spec.fmt == "count" and book.cached.get((fc.sheet, fc.cell)))
    key = (fc.sheet, fc.cell)
    if where in ("computed", "both"):
        evaluated = {**evaluated, key: evaluated[key] + 1}
    if where in ("stored", "both"):
        book.cached[key] += 1
    found = numbers(book, evaluated)
    assert [(f.sheet, f.cell) for f in found] == [key]
    assert found[0].kind == ("stale-value" if where == "stored" else "wrong-number")
