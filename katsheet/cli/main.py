"""Entry point: every expected failure ends as one line on stderr and exit code 2."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from .. import __version__
from ..engine import InputError, allocate
from ..io.csvfile import read_roster
from ..samples import SAMPLE_BUDGET, sample_roster
from .options import PATH, allocation_options, build_options, choice, load_criteria, parse_budget
from .render import emit, print_table, to_csv, to_json_dict

EXIT_BAD_INPUT = 2

#: the commands whose modules are imported only when they run: `katsheet compute` need not load
#: the workbook checker, LibreOffice-free as it is, nor the web stack (click's lazy loading)
LAZY = {
    "new": "katsheet.cli.new:new",
    "check": "katsheet.cli.check:check_command",
    "kat": "katsheet.cli.kat:kat_command",
    "settle": "katsheet.cli.cycle:settle_command",
    "next": "katsheet.cli.cycle:next_command",
    "history": "katsheet.cli.cycle:history_command",
    "approve": "katsheet.cli.dashboard:approve_command",
    "dashboard": "katsheet.cli.dashboard:dashboard_command",
    "report": "katsheet.cli.dashboard:report_command",
    "import-grems": "katsheet.cli.grems:import_grems_command",
}


class LazyGroup(click.Group):
    """A group whose LAZY commands are imported when named (or when --help lists them)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY:
            import importlib

            module, attribute = LAZY[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="katsheet")
def cli() -> None:
    """Exact GRAPE emissions and KAT recognition for DAO treasurers and operators."""


@cli.command()
@click.argument("roster", required=False, type=PATH)
@allocation_options
@click.option("--format", "fmt", default="table", show_default=True, help="table, json or csv.")
@click.option(
    "--model",
    default="tiers",
    show_default=True,
    help="tiers (BASE, BONUS and EXCESS; grape.md 2) or pools (GREMS task pools; grape.md 6).",
)
@click.option("--tasks", "tasks_path", type=PATH, help="--model pools: TASKS.csv with columns task, share.")
@click.option("--max-reward", help="The per-member cap as a share of the budget (e.g. 40%); the rest returns.")
@click.option(
    "--asset",
    "assets",
    multiple=True,
    help="NAME=BUDGET[:DECIMALS], repeated: the same scores allocated per asset (e.g. USDC=100:2).",
)
def compute(
    roster: Path | None,
    budget: str | None,
    threshold: str | None,
    min_divisor: str,
    no_bonus: bool,
    no_excess: bool,
    cap_rule: str,
    decimals: str,
    fmt: str,
    criteria_spec: str | None,
    sample: bool,
    model: str = "tiers",
    tasks_path: Path | None = None,
    max_reward: str | None = None,
    assets: tuple[str, ...] = (),
) -> None:
    """Allocate a budget over ROSTER.csv (columns member, role, grape_weight or the criteria; with
    --model pools: member, task, score)."""
    fmt = choice(fmt, ("table", "json", "csv"), what="the format", where="--format")
    model = choice(model, ("tiers", "pools"), what="the model", where="--model")
    if model == "pools":
        from .pools import compute_pools

        if sample:
            raise InputError("--sample is the tiers model's roster: give ROSTER.csv and --tasks", where="--sample")
        d = build_options(threshold, min_divisor, not no_bonus, not no_excess, cap_rule, decimals).decimals
        compute_pools(roster, tasks_path, budget, d, max_reward, assets, fmt)
        return
    if tasks_path is not None:
        raise InputError("--tasks is for --model pools", where="--tasks")
    options = build_options(threshold, min_divisor, not no_bonus, not no_excess, cap_rule, decimals)
    if sample and roster is not None:
        raise InputError("give either ROSTER.csv or --sample, not both", where="ROSTER", value=str(roster))
    if roster is None and not sample:
        raise InputError("no roster: give ROSTER.csv, or --sample for the built-in one", where="ROSTER")
    if assets and budget is not None:
        raise InputError("give either --budget or --asset NAME=BUDGET[:DECIMALS], not both", where="--budget")
    amount = (
        None
        if assets
        else parse_budget(budget, options.decimals)
        if budget is not None or not sample
        else SAMPLE_BUDGET
    )
    criteria = load_criteria(criteria_spec)
    rows = sample_roster(criteria) if sample else read_roster(roster, criteria)  # type: ignore[arg-type]
    if max_reward is not None or assets:
        from .pools import compute_tiers

        compute_tiers(rows, amount, options, max_reward, assets, fmt)
        return
    result = allocate(amount, rows, options)
    emit(fmt, as_json=lambda: to_json_dict(result), as_csv=lambda: to_csv(result),
         as_table=lambda console: print_table(result, console))  # fmt: skip


@cli.command(name="excel-addin")
@click.argument("out", type=PATH)
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def excel_addin(out: Path, force: bool) -> None:
    """Write OUT.xlsm: xlwings' VBA module, an xlwings.conf sheet naming katsheet.udfs, a demo sheet."""
    from ..excel.addin import write_addin

    write_addin(out, force=force)
    Console().print(Text(f"Wrote {out}. In Excel (Windows): xlwings tab, Import Functions; see the Demo sheet."))


@cli.command()
@click.argument("outdir", type=PATH)
@click.option("--force", is_flag=True, help="Overwrite main.py and requirements.txt if they exist.")
def lite(outdir: Path, force: bool) -> None:
    """Write OUTDIR/main.py and requirements.txt to paste into xlwings Lite."""
    from ..excel.lite import write_lite

    if outdir.exists() and not outdir.is_dir():
        raise InputError("is a file, not a folder", where=str(outdir))
    main_py, requirements = write_lite(outdir, force=force)
    Console().print(Text(f"Wrote {main_py} and {requirements}: paste them into xlwings Lite's editor."))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off for one command (reference counting still frees what it can).
    A check holds a few million small objects - cells, formula texts, tuples - and the collector
    walked them all again and again while they were made: a fifth of checking a pools month, for
    no garbage (8 MB more at a 10,000-row KAT month). Not for ``dashboard``, a server."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; turn expected failures into one line on stderr and exit code 2."""
    words = sys.argv[1:] if argv is None else argv
    try:
        with nullcontext() if "dashboard" in words[:1] else gc_paused():
            rv = cli.main(args=argv, prog_name="katsheet", standalone_mode=False)
    except InputError as e:
        click.echo(f"katsheet: error: {e.line()}", err=True)
        return EXIT_BAD_INPUT
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        click.echo("katsheet: aborted", err=True)
        return 1
    except click.ClickException as e:
        click.echo(f"katsheet: error: {e.format_message()}", err=True)
        return EXIT_BAD_INPUT
    return rv if isinstance(rv, int) else 0


def run() -> None:
    sys.exit(main())
