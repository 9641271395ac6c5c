"""The cycle's commands: `katsheet settle` (cycle/settle.py) and `katsheet next` (cycle/next.py)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from ..cycle.settle import Refused, settle, write_settlement
from ..engine import InputError
from ..io.atomic import write_atomic
from .options import PATH


def _refused(e: Refused) -> None:
    click.echo(f"katsheet: refused ({len(e.reasons)} reason{'s' * (len(e.reasons) != 1)}):", err=True)
    for reason in e.reasons:
        click.echo(f"  {reason}", err=True)
    raise click.exceptions.Exit(1) from None


@click.command(name="settle")
@click.argument("month", type=PATH)
@click.option("--out", "out", type=PATH, help="The folder to write into (default: the workbook's own).")
@click.option(
    "--payout",
    default=None,
    help="GRAPE: solana-tokens, safe, grape-governance, streamflow or generic "
    "(default); KAT: kat-mint, its batch mint list.",
)
@click.option("--token", default="", help="safe: the ERC-20 token's address.")
@click.option("--again", is_flag=True, help="A settled month: write its mint list, report and record once more.")
def settle_command(month: Path, out: Path | None, payout: str | None, token: str, again: bool) -> None:
    """Settle MONTH.xlsx: refused with every reason unless it checks clean and is approved; then the
    settled (sealed, locked) workbook, the mint list, the report and the settlement record."""
    try:
        result = settle(month, out, payout=payout, token=token, again=again)
    except Refused as e:
        _refused(e)
        return
    write_settlement(result)
    console = Console()
    totals = result.record["totals"]
    amount = f"minted {totals['minted']} KAT" if "minted" in totals else f"paid {totals['total_allocated']}"
    console.print(Text(f"Settled {result.settlement_id}: {amount} to {totals['members_paid']} members; "
                       f"seal {result.record['seal']}"))  # fmt: skip
    for path, data in result.files:
        console.print(Text(f"  wrote {path} ({len(data):,} bytes)"))
    for path in result.unchanged:
        console.print(Text(f"  {path}: byte-identical, left as it is"))


@click.command(name="next")
@click.argument("settled", type=PATH)
@click.argument("out", type=PATH, required=False)
@click.option("--budget", default=None, help="GRAPE: the base budget (default: last month's).")
@click.option(
    "--carry-over",
    "carry_over",
    default="0%",
    show_default=True,
    help="GRAPE: the share of last month's returned amount added to the budget.",
)
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def next_command(settled: Path, out: Path | None, budget: str | None, carry_over: str, force: bool) -> None:
    """Write the month after SETTLED.xlsx (default OUT beside it: CODE-YYYY-MM.xlsx, GRAPE-YYYY-MM.xlsx).
    KAT: the sealed ledger locked, open rows and exceptions, every member's state and wallet carried.
    GRAPE: the same members, roles, wallets, criteria and options, scores blank, budget = base +
    carry-over x last month's returned amount."""
    from ..cycle.next import next_month

    try:
        made = next_month(settled, budget=budget, carry_over=carry_over)
    except Refused as e:
        _refused(e)
        return
    target = out if out is not None else settled.parent / made.name
    if target.suffix.lower() != ".xlsx":
        raise InputError("the workbook must be an .xlsx file", where="OUT", value=str(target))
    write_atomic(target, made.render, force=force)
    Console().print(Text(f"Wrote {target} ({made.summary})."))


def _total(record: dict, *keys: str) -> str | None:
    """A KAT total (minted, residue) or the GRAPE one (total allocated, returned)."""
    totals = record.get("totals", {})
    return next((totals[k] for k in keys if k in totals), None)


@click.command(name="history")
@click.argument("folder", type=PATH)
@click.option("--format", "fmt", default="table", show_default=True, help="table, json or csv.")
def history_command(folder: Path, fmt: str) -> None:
    """Every settled month in FOLDER, per DAO: totals, members paid, and the verification of each
    month's files against its settlement record and of the chain from month to month (exit 1 if
    anything does not verify)."""
    import csv
    import io

    from ..cycle.history import history
    from .options import choice
    from .render import json_text

    fmt = choice(fmt, ("table", "json", "csv"), what="the format", where="--format")
    months = history(folder)
    rows = [
        {"dao": dao, "period": m.period, "settlement_id": m.record.get("settlement_id"),
         "paid": _total(m.record, "minted", "total_allocated"), "left": _total(m.record, "residue", "returned_to_treasury"),
         "members_paid": m.record.get("totals", {}).get("members_paid"), "verified": not m.problems,
         "problems": m.problems}
        for dao, ms in months.items() for m in ms
    ]  # fmt: skip
    problems = [p for r in rows for p in r["problems"]]
    if fmt == "json":
        series: dict[str, dict[str, dict[str, str]]] = {}
        for dao, ms in months.items():
            for m in ms:
                for member, amount in m.amounts.items():
                    series.setdefault(dao, {}).setdefault(member, {})[m.period] = str(amount)
        click.echo(json_text({"months": rows, "members": series}))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["dao", "period", "settlement_id", "paid", "left", "members_paid", "verified"])
        writer.writerows([r["dao"], r["period"], r["settlement_id"], r["paid"], r["left"], r["members_paid"],
                          r["verified"]] for r in rows)  # fmt: skip
        click.echo(buffer.getvalue(), nl=False)
    else:
        from rich.table import Table

        table = Table(title=f"Settled months in {folder}")
        numeric = ("Minted or paid", "Residue or returned", "Members paid")
        for header in ("DAO", "Period", "Settlement", *numeric, "Verified"):
            table.add_column(header, justify="right" if header in numeric else "left")
        for r in rows:
            table.add_row(*(Text(str(r[k])) for k in ("dao", "period", "settlement_id", "paid", "left",
                                                       "members_paid")), Text("yes" if r["verified"] else "NO"))  # fmt: skip
        console = Console()
        console.print(table)
        if not rows:
            console.print(Text(f"No settlement record (*-settlement.json) in {folder}."))
    for p in problems:
        click.echo(f"katsheet: {p}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
