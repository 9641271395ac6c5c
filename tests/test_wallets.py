"""Wallet addresses: Solana (base58, 32 bytes) for GRAPE payouts, EVM (EIP-55) for KAT mints."""

from __future__ import annotations

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from katsheet.cycle.wallets import check_wallet, eip55, evm_problem, solana_problem
from katsheet.engine import InputError

#: EIP-55's own examples (https://eips.ethereum.org/EIPS/eip-55)
EIP55 = ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
         "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
         "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
         "0x27b1fdb04752bbc536007a920d24acb045561c26", "0xde709f2102306220921060314715629080e2fb77"]  # fmt: skip
SOLANA = ["So11111111111111111111111111111111111111112", "11111111111111111111111111111111",
          "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"]  # fmt: skip


@pytest.mark.parametrize("address", EIP55)
def test_eip55_examples(address) -> None:
    assert evm_problem(address) is None
    assert eip55(address.lower()) == address or address[2:] in (address[2:].lower(), address[2:].upper())


@pytest.mark.parametrize("address", SOLANA)
def test_known_solana_addresses(address) -> None:
    assert solana_problem(address) is None


@pytest.mark.parametrize(
    ("address", "chain", "words"),
    [
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "evm", "EIP-55"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "evm", "40 hex"),
        ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "evm", "0x"),
        ("So1111111111111111111111111111111111111111O", "solana", "'O' is not a base58"),
        ("So11111111111111111111111111111111111111", "solana", "decodes to"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "solana", "is an EVM address"),
        ("So11111111111111111111111111111111111111112", "evm", "is a Solana address"),
    ],
)
def test_a_bad_wallet_is_one_line_naming_where(address, chain, words) -> None:
    with pytest.raises(InputError) as e:
        check_wallet(address, chain, where="roster.csv row 4, column wallet")
    line = e.value.line()
    assert "roster.csv row 4, column wallet" in line and words in line and address in line and "\n" not in line


def test_blank_stays_blank_and_spaces_are_trimmed() -> None:
    assert check_wallet("  ", "evm", where="x") == ""
    assert check_wallet(f" {SOLANA[0]} ", "solana", where="x") == SOLANA[0]


@given(st.binary(min_size=20, max_size=20), st.data())
def test_one_letter_in_the_wrong_case_fails_the_checksum(raw, data) -> None:
    address = eip55("0x" + raw.hex())
    assert evm_problem(address) is None
    letters = [i for i, c in enumerate(address) if i >= 2 and c.isalpha()]
    if len(letters) < 2 or address[2:] in (address[2:].lower(), address[2:].upper()):
        return
    i = data.draw(st.sampled_from(letters))
    flipped = address[:i] + address[i].swapcase() + address[i + 1 :]
    if flipped[2:] not in (flipped[2:].lower(), flipped[2:].upper()):
        assert "EIP-55" in (evm_problem(flipped) or "")


@given(st.binary(min_size=1, max_size=40))
def test_solana_is_exactly_32_bytes(raw) -> None:
    text = base58.b58encode(raw).decode()
    assert (solana_problem(text) is None) == (len(raw) == 32 and 32 <= len(text) <= 44)


def test_discord_ids_and_wallets_in_a_roster_are_checked_where_read(tmp_path) -> None:
    from katsheet.cycle.wallets import discord_problem
    from katsheet.io.csvfile import read_scored_roster

    assert discord_problem("123456789012345678") is None and discord_problem("12345") is not None
    good = tmp_path / "good.csv"
    good.write_text(f"member,role,grape_weight,wallet,discord_id\nAda,Dev,0.8,{SOLANA[0]},123456789012345678\n")
    (row,) = read_scored_roster(good)
    assert (row.wallet, row.discord_id) == (SOLANA[0], "123456789012345678")
    for column, value, words in (("wallet", EIP55[0], "is an EVM address"), ("discord_id", "1.23457E+17",
                                                                             "not a Discord id")):  # fmt: skip
        bad = tmp_path / f"bad-{column}.csv"
        bad.write_text(f"member,role,grape_weight,{column}\nAda,Dev,0.8,{value}\n")
        with pytest.raises(InputError) as e:
            read_scored_roster(bad)
        assert f"bad-{column}.csv row 2, column {column}" in e.value.line() and words in e.value.line()
