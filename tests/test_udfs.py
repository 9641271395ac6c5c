"""The Excel functions on the spec's vectors with Excel-shaped inputs, and their error answers."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from conftest import role_rows
from vectors import GRID, INTERMEDIATES, VECTORS

from katsheet import udfs
from katsheet.engine import Options, allocate


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
