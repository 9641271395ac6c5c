"""The Excel functions on the spec's vectors with Excel-shaped inputs, and their error answers."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import role_rows
from vectors import GRID, INTERMEDIATES, VECTORS

from katsheet import udfs
from katsheet.engine import Options, allocate

ROOT = Path(__file__).resolve().parent.parent


def _column(weights: list[str]) -> list[list[object]]:
    """As Excel passes a column range: a list of one-cell rows, floats, with a blank in the middle."""
    cells: list[list[object]] = [[float(w)] for w in weights]
    return [*cells[:1], [None], *cells[1:]]


def _args(v) -> dict:
    o = v.options
    return {
        "threshold": float(o["threshold"]) if "threshold" in o else None,
        "bonus": o.get("bonus"),
        "excess": o.get("excess"),
        "cap_rule": o.get("cap_rule"),
    }


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.id)
def test_allocate_spills_the_vector_row_by_row(v) -> None:
    out = udfs.GRAPE_ALLOCATE(float(v.budget), _column(v.weights), **_args(v), header=True)
    assert out[0] == udfs.ALLOCATE_HEADER
    assert out[2] == ["", "", "", "", ""]  # the blank cell stays a blank row, aligned with the input
    rows = [out[1], *out[3:]]
    assert [r[3] for r in rows] == [float(Decimal(t)) for t in v.totals]
    engine = allocate(Decimal(v.budget), role_rows(v.weights), Options(**v.options))
    assert [r[4] for r in rows] == [m.bonus_eligible for m in engine.members]
    assert [r[0] for r in rows] == [float(m.base) for m in engine.members]


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v.id)
def test_summary_gives_every_intermediate_figure(v) -> None:
    table = dict(udfs.GRAPE_SUMMARY(v.budget, [w for w in v.weights], **_args(v)))
    assert list(table) == [label for label, _ in udfs.SUMMARY_LABELS]
    assert table["Returned to treasury"] == float(Decimal(v.returned))
    names = dict(udfs.SUMMARY_LABELS)
    for key, expected in INTERMEDIATES.get(v.id, {}).items():
        label = next(label for label, attr in names.items() if attr == key)
        assert table[label] == (float(Decimal(expected)) if isinstance(expected, str) else expected), key


@pytest.mark.parametrize(("scores", "expected"), GRID)
def test_weight_accepts_percent_text_floats_and_2d_rows(scores, expected) -> None:
    as_excel = [[float(s.rstrip("%")) / 100 if s.endswith("%") and i % 2 else s for i, s in enumerate(scores)]]
    assert udfs.GRAPE_WEIGHT(as_excel) == float(Decimal(expected))


def test_weight_with_custom_weights_and_levels() -> None:
    assert udfs.GRAPE_WEIGHT([1.0, "LEVEL 0"], [[3, 1]]) == 0.75
    assert udfs.GRAPE_WEIGHT(["80%"], [100]) == 0.8


def test_level_default_and_custom_table() -> None:
    assert [udfs.GRAPE_LEVEL(f"LEVEL {i}") for i in range(4)] == [0.0, 0.33, 0.66, 1.0]
    assert udfs.GRAPE_LEVEL("gold", [["Gold", "90%"], ["Silver", 0.5], [None, None]]) == 0.9


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: udfs.GRAPE_WEIGHT([[1.5, 0, 0, 0]]), "score 1"),
        (lambda: udfs.GRAPE_WEIGHT([["lots", 0, 0, 0]]), "'lots'"),
        (lambda: udfs.GRAPE_WEIGHT([[0.5, 0.5]]), "weights"),
        (lambda: udfs.GRAPE_WEIGHT([0.5, 0.5], [0, 0]), "all zero"),
        (lambda: udfs.GRAPE_LEVEL("LEVEL 7"), "unknown level"),
        (lambda: udfs.GRAPE_LEVEL("x", [["only one column"]]), "two columns"),
        (lambda: udfs.GRAPE_ALLOCATE(None, [1]), "budget is missing"),
        (lambda: udfs.GRAPE_ALLOCATE(-1, [1]), "budget"),
        (lambda: udfs.GRAPE_ALLOCATE("many", [1]), "'many'"),
        (lambda: udfs.GRAPE_ALLOCATE(100, [[0.5], [1.2]]), "weight 2"),
        (lambda: udfs.GRAPE_ALLOCATE(100, [None, None]), "no role holders"),
        (lambda: udfs.GRAPE_ALLOCATE(100, [1], threshold=2), "threshold"),
        (lambda: udfs.GRAPE_ALLOCATE(100, [1], min_divisor=0), "divisor"),
        (lambda: udfs.GRAPE_ALLOCATE(100, [1], min_divisor=2.5), "whole"),
        (lambda: udfs.GRAPE_ALLOCATE(100, [1], cap_rule="cut"), "cap rule"),
        (lambda: udfs.GRAPE_ALLOCATE(100, [1], bonus="maybe"), "TRUE or FALSE"),
        (lambda: udfs.GRAPE_SUMMARY(100, [1], decimals=40), "decimals"),
    ],
)
def test_bad_input_is_an_excel_visible_message_never_an_exception(call, needle) -> None:
    out = call()
    assert isinstance(out, str) and out.startswith(udfs.ERROR), out
    assert needle in out and "\n" not in out and "Traceback" not in out


def test_importing_udfs_loads_neither_openpyxl_nor_formulas() -> None:
    code = "import sys, katsheet.udfs; print(sorted(m for m in ('openpyxl', 'formulas', 'xlsxwriter') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


from katsheet.engine.dates import EXCEL_EPOCH  # noqa: E402


def _serial(day) -> float | None:
    return None if day is None else float((day - EXCEL_EPOCH).days)


@pytest.mark.parametrize("vector", ["K4", "K7", "K8", "K9"])
def test_kat_level_is_the_engines_karma_step(vector) -> None:
    """KAT_LEVEL with Excel-shaped inputs (date serials, blanks as None) gives each member of kat.md's
    vectors the level, streak and reason the KAT engine gives them."""
    from kat_helpers import MONTH, ced
    from test_kat_vectors import CASES

    from katsheet.engine.kat import compute_period
    from katsheet.engine.names import member_key

    case = CASES[vector]()
    config = ced()
    period = compute_period(config, MONTH, case.ledger, case.exceptions, case.states)
    states = {member_key(s.member): s for s in case.states}
    for m in period.members:
        s = states.get(member_key(m.member))
        counted = [r.date for r in case.ledger if member_key(r.member) == member_key(m.member)]
        out = udfs.KAT_LEVEL(
            s.level if s else config.start_level, s.streak if s else 0, _serial(s.last_active) if s else None,
            _serial(s.first_seen) if s else None, _serial(max(counted)) if m.active else None, m.upheld,
            _serial(period.end), config.inactivity_days, config.promote_after, config.top_level,
        )  # fmt: skip
        assert out == [[m.level, m.streak, m.inactive, m.reason]], m.member


def test_kat_level_bad_input_is_one_visible_line() -> None:
    assert udfs.KAT_LEVEL(9, 0, None, None, None, False, 46356, 60, 3, 4).startswith("#katsheet: value 9: level must")
    assert "period_end is missing" in udfs.KAT_LEVEL(2, 0, None, None, None, False, None, 60, 3, 4)
    assert "11/03/2026" in udfs.KAT_LEVEL(2, 0, "11/03/2026", None, None, False, 46356, 60, 3, 4)


def test_kat_level_through_formulas_as_the_checker_evaluates_it() -> None:
    """Registered with `formulas` (excel/formulas_functions.py), as for the GRAPE functions."""
    import formulas

    from katsheet.excel.formulas_functions import mark_omitted, register

    register()
    text = mark_omitted("=KAT_LEVEL(2,0,46280,,,FALSE,46356,60,3,4)")
    assert text == "=KAT_LEVEL(2,0,46280,KSOMITTED(),KSOMITTED(),FALSE,46356,60,3,4)"
    out = formulas.Parser().ast(text)[1].compile()()
    assert out.tolist()[0][:3] == [1, 0, True], out


# ---------------------------------------------------------------------------------------------
# KAT_SETTLE: a month's KAT from a ledger range and a configuration range


def _excel_range(path) -> list[list]:
    """A CSV file as Excel hands its range to a function: header row, dates as serial numbers,
    numbers as floats, blank cells as None."""
    import csv

    with open(path, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    out = [rows[0]]
    for row in rows[1:]:
        cells = []
        for h, text in zip(rows[0], row, strict=False):
            if not text:
                cells.append(None)
            elif h in ("date", "verified_on", "last_active", "first_seen"):
                cells.append(_serial(dt.date.fromisoformat(text)))
            else:
                try:
                    cells.append(float(text))
                except ValueError:
                    cells.append(text)
        out.append(cells)
    return out


def _sample_ranges():
    from importlib.resources import files

    import openpyxl

    data = files("katsheet.data")
    wb = openpyxl.load_workbook(ROOT / "sample_workbooks" / "2026-11-kat-ced.xlsx", data_only=True)
    config = [list(r) for r in wb["Config"].iter_rows(values_only=True)]
    return (_excel_range(data / "ced_ledger.csv"), config, _excel_range(data / "ced_state.csv"),
            _excel_range(data / "ced_exceptions.csv"))  # fmt: skip


def _engine_rows(period) -> list[list]:
    return [
        [m.member, m.level_before, m.level, m.streak, float(m.credits), float(m.multiplier), float(m.raw),
         float(m.capped), float(m.kat), float(m.cumulative), m.tier, m.reason]
        for m in period.members
    ]  # fmt: skip


def test_kat_settle_is_the_engines_month() -> None:
    """The CED sample month through KAT_SETTLE (the shipped workbook's Config sheet as the
    configuration range, the CSVs as Excel ranges) is the engine's month, member by member."""
    from katsheet.engine.kat import compute_period
    from katsheet.io.katfiles import sample_inputs

    config, ledger, exceptions, states = sample_inputs()
    period = compute_period(config, "2026-11", ledger, exceptions, states)
    assert any(m.level != m.level_before for m in period.members) and period.global_cap_engaged is not None
    out = udfs.KAT_SETTLE(*_sample_ranges(), None, True)
    assert out[0] == udfs.KAT_SETTLE_HEADER
    assert out[1:] == _engine_rows(period)


def test_kat_settle_finds_the_configuration_wherever_it_is_laid_out() -> None:
    """A treasurer's own configuration block: tables in another order and place, no Stakeholders
    table (the rules' groups are used), the month given as a date in it."""
    from katsheet.engine.kat import compute_period
    from katsheet.engine.kat.sheet import LABELS, LEVELS, RULES, TIERS
    from katsheet.io.katfiles import sample_inputs

    config, ledger, exceptions, states = sample_inputs()
    ledger_range, _, state_range, exception_range = _sample_ranges()
    grid: list[list] = [[None] * 9 for _ in range(40)]
    grid[0][0] = "My DAO's KAT settings"
    values = {"DaoName": config.name, "DaoCode": config.code, "KatPerCredit": float(config.kat_per_credit),
              "GlobalCap": float(config.global_cap), "PerUserCap": float(config.per_user_cap),
              "Decimals": config.decimals, "InactivityDays": config.inactivity_days,
              "PromoteAfter": config.promote_after, "StartLevel": config.start_level}  # fmt: skip
    for i, (name, value) in enumerate(values.items()):
        grid[2 + i][1], grid[2 + i][2] = LABELS[name].upper(), value  # labels match whatever their case
    r = 13
    grid[r][3:9] = RULES.headers
    for i, rule in enumerate(config.rules):
        grid[r + 1 + i][3:9] = [rule.id, rule.stakeholder, float(rule.credits), rule.limit, rule.trigger,
                                rule.verification]  # fmt: skip
    r += len(config.rules) + 3
    grid[r][0:3] = TIERS.headers
    for i, t in enumerate(config.tiers):
        grid[r + 1 + i][0:3] = [t.name, float(t.threshold), "; ".join(t.privileges)]
    grid[2][5:8] = LEVELS.headers
    for i, lv in enumerate(config.levels):
        grid[3 + i][5:8] = [lv.number, lv.name, float(lv.multiplier)]
    out = udfs.KAT_SETTLE(ledger_range, grid, state_range, exception_range, _serial(dt.date(2026, 11, 17)))
    assert out == _engine_rows(compute_period(config, "2026-11", ledger, exceptions, states))


def test_kat_settle_bad_input_is_one_line_naming_the_place() -> None:
    ledger, config, _, _ = _sample_ranges()
    assert "configuration range has no" in udfs.KAT_SETTLE(ledger, [["DAO", "x"]])
    no_status = [row[:9] for row in ledger]
    assert udfs.KAT_SETTLE(no_status, config).startswith("#katsheet: ledger header row")
    ledger[5][1] = "03/11/2026"  # a date typed as text the engine will not guess
    out = udfs.KAT_SETTLE(ledger, config)
    assert out.startswith("#katsheet: ledger row 6, column date") and "03/11/2026" in out
    too_high = [list(r) for r in config]
    too_high[8][1] = 11.0  # KAT per credit, guardrail (0, 10]
    assert "kat_per_credit" in udfs.KAT_SETTLE(_sample_ranges()[0], too_high)


def test_kat_settle_in_a_workbook_evaluated_by_formulas(tmp_path) -> None:
    """Registered with `formulas`, as the checker evaluates it: a sheet of ranges and one spilled call."""
    import xlsxwriter

    from katsheet.engine.kat import compute_period
    from katsheet.io.katfiles import sample_inputs
    from katsheet.workbook.evaluate import evaluate

    ranges = _sample_ranges()
    path = tmp_path / "settle.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    for name, grid in zip(("Ledger", "Config", "State", "Exceptions"), ranges, strict=True):
        ws = wb.add_worksheet(name)
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    ws.write_number(r, c, _serial(value.date()))
                elif value is not None:
                    ws.write(r, c, value)
    config, ledger, exceptions, states = sample_inputs()
    period = compute_period(config, "2026-11", ledger, exceptions, states)
    n = len(period.members)
    ws = wb.add_worksheet("KAT")
    ws.write_array_formula(
        f"A1:L{n + 1}",
        f"{{=KAT_SETTLE(Ledger!A1:K{len(ranges[0])},Config!A1:X30,"
        f"State!A1:F{len(ranges[2])},Exceptions!A1:F{len(ranges[3])},,TRUE)}}",
    )
    wb.close()
    values = evaluate(path, ["Ledger", "Config", "State", "Exceptions", "KAT"])
    got = [[values[("KAT", f"{chr(65 + c)}{r}")] for c in range(12)] for r in range(2, n + 2)]
    assert got == _engine_rows(period)
