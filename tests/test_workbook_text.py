"""Text from users is data, never a formula: names survive our writer and a LibreOffice round trip."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest
from libreoffice import recalculate, require_libreoffice
from workbooks import write

from katsheet.engine import SINGLE_CRITERION
from katsheet.engine.grape.roster import ScoredRow
from katsheet.layouts.grape import Month

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)", "=1+1", "'quoted", "\t=tab"]


def _month() -> Month:
    rows = tuple(ScoredRow(name, f"role {name}", (Decimal("0.5"),), Decimal("0.5")) for name in HOSTILE)
    return Month(template="compact", month="2026-12", criteria=SINGLE_CRITERION, budget=Decimal(1000), rows=rows)


def _texts(path, sheet: str, column: str, first: int) -> list[object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return [wb[sheet][f"{column}{first + i}"].value for i in range(len(HOSTILE))]


def _no_formula_in_inputs(path) -> None:
    wb = openpyxl.load_workbook(path)  # formulas view: an input cell must not hold one
    ws = wb["Scoring"]
    for i in range(len(HOSTILE)):
        assert ws[f"A{16 + i}"].data_type == "s", ws[f"A{16 + i}"].value
        assert ws[f"A{16 + i}"].value == HOSTILE[i]


def test_names_are_written_as_text(tmp_path) -> None:
    path = write(_month(), tmp_path / "hostile.xlsx")
    _no_formula_in_inputs(path)
    assert _texts(path, "Compact", "B", 16) == HOSTILE  # the mirrored names, as cached values


@pytest.mark.libreoffice
def test_names_stay_text_after_libreoffice_round_trip(tmp_path) -> None:
    require_libreoffice()
    path = write(_month(), tmp_path / "hostile.xlsx")
    (out,) = recalculate([path], tmp_path / "lo")
    _no_formula_in_inputs(out)
    assert _texts(out, "Scoring", "A", 16) == HOSTILE
    assert _texts(out, "Compact", "B", 16) == HOSTILE  # recalculated by LibreOffice, still the text
    assert _texts(out, "Compact", "C", 16) == [f"role {n}" for n in HOSTILE]
