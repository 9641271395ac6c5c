"""`katsheet new`: a fresh monthly workbook, written atomically, never over a file unless --force."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console

from ..engine import SINGLE_CRITERION, InputError
from ..engine.limits import MAX_ROLE_ROWS
from ..io.atomic import write_atomic
from ..io.csvfile import read_scored_roster, roster_gives_weights
from ..layouts.grape import DEFAULT_ROWS, MIN_SPARE_ROWS, TEMPLATES, Month, grape_layout, next_month
from ..samples import SAMPLE_BUDGET, sample_scored_roster
from ..workbook.writer import write_workbook
from .options import allocation_options, build_options, choice, load_criteria, parse_budget, parse_whole


def build_month(
    *,
    template: str,
    roster: Path | None,
    sample: bool,
    criteria_spec: str | None,
    budget: str | None,
    month: str | None,
    rows: str,
    options,
) -> Month:
    """Everything `new` writes, checked before a byte is written."""
    template = choice(template, TEMPLATES, what="the template", where="--template")
    if sample and roster is not None:
        raise InputError("give either --roster or --sample, not both", where="--roster", value=str(roster))
    gives_weights = roster is not None and roster_gives_weights(roster)
    if gives_weights and criteria_spec is not None and criteria_spec.strip().lower() != "single":
        raise InputError(
            "this roster gives GRAPE weights, not criteria scores: use --criteria single (or leave it out)",
            where="--criteria",
            value=criteria_spec,
        )
    criteria = SINGLE_CRITERION if gives_weights else load_criteria(criteria_spec)
    scored = ()
    if sample:
        scored = tuple(sample_scored_roster(criteria))
    elif roster is not None:
        scored = tuple(read_scored_roster(roster, criteria))
    d = options.decimals
    amount: Decimal | None = parse_budget(budget, d) if budget is not None else (SAMPLE_BUDGET if sample else None)
    label = month.strip() if month is not None else next_month()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", label):
        raise InputError("the month must be written YYYY-MM", where="--month", value=month)
    capacity = parse_whole(rows, what="--rows", where="--rows", low=1, high=MAX_ROLE_ROWS)
    if len(scored) + MIN_SPARE_ROWS > MAX_ROLE_ROWS and len(scored) > capacity:
        raise InputError(
            f"the roster has {len(scored):,} role rows; a workbook holds up to {MAX_ROLE_ROWS - MIN_SPARE_ROWS:,} "
            f"(with {MIN_SPARE_ROWS} spare rows): split it into SubDAO months",
            where=str(roster) if roster is not None else "--sample",
        )
    result = Month(
        template=template, month=label, criteria=criteria, budget=amount, options=options, rows=scored,
        capacity=capacity,
    )  # fmt: skip
    _ = result.allocation  # bad input (duplicates, no names) fails here, before anything is written
    return result


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--template", default="expanded", show_default=True, help="compact or expanded.")
@click.option("--roster", type=click.Path(path_type=Path), help="A roster CSV, as for `katsheet compute`.")
@click.option("--month", help="The month, YYYY-MM (default: next month).")
@click.option("--rows", default=str(DEFAULT_ROWS), show_default=True, help="Room for this many role rows.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@allocation_options
def new(
    out: Path,
    template: str,
    roster: Path | None,
    month: str | None,
    rows: str,
    force: bool,
    budget: str | None,
    threshold: str | None,
    min_divisor: str,
    no_bonus: bool,
    no_excess: bool,
    cap_rule: str,
    decimals: str,
    criteria_spec: str | None,
    sample: bool,
) -> None:
    """Write a fresh monthly workbook OUT.xlsx with live formulas (and their values)."""
    if out.suffix.lower() != ".xlsx":
        raise InputError("the workbook must be an .xlsx file", where="OUT", value=str(out))
    options = build_options(threshold, min_divisor, not no_bonus, not no_excess, cap_rule, decimals)
    data = build_month(
        template=template, roster=roster, sample=sample, criteria_spec=criteria_spec, budget=budget,
        month=month, rows=rows, options=options,
    )  # fmt: skip
    layout = grape_layout(data)
    write_atomic(out, lambda tmp: write_workbook(layout, data, tmp, decimals=options.decimals), force=force)
    a = data.allocation
    d = options.decimals
    people = f"{len(data.rows)} role rows" if data.rows else "no members yet"
    Console().print(
        f"Wrote {out} ({template} template, {data.month}): {people}, room for {data.table_rows}."
        + (
            f" Budget {a.budget:,.{d}f}: allocated {a.total_allocated:,.{d}f}, returned {a.returned_to_treasury:,.{d}f}"
            + (" [bold yellow](dynamic cap engaged)[/]" if a.cap_engaged else "")
            + "."
            if data.rows
            else ""
        ),
        highlight=False,
    )
