"""Payout and mint files: the list a treasurer loads into a token tool after settlement.

Every format holds one row per member with an amount above 0, in member order, amounts in human
decimals (``41.66``, ``50``: no thousands separators, no exponent), summing exactly to the total
allocated or minted (checked before a byte is written). A member with an amount and no valid
wallet, or two members with one wallet, stop settlement with one line each.

Formats (the tools' published CSV layouts):
- ``solana-tokens``: recipient,amount,lockup_date (solana-tokens distribute-tokens --input-csv)
- ``safe``: token_type,token_address,receiver,amount,id (Safe's CSV Airdrop app), at most 400
  rows a file: more are split into numbered parts; EVM wallets and --token only
- ``grape-governance``: address,amount lines, no header
- ``streamflow``: Amount,Wallet address,Name
- ``generic``: member,wallet,amount
- ``kat-mint``: settlement_id,period,member,wallet,amount (KAT's batch mint list, kat.md section 4)

A member's name is text: a name that a spreadsheet would run as a formula (starting with = + - @,
a tab or a carriage return) is written with a leading apostrophe, as OWASP advises for CSV files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..engine.errors import InputError
from ..engine.names import member_key
from ..engine.numbers import exact_sum, plain
from .wallets import evm_problem

GRAPE_FORMATS = ("solana-tokens", "safe", "grape-governance", "streamflow", "generic")
KAT_FORMAT = "kat-mint"
SAFE_ROWS = 400


@dataclass(frozen=True)
class Payee:
    member: str
    wallet: str
    amount: Decimal


@dataclass(frozen=True)
class PayoutFile:
    """One file to write: its name's suffix (``-part2``, or empty) and its bytes."""

    suffix: str
    data: bytes
    rows: int
    total: Decimal


def payees(
    amounts: Mapping[str, Decimal], wallets: Mapping[str, str], *, where: Mapping[str, str]
) -> tuple[list[Payee], list[str]]:
    """The members paid (amount > 0), by member, each with their wallet; and the problems, one line
    each: a member paid without a wallet, a wallet shared by two members (settlement stops on any)."""
    problems: list[str] = []
    out: list[Payee] = []
    owner: dict[str, str] = {}
    for member in sorted(amounts, key=lambda m: (member_key(m), m)):
        amount = amounts[member]
        if amount <= 0:
            continue
        wallet = wallets.get(member, "").strip()
        at = where.get(member, member)
        if not wallet:
            problems.append(f"{at}: {member} is paid {plain(amount)} and has no wallet: add their wallet")
            continue
        first = owner.setdefault(wallet.lower() if wallet.startswith("0x") else wallet, member)
        if first != member:
            problems.append(f"{at}: {member} has the wallet of {first} ({wallet}): one wallet per member")
            continue
        out.append(Payee(member, wallet, amount))
    return out, problems


def _safe_text(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: Sequence[str] | None, rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def render(fmt: str, paid: Sequence[Payee], total: Decimal, *, token: str = "", settlement_id: str = "",
           period: str = "") -> list[PayoutFile]:  # fmt: skip
    """The file(s) of ``fmt`` for ``paid``, whose amounts must sum exactly to ``total``."""
    summed = exact_sum(p.amount for p in paid)
    if summed != total:
        raise InputError(f"the payout list sums to {plain(summed)}, not the total {plain(total)}: nothing written")
    amount = [plain(p.amount) for p in paid]
    if fmt == "solana-tokens":
        return [PayoutFile("", _csv(("recipient", "amount", "lockup_date"),
                                    [[p.wallet, a, ""] for p, a in zip(paid, amount, strict=True)]), len(paid), total)]  # fmt: skip
    if fmt == "grape-governance":
        return [
            PayoutFile("", _csv(None, [[p.wallet, a] for p, a in zip(paid, amount, strict=True)]), len(paid), total)
        ]
    if fmt == "streamflow":
        rows = [[a, p.wallet, _safe_text(p.member)] for p, a in zip(paid, amount, strict=True)]
        return [PayoutFile("", _csv(("Amount", "Wallet address", "Name"), rows), len(paid), total)]
    if fmt == "generic":
        rows = [[_safe_text(p.member), p.wallet, a] for p, a in zip(paid, amount, strict=True)]
        return [PayoutFile("", _csv(("member", "wallet", "amount"), rows), len(paid), total)]
    if fmt == KAT_FORMAT:
        rows = [[settlement_id, period, _safe_text(p.member), p.wallet, a] for p, a in zip(paid, amount, strict=True)]
        return [PayoutFile("", _csv(("settlement_id", "period", "member", "wallet", "amount"), rows), len(paid), total)]
    if fmt == "safe":
        if evm_problem(token) is not None:
            raise InputError("the safe format needs --token: the ERC-20 token's address (0x and 40 hex digits)",
                             value=token or None)  # fmt: skip
        bad = next((p for p in paid if evm_problem(p.wallet)), None)
        if bad is not None:
            raise InputError(f"the safe format pays EVM wallets; {bad.member}'s wallet {bad.wallet} is not one")
        parts = [paid[i : i + SAFE_ROWS] for i in range(0, len(paid), SAFE_ROWS)] or [[]]
        out = []
        for n, part in enumerate(parts, start=1):
            rows = [["erc20", token, p.wallet, plain(p.amount), ""] for p in part]
            suffix = f"-part{n}" if len(parts) > 1 else ""
            data = _csv(("token_type", "token_address", "receiver", "amount", "id"), rows)
            out.append(PayoutFile(suffix, data, len(part), exact_sum(p.amount for p in part)))
        return out
    raise InputError(f"unknown payout format; known: {', '.join((*GRAPE_FORMATS, KAT_FORMAT))}", value=fmt)
