"""How an Allocation is shown: a rich table for people, JSON and CSV for scripts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..engine import Allocation, plain, round_half_up
from ..engine.numbers import fixed, grouped

MEMBER_FIELDS = ("member", "role", "grape_weight", "base", "bonus", "excess", "total", "bonus_eligible")


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    return value


def to_json_dict(a: Allocation) -> dict[str, Any]:
    """The JSON contract of `katsheet compute --format json` (decimal figures as strings)."""
    head = {
        "budget": a.budget,
        "role_holders": a.role_holders,
        "base_allotted": a.base_allotted,
        "average_weight": a.average_weight,
        "threshold": a.threshold,
        "bonus_eligible": a.bonus_eligible,
        "bonus_divisor": a.bonus_divisor,
        "bonus_pool": a.bonus_pool,
        "excess_pool": a.excess_pool,
        "cap_engaged": a.cap_engaged,
        "cap_ratio": a.cap_ratio,
        "total_allocated": a.total_allocated,
        "returned_to_treasury": a.returned_to_treasury,
    }
    out = {k: _text(v) for k, v in head.items()}
    out["members"] = [{f: _text(getattr(m, f)) for f in MEMBER_FIELDS} for m in a.members]
    return out


def to_csv(a: Allocation) -> str:
    """One row per role row, as a spreadsheet reads it back: amounts with the month's decimals
    (the total exact; base, bonus and excess rounded half up to them), TRUE/FALSE as Excel writes."""
    d = a.options.decimals
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MEMBER_FIELDS)
    for m in a.members:
        writer.writerow([
            csv_text(m.member), csv_text(m.role), plain(m.grape_weight),
            *(fixed(round_half_up(getattr(m, f), d), d) for f in ("base", "bonus", "excess")),
            fixed(m.total, d), "TRUE" if m.bonus_eligible else "FALSE",
        ])  # fmt: skip
    return buffer.getvalue()


def emit(
    fmt: str, *, as_json: Callable[[], dict[str, Any]], as_csv: Callable[[], str], as_table: Callable[[Console], None],
    width: int = 140,
) -> None:  # fmt: skip
    """Print a result as the --format option asked: JSON, CSV, or a rich table (not cut in a pipe)."""
    if fmt == "json":
        click.echo(json_text(as_json()))
    elif fmt == "csv":
        click.echo(as_csv(), nl=False)
    else:
        console = Console()
        if not console.is_terminal:
            console.width = max(console.width, width)
        as_table(console)


def json_text(value: Any, depth: int = 0) -> str:
    """JSON indented down to the records: a list or object that holds no list or object (one
    member, one task) is one line. Readable, and mostly encoded by json's C encoder, which
    ``indent`` turns off: 3x faster on a month of 1,000 members x 20 tasks x 3 assets."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    if not any(isinstance(v, (dict, list)) for v in items):
        return json.dumps(value, ensure_ascii=False)
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict):
        lines = [
            f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {json_text(v, depth + 1)}" for k, v in value.items()
        ]
        return "{\n" + ",\n".join(lines) + f"\n{pad}}}"
    lines = [f"{inner}{json_text(v, depth + 1)}" for v in value]
    return "[\n" + ",\n".join(lines) + f"\n{pad}]"


def csv_text(value: str) -> str:
    """Text from users stays text when a spreadsheet opens the CSV: a leading = + - @ gets a '."""
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _percent(value: Decimal) -> str:
    return f"{plain(value * 100)}%"


def print_table(a: Allocation, console: Console) -> None:
    d = a.options.decimals
    table = Table(title=f"GRAPE allocation of {grouped(a.budget, d)}", title_justify="left", box=box.SIMPLE_HEAD)
    for name, justify in [
        ("Member", "left"),
        ("Role", "left"),
        ("GRAPE", "right"),
        ("Base", "right"),
        ("Bonus", "right"),
        ("Excess", "right"),
        ("Total", "right"),
        ("Share", "right"),
    ]:
        table.add_column(name, justify=justify, no_wrap=justify == "right")  # type: ignore[arg-type]
    for m in a.members:
        share = m.total / a.budget if a.budget else Decimal(0)
        table.add_row(
            Text(m.member),
            Text(m.role),
            _percent(m.grape_weight),
            grouped(m.base, d),
            grouped(m.bonus, d),
            grouped(m.excess, d),
            grouped(m.total, d),
            f"{share * 100:.2f}%",
            style="bold green" if m.bonus_eligible else ("dim" if not m.performer else None),
        )
    console.print(table, markup=False)
    o = a.options
    threshold_note = "override" if o.threshold is not None else "= average"
    lines = [
        f"Role holders N: {a.role_holders}   performers: {a.performers}   base allotted B/N: {grouped(a.base_allotted, d)}",
        f"Average GRAPE weight: {_percent(a.average_weight)}   threshold: {_percent(a.threshold)} ({threshold_note})",
        f"Bonus eligible: {a.bonus_eligible} (green rows)   divisor: {a.bonus_divisor} (minimum {o.min_divisor})",
        f"Bonus pool: {grouped(a.bonus_pool, d)}{'' if o.bonus else ' (bonus off)'}   "
        f"excess pool: {grouped(a.excess_pool, d)}{'' if o.excess else ' (excess off)'}",
    ]
    if a.cap_engaged:
        lines.append(
            f"[bold yellow]Dynamic cap ENGAGED[/] (rule {o.cap_rule}): eligible members' "
            + ("bonus and excess scaled" if o.cap_rule == "scale" else "excess cut to base")
            + f" by {plain(a.cap_ratio)}"
        )
    elif a.cap_condition:
        lines.append("[bold yellow]Dynamic cap condition met but cap rule is off[/]: nothing was cut")
    else:
        lines.append(f"Dynamic cap not engaged (rule {o.cap_rule})")
    lines.append(
        f"[bold]Total allocated: {grouped(a.total_allocated, d)}   returned to treasury: "
        f"{grouped(a.returned_to_treasury, d)}[/]"
    )
    for line in lines:
        console.print(line, highlight=False)
