"""The task-pool month through the cycle (issue 14): approved in LibreOffice, settled into one
payout file per asset (each summing exactly to its asset's total, read back by an independent
reader), sealed and verified, carried by `katsheet next` with carry-over per asset, and checked
by `katsheet history`; tampering with a file or a settled cell is named."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from test_settle_grape import _at, sign

from katsheet.cycle.wallets import solana_problem
from katsheet.layouts.pools import SCORING, pools_layout
from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import sample_months, write_month

pytestmark = pytest.mark.libreoffice
SAMPLE = "2026-11-pools.xlsx"


@pytest.fixture(scope="module")
def month():
    return sample_months()[SAMPLE]


@pytest.fixture(scope="module")
def signed(month, lo_editor, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pools")
    return sign(lo_editor, write_month(month, folder / "month.xlsx"), folder / "signed.xlsx")


def solana_tokens(data: str) -> list[tuple[str, Decimal]]:
    """solana-tokens' CSV as its documentation describes it: recipient,amount,lockup_date."""
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0] == ["recipient", "amount", "lockup_date"]
    out = []
    for recipient, amount, lockup in rows[1:]:
        assert solana_problem(recipient) is None and lockup == "" and "e" not in amount.lower() and "," not in amount
        out.append((recipient, Decimal(amount)))
    return out


def test_settle_writes_one_payout_file_per_asset_summing_to_its_total(month, signed, run, tmp_path) -> None:
    code, _, err = run("settle", str(signed), "--out", str(tmp_path), "--payout", "solana-tokens")
    assert code == 0, err
    sid = f"GRAPE-{month.month}"
    record = json.loads((tmp_path / f"{sid}-settlement.json").read_text())
    assert record["model"] == "pools" and list(record["assets"]) == ["GRAPE", "USDC", "SOL"]
    wallets = {r.wallet for r in month.rows}
    for asset, allocation in zip(month.assets, month.allocations, strict=True):
        paid = solana_tokens((tmp_path / f"{sid}-{asset.name}-solana-tokens.csv").read_text())
        assert (
            sum(a for _, a in paid)
            == allocation.total_allocated
            == Decimal(record["assets"][asset.name]["total_allocated"])
        )
        assert len({w for w, _ in paid}) == len(paid) and {w for w, _ in paid} <= wallets
        assert all(-a.as_tuple().exponent <= asset.decimals for _, a in paid)  # the asset's own decimals
        assert len(paid) == sum(1 for m in allocation.members if m.total > 0)
    settled = tmp_path / f"{sid}-settled.xlsx"
    assert check(read_workbook(settled)).findings == []
    assert "SOL" in (tmp_path / f"{sid}-report.html").read_text()
    code, out, err = run("history", str(tmp_path), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["months"][0]["verified"] is True
    # one payout file changed: history names it; the others still verify
    usdc = tmp_path / f"{sid}-USDC-solana-tokens.csv"
    usdc.write_text(usdc.read_text().replace(",", ",1", 2).replace(",1", ",", 1))
    code, _, err = run("history", str(tmp_path))
    assert code == 1 and usdc.name in err


def test_a_missing_wallet_and_safe_with_several_assets_are_refused(month, signed, lo_editor, run, tmp_path) -> None:
    table = pools_layout(month).sheet(SCORING).table
    cell = f"{table.letter('wallet')}{table.first_row}"
    edited = lo_editor.edit(signed, tmp_path / "no-wallet.xlsx", [["clear", SCORING, cell]])
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run("settle", str(edited), "--out", str(out))
    assert code == 1 and f"{SCORING}!{cell}" in err and err.count(f"{SCORING}!{cell}") == 1
    assert list(out.iterdir()) == []
    code, _, err = run("settle", str(signed), "--out", str(out), "--payout", "safe", "--token", "0x" + "ab" * 20)
    assert code == 2 and "several assets" in err and list(out.iterdir()) == []


def test_a_score_changed_after_settlement_is_named_and_next_carries_each_asset(month, signed, lo_editor, run,
                                                                              tmp_path) -> None:  # fmt: skip
    assert run("settle", str(signed), "--out", str(tmp_path))[0] == 0
    settled = tmp_path / f"GRAPE-{month.month}-settled.xlsx"
    table = pools_layout(month).sheet(SCORING).table
    score = f"{table.letter('s_1')}{table.first_row + 1}"
    tampered = lo_editor.edit(settled, tmp_path / "tampered.xlsx", [["set", SCORING, score, 0.1]])
    found = check(read_workbook(tampered)).findings
    assert found and found[0].kind == "sealed" and found[0].cell == score
    code, _, err = run("next", str(tampered), str(tmp_path / "refused.xlsx"))
    assert code == 1 and not (tmp_path / "refused.xlsx").exists()

    code, _, err = run("next", str(settled), str(tmp_path / "next.xlsx"), "--carry-over", "50%")
    assert code == 0, err
    nxt = read_workbook(tmp_path / "next.xlsx")
    assert check(nxt).findings == [] and nxt.month.month == "2026-12"
    for before, allocation, after in zip(month.assets, month.allocations, nxt.month.assets, strict=True):
        carried = before.budget + allocation.returned_to_treasury / 2
        assert after.budget == carried.quantize(Decimal(1).scaleb(-before.decimals), rounding="ROUND_DOWN")
    assert [(r.member, r.wallet) for r in nxt.month.rows] == [(r.member, r.wallet) for r in month.rows]
    assert all(not any(r.scores) for r in nxt.month.rows)
    assert nxt.month.max_share == month.max_share and [t.share for t in nxt.month.tasks] == [
        t.share for t in month.tasks
    ]
    # the month after is approved and settled in turn; history verifies both months
    signed_next = sign(lo_editor, tmp_path / "next.xlsx", tmp_path / "next-signed.xlsx")
    scored = lo_editor.edit(signed_next, tmp_path / "scored.xlsx", [["set", SCORING, score, 0.5]])
    assert run("settle", str(scored), "--out", str(tmp_path))[0] == 0
    code, out, _ = run("history", str(tmp_path), "--format", "json")
    assert code == 0 and [m["period"] for m in json.loads(out)["months"]] == ["2026-11", "2026-12"]
    assert _at(scored, "ApprovedBy")


def test_the_dashboards_pages_show_every_asset_and_explain_the_pools(month, signed, run, tmp_path) -> None:
    """The static site (the dashboard's pages) of a settled task-pool month: each asset's totals
    as the engine has them, and a member's figure explained task by task and asset by asset."""
    from katsheet.dashboard.site import build_site
    from katsheet.engine.numbers import grouped

    assert run("settle", str(signed), "--out", str(tmp_path))[0] == 0
    pages = {path: data.decode() for path, data in build_site(tmp_path).items() if path.endswith(".html")}
    page = pages[f"GRAPE/{month.month}/index.html"]
    for asset, allocation in zip(month.assets, month.allocations, strict=True):
        assert grouped(allocation.total_allocated, asset.decimals) in page
        assert grouped(allocation.returned_to_treasury, asset.decimals) in page
    capped = next(m for m in month.allocations[0].members if m.capped)
    member = next(text for path, text in pages.items() if "/member-" in path and capped.member in text)
    assert "Task Development" in member and "cut the member&#39;s amount" in member
    assert f"{grouped(capped.total, month.assets[0].decimals)} GRAPE" in member


def test_the_dashboard_walks_a_pools_month_from_draft_to_the_next(month, tmp_path) -> None:
    """Approve, settle and start the next month through the dashboard's forms, as the command line."""
    import re

    from starlette.testclient import TestClient

    from katsheet.dashboard.app import create_app

    folder = tmp_path / "months"
    folder.mkdir()
    write_month(month, folder / "GRAPE-2026-11.xlsx")
    client = TestClient(create_app(folder, warm_up=False))

    def form(**extra: str) -> dict[str, str]:
        page = client.get("/GRAPE/2026-11/index.html").text
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        version = re.search(r'name="version" value="([^"]*)"', page)
        return {"csrf": token, **({"version": version.group(1)} if version else {}), **extra}

    assert client.post("/GRAPE/2026-11/approve", data=form(by="Council", on="2026-12-01")).status_code == 200
    r = client.post("/GRAPE/2026-11/settle", data=form(payout="streamflow"))
    assert r.status_code == 200 and "Settled:" in r.text
    assert {p.name for p in folder.glob("*-streamflow.csv")} == {f"GRAPE-2026-11-{a.name}-streamflow.csv"
                                                                  for a in month.assets}  # fmt: skip
    assert client.post("/GRAPE/2026-11/next", data=form()).status_code == 200
    assert read_workbook(folder / "GRAPE-2026-12.xlsx").month.month == "2026-12"
