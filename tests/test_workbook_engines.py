"""Generated workbooks recalculated by engines we did not write agree with the engine, cell by cell.

For every vector of grape.md and 200 random months (sizes up to 100, zeros, exact-average ties,
both grids, random options): LibreOffice headless recalculates from scratch, and the `formulas`
package evaluates; every computed cell must equal the engine's figure within grape.md section 3.
The cached values we write must equal LibreOffice's.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Progress, recalculated
from libreoffice import recalculate, require_libreoffice
from vectors import VECTORS
from workbooks import (
    cached_values,
    compare,
    formulas_values_parallel,
    month_from_weights,
    random_month,
    write,
)

from katsheet.engine import FOUR_CRITERIA, Options, grape_weight
from katsheet.engine.grape.roster import ScoredRow
from katsheet.layouts.grape import Book, Month, grape_layout
from katsheet.workbook.checker import check
from katsheet.workbook.columnwise import evaluate_cells
from katsheet.workbook.expected import agrees, expected_cells
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import sample_months

RANDOM_MONTHS = 200
#: `formulas`' own ExcelModel takes seconds a month (it compiles every cell): it evaluates the
#: vectors, the half-way cases, the SubDAO sample and this many random months; LibreOffice and
#: katsheet's column-wise evaluation (the same `formulas` functions) take all of them.
MODEL_RANDOM_MONTHS = 10
CASES: list[tuple[str, object]] = [
    *[(f"{v.id}-{t}", (v, t)) for v in VECTORS for t in ("compact", "expanded")],
    ("half-way-weights", "half-way-weights"),
    ("half-way-average", "half-way-average"),
    ("subdaos", "subdaos"),
    *[(f"random-{seed}", seed) for seed in range(RANDOM_MONTHS)],
]
IDS = [c[0] for c in CASES]
MODEL_IDS = [i for i in IDS if not i.startswith("random-") or int(i.split("-")[1]) < MODEL_RANDOM_MONTHS]


HALF_WAY_AVERAGE = ["0.688555", "0.286172", "0.679690", "0.746157", "0"]


def _half_way_weights() -> Month:
    """Weighted means exactly half-way at the 7th decimal: ROUND must go up in every engine."""
    # Rows on which plain float formulas rounded down in the `formulas` package (found by the
    # random months): each weighted mean is exactly half-way at the 7th decimal.
    scores = [
        ("0.311363", "0.089277", "0.2", "0.2"),  # 0.2557455 -> 0.255746
        ("1", "0.089111", "1", "0.939877"),  # 0.8968865 -> 0.896887
        ("0", "0.422329", "0.969996", "0"),  # 0.1392325 -> 0.139233
        ("0.015197", "0.843423", "0.1", "1"),  # 0.3034605 -> 0.303461
        ("0.6605", "0", "0.320945", "0"),  # 0.4283945 -> 0.428395
        ("0", "0.712985", "0", "0.3"),  # 0.1312985 -> 0.131299
    ]
    rows = []
    for i, raw in enumerate(scores):
        parsed = tuple(Decimal(x) for x in raw)
        rows.append(ScoredRow(f"tie {i}", "Dev", parsed, grape_weight(list(parsed), FOUR_CRITERIA)))
    return Month(template="expanded", month="2026-12", criteria=FOUR_CRITERIA, budget=Decimal(1000),
                 rows=tuple(rows), capacity=len(rows))  # fmt: skip


def _month(spec: object) -> Month | Book:
    if spec == "subdaos":
        return sample_months()["2026-11-subdaos.xlsx"]
    if spec == "half-way-weights":
        return _half_way_weights()
    if spec == "half-way-average":  # mean 0.6001435 exactly: a float AVERAGEIF lands below the half
        return month_from_weights("1000", HALF_WAY_AVERAGE, template="compact", capacity=5)
    if isinstance(spec, int):
        return random_month(spec)
    v, template = spec  # type: ignore[misc]
    # two blank rows prove the formulas of untyped rows; one month keeps `katsheet new`'s default
    # 100 rows, so every engine also sees the shipped size (`formulas`' ExcelModel compiles each cell)
    kw = {} if (v, template) == (VECTORS[0], "expanded") else {"capacity": len(v.weights) + 2}
    return month_from_weights(v.budget, v.weights, Options(**v.options), template=template, **kw)


@pytest.fixture(scope="module")
def months() -> dict[str, Month]:
    return {case_id: _month(spec) for case_id, spec in CASES}


@pytest.fixture(scope="module")
def files(months, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("generated")
    return {case_id: write(m, folder / f"{case_id}.xlsx") for case_id, m in months.items()}


@pytest.fixture(scope="module")
def libreoffice_files(files, tmp_path_factory, request) -> dict[str, Path]:
    return recalculated(
        request, files, tmp_path_factory.mktemp("libreoffice"), "LibreOffice recalculating (one start per core)"
    )


@pytest.fixture(scope="module")
def libreoffice_values(libreoffice_files) -> dict[str, dict]:
    return {case_id: cached_values(path) for case_id, path in libreoffice_files.items()}


@pytest.fixture(scope="module")
def formulas_results(files, request) -> dict[str, dict]:
    progress = Progress(request, "formulas ExcelModel evaluating", len(MODEL_IDS))
    return dict(zip(MODEL_IDS, formulas_values_parallel([files[i] for i in MODEL_IDS], progress), strict=True))


def _report(mismatches) -> str:
    return f"{len(mismatches)} cells differ, e.g.\n" + "\n".join(str(m) for m in mismatches[:12])


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("case_id", IDS)
def test_libreoffice_agrees_with_engine(case_id, months, libreoffice_values) -> None:
    mismatches = compare(months[case_id], libreoffice_values[case_id])
    assert not mismatches, _report(mismatches)


@pytest.mark.slow
@pytest.mark.parametrize("case_id", MODEL_IDS)
def test_formulas_package_agrees_with_engine(case_id, months, formulas_results) -> None:
    mismatches = compare(months[case_id], formulas_results[case_id])
    assert not mismatches, _report(mismatches)


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("case_id", IDS)
def test_cached_values_equal_libreoffice(case_id, months, files, libreoffice_values) -> None:
    month = months[case_id]
    cached, by_libreoffice = cached_values(files[case_id]), libreoffice_values[case_id]
    differ = [
        f"{e.sheet}!{e.cell}: cached {cached.get((e.sheet, e.cell))!r}, LibreOffice {by_libreoffice.get((e.sheet, e.cell))!r}"
        for e in expected_cells(grape_layout(month), month)
        if not agrees(cached.get((e.sheet, e.cell)), by_libreoffice.get((e.sheet, e.cell)), e.fmt, e.decimals, e.budget)
    ]
    assert not differ, "\n".join(differ[:12])


def test_half_way_cases_really_are_half_way(months) -> None:
    weights = [m.grape_weight for m in months["half-way-weights"].allocation.members]
    expected = ["0.255746", "0.896887", "0.139233", "0.303461", "0.428395", "0.131299"]
    assert weights == [Decimal(w) for w in expected]
    assert months["half-way-average"].allocation.average_weight == Decimal("0.600144")


def test_vectors_cover_the_spec(months) -> None:
    """The workbooks really hold the vectors' totals (guards against comparing empty sheets)."""
    for v in VECTORS:
        month = months[f"{v.id}-expanded"]
        assert [m.total for m in month.allocation.members] == [Decimal(t) for t in v.totals]


@pytest.mark.libreoffice
def test_libreoffice_recalculates_from_scratch(tmp_path, monkeypatch) -> None:
    """Write deliberately wrong cached values: LibreOffice must ignore them and compute its own."""
    require_libreoffice()
    from xlsxwriter.worksheet import Worksheet

    month = month_from_weights("100000", ["1", "0.8", "0.6", "0.4", "0"])
    real = Worksheet.write_formula

    def stale(self, row, col, formula, fmt=None, value=0):
        return real(self, row, col, formula, fmt, -12345.0 if isinstance(value, (int, float)) else value)

    monkeypatch.setattr(Worksheet, "write_formula", stale)
    path = write(month, tmp_path / "stale.xlsx")
    monkeypatch.undo()
    assert cached_values(path)[("Expanded", "H4")] == -12345.0  # the stale value really is in the file
    (out,) = recalculate([path], tmp_path / "lo")
    assert not compare(month, cached_values(out))


@pytest.mark.slow
@pytest.mark.parametrize("case_id", MODEL_IDS)
def test_column_evaluation_equals_the_formulas_model(case_id, files, formulas_results) -> None:
    """The checker's column-wise evaluation gives, cell for cell, what `formulas`' ExcelModel gives."""
    book = read_workbook(files[case_id])
    fast = evaluate_cells(book.formulas, book.formula_keys, book.names)
    model = formulas_results[case_id]
    diffs = [(k, fast[k], model.get(k)) for k in sorted(book.formula_keys) if not _same(fast[k], model.get(k))]
    assert not diffs, diffs[:10]


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


@pytest.mark.slow
@pytest.mark.parametrize("case_id", IDS)
def test_generated_workbook_checks_clean(case_id, files) -> None:
    """No false findings: drift, inputs, stored numbers and the formulas' own numbers."""
    report = check(read_workbook(files[case_id]))
    assert report.findings == [], report.findings[:5]


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("case_id", IDS)
def test_workbook_checks_clean_after_libreoffice_round_trip(case_id, libreoffice_files) -> None:
    report = check(read_workbook(libreoffice_files[case_id]))
    assert report.findings == [], report.findings[:5]
