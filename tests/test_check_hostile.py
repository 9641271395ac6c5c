"""Unusable or hostile files: exit 2, one clear line, never a traceback, never a hang."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from katsheet.workbook.shipped import sample_months, write_month

SAMPLE = Path(__file__).resolve().parents[1] / "sample_workbooks" / "2026-11-compact.xlsx"


def _check(path: Path, *extra: str) -> tuple[int, str, str]:
    """The real command in a subprocess, with a time limit: a hang fails the test."""
    proc = subprocess.run(
        [sys.executable, "-m", "katsheet", "check", str(path), "--no-evaluate", *extra],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


def _unusable(path: Path, *needles: str) -> None:
    code, out, err = _check(path)
    assert code == 2, (out, err)
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_not_a_zip(tmp_path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("member,budget\nAda,100\n")
    _unusable(path, "not a zip")


def test_truncated(tmp_path) -> None:
    data = SAMPLE.read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    _unusable(path, "damaged or truncated")


def test_legacy_xls_header(tmp_path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    _unusable(path, "legacy .xls or a password-protected")


def test_password_protected(tmp_path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    path = tmp_path / "locked.xlsx"
    with SAMPLE.open("rb") as plain, path.open("wb") as locked:
        OOXMLFile(plain).encrypt("s3cret", locked)
    _unusable(path, "password-protected")


def test_workbook_from_another_tool(tmp_path) -> None:
    path = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Budget"
    wb.save(path)
    _unusable(path, "not a katsheet workbook")


def test_plain_zip_that_is_not_a_workbook(tmp_path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    _unusable(path, "not an .xlsx workbook")


def test_zip_bomb_is_refused_from_declared_sizes(tmp_path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(SAMPLE) as good, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in good.infolist():
            z.writestr(item, good.read(item))
        with z.open("xl/media/huge.bin", "w") as f:  # 400 MB of zeros, a few hundred KB packed
            chunk = bytes(2**20)
            for _ in range(400):
                f.write(chunk)
    assert path.stat().st_size < 5 * 2**20
    _unusable(path, "zip bomb")


def _rewrite_sheet(tmp_path: Path, name: str, change) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(SAMPLE) as good, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in good.infolist():
            data = good.read(item)
            z.writestr(item, change(data) if item.filename == "xl/worksheets/sheet2.xml" else data)
    return path


def test_sheet_with_a_cell_a_million_rows_down(tmp_path) -> None:
    path = _rewrite_sheet(
        tmp_path, "tall.xlsx",
        lambda d: d.replace(b"</sheetData>", b'<row r="1048576"><c r="A1048576" t="n"><v>1</v></c></row></sheetData>'),
    )  # fmt: skip
    _unusable(path, "row 1,048,576")


def test_sheet_merely_declaring_a_million_rows_is_read(tmp_path) -> None:
    """LibreOffice declares A1:AMJ1048576 after an ordinary row deletion: a claim costs nothing."""
    path = _rewrite_sheet(
        tmp_path,
        "claims.xlsx",
        lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d, count=1),
    )
    assert b"XFD1048576" in zipfile.ZipFile(path).read("xl/worksheets/sheet2.xml")
    code, out, err = _check(path)
    assert code == 0, out + err


def test_a_cell_written_twice_is_ambiguous(tmp_path) -> None:
    """Excel keeps one of two <c r="B16"> elements, another reader the other: never guess."""

    def twice(data: bytes) -> bytes:
        m = re.search(rb'<c r="B16"[^>]*?(?:/>|>.*?</c>)', data, re.S)
        assert m is not None
        return data[: m.end()] + m.group(0) + data[m.end() :]

    _unusable(_rewrite_sheet(tmp_path, "cell.xlsx", twice), "is ambiguous", "B16 twice")


@pytest.mark.parametrize("again", [None, b'<row r="16" spans="1:1"></row>'])
def test_a_row_written_twice_is_ambiguous(tmp_path, again) -> None:
    """The row again with its cells, or again empty (no cell is written twice then)."""

    def twice(data: bytes) -> bytes:
        m = re.search(rb'<row r="16"[^>]*>.*?</row>', data, re.S)
        assert m is not None
        return data[: m.end()] + (again or m.group(0)) + data[m.end() :]

    _unusable(_rewrite_sheet(tmp_path, "row.xlsx", twice), "is ambiguous", "row 16 twice")


def test_a_name_defined_twice_is_ambiguous(tmp_path) -> None:
    path = tmp_path / "name.xlsx"
    with zipfile.ZipFile(SAMPLE) as good, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in good.infolist():
            data = good.read(item)
            if item.filename == "xl/workbook.xml":
                m = re.search(rb'<definedName name="Budget">[^<]*</definedName>', data)
                assert m is not None
                data = data[: m.end()] + m.group(0).replace(b"$E$2", b"$E$3") + data[m.end() :]
            z.writestr(item, data)
    _unusable(path, "is ambiguous", "Budget")


def test_more_cells_than_any_month_is_refused(tmp_path) -> None:
    """A sheet full of small cells (each row 200 of them, below every table) would fill memory."""
    from katsheet.workbook.safe_open import MAX_CELLS

    per_row = 200
    numbers = random.Random(9)  # varied values: a file of one repeated cell is refused as a zip bomb
    rows = b"".join(
        b'<row r="%d">' % r
        + b"".join(b"<c><v>%d</v></c>" % numbers.randrange(10**9) for _ in range(per_row))
        + b"</row>"
        for r in range(1_000, 1_000 + MAX_CELLS // per_row + 10)
    )
    path = _rewrite_sheet(tmp_path, "full.xlsx", lambda d: d.replace(b"</sheetData>", rows + b"</sheetData>"))
    _unusable(path, "more than 1,500,000 cells")


def test_xml_entity_expansion_is_not_followed(tmp_path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
        )
        + b']><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol9;</workbook>'
    )
    path = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(SAMPLE) as good, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in good.infolist():
            z.writestr(item, bomb if item.filename == "xl/workbook.xml" else good.read(item))
    _unusable(path, "cannot be read as a workbook", "entities")


def test_macros_are_never_run(tmp_path) -> None:
    """An .xlsm with a VBA project is read as data; its macros are never executed (nothing is)."""
    month = sample_months()["2026-11-compact.xlsx"]
    path = tmp_path / "month.xlsm"
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0 not really VBA, and never run")
    real = xlsxwriter.Workbook.close

    def close_with_vba(self):
        self.add_vba_project(str(vba))
        return real(self)

    xlsxwriter.Workbook.close = close_with_vba
    try:
        write_month(month, path)
    finally:
        xlsxwriter.Workbook.close = real
    assert "xl/vbaProject.bin" in zipfile.ZipFile(path).namelist()
    code, out, err = _check(path)
    assert code == 0, out + err
    assert "clean" in out


def test_folder_with_a_bad_file_exits_2_and_checks_the_rest(tmp_path) -> None:
    shutil.copy(SAMPLE, tmp_path / "good.xlsx")
    (tmp_path / "bad.xlsx").write_bytes(b"nope")
    code, out, err = _check(tmp_path)
    assert code == 2
    assert "good.xlsx" in out and "clean" in out
    assert "bad.xlsx" in err and "not a zip" in err
    assert "Summary" in out


def test_missing_file(tmp_path) -> None:
    _unusable(tmp_path / "nowhere.xlsx", "no such file")


def test_json_for_an_unusable_file(tmp_path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"nope")
    code, out, _ = _check(path, "--json")
    assert code == 2
    assert "not a zip" in json.loads(out)["error"]
