"""The add-in workbook, the xlwings Lite bundle, and workbooks that call katsheet's functions."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from conftest import role_rows
from vectors import VECTORS, Vector

from katsheet import udfs
from katsheet.engine import Options, allocate
from katsheet.engine.dates import EXCEL_EPOCH
from katsheet.io.katfiles import ced_text
from katsheet.workbook.evaluate import evaluate


def test_addin_workbook_keeps_vba_and_names_the_udf_module(run, tmp_path) -> None:
    out = tmp_path / "katsheet.xlsm"
    code, _, err = run("excel-addin", str(out))
    assert code == 0, err
    with zipfile.ZipFile(out) as z:
        assert "xl/vbaProject.bin" in z.namelist()
    wb = openpyxl.load_workbook(out, keep_vba=True)
    wb.vba_archive.close()  # openpyxl never closes it (see excel/addin.py)
    assert wb.sheetnames == ["Demo", "xlwings.conf"]
    conf = wb["xlwings.conf"]
    assert (conf["A6"].value, conf["B6"].value) == ("UDF Modules", "katsheet.udfs")
    demo = wb["Demo"]
    formulas = [
        c.value for row in demo.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")
    ]
    for name in ("GRAPE_WEIGHT", "GRAPE_LEVEL", "GRAPE_ALLOCATE", "GRAPE_SUMMARY"):
        assert any(f.startswith(f"={name}(") for f in formulas), name
    assert demo["A6"].value == "Ada Okafor" and demo["A6"].data_type == "s"
    code, _, err = run("excel-addin", str(out))
    assert code == 2 and "--force" in err
    code, _, err = run("excel-addin", str(tmp_path / "x.xlsx"))
    assert code == 2 and ".xlsm" in err


CED_TEXT = ced_text()


def _plain_ranges():
    """The sample month's ranges with plain values only (dates as serials), to write into a script."""
    from test_udfs import _sample_ranges

    from katsheet.engine.kat.sheet import cell_date

    def plain(v):
        return float((cell_date(v) - EXCEL_EPOCH).days) if isinstance(v, dt.datetime) else v

    return [[[plain(v) for v in row] for row in grid] for grid in _sample_ranges()]


def test_lite_bundle_runs_without_katsheet_installed(run, tmp_path) -> None:
    code, _, err = run("lite", str(tmp_path / "lite"))
    assert code == 0, err
    ledger, config, state, exceptions = _plain_ranges()
    assert (tmp_path / "lite" / "requirements.txt").read_text().strip().endswith("xlwings")
    script = (
        "import sys; sys.meta_path.insert(0, type('Block', (), {'find_spec': staticmethod("
        "lambda name, *a: (_ for _ in ()).throw(ImportError('no ' + name)) if name.split('.')[0] == 'katsheet' "
        "else None)})()); import main; "
        "print(main.GRAPE_WEIGHT([[0.9, '70%', 0.8, 0.5]]), main.GRAPE_ALLOCATE(100000, [1, 0.8, 0.6, 0.4, 0])[0][3], "
        "main.GRAPE_ALLOCATE(-1, [1])[:10]); "
        # the KAT engine travels in the bundle too: kat.md's K3 (120 members, 10 credits each) computed there
        "import datetime as dt, tomllib, decimal; from katsheet_lite.engine import kat; "
        "g = kat.parse_guardrails({'settlement': {'kat_per_credit_max': 10, 'per_user_cap_share': decimal.Decimal('0.05'), "
        "'decimals_max': 18}, 'karma': {'multiplier_max': 2}, 'rules': {'credits_max': 5}, 'tiers': {}}); "
        f"c = kat.parse_config(tomllib.loads({CED_TEXT!r}, parse_float=decimal.Decimal), g); d = dt.date(2026, 11, 5); "
        "p = kat.compute_period(c, '2026-11', [kat.LedgerRow(f'e{i}', d, f'm{i}', 'Guides', 'G2', 5, 'ev', 'org', d) "
        "for i in range(120)]); print(p.members[0].kat, p.minted, p.residue); "
        # and KAT's Karma step as an Excel function: K7, 76 days inactive, level 2 -> 1
        "print(main.KAT_LEVEL(2, 0, 46280, None, None, False, 46356, 60, 3, 4)[0][0]); "
        # and the month (the guardrails travel as DATA): the sample's first member's KAT
        f"print(main.KAT_SETTLE({ledger!r}, {config!r}, {state!r}, {exceptions!r})[0][8])"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path / "lite", capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    first = udfs.KAT_SETTLE(ledger, config, state, exceptions)[0][8]
    assert out.stdout.split() == ["0.79", "40533.333333", "#katsheet:", "41.66", "4999.20", "0.80", "1", str(first)]


def _workbook(v: Vector, path: Path) -> Path:
    """A sheet a treasurer built from the functions: weights in A, the spilled allocation beside."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Month")
    ws.write_number("B1", float(v.budget))
    n = len(v.weights)
    for i, w in enumerate(v.weights):
        ws.write_number(2 + i, 0, float(w))
    o = v.options
    # Every argument spelled out: `formulas` passes an omitted middle argument as 0, not as missing
    threshold = str(float(o["threshold"])) if "threshold" in o else '""'
    bonus = "TRUE" if o.get("bonus", True) else "FALSE"
    excess = "TRUE" if o.get("excess", True) else "FALSE"
    cap = o.get("cap_rule", "scale")
    args = f'B1,A3:A{2 + n},{threshold},3,{bonus},{excess},"{cap}",6'

    ws.write_array_formula(f"C3:G{2 + n}", f"{{=GRAPE_ALLOCATE({args})}}")
    ws.write_array_formula("I3:J14", f"{{=GRAPE_SUMMARY({args})}}")
    wb.close()
    return path


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.id)
def test_workbook_calling_the_functions_is_evaluated_and_matches_the_engine(v, tmp_path) -> None:
    path = _workbook(v, tmp_path / f"{v.id}.xlsx")
    values = evaluate(path, ["Month"])
    engine = allocate(Decimal(v.budget), role_rows(v.weights), Options(**v.options))
    n = len(v.weights)
    assert [values[("Month", f"F{3 + i}")] for i in range(n)] == [float(m.total) for m in engine.members]
    assert [values[("Month", f"G{3 + i}")] for i in range(n)] == [m.bonus_eligible for m in engine.members]
    summary = {values[("Month", f"I{r}")]: values[("Month", f"J{r}")] for r in range(3, 15)}
    assert summary["Returned to treasury"] == float(engine.returned_to_treasury)
    assert summary["Cap engaged"] == engine.cap_engaged


def _calls(path: Path, weight_value: float, level_value: float) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Scores")
    for j, s in enumerate([0.9, "70%", 0.8, 0.5]):
        ws.write(0, j, s)
    ws.write_formula("F1", "=GRAPE_WEIGHT(A1:D1)", None, weight_value)  # the value Excel showed
    ws.write_formula("F2", '=GRAPE_LEVEL("LEVEL 2")', None, level_value)
    wb.close()
    return path


def test_sheet_built_from_the_functions_is_checked_call_by_call(run, tmp_path) -> None:
    code, out, err = run("check", str(_calls(tmp_path / "right.xlsx", 0.79, 0.66)))
    assert code == 0, out + err
    assert "clean" in out
    code, out, _ = run("check", str(_calls(tmp_path / "typed.xlsx", 0.8, 0.66)), "--json")
    assert code == 1
    findings = __import__("json").loads(out)["findings"]
    assert [(f["cell"], f["expected"], f["found"]) for f in findings] == [("F1", "0.79", "0.8")]


def test_spilled_allocation_is_held_against_the_engine_cell_by_cell(run, tmp_path) -> None:
    """XlsxWriter stores 0 in every cell of an array formula: none of them is the engine's answer."""
    path = _workbook(VECTORS[0], tmp_path / "never-calculated.xlsx")
    code, out, _ = run("check", str(path), "--json")
    assert code == 1
    found = {f["cell"]: f["expected"] for f in __import__("json").loads(out)["findings"]}
    assert found["F3"] == "40533.333333" and found["F4"] == "32426.666666"  # totals, spilled from C3
    assert found["J3"] == "5" and found["I3"] == "'Role holders (N)'"


def test_engines_import_no_workbook_library() -> None:
    """Both engines are pure: importing and running them loads neither openpyxl, `formulas` nor pandas."""
    code = (
        "import sys, katsheet.engine, katsheet.engine.kat as kat, katsheet.io.katfiles as f;"
        "c = f.load_config(None, f.load_guardrails()); kat.compute_period(c, '2026-11', []);"
        "bad = [m for m in ('openpyxl', 'formulas', 'pandas', 'xlsxwriter') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr[-2000:]
