"""Wallet addresses, checked where they are read: Solana for GRAPE payouts, EVM for KAT mints.

A Solana address is base58 text that decodes to exactly 32 bytes (an ed25519 public key). An EVM
address is 0x and 40 hex digits; written in mixed case it carries an EIP-55 checksum (the case of
each letter from the Keccak-256 of the lower-case hex), which must hold, so one mistyped character
is caught; all lower or all upper case carries none and is accepted as it is.
"""

from __future__ import annotations

import re

import base58

from ..engine.errors import InputError

_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}")
_EVM = re.compile(r"0x[0-9a-fA-F]{40}")


def solana_problem(address: str) -> str | None:
    """Why ``address`` is no Solana address, or None."""
    if _EVM.fullmatch(address):
        return "is an EVM address (0x...), not a Solana address: GRAPE pays out on Solana"
    if not _BASE58.fullmatch(address):
        bad = next((c for c in address if c not in base58.alphabet.decode()), None)
        if bad is not None:
            return f"is not a Solana address: {bad!r} is not a base58 character (no 0, O, I or l)"
        return f"is not a Solana address: {len(address)} characters, where an address has 32 to 44"
    size = len(base58.b58decode(address))
    if size != 32:
        return f"is not a Solana address: it decodes to {size} bytes, not 32"
    return None


def eip55(address: str) -> str:
    """The EIP-55 checksummed form of a 0x + 40 hex address."""
    from Crypto.Hash import keccak  # here, not at import: pycryptodome loads cffi (a check need not)

    lower = address[2:].lower()
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest[:40], strict=True))


def evm_problem(address: str) -> str | None:
    """Why ``address`` is no EVM address, or None."""
    if not _EVM.fullmatch(address):
        if _BASE58.fullmatch(address) and solana_problem(address) is None:
            return "is a Solana address, not an EVM address (0x and 40 hex digits): KAT is minted on an EVM chain"
        return "is not an EVM address: it must be 0x followed by 40 hex digits"
    body = address[2:]
    if body != body.lower() and body != body.upper() and address != eip55(address):
        return f"fails its EIP-55 checksum (mixed case): a character is mistyped; the checksummed form of what was typed is {eip55(address)}"
    return None


def discord_problem(text: str) -> str | None:
    """Why ``text`` is no Discord user id (a snowflake: 17 to 20 digits), or None."""
    if not re.fullmatch(r"\d{17,20}", text):
        return (
            "is not a Discord id (17 to 20 digits; in a spreadsheet, type it as text: a number that long loses digits)"
        )
    return None


CHAINS = {"solana": solana_problem, "evm": evm_problem, "discord": discord_problem}


def check_wallet(address: str, chain: str, *, where: str) -> str:
    """The wallet as typed (trimmed), or one InputError naming where it is and what is wrong.
    Blank stays blank: a member without a wallet blocks settlement only when paid."""
    text = address.strip()
    if not text:
        return ""
    problem = CHAINS[chain](text)
    if problem:
        raise InputError(problem, where=where, value=text)
    return text
