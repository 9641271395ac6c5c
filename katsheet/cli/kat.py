"""`katsheet kat`: a month of KAT from a ledger CSV; `katsheet kat init DAO.toml`: a starting configuration.

Exit codes: 0 the period can be settled, 1 rows block settlement (everything is still printed),
2 unusable input (one line on stderr, nothing written).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from ..engine import InputError
from ..engine.dates import parse_month
from ..engine.kat import KatPeriod, compute_period
from ..io.atomic import write_atomic
from ..io.katfiles import (
    SAMPLE_LEDGERS,
    ced_text,
    load_config,
    load_guardrails,
    read_exceptions,
    read_ledger,
    read_states,
    sample_inputs,
)
from ..layouts.kat import SAMPLE_MONTH
from .kat_render import print_period, to_json_dict, to_mint_csv
from .options import PATH, choice, usable_path
from .render import emit


def sample_period(name: str = "month") -> KatPeriod:
    """The CED sample month (``blocked``: the same month with one row problem of each kind)."""
    config, ledger, exceptions, states = sample_inputs(name)
    return compute_period(config, SAMPLE_MONTH, ledger, exceptions, states)


@click.command(name="kat", context_settings={"ignore_unknown_options": False})
@click.argument("args", nargs=-1, metavar="LEDGER.csv | init DAO.toml")
@click.option("--config", "config_path", type=PATH, help="The DAO's configuration (TOML).")
@click.option("--month", help="The period to settle, YYYY-MM.")
@click.option(
    "--exceptions", "exceptions_path", type=PATH, help="Exceptions CSV (id, date, member, kind, decision, notes)."
)
@click.option("--state", "state_path", type=PATH, help="Carried member state CSV (member, level, streak, ...).")
@click.option("--guardrails", "guardrails_path", type=PATH, help="A cohort's own guardrails file (TOML).")
@click.option("--format", "fmt", default="table", show_default=True, help="table, json or csv (the batch mint list).")
@click.option("--sample", is_flag=False, flag_value="month", default=None,
              help="The built-in CED month; --sample blocked: the same month with row problems.")  # fmt: skip
@click.option("--force", is_flag=True, help="With init: overwrite DAO.toml if it exists.")
def kat_command(
    args: tuple[str, ...],
    config_path: Path | None,
    month: str | None,
    exceptions_path: Path | None,
    state_path: Path | None,
    guardrails_path: Path | None,
    fmt: str,
    sample: str | None,
    force: bool,
) -> int:
    """Credits, Karma levels and KAT of a month from LEDGER.csv, as kat.md says.

    `katsheet kat init DAO.toml` writes a commented starting configuration (the CED one).
    """
    if args[:1] == ("init",):
        if len(args) != 2:
            raise InputError("give the file to write: katsheet kat init DAO.toml", where="init")
        out = usable_path(args[1], where="DAO.toml")
        write_atomic(out, ced_text().encode("utf-8"), force=force)
        Console().print(Text(f"Wrote {out}: edit it for your DAO, then `katsheet kat LEDGER.csv --config {out} ...`"))
        return 0
    if len(args) > 1:
        raise InputError("give one ledger file", where="LEDGER.csv", value=" ".join(args))
    fmt = choice(fmt, ("table", "json", "csv"), what="the format", where="--format")
    if sample is not None:
        name = choice(sample, tuple(SAMPLE_LEDGERS), what="the sample", where="--sample")
        if args or config_path or month or exceptions_path or state_path:
            raise InputError("--sample is a whole month: give no ledger, --config, --month, --exceptions or --state",
                             where="--sample")  # fmt: skip
        period = sample_period(name)
    else:
        if not args:
            raise InputError("no ledger: give LEDGER.csv, or --sample for the built-in CED month", where="LEDGER.csv")
        if config_path is None:
            raise InputError("no configuration: give --config DAO.toml (katsheet kat init DAO.toml writes one)",
                             where="--config")  # fmt: skip
        if month is None:
            raise InputError("no period: give --month YYYY-MM", where="--month")
        parse_month(month, where="--month")
        guardrails = load_guardrails(guardrails_path)
        config = load_config(config_path, guardrails)
        ledger = read_ledger(usable_path(args[0], where="LEDGER.csv"))
        exceptions = read_exceptions(exceptions_path) if exceptions_path else []
        states = read_states(state_path) if state_path else []
        period = compute_period(config, month, ledger, exceptions, states)
    emit(fmt, as_json=lambda: to_json_dict(period), as_csv=lambda: to_mint_csv(period),
         as_table=lambda console: print_period(period, console), width=160)  # fmt: skip
    return 1 if period.blocking else 0
