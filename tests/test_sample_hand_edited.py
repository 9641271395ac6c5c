"""The shipped hand-edited month: the checker finds exactly the planted mistakes, and nothing else.

Made by scripts/make_hand_edited.py (LibreOffice edits plus one stale value); its expected report
is committed beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from katsheet.workbook.checker import Report, check
from katsheet.workbook.reader import read_workbook

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_workbooks" / "2026-11-hand-edited.xlsx"
EXPECTED = ROOT / "sample_workbooks" / "2026-11-hand-edited.expected.json"


@pytest.fixture(scope="module")
def book():
    return read_workbook(SAMPLE)


@pytest.fixture(scope="module")
def report(book) -> Report:
    return check(book)


def test_report_matches_the_expected_one(report) -> None:
    expected = json.loads(EXPECTED.read_text())["findings"]
    found = report.findings
    key = lambda f: (f["kind"], f["sheet"], f["cell"], f["expected"], f["message"])  # noqa: E731
    assert [key(f.__dict__) for f in found] == [key(f) for f in expected]
    assert all(f.found for f in found)


def test_every_kind_is_planted(report) -> None:
    kinds = {f.kind for f in report.findings}
    assert kinds == {"formula-drift", "bad-input", "wrong-number", "stale-value"}


def test_tolerated_edits_are_not_findings(book, report) -> None:
    """The inserted member, the sorted rows and the notes column produce no finding of their own."""
    assert any(r.member == "Noor Rahman" for r in book.month.first.rows)
    assert book.row_maps.get("Expanded")
    cells = {(f.sheet, f.cell) for f in report.findings}
    assert not any(sheet == "Scoring" and cell != "A130" for sheet, cell in cells)


def test_annotated_copy_marks_each_failing_cell(run, tmp_path) -> None:
    import openpyxl

    out = tmp_path / "marked.xlsx"
    code, _, err = run("check", str(SAMPLE), "--annotate", str(out))
    assert code == 1 and "cells marked" in err
    ws = openpyxl.load_workbook(out)["Expanded"]
    first = next(iter(ws.conditional_formatting))
    assert "O20" in str(first.sqref).split() and first.rules[0].dxf.fill.bgColor.rgb == "FFFF7C80"
    assert "overwritten" in ws["O20"].comment.text and "12000" in ws["O20"].comment.text
    assert "stale" in ws["P16"].comment.text
    assert ws["O21"].comment is None  # a clean cell stays as it was
    before = out.read_bytes()
    code, _, err = run("check", str(SAMPLE), "--annotate", str(out))
    assert code == 2 and "--force" in err and out.read_bytes() == before
    code, _, err = run("check", str(SAMPLE), "--annotate", str(SAMPLE))
    assert code == 2 and "must not replace" in err


def test_annotated_copy_is_the_original_with_marks_added(run, tmp_path) -> None:
    """Charts, names and every part without findings stay byte for byte; comments someone wrote
    stay beside ours; a finding's text is data in the XML, whatever it holds."""
    import zipfile

    import openpyxl
    from openpyxl.comments import Comment

    source = tmp_path / "with-note.xlsx"
    wb = openpyxl.load_workbook(SAMPLE)
    wb["Expanded"]["B5"].comment = Comment("checked by <Ana> & Bob", "Ana")
    wb.save(source)  # a workbook with a note someone wrote (openpyxl's save drops the charts)
    with zipfile.ZipFile(SAMPLE) as z:
        charts = {n: z.read(n) for n in z.namelist() if "chart" in n}
    out = tmp_path / "marked.xlsx"
    code, _, err = run("check", str(SAMPLE), "--annotate", str(out))
    assert code == 1, err
    with zipfile.ZipFile(SAMPLE) as before, zipfile.ZipFile(out) as after:
        names = set(after.namelist())
        assert set(before.namelist()) <= names
        untouched = [n for n in before.namelist() if n not in ("xl/styles.xml", "[Content_Types].xml")
                     and not n.startswith("xl/worksheets/")]  # fmt: skip
        assert all(before.read(n) == after.read(n) for n in untouched)
        assert charts and all(after.read(n) == data for n, data in charts.items())
    code, _, err = run("check", str(source), "--annotate", str(tmp_path / "both.xlsx"))
    ws = openpyxl.load_workbook(tmp_path / "both.xlsx")["Expanded"]
    assert ws["B5"].comment.text.startswith("checked by <Ana> & Bob")
    assert "overwritten" in ws["O20"].comment.text
