"""`katsheet settle` on GRAPE months (issue 12): the payout file per member over every role and
SubDAO sheet, in each format, summing exactly to the total allocated; wallets checked; the
settled workbook sealed and verified like a KAT month."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from katsheet.cycle.wallets import solana_problem
from katsheet.engine.names import member_key
from katsheet.layouts.grape import GUIDE, as_book, grape_layout, sheet_names
from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import sample_months, write_month

pytestmark = pytest.mark.libreoffice
SIGNED_ON = 46358  # 2026-12-02


def _at(path: Path, name: str) -> tuple[str, str]:
    sheet, cell = read_workbook(path).names[name].split("!")
    return sheet.strip("'="), cell.replace("$", "")


def sign(lo_editor, path: Path, out: Path) -> Path:
    return lo_editor.edit(path, out, [["set_text", *_at(path, "ApprovedBy"), "GRAPE council"],
                                      ["set", *_at(path, "ApprovedOn"), SIGNED_ON]])  # fmt: skip


@pytest.fixture(scope="module")
def subdaos():
    """Two SubDAO sheets; Ada Okafor holds roles in both (the sample with several SubDAOs)."""
    return as_book(sample_months()["2026-11-subdaos.xlsx"])


@pytest.fixture(scope="module")
def signed(subdaos, lo_editor, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("grape")
    return sign(lo_editor, write_month(subdaos, folder / "month.xlsx"), folder / "signed.xlsx")


def test_the_approval_cells_are_on_the_guide(signed) -> None:
    assert _at(signed, "ApprovedBy")[0] == GUIDE and _at(signed, "ApprovedOn")[0] == GUIDE


@pytest.mark.parametrize("fmt", ["solana-tokens", "grape-governance", "streamflow", "generic"])
def test_each_format_pays_each_member_once_over_roles_and_subdaos(subdaos, signed, run, fmt, tmp_path) -> None:
    code, _, err = run("settle", str(signed), "--out", str(tmp_path), "--payout", fmt)
    assert code == 0, err
    sid = f"GRAPE-{subdaos.month}"
    data = (tmp_path / f"{sid}-{fmt}.csv").read_text()
    rows = list(csv.reader(io.StringIO(data)))
    if fmt != "grape-governance":
        rows = rows[1:]
    wallet_col, amount_col = {"solana-tokens": (0, 1), "grape-governance": (0, 1), "streamflow": (1, 0),
                              "generic": (1, 2)}[fmt]  # fmt: skip
    paid = {r[wallet_col]: Decimal(r[amount_col]) for r in rows}
    expected = {line.wallet: line.total for line in subdaos.members if line.total > 0}
    assert paid == expected and len(rows) == len(expected)
    assert sum(paid.values()) == sum(line.total for line in subdaos.members)
    assert all(solana_problem(w) is None for w in paid)
    ada = next(line for line in subdaos.members if line.member == "Ada Okafor")
    assert paid[ada.wallet] == ada.total and ada.role_rows >= 2  # summed over both SubDAO sheets
    record = json.loads((tmp_path / f"{sid}-settlement.json").read_text())
    assert record["payout_format"] == fmt and Decimal(record["totals"]["total_allocated"]) == sum(paid.values())
    assert check(read_workbook(tmp_path / f"{sid}-settled.xlsx")).findings == []


def test_two_wallets_for_one_member_and_a_missing_wallet_are_named(subdaos, lo_editor, run, tmp_path) -> None:
    first = subdaos.parts[0]
    ada_parts = [p for p, part in enumerate(subdaos.parts) for r in part.rows if r.member == "Ada Okafor"]
    p1 = ada_parts[-1]
    other = next(r for r in first.rows if r.member != "Ada Okafor")
    parts = list(subdaos.parts)
    parts[p1] = dataclasses.replace(parts[p1], rows=tuple(
        dataclasses.replace(r, wallet="So11111111111111111111111111111111111111112") if r.member == "Ada Okafor" else r
        for r in parts[p1].rows))  # fmt: skip
    parts[0] = dataclasses.replace(parts[0], rows=tuple(
        dataclasses.replace(r, wallet="") if member_key(r.member) == member_key(other.member) else r
        for r in parts[0].rows))  # fmt: skip
    book = dataclasses.replace(subdaos, parts=tuple(parts))
    signed = sign(lo_editor, write_month(book, tmp_path / "m.xlsx"), tmp_path / "s.xlsx")
    code, _, err = run("settle", str(signed))
    assert code == 1
    scoring, _ = sheet_names(book.template, parts[p1].subdao)
    letter = grape_layout(book).sheet(scoring).table.letter("wallet")
    assert f"{scoring}!{letter}" in err and "has two wallets" in err
    assert f"{other.member} is paid" in err and "has no wallet" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.xlsx", "s.xlsx"]


def test_a_score_changed_after_settlement_is_named_at_its_cell(subdaos, signed, lo_editor, run, tmp_path) -> None:
    code, _, _ = run("settle", str(signed), "--out", str(tmp_path))
    assert code == 0
    settled = tmp_path / f"GRAPE-{subdaos.month}-settled.xlsx"
    scoring, _ = sheet_names(subdaos.template, subdaos.parts[0].subdao)
    table = grape_layout(subdaos).sheet(scoring).table
    cell = f"{table.letter('s0')}{table.first_row}"
    edited = lo_editor.edit(settled, tmp_path / "edited.xlsx", [["set", scoring, cell, 0.99]])
    sealed = [f for f in check(read_workbook(edited)).findings if f.kind == "sealed"]
    assert [(f.sheet, f.cell) for f in sealed][:1] == [(scoring, cell)]
    code, _, err = run("settle", str(settled))
    assert code == 1 and "settled once" in err


def test_next_carries_members_wallets_and_a_carried_over_budget(subdaos, signed, run, tmp_path) -> None:
    from katsheet.engine.numbers import round_down

    assert run("settle", str(signed), "--out", str(tmp_path))[0] == 0
    settled = tmp_path / f"GRAPE-{subdaos.month}-settled.xlsx"
    code, out, err = run("next", str(settled), "--carry-over", "50%")
    assert code == 0, err
    nxt = read_workbook(tmp_path / "GRAPE-2026-12.xlsx")
    assert check(nxt).findings == [] and nxt.month.stamp is None and nxt.month.approval == {}
    for before, after in zip(subdaos.parts, nxt.month.parts, strict=True):
        returned = before.allocation.returned_to_treasury
        assert after.budget == round_down(before.budget + returned / 2, before.options.decimals)
        assert [(r.member, r.role, r.wallet) for r in after.rows] == [(r.member, r.role, r.wallet) for r in before.rows]
        assert all(s in ("", 0, Decimal(0)) for r in after.rows for s in r.scores)
        assert after.criteria == before.criteria and after.options == before.options
    assert "carry-over 50" in out
    code, out, _ = run("history", str(tmp_path), "--format", "json")
    assert code == 0 and json.loads(out)["months"][0]["verified"] is True
    code, _, err = run("next", str(tmp_path / "GRAPE-2026-12.xlsx"))
    assert code == 2 and "is not settled" in err


def test_again_writes_the_same_format_and_a_failure_midway_leaves_nothing(subdaos, signed, run, monkeypatch,
                                                                          tmp_path) -> None:  # fmt: skip
    """--again needs no --payout: the settled workbook remembers it. A disk that fills up while the
    third file is published leaves none of the four (io/atomic.py undoes the first two)."""
    import errno

    from katsheet.io import atomic

    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert run("settle", str(signed), "--out", str(first), "--payout", "streamflow")[0] == 0
    settled = first / f"GRAPE-{subdaos.month}-settled.xlsx"
    code, out, _ = run("settle", str(settled), "--again")
    assert code == 0 and out.count("byte-identical") == 4
    published = []
    real = atomic._publish

    def full_disk(path, data, force):
        if len(published) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data, force)
        published.append(path)

    monkeypatch.setattr(atomic, "_publish", full_disk)
    code, _, err = run("settle", str(signed), "--out", str(second))
    assert code == 2 and "disk is full" in err and len(published) == 2
    assert list(second.iterdir()) == []
