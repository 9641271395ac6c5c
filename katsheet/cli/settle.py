"""`katsheet settle MONTH.xlsx`: the month made final, its files written all or none (cycle/settle.py)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from ..cycle.settle import Refused, settle, write_settlement
from .options import PATH


@click.command(name="settle")
@click.argument("month", type=PATH)
@click.option("--out", "out", type=PATH, help="The folder to write into (default: the workbook's own).")
@click.option("--payout", default=None, help="The payout format (a KAT month: kat-mint, its batch mint list).")
@click.option("--again", is_flag=True, help="A settled month: write its mint list, report and record once more.")
def settle_command(month: Path, out: Path | None, payout: str | None, again: bool) -> None:
    """Settle MONTH.xlsx: refused with every reason unless it checks clean and is approved; then the
    settled (sealed, locked) workbook, the mint list, the report and the settlement record."""
    try:
        result = settle(month, out, payout=payout, again=again)
    except Refused as e:
        click.echo(f"katsheet: settlement refused ({len(e.reasons)} reason{'s' * (len(e.reasons) != 1)}):", err=True)
        for reason in e.reasons:
            click.echo(f"  {reason}", err=True)
        raise click.exceptions.Exit(1) from None
    write_settlement(result)
    console = Console()
    totals = result.record["totals"]
    console.print(Text(f"Settled {result.settlement_id}: minted {totals['minted']} KAT to {totals['members_paid']} "
                       f"members; seal {result.record['seal']}"))  # fmt: skip
    for path, data in result.files:
        console.print(Text(f"  wrote {path} ({len(data):,} bytes)"))
    for path in result.unchanged:
        console.print(Text(f"  {path}: byte-identical, left as it is"))
