"""`katsheet new`: a fresh monthly workbook, written atomically, never over a file unless --force."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from ..engine import SINGLE_CRITERION, InputError, Options
from ..engine.kat import Ledger
from ..engine.limits import MAX_ROLE_ROWS
from ..io.atomic import write_atomic
from ..io.csvfile import read_pool_identities, read_scored_roster, read_task_scores, read_tasks, roster_gives_weights
from ..io.katfiles import (
    load_config,
    load_guardrails,
    read_exceptions,
    read_ledger,
    read_states,
    read_wallets,
    sample_inputs,
    sample_wallets,
)
from ..layouts.grape import (
    DEFAULT_ASSET,
    DEFAULT_ROWS,
    MIN_SPARE_ROWS,
    TEMPLATES,
    Book,
    Month,
    check_subdao_name,
    grape_layout,
    next_month,
)
from ..layouts.kat import SAMPLE_MONTH, TEMPLATE, KatMonth, kat_layout
from ..layouts.pools import TEMPLATE as POOLS
from ..layouts.pools import PoolsMonth, pools_layout, pools_month
from ..samples import SAMPLE_BUDGET, SAMPLE_POOL_ASSETS, sample_pool_inputs, sample_scored_roster
from ..workbook.writer import workbook_bytes
from .options import (
    PATH,
    allocation_options,
    build_options,
    choice,
    load_criteria,
    parse_budget,
    parse_whole,
)


def _part(
    *,
    template: str,
    label: str,
    roster: Path | None,
    sample: bool,
    criteria_spec: str | None,
    budget: str | None,
    capacity: int,
    options: Options,
    subdao: str = "",
) -> Month:
    """One SubDAO's month, every input checked (a bad roster fails here, before a byte is written)."""
    gives_weights = roster is not None and roster_gives_weights(roster)
    if gives_weights and criteria_spec is not None and criteria_spec.strip().lower() != "single":
        raise InputError(
            "this roster gives GRAPE weights, not criteria scores: use --criteria single (or leave it out)",
            where="--criteria",
            value=criteria_spec,
        )
    criteria = SINGLE_CRITERION if gives_weights else load_criteria(criteria_spec)
    scored: tuple = ()
    if sample:
        scored = tuple(sample_scored_roster(criteria))
    elif roster is not None:
        scored = tuple(read_scored_roster(roster, criteria))
    amount: Decimal | None = (
        parse_budget(budget, options.decimals) if budget is not None else (SAMPLE_BUDGET if sample else None)
    )
    result = Month(
        template=template, month=label, criteria=criteria, budget=amount, options=options, rows=scored,
        capacity=capacity, subdao=subdao,
    )  # fmt: skip
    _ = result.allocation  # bad input (duplicates, no names) fails here, before anything is written
    return result


_SUBDAO = re.compile(r"(?P<name>[^=]+)=(?P<roster>.+?)(?::(?P<budget>[0-9][0-9.,_eE+-]*))?")


def parse_subdao(spec: str) -> tuple[str, Path, str | None]:
    """``NAME=ROSTER.csv[:BUDGET]`` (a Windows path's drive colon is not a budget)."""
    m = _SUBDAO.fullmatch(spec.strip())
    if not m:
        raise InputError("write a SubDAO as NAME=ROSTER.csv or NAME=ROSTER.csv:BUDGET", where="--subdao", value=spec)
    name = check_subdao_name(m.group("name").strip(), where="--subdao")
    return name, Path(m.group("roster").strip()), m.group("budget")


def build_book(
    *,
    template: str,
    roster: Path | None,
    sample: bool,
    criteria_spec: str | None,
    budget: str | None,
    month: str | None,
    rows: str,
    options: Options,
    subdaos: tuple[str, ...] = (),
) -> Book:
    """Everything `new` writes, checked before a byte is written."""
    template = choice(template, TEMPLATES, what="the template", where="--template")
    if sample and roster is not None:
        raise InputError("give either --roster or --sample, not both", where="--roster", value=str(roster))
    if subdaos and (roster is not None or sample):
        raise InputError("with --subdao every SubDAO names its own roster: leave out --roster and --sample",
                         where="--subdao", value=subdaos[0])  # fmt: skip
    label = month.strip() if month is not None else next_month()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", label):
        raise InputError("the month must be written YYYY-MM", where="--month", value=month)
    capacity = parse_whole(rows, what="--rows", where="--rows", low=1, high=MAX_ROLE_ROWS)
    common = {"template": template, "label": label, "criteria_spec": criteria_spec, "capacity": capacity,
              "options": options}  # fmt: skip
    if subdaos:
        specs = [parse_subdao(s) for s in subdaos]
        names = [n.casefold() for n, _, _ in specs]
        if len(set(names)) != len(names):
            raise InputError("two SubDAOs have one name", where="--subdao", value=", ".join(n for n, _, _ in specs))
        if budget is not None:
            raise InputError("with --subdao each SubDAO gives its budget (NAME=ROSTER.csv:BUDGET)", where="--budget",
                             value=budget)  # fmt: skip
        parts = tuple(
            _part(roster=path, sample=False, budget=amount, subdao=name, **common) for name, path, amount in specs
        )
    else:
        parts = (_part(roster=roster, sample=sample, budget=budget, **common),)
    book = Book(parts)
    total = sum(p.table_rows for p in parts)
    if total > MAX_ROLE_ROWS:
        raise InputError(
            f"the workbook would hold {total:,} role rows; it holds up to {MAX_ROLE_ROWS:,} (spare rows included): "
            "split the roster into SubDAO months, or give fewer --rows",
            where=str(roster) if roster is not None else "--subdao" if subdaos else "--rows",
        )
    return book


def build_kat_month(
    *,
    config_path: Path | None,
    guardrails_path: Path | None,
    ledger: Path | None,
    exceptions: Path | None,
    state: Path | None,
    month: str | None,
    rows: str,
    sample: bool,
    wallets: Path | None = None,
) -> KatMonth:
    """A KAT month to write, every input checked (kat.md through the KAT engine) before a byte is written."""
    if sample and (ledger or exceptions or state or config_path or wallets):
        raise InputError("--sample brings its own configuration, ledger, exceptions, state and wallets: leave the "
                         "others out",
                         where="--sample")  # fmt: skip
    if not sample and config_path is None:
        raise InputError("a KAT workbook needs the DAO's configuration: give --config DAO.toml "
                         "(`katsheet kat init DAO.toml` writes one), or --sample", where="--config")  # fmt: skip
    capacity = parse_whole(rows, what="--rows", where="--rows", low=1, high=MAX_ROLE_ROWS)
    config = load_config(None if sample else config_path, load_guardrails(guardrails_path))
    if sample:
        _, rows_, excs, states = sample_inputs()
        known = sample_wallets()
        label = month.strip() if month is not None else SAMPLE_MONTH
    else:
        rows_ = read_ledger(ledger) if ledger else Ledger.of(())
        excs = read_exceptions(exceptions) if exceptions else []
        states = read_states(state) if state else []
        known = read_wallets(wallets) if wallets else {}
        label = month.strip() if month is not None else next_month()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", label):
        raise InputError("the month must be written YYYY-MM", where="--month", value=month)
    result = KatMonth(config, label, rows_, tuple(excs), tuple(states),
                      spare_rows=max(capacity - len(rows_), MIN_SPARE_ROWS), wallets=known)  # fmt: skip
    _ = result.period  # bad input (a member twice in the state, ...) fails here, before anything is written
    total = result.ledger_rows + result.member_rows + result.exception_rows
    if total > MAX_ROLE_ROWS:
        raise InputError(f"the workbook would hold {total:,} table rows; it holds up to {MAX_ROLE_ROWS:,} "
                         "(spare rows included): give fewer --rows", where=str(ledger) if ledger else "--rows")  # fmt: skip
    return result


def build_pools_month(*, roster: Path | None, tasks: Path | None, sample: bool, budget: str | None, decimals: str,
                      assets: tuple[str, ...], max_reward: str | None, month: str | None, rows: str) -> PoolsMonth:  # fmt: skip
    """A task-pool month to write (grape.md 6), every input checked before a byte is written."""
    from ..cli.pools import parse_assets, parse_max_reward

    if sample and (roster is not None or tasks is not None):
        raise InputError("--sample brings its own tasks and roster: leave out --roster and --tasks", where="--sample")
    if not sample and (roster is None or tasks is None):
        raise InputError("a pools month needs --tasks TASKS.csv (task, share) and --roster ROSTER.csv (member, task, "
                         "score[, wallet, discord_id]), or --sample", where="--tasks" if tasks is None else "--roster")  # fmt: skip
    places = parse_whole(decimals, what="--decimals", where="--decimals", low=0, high=18)
    capacity = parse_whole(rows, what="--rows", where="--rows", low=1, high=MAX_ROLE_ROWS)
    label = month.strip() if month is not None else next_month()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", label):
        raise InputError("the month must be written YYYY-MM", where="--month", value=month)
    if sample and not assets and budget is None:
        wanted = list(SAMPLE_POOL_ASSETS)
    else:
        # no budget yet: 0, typed later on the Tasks sheet
        wanted = parse_assets(assets, budget if budget is not None or assets else "0", places)
    if sample:
        task_list, scores, identities = sample_pool_inputs()
    else:
        task_list, scores = read_tasks(tasks), read_task_scores(roster)  # type: ignore[arg-type]
        identities = read_pool_identities(roster)  # type: ignore[arg-type]
    return pools_month(label, task_list, wanted, scores, max_share=parse_max_reward(max_reward),
                       identities=identities, capacity=capacity)  # fmt: skip


@click.command()
@click.argument("out", type=PATH)
@click.option("--template", default="expanded", show_default=True, help="compact, expanded, kat or pools.")
@click.option("--tasks", "tasks_path", type=PATH, help="pools: the month's tasks CSV (task, share).")
@click.option(
    "--asset",
    "assets",
    multiple=True,
    help="An asset paid from the scores, NAME=BUDGET[:DECIMALS] (repeat it; the first is the budget's; default "
    "one asset, GRAPE, with --budget and --decimals): pools, or tiers of one SubDAO.",
)
@click.option("--max-reward", help="The per-member cap, a share of each budget (40%): pools, or tiers of one SubDAO.")
@click.option("--config", "config_path", type=PATH, help="kat: the DAO's configuration (TOML).")
@click.option("--ledger", type=PATH, help="kat: the month's ledger CSV, as for `katsheet kat`.")
@click.option("--exceptions", "exceptions_path", type=PATH, help="kat: the exceptions CSV.")
@click.option("--state", "state_path", type=PATH, help="kat: the carried member state CSV.")
@click.option("--wallets", "wallets_path", type=PATH, help="kat: the members' EVM wallets (CSV: member, wallet).")
@click.option("--guardrails", "guardrails_path", type=PATH, help="kat: a cohort's own guardrails file (TOML).")
@click.option("--roster", type=PATH, help="A roster CSV, as for `katsheet compute`.")
@click.option("--month", help="The month, YYYY-MM (default: next month).")
@click.option("--rows", default=str(DEFAULT_ROWS), show_default=True, help="Room for this many role rows.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.option(
    "--subdao",
    "subdaos",
    multiple=True,
    help="A SubDAO of the workbook: NAME=ROSTER.csv or NAME=ROSTER.csv:BUDGET (repeat it for each; "
    "the Members sheet sums them all).",
)
@allocation_options
def new(
    out: Path,
    template: str,
    roster: Path | None,
    month: str | None,
    rows: str,
    force: bool,
    subdaos: tuple[str, ...],
    budget: str | None,
    threshold: str | None,
    min_divisor: str,
    no_bonus: bool,
    no_excess: bool,
    cap_rule: str,
    decimals: str,
    criteria_spec: str | None,
    sample: bool,
    config_path: Path | None = None,
    ledger: Path | None = None,
    exceptions_path: Path | None = None,
    state_path: Path | None = None,
    guardrails_path: Path | None = None,
    wallets_path: Path | None = None,
    tasks_path: Path | None = None,
    assets: tuple[str, ...] = (),
    max_reward: str | None = None,
) -> None:
    """Write a fresh monthly workbook OUT.xlsx with live formulas (and their values)."""
    if out.suffix.lower() != ".xlsx":
        raise InputError("the workbook must be an .xlsx file", where="OUT", value=str(out))
    if template.strip().lower() == POOLS:
        refused = {"--subdao": subdaos or None, "--threshold": threshold, "--criteria": criteria_spec,
                   "--no-bonus": no_bonus or None, "--no-excess": no_excess or None, "--config": config_path,
                   "--ledger": ledger, "--state": state_path}  # fmt: skip
        for option, value in refused.items():
            if value is not None:
                raise InputError("is not an option of a pools month (it takes --tasks, --roster, --asset, "
                                 "--max-reward)", where=option)  # fmt: skip
        pools = build_pools_month(roster=roster, tasks=tasks_path, sample=sample, budget=budget, decimals=decimals,
                                  assets=assets, max_reward=max_reward, month=month, rows=rows)  # fmt: skip
        write_atomic(out, lambda: workbook_bytes(pools_layout(pools), pools, decimals=pools.decimals), force=force)
        line = Text(f"Wrote {out} (pools template, {pools.month}): {len(pools.rows)} members, room for "
                    f"{pools.table_rows}; {len(pools.tasks)} tasks.")  # fmt: skip
        for a, r in zip(pools.assets, pools.allocations, strict=True):
            line.append(f" {a.name}: distributed {r.total_allocated:,.{a.decimals}f} of {a.budget:,.{a.decimals}f}, "
                        f"returned {r.returned_to_treasury:,.{a.decimals}f}.")  # fmt: skip
        Console().print(line)
        return
    if tasks_path is not None:
        raise InputError("is for the pools template (--template pools)", where="--tasks")
    section = bool(assets) or max_reward is not None
    wanted = []
    if section:
        from .pools import parse_assets, parse_max_reward

        if subdaos:
            raise InputError("the per-member cap and several assets are for a workbook of one SubDAO",
                             where="--asset" if assets else "--max-reward")  # fmt: skip
        if assets:
            places = parse_whole(decimals, what="--decimals", where="--decimals", low=0, high=18)
            wanted = parse_assets(assets, budget, places)
            budget, decimals = str(wanted[0].budget), str(wanted[0].decimals)
    if template.strip().lower() == TEMPLATE:
        given = {"--roster": roster, "--subdao": subdaos or None, "--budget": budget, "--criteria": criteria_spec}
        for option, value in given.items():
            if value is not None:
                raise InputError("is for the GRAPE templates; a KAT month takes --config, --ledger, "
                                 "--exceptions and --state", where=option)  # fmt: skip
        kat = build_kat_month(config_path=config_path, guardrails_path=guardrails_path, ledger=ledger,
                              exceptions=exceptions_path, state=state_path, month=month, rows=rows, sample=sample,
                              wallets=wallets_path)  # fmt: skip
        write_atomic(out, lambda: workbook_bytes(kat_layout(kat), kat, decimals=kat.config.decimals), force=force)
        p = kat.period
        Console().print(Text(
            f"Wrote {out} (kat template, {p.period}): {len(kat.ledger)} ledger rows, room for {kat.ledger_rows}; "
            f"{len(p.members)} members; minted {p.minted:,.{kat.config.decimals}f} KAT"
            f"{'; ' + str(len(p.blocking)) + ' rows block settlement' if p.blocking else ''}."
        ))  # fmt: skip
        return
    given = {"--config": config_path, "--ledger": ledger, "--exceptions": exceptions_path, "--state": state_path,
             "--guardrails": guardrails_path, "--wallets": wallets_path}  # fmt: skip
    for option, value in given.items():
        if value is not None:
            raise InputError("is for the KAT template (--template kat)", where=option)
    options = build_options(threshold, min_divisor, not no_bonus, not no_excess, cap_rule, decimals)
    book = build_book(
        template=template, roster=roster, sample=sample, criteria_spec=criteria_spec, budget=budget,
        month=month, rows=rows, options=options, subdaos=subdaos,
    )  # fmt: skip
    if section:
        book = dataclasses.replace(book, cap_section=True, max_share=parse_max_reward(max_reward),
                                   main_asset=wanted[0].name if wanted else DEFAULT_ASSET, assets=tuple(wanted[1:]))  # fmt: skip
        _ = book.members  # bad input fails here, before anything is written
    layout = grape_layout(book)
    write_atomic(out, lambda: workbook_bytes(layout, book, decimals=max(a.decimals for a in book.asset_list)),
                 force=force)  # fmt: skip
    console = Console()
    console.print(Text(f"Wrote {out} ({book.template} template, {book.month})."))
    d = options.decimals
    for part in book.parts:
        a = part.allocation
        people = f"{len(part.rows)} role rows" if part.rows else "no members yet"
        line = Text(f"  {part.subdao + ': ' if part.subdao else ''}{people}, room for {part.table_rows}.")
        if part.rows and part.budget is not None:
            line.append(
                f" Budget {a.budget:,.{d}f}: allocated {a.total_allocated:,.{d}f}, "
                f"returned {a.returned_to_treasury:,.{d}f}"
            )
            if a.cap_engaged:
                line.append(" (dynamic cap engaged)", style="bold yellow")
            line.append(".")
        console.print(line)
    if book.cap_section:
        cap = f"capped at {book.max_share * 100:g}% of each budget" if book.max_share is not None else "no cap"
        paid = "; ".join(f"{a.name} {book.paid_total(k):,.{a.decimals}f} of {a.budget:,.{a.decimals}f}"
                         for k, a in enumerate(book.asset_list))  # fmt: skip
        console.print(Text(f"  Per member ({cap}): paid {paid}."))
