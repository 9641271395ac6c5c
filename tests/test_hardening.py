"""The edges issue 9 found, each pinned: CSVs as exporters write them, exact numbers at any
magnitude, one-line errors for bad names and paths, exclusive writes, readable output, case-blind
words, workbooks of several SubDAOs, and sheets of katsheet's own functions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from workbooks import as_excel_saves_it

from katsheet.engine import Options, RoleRow, allocate
from katsheet.io.csvfile import read_scored_roster, read_table
from katsheet.workbook.shipped import sample_months, write_month

ROOT = Path(__file__).resolve().parents[1]


def _one_line(err: str, *needles: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# -- 1. CSV files as Excel, LibreOffice and Google Sheets write them ----------------------------


@pytest.mark.parametrize(
    ("data", "names", "weights"),
    [
        (b'member,role,grape_weight\r\n"Smith, ""Bob""",Dev,0.8\r\n', ['Smith, "Bob"'], ["0.8"]),
        (b'member,role,grape_weight\r\n"Two\nLines",Dev,0.5\r\n', ["Two\nLines"], ["0.5"]),
        ('member,role,grape_weight\r\n"A\u2028B",Dev,0.5\r\n'.encode(), ["A\u2028B"], ["0.5"]),
        (b"member;role;grape_weight\r\nAda;Lead;0,8\r\nBo;Dev;80,5%\r\n", ["Ada", "Bo"], ["0.8", "0.805"]),
        ("member,role,grape_weight\r\nZoë Müller,Dev,0.5\r\n".encode("cp1252"), ["Zoë Müller"], ["0.5"]),
        ("member\trole\tgrape_weight\r\nAda\tLead\t1\r\n".encode("utf-16"), ["Ada"], ["1"]),
        (b"\xef\xbb\xbfsep=;\r\nmember;role;grape_weight\r\nAda;Lead;0,25\r\n", ["Ada"], ["0.25"]),
    ],
    ids=[
        "doubled-quotes",
        "quoted-newline",
        "unicode-line-separator",
        "semicolon-decimal-comma",
        "windows-1252",
        "utf16-tab",
        "excel-sep-line",
    ],
)
def test_csv_read_as_exporters_write_it(tmp_path, data, names, weights) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(data)
    rows = read_scored_roster(path)
    assert [r.member for r in rows] == names
    assert [r.weight for r in rows] == [Decimal(w) for w in weights]
    assert [r.where for r in rows] == [f"row {i + 2}" for i in range(len(rows))]  # as the spreadsheet numbered them


def test_row_numbers_count_records_not_lines(tmp_path, run) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(b'member,role,grape_weight\r\n"Two\nLines",Dev,0.5\r\nBo,Dev,1.5\r\n')
    code, _, err = run("compute", str(path), "--budget", "100")
    assert code == 2 and "row 3" in _one_line(err)


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        ("member,role,grape_weight,Member", "appears twice"),
        ("member,role,Work Produced,work_produced", "appears twice"),
    ],
)
def test_duplicated_headers_are_refused(tmp_path, header, needle) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(header + "\nAda,Dev,1,1\n")
    with pytest.raises(Exception, match=needle):
        read_table(path)


def test_new_refuses_what_compute_refuses(tmp_path, run) -> None:
    """A roster with a grape_weight column and criteria columns: new used to accept it."""
    path = tmp_path / "both.csv"
    path.write_text("member,role,grape_weight,work_produced\nAda,Dev,1,1\n")
    for args in (["compute", str(path), "--budget", "1"], ["new", str(tmp_path / "m.xlsx"), "--roster", str(path)]):
        code, _, err = run(*args)
        assert code == 2 and "not both" in _one_line(err)
    assert not (tmp_path / "m.xlsx").exists()


# -- 2. exact at any magnitude, and what a workbook holds --------------------------------------


def test_exact_at_eighteen_decimals() -> None:
    """Three members sharing 2e11 at 18 decimals got 66666666666.66666666666666667 each."""
    rows = [RoleRow(f"m{i}", "r", Decimal(1)) for i in range(3)]
    r = allocate(Decimal("2E+11"), rows, Options(decimals=18))
    assert all(m.total == Decimal("66666666666.666666666666666666") for m in r.members)
    assert r.total_allocated + r.returned_to_treasury == Decimal("2E+11") and r.total_allocated <= Decimal("2E+11")


def test_huge_budget_is_exact_in_the_engine_and_refused_by_the_commands(run) -> None:
    r = allocate(Decimal("1E+24"), [RoleRow("m", "r", Decimal("0.7"))], Options())
    assert str(r.members[0].total) == "700000000000000000000000.000000"
    code, out, err = run("compute", "--sample", "--budget", "1e24")
    assert code == 2 and out == "" and "10^13 units" in _one_line(err, "--budget")
    code, _, err = run("compute", "--sample", "--budget", "8930535", "--decimals", "6", "--format", "json")
    assert code == 0, err


@pytest.mark.parametrize("value", ["1e1000000", "1e300000", "-1e300000", "1e-1000000"])
def test_huge_exponents_are_refused_at_once(run, value) -> None:
    start = time.perf_counter()
    code, _, err = run("compute", "--sample", "--budget", value)
    assert code == 2 and time.perf_counter() - start < 2
    _one_line(err, "--budget")


# -- 6. names, markup, paths, write errors --------------------------------------------------------


def test_a_control_character_in_a_name_is_one_line(tmp_path, run) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("member,role,grape_weight\nAda\x01Okafor,Dev,1\n")
    code, _, err = run("new", str(tmp_path / "m.xlsx"), "--roster", str(path), "--budget", "1")
    assert code == 2 and "control character" in _one_line(err, "row 2")
    assert not (tmp_path / "m.xlsx").exists()


def test_rich_markup_in_names_and_paths_is_text(tmp_path, run) -> None:
    folder = tmp_path / "[bold]" / "["
    folder.mkdir(parents=True)
    roster = folder / "x].csv"  # the path reads .../[bold]/[/x].csv
    roster.write_text("member,role,grape_weight\n[/x] [red]Ada,[bold]Dev,0.9\nBo,Ops,0.5\n")
    code, out, err = run("compute", str(roster), "--budget", "100")
    assert code == 0 and "[/x] [red]Ada" in out, err
    book = folder / "x].xlsx"
    code, out, err = run("new", str(book), "--roster", str(roster), "--budget", "100")
    assert code == 0 and "[/x].xlsx" in out.replace("\n", ""), err
    code, out, _ = run("check", str(book))
    assert code == 0 and "[/x].xlsx" in out.replace("\n", "")


@pytest.mark.parametrize("where", ["folder", "no-permission", "nul"])
def test_write_errors_are_one_line_and_leave_nothing(tmp_path, run, where) -> None:
    if where == "folder":
        target = tmp_path / "m.xlsx"
        target.mkdir()
        args = [str(target), "--force"]
    elif where == "no-permission":
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        target = locked / "m.xlsx"
        args = [str(target)]
    else:
        target = tmp_path / "m.xlsx"
        args = ["m\x00.xlsx"]
    if where == "no-permission" and os.geteuid() == 0:
        # root writes anywhere; without the capabilities that let it (setpriv, util-linux) it is
        # refused as any user is
        proc = subprocess.run(
            ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--",
             sys.executable, "-m", "katsheet", "new", *args, "--sample"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        code, out, err = proc.returncode, proc.stdout, proc.stderr
        assert "ermission" in err, err
    else:
        code, out, err = run("new", *args, "--sample")
    assert code == 2 and out == ""
    _one_line(err)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# -- 8. exclusive writes ------------------------------------------------------------------------


def test_of_six_writers_racing_for_one_path_exactly_one_wins(tmp_path) -> None:
    target = tmp_path / "race.xlsx"
    procs = [
        subprocess.Popen([sys.executable, "-m", "katsheet", "new", str(target), "--sample"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]  # fmt: skip
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert sorted(code for code, _, _ in results) == [0, 2, 2, 2, 2, 2]
    assert all("already exists" in err for code, _, err in results if code == 2)
    assert openpyxl.load_workbook(target).sheetnames == ["Guide", "Scoring", "Expanded", "Members"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.xlsx"]  # no temporary file left


def test_a_killed_writer_leaves_nothing_behind(tmp_path) -> None:
    """Killed while rendering or publishing a big month: either no file or the whole file, never
    a temporary one."""
    target = tmp_path / "big.xlsx"
    for delay in (0.5, 1.5, 3.0):
        target.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-m", "katsheet", "new", str(target), "--sample", "--rows", "9000"])
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names in ([], ["big.xlsx"]), names
        if names:
            assert zipfile.ZipFile(target).testzip() is None


# -- 14, 15. output people read -------------------------------------------------------------------


def test_one_finding_is_singular_and_causes_are_grouped(tmp_path, run) -> None:
    path = write_month(sample_months()["2026-11-compact.xlsx"], tmp_path / "m.xlsx")
    data = zipfile.ZipFile(path).read("xl/worksheets/sheet3.xml")
    stale = data.replace(b"<f>SUM(TotalUnits)/UnitsPerToken</f><v>", b"<f>SUM(TotalUnits)/UnitsPerToken</f><v>9")
    out_path = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, stale if info.filename == "xl/worksheets/sheet3.xml" else src.read(info))
    code, out, _ = run("check", str(out_path))
    assert code == 1 and "1 finding (1 stale-value)" in out.splitlines()[0]


def test_many_findings_of_one_cause_are_one_line(tmp_path, run) -> None:
    """Every total overwritten: one cause, counted, not forty lines."""
    month = sample_months()["2026-11-compact.xlsx"]
    path = write_month(month, tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(path)
    for r in range(16, 16 + len(month.rows)):
        wb["Compact"][f"I{r}"] = 1  # Total overwritten with a number
    wb.save(path)
    code, out, _ = run("check", str(path))
    assert code == 1 and out.splitlines()[0].endswith("findings (13 formula-drift, 26 wrong-number, 1 stale-value).")
    rows = [line.split()[1] for line in out.splitlines()[1:] if line.startswith("│ ") and line.split()[1] != "│"]
    assert rows == ["formula-drift", "wrong-number", "wrong-number", "stale-value"]  # one row per cause
    assert "Compact!I16, I17," in out and "8 more" in out  # the sheet named once, the rest counted
    from katsheet.cli.check import causes
    from katsheet.workbook.checker import check
    from katsheet.workbook.reader import read_workbook

    assert [len(found) for _, _, found in causes(check(read_workbook(path)))] == [13, 13, 13, 1]


def test_words_are_case_blind(run, tmp_path) -> None:
    code, out, err = run("compute", "--sample", "--cap-rule", "Scale", "--format", "CSV")
    assert code == 0 and out.startswith("member,role"), err
    code, _, err = run("new", str(tmp_path / "m.xlsx"), "--sample", "--template", "Compact", "--criteria", "FOUR")
    assert code == 0, err


def test_csv_output_as_a_spreadsheet_reads_it(run) -> None:
    code, out, _ = run("compute", "--sample", "--format", "csv", "--decimals", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "member,role,grape_weight,base,bonus,excess,total,bonus_eligible"
    first = lines[1].split(",")
    assert first[-1] in ("TRUE", "FALSE") and all(len(x.split(".")[1]) == 2 for x in first[3:7])


# -- 16. several SubDAOs -------------------------------------------------------------------------


def test_new_with_subdaos_sums_members_over_them(tmp_path, run) -> None:
    main = tmp_path / "main.csv"
    art = tmp_path / "art.csv"
    main.write_text("member,role,grape_weight\nAda,Lead,1\nBo,Dev,0.5\n")
    art.write_text("member,role,grape_weight\n ada ,Curator,0.8\nCy,Artist,0.4\n")
    out = tmp_path / "sd.xlsx"
    code, _, err = run("new", str(out), "--subdao", f"Main={main}:1000", "--subdao", f"Art={art}:500")
    assert code == 0, err
    wb = openpyxl.load_workbook(out, data_only=True)
    assert wb.sheetnames == ["Guide", "Scoring Main", "Expanded Main", "Scoring Art", "Expanded Art", "Members"]
    members = [(wb["Members"][f"B{r}"].value, wb["Members"][f"C{r}"].value) for r in range(5, 8)]
    assert members == [("Ada", 2), ("Bo", 1), ("Cy", 1)]  # " ada " in Art is Ada of Main
    code, out_text, _ = run("check", str(out))
    assert code == 0, out_text


@pytest.mark.parametrize("spec", ["no-equals", "Bad/Name=x.csv", "=x.csv", "A" * 25 + "=x.csv"])
def test_bad_subdao_specs_are_one_line(tmp_path, run, spec) -> None:
    code, _, err = run("new", str(tmp_path / "m.xlsx"), "--subdao", spec)
    assert code == 2
    _one_line(err, "--subdao")


# -- 13. sheets of katsheet's functions -----------------------------------------------------------


def test_omitted_arguments_mean_the_default_as_in_excel(tmp_path, run) -> None:
    """GRAPE_ALLOCATE(B3,G6:G18,,,,,,,TRUE): the formulas package passed the empty threshold as 0."""
    from katsheet.udfs import GRAPE_ALLOCATE

    weights = [0.96, 0.79, 0.5, 0.0]
    expected = GRAPE_ALLOCATE(100000, [[w] for w in weights], None, None, None, None, None, None, True)
    import xlsxwriter

    path = tmp_path / "functions.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Demo")
    ws.write_number("B3", 100000)
    for i, w in enumerate(weights):
        ws.write_number(5 + i, 6, w)
    ws.write_array_formula(5, 8, 5 + len(expected) - 1, 8 + len(expected[0]) - 1,
                           "{=GRAPE_ALLOCATE($B$3,G6:G9,,,,,,,TRUE)}")  # fmt: skip
    wb.close()
    # the values Excel stores (the engine's answer with the defaults)
    book = openpyxl.load_workbook(path)
    for i, row in enumerate(expected):
        for j, value in enumerate(row):
            cell = book["Demo"].cell(6 + i, 9 + j)
            if i == 0 and j == 0:
                continue
            cell.value = value
    # openpyxl cannot store a cached value beside a formula: compare through the functions check
    from katsheet.excel.formulas_functions import mark_omitted

    assert mark_omitted("=GRAPE_ALLOCATE($B$3,G6:G9,,,,,,,TRUE)").count("KSOMITTED()") == 6
    from katsheet.workbook.evaluate import evaluate_with_ranges

    values, _ = evaluate_with_ranges(path, ["Demo"])
    got = [
        [values.get(("Demo", f"{chr(73 + j)}{6 + i}")) for j in range(len(expected[0]))] for i in range(len(expected))
    ]
    assert got[1:] == [[pytest.approx(v) if isinstance(v, float) else v for v in row] for row in expected[1:]]


def test_the_add_in_demo_before_excel_ran_it_is_one_finding(tmp_path, run) -> None:
    out = tmp_path / "katsheet.xlsm"
    assert run("excel-addin", str(out))[0] == 0
    code, stdout, _ = run("check", str(out), "--json")
    report = json.loads(stdout)
    assert code == 1 and len(report["findings"]) == 1 and "never calculated" in report["findings"][0]["message"]


# -- 9. a month saved by Excel checks as fast as a fresh one ---------------------------------------


def test_a_month_saved_by_excel_checks_clean_and_column_by_column(tmp_path) -> None:
    from katsheet.workbook.checker import check, layout_cells
    from katsheet.workbook.columnwise.runs import Evaluator
    from katsheet.workbook.reader import read_workbook

    fresh = write_month(sample_months()["2026-11-expanded.xlsx"], tmp_path / "fresh.xlsx")
    saved = as_excel_saves_it(fresh, tmp_path / "excel.xlsx")
    assert b't="shared"' in zipfile.ZipFile(saved).read("xl/worksheets/sheet3.xml")
    book = read_workbook(saved)
    assert check(book).findings == []
    cells, keys = layout_cells(book)
    evaluator = Evaluator(cells, keys, book.names)
    evaluator.evaluate()
    assert evaluator.rows_by_row == 0 and not evaluator.unknown


def test_the_defusedxml_guard_reads_as_openpyxl_does(monkeypatch) -> None:
    """safe_open asks what openpyxl.xml.DEFUSEDXML says without importing openpyxl."""
    import openpyxl.xml

    from katsheet.workbook.safe_open import defusedxml_on

    assert defusedxml_on() is openpyxl.xml.DEFUSEDXML is True
    monkeypatch.setenv("OPENPYXL_DEFUSEDXML", "False")
    assert defusedxml_on() is openpyxl.xml.defusedxml_env_set() is False
