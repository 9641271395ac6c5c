"""What a treasurer sees and prints: widths that hold every amount, charts of members, print areas
without empty pages, and --annotate marks that no conditional format hides."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from katsheet.engine.limits import budget_units_limit
from katsheet.layouts.grape import Month
from katsheet.workbook.shipped import sample_months, shipped_templates, write_month

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_month(sample_months()["2026-11-expanded.xlsx"], tmp_path_factory.mktemp("view") / "m.xlsx")


def test_amount_columns_hold_the_largest_amount_a_workbook_allows(sample) -> None:
    """Budgets of 1e9 and more showed ### in the budget and total cells."""
    widest = max(len(f"{budget_units_limit(d):,.{d}f}") for d in range(0, 13))
    ws = openpyxl.load_workbook(sample)["Expanded"]
    for column in ("E", "H", "O"):  # the budget, base allocated, total
        assert ws.column_dimensions[column].width >= widest + 1, column
    members = openpyxl.load_workbook(sample)["Members"]
    assert members.column_dimensions["D"].width >= widest + 1


def test_the_allocation_chart_has_one_bar_per_member(sample) -> None:
    """The chart titled per member plots the Members sheet, not one bar per role row."""
    wb = openpyxl.load_workbook(sample)
    members = len({r.member.casefold() for r in sample_months()["2026-11-expanded.xlsx"].rows})
    (chart,) = wb["Expanded"]._charts
    assert chart.series[0].val.numRef.f == f"Members!$D$5:$D${4 + members}"
    assert chart.series[0].cat.strRef.f == f"Members!$B$5:$B${4 + members}"


def test_printing_shows_the_members_and_no_empty_pages(sample) -> None:
    wb = openpyxl.load_workbook(sample)
    rows = len(sample_months()["2026-11-expanded.xlsx"].rows)
    expanded = wb["Expanded"]
    assert expanded.print_area == f"'Expanded'!$A$1:$U${15 + rows}"
    assert expanded.print_title_rows == "$15:$15" and expanded.print_title_cols == "$A:$B"
    assert expanded.page_setup.fitToWidth == 2 and expanded.page_setup.orientation == "landscape"
    assert wb["Scoring"].print_area == f"'Scoring'!$A$1:$I${15 + rows}"
    assert wb["Members"].print_area.endswith(f"$G${4 + 12}")  # 12 members (Chen Wei holds two roles)
    assert wb["Guide"].column_dimensions["A"].width >= max(len(str(c.value or "")) for c in wb["Guide"]["A"])


def test_a_blank_template_prints_its_header_not_a_hundred_empty_rows(tmp_path) -> None:
    path = write_month(shipped_templates()["grape-compact.xlsx"], tmp_path / "blank.xlsx")
    ws = openpyxl.load_workbook(path)["Compact"]
    assert ws.print_area == "'Compact'!$A$1:$N$16"
    assert ws.page_setup.fitToWidth in (None, 1) and ws.sheet_properties.pageSetUpPr.fitToPage  # 1 is the default


def test_annotated_marks_are_above_the_sheets_own_colours(run, tmp_path) -> None:
    """An eligible row is green by a conditional format, which paints over a cell's fill: the
    annotated copy puts its red first, in priority (Excel) and in the file (LibreOffice)."""
    out = tmp_path / "marked.xlsx"
    code, _, _ = run("check", str(ROOT / "sample_workbooks" / "2026-11-hand-edited.xlsx"), "--annotate", str(out))
    assert code == 1
    ws = openpyxl.load_workbook(out)["Expanded"]
    blocks = list(ws.conditional_formatting)
    first = blocks[0]
    assert {"O20", "P16", "P20"} <= set(str(first.sqref).split())
    (rule,) = first.rules
    assert rule.priority == 1 and rule.stopIfTrue and rule.formula == ["TRUE"]
    assert all(r.priority > 1 for b in blocks[1:] for r in b.rules)
    assert "O20" in str(blocks[0].sqref) and any("A16" in str(b.sqref) for b in blocks[1:])  # inside a green range


def test_big_budgets_fit_and_check_clean(tmp_path, run) -> None:
    """The largest budget at 2 decimals: the workbook holds it, shows it and checks it clean."""
    month = sample_months()["2026-11-compact.xlsx"]
    big = Month(**{**month.__dict__, "budget": budget_units_limit(2), "options": month.options})
    path = write_month(big, tmp_path / "big.xlsx")
    code, out, err = run("check", str(path))
    assert code == 0, out + err
    assert big.allocation.budget == Decimal("99999999999.99")
