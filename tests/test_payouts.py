"""Payout files parsed back by readers written from each format's published description, not
from katsheet's writer: columns, header, 400-row parts for Safe, exact sums, valid addresses."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from katsheet.cycle.payouts import GRAPE_FORMATS, SAFE_ROWS, payees, render
from katsheet.cycle.wallets import eip55, evm_problem, solana_problem
from katsheet.engine import InputError

TOKEN = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def solana(i: int) -> str:
    return base58.b58encode(i.to_bytes(32, "big")).decode()


def evm(i: int) -> str:
    return eip55("0x" + i.to_bytes(20, "big").hex())


def read_back(fmt: str, data: bytes) -> list[tuple[str, Decimal]]:
    """(wallet, amount) per row, as each tool's documentation describes its file."""
    text = data.decode("utf-8")
    assert "\r" not in text and not text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    if fmt == "grape-governance":  # address,amount lines, no header
        return [(r[0], Decimal(r[1])) for r in rows]
    header, body = rows[0], rows[1:]
    expected = {"solana-tokens": ["recipient", "amount", "lockup_date"], "streamflow": ["Amount", "Wallet address", "Name"],
                "generic": ["member", "wallet", "amount"], "safe": ["token_type", "token_address", "receiver", "amount", "id"],
                "kat-mint": ["settlement_id", "period", "member", "wallet", "amount"]}[fmt]  # fmt: skip
    assert header == expected
    col = {name: header.index(name) for name in header}
    wallet = {"solana-tokens": "recipient", "streamflow": "Wallet address", "safe": "receiver"}.get(fmt, "wallet")
    amount = "Amount" if fmt == "streamflow" else "amount"
    if fmt == "safe":
        assert all(r[col["token_type"]] == "erc20" and r[col["token_address"]] == TOKEN for r in body)
    for r in body:
        assert "e" not in r[col[amount]].lower() and "," not in r[col[amount]]
    return [(r[col[wallet]], Decimal(r[col[amount]])) for r in body]


amounts = st.lists(st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False), min_size=0, max_size=60)


@given(amounts, st.sampled_from([*GRAPE_FORMATS, "kat-mint"]))
def test_each_format_reads_back_to_the_amounts_and_sums_exactly(values, fmt) -> None:
    members = {f"Member {i}": v for i, v in enumerate(values)}
    chain = evm if fmt in ("safe", "kat-mint") else solana
    wallets = {m: chain(i + 1) for i, m in enumerate(members)}
    paid, problems = payees(members, wallets, where={})
    assert problems == []
    total = sum(paid_amount for paid_amount in members.values() if paid_amount > 0) or Decimal(0)
    files = render(fmt, paid, Decimal(total), token=TOKEN, settlement_id="CED-2026-11", period="2026-11")
    back = [row for f in files for row in read_back(fmt, f.data)]
    assert sum((a for _, a in back), Decimal(0)) == total
    assert sorted(back) == sorted((wallets[m], v) for m, v in members.items() if v > 0)
    check = evm_problem if chain is evm else solana_problem
    assert all(check(w) is None for w, _ in back)


def test_safe_splits_at_400_rows() -> None:
    members = {f"M{i:04d}": Decimal("1.5") for i in range(2 * SAFE_ROWS + 7)}
    paid, _ = payees(members, {m: evm(i + 1) for i, m in enumerate(members)}, where={})
    files = render("safe", paid, Decimal("1.5") * len(members), token=TOKEN)
    assert [f.suffix for f in files] == ["-part1", "-part2", "-part3"]
    assert [len(read_back("safe", f.data)) for f in files] == [400, 400, 7]


def test_missing_and_shared_wallets_are_named_each() -> None:
    members = {"Ada": Decimal(5), "Bo": Decimal(3), "Cy": Decimal(2), "Dee": Decimal(0)}
    paid, lines = payees(members, {"Ada": solana(1), "Cy": solana(1)}, where={"Bo": "Members!B6", "Cy": "Members!B7"})
    assert [p.member for p in paid] == ["Ada"]
    assert lines == [
        "Members!B6: Bo is paid 3 and has no wallet: add their wallet",
        f"Members!B7: Cy has the wallet of Ada ({solana(1)}): one wallet per member",
    ]
    paid, problems = payees(members, {m: solana(i + 1) for i, m in enumerate(members)}, where={})
    assert [p.member for p in paid] == ["Ada", "Bo", "Cy"] and problems == []


def test_a_list_that_does_not_sum_is_refused_and_names_that_spreadsheets_run_stay_text() -> None:
    name = '=HYPERLINK("x")'
    paid, _ = payees({name: Decimal("0.1"), "Bo": Decimal("0.2")}, {name: solana(1), "Bo": solana(2)}, where={})
    with pytest.raises(InputError, match=r"sums to 0\.3, not the total 0\.4"):
        render("generic", paid, Decimal("0.4"))
    text = render("generic", paid, Decimal("0.3"))[0].data.decode()
    assert "'=HYPERLINK" in text
    with pytest.raises(InputError, match="--token"):
        render("safe", [], Decimal(0))
    with pytest.raises(InputError, match="unknown payout format"):
        render("paypal", paid, Decimal("0.3"))
