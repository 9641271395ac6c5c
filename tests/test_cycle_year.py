"""A year of months for both frameworks (issue 12): each month edited in LibreOffice (a row typed
in, scores typed), approved, settled, and the next one started from it; every carried figure is
the engine's, every payout file sums exactly, and history verifies the twelve months."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from katsheet.cli.main import main
from katsheet.engine.names import member_key
from katsheet.engine.numbers import round_down
from katsheet.layouts.grape import as_book, grape_layout
from katsheet.layouts.kat import LEDGER, kat_layout
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import kat_sample_month, sample_months, write_month

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]
EPOCH_2026_11_01 = 46327  # 2026-11-01 as a spreadsheet date
MONTHS = 12


def _at(path: Path, name: str) -> tuple[str, str]:
    sheet, cell = read_workbook(path).names[name].split("!")
    return sheet.strip("'="), cell.replace("$", "")


def _signed(path: Path, serial: int) -> list[list]:
    return [["set_text", *_at(path, "ApprovedBy"), "The council"], ["set", *_at(path, "ApprovedOn"), serial]]


def _serial(period: str, day: int) -> int:
    from katsheet.engine.dates import EXCEL_EPOCH, parse_month

    return (parse_month(period, where="")[0] - EXCEL_EPOCH).days + day - 1


def _paid(folder: Path, name: str) -> Decimal:
    rows = list(csv.DictReader(io.StringIO((folder / name).read_text())))
    return sum((Decimal(r["amount"]) for r in rows), Decimal(0))


def test_a_year_of_kat_months(lo_editor, tmp_path) -> None:
    path = write_month(kat_sample_month(), tmp_path / "start.xlsx")
    previous = None
    for n in range(MONTHS):
        month = read_workbook(path).month
        period = month.period.period
        if previous is not None:  # carried: exactly the engine's figures of the month before
            carried = {member_key(s.member): s for s in month.states}
            for m in previous.period.members:
                s = carried[member_key(m.member)]
                assert (s.level, s.streak, s.last_active, s.first_seen, s.cumulative) == (
                    m.level, m.streak, m.last_active, m.first_seen, m.cumulative), (period, m.member)  # fmt: skip
        table = kat_layout(month).sheet(LEDGER).table
        row = table.first_row + len(month.ledger)
        member = month.members[n % len(month.members)].member
        typed = [["set_text", LEDGER, f"A{row}", f"Y-{period}"], ["set", LEDGER, f"B{row}", _serial(period, 3)],
                 ["set_text", LEDGER, f"C{row}", member], ["set_text", LEDGER, f"D{row}", "Guides"],
                 ["set_text", LEDGER, f"E{row}", "G2"], ["set", LEDGER, f"F{row}", 2],
                 ["set_text", LEDGER, f"G{row}", "https://ev.example/y"], ["set_text", LEDGER, f"H{row}", "Organizer"],
                 ["set", LEDGER, f"I{row}", _serial(period, 5)], ["set_text", LEDGER, f"J{row}", "verified"]]  # fmt: skip
        edited = lo_editor.edit(path, tmp_path / f"edited-{period}.xlsx", [*typed, *_signed(path, _serial(period, 28))])
        assert main(["settle", str(edited), "--out", str(tmp_path)]) == 0
        sid = month.period.settlement_id
        settled = read_workbook(tmp_path / f"{sid}-settled.xlsx").month
        record = json.loads((tmp_path / f"{sid}-settlement.json").read_text())
        assert _paid(tmp_path, f"{sid}-mint.csv") == settled.period.minted == Decimal(record["totals"]["minted"])
        assert any(r.entry == f"Y-{period}" and r.seal for r in settled.rows)  # the typed row counted and sealed
        assert main(["next", str(tmp_path / f"{sid}-settled.xlsx")]) == 0
        previous, path = settled, tmp_path / f"{month.config.code}-{_month_after(period)}.xlsx"
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        assert main(["history", str(tmp_path), "--format", "json"]) == 0
    months = json.loads(out.getvalue())["months"]
    assert len(months) == MONTHS and all(m["verified"] for m in months)


def _month_after(period: str) -> str:
    from katsheet.cycle.next import month_after

    return month_after(period)


def test_a_year_of_grape_months(lo_editor, tmp_path) -> None:
    book = as_book(sample_months()["2026-11-expanded.xlsx"])
    path = write_month(book, tmp_path / "start.xlsx")
    for n in range(MONTHS):
        current = read_workbook(path).month
        month = current.month
        scoring = grape_layout(current).sheet("Scoring").table
        scores = [["set", "Scoring", f"{scoring.letter(f's{c}')}{scoring.first_row + r}", 0.5 + (n + r + c) % 5 / 10]
                  for r in range(len(current.first.rows)) for c in range(len(current.first.criteria.items))]  # fmt: skip
        edited = lo_editor.edit(path, tmp_path / f"edited-{month}.xlsx", [*scores, *_signed(path, _serial(month, 28))])
        assert main(["settle", str(edited), "--out", str(tmp_path), "--payout", "generic"]) == 0
        settled = read_workbook(tmp_path / f"GRAPE-{month}-settled.xlsx").month
        total = sum(line.total for line in settled.members)
        assert _paid(tmp_path, f"GRAPE-{month}-generic.csv") == total > 0
        assert main(["next", str(tmp_path / f"GRAPE-{month}-settled.xlsx"), "--carry-over", "25%"]) == 0
        path = tmp_path / f"GRAPE-{_month_after(month)}.xlsx"
        following = read_workbook(path).month
        returned = settled.first.allocation.returned_to_treasury
        base = book.first.budget  # the base stays; only last month's returned amount is carried
        assert following.first.budget == round_down(base + returned / 4, 6) and following.first.base_budget == base
        assert [(r.member, r.wallet) for r in following.first.rows] == [
            (r.member, r.wallet) for r in settled.first.rows
        ]
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        assert main(["history", str(tmp_path), "--format", "json"]) == 0
    months = json.loads(out.getvalue())["months"]
    assert len(months) == MONTHS and all(m["verified"] for m in months)
