"""Every engine shows the engine's digits, at every budget a workbook holds (docs/decisions.md,
"Spreadsheet arithmetic").

For each decimals setting, budgets from 1,000 to the largest a workbook holds (just below 10^13
units): the spec's vectors, shares that are whole numbers of units (everyone at 100% on a budget
that divides exactly, where binary floats land a hair below the whole number), and random
rosters. LibreOffice recalculates every month from scratch, `formulas` evaluates them (its own
ExcelModel on a sample of them, its functions column by column on all), and every total, unit
count and sum must carry exactly the engine's digits: no tolerance. Each month has two blank rows
(the formulas of rows not yet typed); test_workbook_engines proves the template's default size.

The decisions page proves the one way they can still differ: a role row whose exact amount, after
the guard, lies within 12 units of a double's last place of a whole unit ("the band"); the
difference is then one unit. Any difference found must be such a row, which this test checks
with the exact amount in hand.
"""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import Progress, recalculated
from reference import amounts, fit_budget
from vectors import VECTORS
from workbooks import cached_values, formulas_values_parallel, month_from_weights, random_month, write

from katsheet.engine import Options
from katsheet.engine.grape.allocation import NUDGE
from katsheet.engine.limits import budget_units_limit
from katsheet.layouts.grape import Month, grape_layout
from katsheet.workbook.checker import layout_cells
from katsheet.workbook.columnwise import evaluate_cells
from katsheet.workbook.expected import expected_cells
from katsheet.workbook.reader import read_workbook

DECIMALS = (0, 2, 6, 9)
#: a double's own error on these formulas (12 operations of 2^-53 each), with LibreOffice 7.4's
#: correction inside ROUND (a few units of the last place): 2^-49 of the amount
BAND = Fraction(1, 2**49)
EXACT_LABELS = ("Total", "Total in units", "Total allocated", "Returned to treasury", "Budget in units")


def _budgets(d: int) -> list[Decimal]:
    top = budget_units_limit(d)
    out = [Decimal(1000), Decimal("8930535"), top]
    return sorted({b for b in out if b.adjusted() + d < 13} | {top})


def _months() -> dict[str, Month]:
    out: dict[str, Month] = {}
    rng = random.Random(20261121)
    for d in DECIMALS:
        for b in _budgets(d):
            tag = f"d{d}-{b}"
            for v in (VECTORS[0], VECTORS[3], VECTORS[4], VECTORS[7]):
                options = Options(**{**v.options, "decimals": d})
                out[f"{tag}-{v.id}"] = month_from_weights(str(b), v.weights, options, capacity=len(v.weights) + 2)
            # whole units each: seven members at 100% on a budget that is a multiple of 7 units
            whole = (b.scaleb(d) // 7 * 7).scaleb(-d)
            out[f"{tag}-whole"] = month_from_weights(str(whole), ["1"] * 7, Options(decimals=d), capacity=9)
            m = random_month(rng.randint(0, 10**6))
            out[f"{tag}-random"] = dataclasses.replace(
                m, budget=fit_budget(b, d), options=dataclasses.replace(m.options, decimals=d)
            )
    return out


MONTHS = _months()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("exactness")
    return {k: write(m, folder / f"{k}.xlsx") for k, m in MONTHS.items()}


@pytest.fixture(scope="module")
def libreoffice(files, tmp_path_factory, request) -> dict[str, dict]:
    out = recalculated(
        request, files, tmp_path_factory.mktemp("exactness-lo"), "LibreOffice recalculating the budget grid"
    )
    return {k: cached_values(p) for k, p in out.items()}


@pytest.fixture(scope="module")
def formulas_model(files, request) -> dict[str, dict]:
    """`formulas`' own ExcelModel on two months per decimals setting and budget (minutes for all)."""
    sample = [k for k in files if k.endswith("-random") or k.endswith("-whole")]
    progress = Progress(request, "formulas ExcelModel on the budget grid", len(sample))
    return dict(zip(sample, formulas_values_parallel([files[k] for k in sample], progress), strict=True))


def _in_band(month: Month, row: int) -> bool:
    """Whether the row's exact amount (after the guard) lies within BAND of a whole unit."""
    o = month.options
    weights = [str(r.weight) for r in month.rows]
    exact = amounts(month.budget, weights, o.threshold, o.min_divisor, o.bonus, o.excess, o.cap_rule)[row]
    y = exact * 10**o.decimals * NUDGE
    return abs(y - round(y)) <= BAND * y


def _differences(key: str, found: dict) -> list[str]:
    month = MONTHS[key]
    out, rows_apart = [], 0
    for e in expected_cells(grape_layout(month), month):
        if e.label not in EXACT_LABELS or e.value == "":
            continue
        got = found.get((e.sheet, e.cell))
        same = isinstance(got, (int, float)) and Decimal(repr(float(got))) == Decimal(e.value)
        if same:
            continue
        row = int(e.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) - 16
        if e.label in ("Total", "Total in units") and e.sheet != "Members" and _in_band(month, row):
            unit = Decimal(1) if e.label == "Total in units" else Decimal(1).scaleb(-month.options.decimals)
            if isinstance(got, (int, float)) and abs(Decimal(repr(float(got))) - Decimal(e.value)) == unit:
                rows_apart += 1
                continue
        out.append(f"{e.sheet}!{e.cell} {e.label}: engine {e.value}, found {got!r}")
    if rows_apart:  # sums then differ by as many units as rows did: nothing else may
        out = [x for x in out if "Total allocated" not in x and "Returned" not in x]
    return out


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("key", list(MONTHS))
def test_libreoffice_shows_the_engines_digits(key, libreoffice) -> None:
    assert not _differences(key, libreoffice[key])


@pytest.mark.slow
@pytest.mark.parametrize("key", list(MONTHS))
def test_formulas_functions_show_the_engines_digits(key, files) -> None:
    book = read_workbook(files[key])
    cells, keys = layout_cells(book)
    assert not _differences(key, evaluate_cells(cells, keys, book.names))


@pytest.mark.slow
@pytest.mark.parametrize("key", [k for k in MONTHS if k.endswith("-random") or k.endswith("-whole")])
def test_formulas_model_shows_the_engines_digits(key, formulas_model) -> None:
    assert not _differences(key, formulas_model[key])


def test_the_grid_reaches_the_largest_budget_at_every_decimals() -> None:
    for d in DECIMALS:
        top = budget_units_limit(d)
        assert any(k.startswith(f"d{d}-{top}-") for k in MONTHS)
        assert top.scaleb(d) == 10**13 - 1
    whole = [m for k, m in MONTHS.items() if k.endswith("-whole")]
    assert all(m.allocation.members[0].units * 7 == m.allocation.budget.scaleb(m.options.decimals) for m in whole)
