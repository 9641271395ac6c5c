"""`katsheet approve`: the approval signed without a spreadsheet, by katsheet's own writer, losing
nothing a person typed (or refusing, with the cells named)."""

from __future__ import annotations

import pytest
from dashboard_folder import grape_draft, kat_draft

from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook


def test_approve_writes_a_new_file_and_leaves_the_month_alone(tmp_path, run) -> None:
    month = kat_draft(tmp_path)
    before = month.read_bytes()
    code, out, _ = run(
        "approve", str(month), str(tmp_path / "signed.xlsx"), "--by", "  Priya   Nair ", "--on", "2026-12-02"
    )
    assert code == 0 and "approved by Priya Nair on 2026-12-02" in out
    assert month.read_bytes() == before
    book = read_workbook(tmp_path / "signed.xlsx")
    assert check(book).clean
    assert (
        book.month.approval["ApprovedBy"] == "Priya Nair"
        and book.month.approval["ApprovedOn"].isoformat() == "2026-12-02"
    )


@pytest.mark.parametrize(("args", "message"), [
    ((), "give OUT, or --in-place"),
    (("--in-place", "--on", "02/12/2026"), "is not a date"),
    (("--in-place", "--by", "   "), "the approval needs a name"),
])  # fmt: skip
def test_approve_refuses_bad_requests_and_writes_nothing(tmp_path, run, args, message) -> None:
    month = grape_draft(tmp_path)
    before = month.read_bytes()
    base = {"--by": "GRAPE council", "--on": "2026-12-02"}
    extra = list(args)
    for flag, value in base.items():
        if flag not in extra:
            extra += [flag, value]
    code, _, err = run("approve", str(month), *extra)
    assert code in (1, 2) and message in err
    assert month.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["GRAPE-2026-11.xlsx"]


def test_a_settled_month_cannot_be_approved_again(tmp_path, run) -> None:
    month = kat_draft(tmp_path)
    assert run("approve", str(month), "--by", "P", "--on", "2026-12-02", "--in-place")[0] == 0
    assert run("settle", str(month))[0] == 0
    code, _, err = run(
        "approve", str(tmp_path / "CED-2026-11-settled.xlsx"), "--by", "M", "--on", "2026-12-03", "--in-place"
    )
    assert code == 1 and "its approval is sealed" in err


@pytest.mark.libreoffice
def test_a_note_typed_beside_the_template_is_never_lost(tmp_path, run, lo_editor) -> None:
    """A treasurer's note in a spare column, saved by LibreOffice: approving here would lose it,
    so approve refuses and names the cell; the LibreOffice file without the note approves clean."""
    month = kat_draft(tmp_path)
    noted = lo_editor.edit(month, tmp_path / "noted.xlsx", [["set_text", "Ledger", "BA7", "ask Bruno about CED-0062"]])
    code, _, err = run("approve", str(noted), "--by", "P", "--on", "2026-12-02", "--in-place")
    assert code == 1 and "Ledger!BA7: 'ask Bruno about CED-0062' is not a cell of the template" in err
    plain = lo_editor.edit(month, tmp_path / "plain.xlsx", [["set_text", "Ledger", "BA7", ""]])
    assert run("approve", str(plain), str(tmp_path / "signed.xlsx"), "--by", "P", "--on", "2026-12-02")[0] == 0
    assert check(read_workbook(tmp_path / "signed.xlsx")).clean
