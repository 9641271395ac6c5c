"""Reading a KAT month's inputs: the DAO's TOML configuration, the guardrails, and the ledger,
exceptions and member state CSVs (read with the same care as rosters: io/csvfile.py)."""

from __future__ import annotations

import sys
from decimal import Decimal
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from ..engine import InputError
from ..engine.kat import (
    ExceptionRecord,
    Guardrails,
    KatConfig,
    Ledger,
    MemberState,
    parse_config,
    parse_guardrails,
)
from ..engine.kat.tables import exception_records, ledger_rows, member_states
from ..engine.names import member_key
from .csvfile import read_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

GUARDRAILS_NAME = "kat_guardrails.toml"
CED_NAME = "ced.toml"
#: A configuration is a page of text; anything larger is a mistake.
MAX_TOML_BYTES = 1024 * 1024


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a mapping, numbers with decimals as exact Decimals (0.5 stays 0.5)."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError("is a folder, not a TOML file", where=str(path))
        if path.stat().st_size > MAX_TOML_BYTES:
            raise InputError("is larger than 1 MiB: not a configuration", where=str(path))
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot be read: {e.strerror or e}", where=str(path)) from None
    return parse_toml(data, source=str(path))


def parse_toml(data: bytes, *, source: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"is not UTF-8 text (byte {e.start}): save it as UTF-8", where=source) from None
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"is not valid TOML: {e}", where=source) from None
    except RecursionError:
        raise InputError("is not valid TOML: nested too deeply", where=source) from None


def _packaged(name: str) -> bytes:
    return (files("katsheet.data") / name).read_bytes()


def load_guardrails(path: Path | None = None) -> Guardrails:
    """The shipped guardrails, or a cohort's own file."""
    if path is None:
        return parse_guardrails(parse_toml(_packaged(GUARDRAILS_NAME), source=GUARDRAILS_NAME), source=GUARDRAILS_NAME)
    return parse_guardrails(read_toml(path), source=Path(path).name)


def load_config(path: Path | None, guardrails: Guardrails) -> KatConfig:
    """A DAO's configuration file (None: the built-in CED one), checked against the guardrails."""
    if path is None:
        return parse_config(parse_toml(_packaged(CED_NAME), source=CED_NAME), guardrails, source=CED_NAME)
    return parse_config(read_toml(path), guardrails, source=Path(path).name)


def ced_text() -> str:
    return _packaged(CED_NAME).decode("utf-8")


#: The built-in sample ledgers (scripts/make_kat_sample.py; docs/kat.md walks through the month):
#: ``blocked`` is the same month with one row problem of each kind.
SAMPLE_LEDGERS = {"month": "ced_ledger.csv", "blocked": "ced_ledger_blocked.csv"}


def sample_inputs(name: str = "month") -> tuple[KatConfig, Ledger, list[ExceptionRecord], list[MemberState]]:
    """The CED sample month's configuration, ledger, exceptions and carried state."""
    config = load_config(None, load_guardrails())
    data = files("katsheet.data")
    with as_file(data / SAMPLE_LEDGERS[name]) as ledger, as_file(data / "ced_exceptions.csv") as exceptions, \
            as_file(data / "ced_state.csv") as state:  # fmt: skip
        return config, read_ledger(Path(ledger)), read_exceptions(Path(exceptions)), read_states(Path(state))


def sample_wallets() -> dict[str, str]:
    """The CED sample members' wallets (EVM), by member key."""
    with as_file(files("katsheet.data") / "ced_wallets.csv") as path:
        return read_wallets(Path(path))


def read_wallets(path: Path, chain: str = "evm") -> dict[str, str]:
    """A wallets file (columns member, wallet) as {member key: wallet}, every address checked."""
    from ..cycle.wallets import check_wallet
    from ..engine.grape.criteria import slug

    t = read_table(path)
    index = {slug(h): i for i, h in enumerate(t.header)}
    if "member" not in index or "wallet" not in index:
        raise InputError("a wallets file has the columns member and wallet", where=f"{Path(path).name} header row",
                         value=",".join(t.header)[:60])  # fmt: skip
    out: dict[str, str] = {}
    for n, cells in t.rows:
        cells = [*cells, "", ""]
        member, wallet = cells[index["member"]].strip(), cells[index["wallet"]]
        where = f"{Path(path).name} row {n}"
        if not member:
            raise InputError("the member is blank", where=f"{where}, column member")
        if member_key(member) in out:
            raise InputError("the member has a wallet on an earlier row: one row per member", where=where, value=member)
        out[member_key(member)] = check_wallet(wallet, chain, where=f"{where}, column wallet")
    return out


def read_ledger(path: Path) -> Ledger:
    t = read_table(path)
    return ledger_rows(t.header, t.rows, source=Path(path).name)


def read_exceptions(path: Path) -> list[ExceptionRecord]:
    t = read_table(path)
    return exception_records(t.header, t.rows, source=Path(path).name)


def read_states(path: Path) -> list[MemberState]:
    """The carried state; a wallet, when given, must be an EVM address (KAT is minted there)."""
    from ..cycle.wallets import check_wallet

    t = read_table(path)
    states = member_states(t.header, t.rows, source=Path(path).name, decimal_comma=t.decimal_comma)
    for s in states:
        if s.wallet:
            check_wallet(s.wallet, "evm", where=f"{s.where}, column wallet")
    return states
