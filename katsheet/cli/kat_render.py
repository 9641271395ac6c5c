"""How a KAT period is shown: a rich table for people, JSON and the batch mint list CSV for scripts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..engine import plain
from ..engine.kat import KatPeriod
from ..engine.numbers import fixed, grouped
from .render import csv_text

MEMBER_FIELDS = ("member", "level_before", "level", "multiplier", "active", "inactive", "upheld", "streak",
                 "last_active", "first_seen", "credits", "raw", "capped", "scaled", "kat", "cumulative", "tier")  # fmt: skip
ROW_FIELDS = ("entry", "counted", "late", "beyond_limit", "problems")
MINT_FIELDS = ("settlement_id", "period", "member", "amount")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def to_json_dict(p: KatPeriod) -> dict[str, Any]:
    """The JSON contract of `katsheet kat --format json` (decimal figures as strings)."""
    c = p.config
    d = c.decimals
    return {
        "dao": c.name,
        "period": p.period,
        "settlement_id": p.settlement_id,
        "kat_per_credit": plain(c.kat_per_credit),
        "global_cap": plain(c.global_cap),
        "per_user_cap": plain(c.per_user_cap),
        "decimals": d,
        "total_capped": plain(p.total_capped),
        "scale": plain(p.scale),
        "global_cap_engaged": p.global_cap_engaged,
        "minted": fixed(p.minted, d),
        "residue": plain(p.residue),
        "members": [
            {f: (fixed(m.kat, d) if f == "kat" else _json_value(getattr(m, f))) for f in MEMBER_FIELDS}
            for m in p.members
        ],
        "rows": [{f: _json_value(getattr(r, f)) for f in ROW_FIELDS} for r in p.rows],
        "mint_list": [
            {"settlement_id": r.settlement_id, "period": r.period, "member": r.member, "amount": fixed(r.amount, d)}
            for r in p.mint_list
        ],
        "blocking": len(p.blocking),
    }


def to_mint_csv(p: KatPeriod) -> str:
    """The batch mint list: settlement_id, period, member, amount (the month's decimals, no separators)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MINT_FIELDS)
    for r in p.mint_list:
        writer.writerow([r.settlement_id, r.period, csv_text(r.member), fixed(r.amount, p.config.decimals)])
    return buffer.getvalue()


def _number(value: Decimal) -> str:
    return f"{value.normalize():,f}" if value else "0"


def print_period(p: KatPeriod, console: Console) -> None:
    c = p.config
    d = c.decimals
    table = Table(title=f"KAT for {c.name}, {p.period} (settlement {p.settlement_id})", title_justify="left",
                  box=box.SIMPLE_HEAD)  # fmt: skip
    for name, justify in [("Member", "left"), ("Level", "left"), ("Why", "left"), ("Credits", "right"),
                          ("Raw", "right"), ("Capped", "right"), ("KAT", "right"), ("Cumulative", "right"),
                          ("Tier", "left")]:  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=justify == "right")  # type: ignore[arg-type]
    for m in p.members:
        before, now = c.levels[m.level_before], c.levels[m.level]
        level = f"{before.number} {before.name}" if before == now else f"{before.number} -> {now.number} {now.name}"
        style = "bold green" if m.level > m.level_before else ("bold red" if m.level < m.level_before else None)
        table.add_row(Text(m.member), Text(level), Text(m.reason), _number(m.credits), _number(m.raw),
                      _number(m.capped), grouped(m.kat, d), grouped(m.cumulative, d), Text(m.tier),
                      style=style)  # fmt: skip
    console.print(table, markup=False)
    lines = [
        f"Rules: {plain(c.kat_per_credit)} KAT per credit, per-member cap {_number(c.per_user_cap)}, "
        f"global cap {_number(c.global_cap)} per period",
        f"Total capped T: {_number(p.total_capped)}",
    ]
    if p.global_cap_engaged:
        lines.append(
            f"[bold yellow]Global cap ENGAGED[/]: T exceeds {_number(c.global_cap)}, so every member's capped KAT "
            f"was scaled by r = {_number(c.global_cap)} / {_number(p.total_capped)} = {plain(p.scale)}"
        )
    else:
        lines.append("Global cap not engaged (r = 1): nobody was scaled")
    lines.append(f"[bold]Minted: {grouped(p.minted, d)}   residue (not redistributed): {plain(p.residue)}   "
                 f"mint list: {len(p.mint_list)} members[/]")  # fmt: skip
    late = [r.entry for r in p.rows if r.late]
    beyond = [r.entry for r in p.rows if r.beyond_limit]
    if late:
        lines.append(f"Late rows (counted now, flagged): {', '.join(late)}")
    if beyond:
        lines.append(f"Rows beyond a rule's limit (reported, not credited): {', '.join(beyond)}")
    carried = p.carried
    if carried:
        lines.append(f"Carried open into the next period: {', '.join(f'{r.entry} ({r.status})' for r in carried)}")
    for line in lines:
        console.print(line, highlight=False)
    blocking = p.blocking
    if blocking:
        console.print(
            f"[bold red]{len(blocking)} {'row blocks' if len(blocking) == 1 else 'rows block'} settlement[/]: "
            "fix or void them",
            highlight=False,
        )
        rows = Table(box=box.SIMPLE_HEAD)
        for name in ("Entry", "Where", "Member", "Problem"):
            rows.add_column(name)
        for r in blocking:
            rows.add_row(Text(r.entry), Text(r.where), Text(r.member), Text("; ".join(r.problems)))
        console.print(rows)
    else:
        console.print("No row blocks settlement.", highlight=False)
