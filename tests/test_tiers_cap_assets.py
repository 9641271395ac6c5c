"""The BASE/BONUS/EXCESS workbooks with the per-member cap and several assets (issue 14, grape.md 6
"both models"): random months written by katsheet, recalculated by LibreOffice and by `formulas`,
every cell held to the engine; the workbook's members paid per asset equal `katsheet compute
--max-reward --asset`; new, check, settle (one file per asset), history and next."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from libreoffice import require_libreoffice
from workbooks import cached_values, described, evaluated_values, libreoffice_mismatches, mismatches, random_month

from katsheet.engine.grape.pools import Asset
from katsheet.layouts.grape import Book, as_book
from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import write_month

MONTHS = 16


def capped_month(seed: int) -> Book:
    """A random tiers month with a cap (or the section without one) and 0 to 2 further assets."""
    rnd = random.Random(seed)
    month = random_month(seed)
    if not month.budget:
        month = dataclasses.replace(month, budget=Decimal(1000))
    kinds = [("2500", 2), ("1", 9), ("7", 0), ("123456.78", 2), ("0", 6)]
    assets = tuple(
        Asset(name, Decimal(b), d) for name, (b, d) in zip(("USDC", "SOL"), rnd.sample(kinds, 2), strict=True)
    )
    cap = rnd.choice([None, Decimal("0.05"), Decimal("0.15"), Decimal("0.333"), Decimal(1)])
    return Book((month,), cap_section=True, max_share=cap, assets=assets[: rnd.randint(0, 2)])


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[int, tuple[Book, Path]]:
    folder = tmp_path_factory.mktemp("tiers-cap")
    return {s: (capped_month(s), write_month(capped_month(s), folder / f"m{s}.xlsx")) for s in range(MONTHS)}


def test_the_months_cap_someone_and_pay_several_assets(written) -> None:
    books = [b for b, _ in written.values()]
    assert any(len(b.asset_list) == 3 for b in books) and any(b.max_share is None for b in books)
    assert any(u[1] < u[0] for b in books for line in b.members for u in line.units)


def test_formulas_and_the_cached_values_are_the_engines(written) -> None:
    bad = {}
    for seed, (book, path) in written.items():
        found = mismatches(book, evaluated_values(path)) + mismatches(book, cached_values(path))
        if found:
            bad[seed] = found
    assert not bad, described(bad)


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_engines_figures_and_the_checker_reads_them_back(written, tmp_path) -> None:
    require_libreoffice()
    seeds = list(written)
    bad, done = libreoffice_mismatches(written, tmp_path / "lo")
    assert not bad, described(bad)
    for s, p in zip(seeds[:6], done[:6], strict=True):
        book = read_workbook(p)
        assert check(book).findings == [], s
        assert (book.month.max_share, book.month.assets) == (written[s][0].max_share, written[s][0].assets)


def test_the_workbook_pays_what_compute_computes(run, tmp_path) -> None:
    """The workbook's route (each asset in proportion to the budget, the cap in whole units) and
    compute's (each asset allocated apart, cap_members) give every member the same amounts."""
    out = tmp_path / "m.xlsx"
    args = ["--max-reward", "15%", "--asset", "GRAPE=100000", "--asset", "USDC=2500:2", "--asset", "SOL=10:9"]
    code, _, err = run("new", str(out), "--sample", "--month", "2026-11", *args)
    assert code == 0, err
    book = read_workbook(out).month
    computed = run.json("compute", "--sample", *args)
    for k, asset in enumerate(computed["assets"]):
        paid = {m["member"]: Decimal(m["total"]) for m in asset["members_capped"]}
        assert paid == {line.member: line.paid(book, k) for line in book.members}, asset["asset"]
        assert Decimal(asset["returned_to_treasury"]) == book.asset_list[k].budget - sum(paid.values())
    assert check(read_workbook(out)).findings == []


def test_settle_pays_each_asset_after_the_cap_and_next_carries_the_section(run, lo_editor, tmp_path) -> None:
    from test_settle_grape import sign

    out = tmp_path / "m.xlsx"
    assert run("new", str(out), "--sample", "--month", "2026-11", "--max-reward", "15%", "--asset", "GRAPE=100000",
               "--asset", "USDC=2500:2")[0] == 0  # fmt: skip
    signed = sign(lo_editor, out, tmp_path / "signed.xlsx")
    settled_dir = tmp_path / "settled"
    settled_dir.mkdir()
    code, _, err = run("settle", str(signed), "--out", str(settled_dir), "--payout", "generic")
    assert code == 0, err
    book = read_workbook(signed).month
    record = json.loads((settled_dir / "GRAPE-2026-11-settlement.json").read_text())
    for k, asset in enumerate(book.asset_list):
        rows = list(csv.DictReader(io.StringIO((settled_dir / f"GRAPE-2026-11-{asset.name}-generic.csv").read_text())))
        paid = {r["member"]: Decimal(r["amount"]) for r in rows}
        assert paid == {x.member: x.paid(book, k) for x in book.members if x.paid(book, k) > 0}
        assert sum(paid.values()) == Decimal(record["assets"][asset.name]["total_allocated"])
    assert max(Decimal(r) for r in paid.values()) <= Decimal("2500") * Decimal("0.15")
    code, out_json, _ = run("history", str(settled_dir), "--format", "json")
    assert code == 0 and json.loads(out_json)["months"][0]["verified"] is True
    code, _, err = run("next", str(settled_dir / "GRAPE-2026-11-settled.xlsx"), str(tmp_path / "next.xlsx"),
                       "--carry-over", "100%")  # fmt: skip
    assert code == 0, err
    nxt = read_workbook(tmp_path / "next.xlsx").month
    assert nxt.cap_section and nxt.max_share == Decimal("0.15") and [a.name for a in nxt.assets] == ["USDC"]
    usdc_returned = Decimal(record["assets"]["USDC"]["returned_to_treasury"])
    assert nxt.assets[0].budget == Decimal(2500) + usdc_returned
    grape_returned = Decimal(record["assets"]["GRAPE"]["returned_to_treasury"])
    assert nxt.first.budget == Decimal(100000) + grape_returned  # what the cap cut returns, and is carried
    assert check(read_workbook(tmp_path / "next.xlsx")).findings == []


def test_the_section_is_for_one_subdao_and_needs_a_budget(run, tmp_path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("member,role,grape_weight\nAda,Dev,0.5\n")
    code, _, err = run("new", str(tmp_path / "a.xlsx"), "--subdao", f"Main={roster}:100", "--max-reward", "10%")
    assert code == 2 and "one SubDAO" in err
    book = as_book(random_month(3))
    with pytest.raises(Exception, match="budget above 0"):
        Book((dataclasses.replace(book.first, budget=Decimal(0)),), cap_section=True,
             assets=(Asset("USDC", Decimal(1), 2),))  # fmt: skip
