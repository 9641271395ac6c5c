"""`katsheet import-grems FILE.xlsx [OUT.xlsx]`: a GREMS-style workbook (SCORE and REF tabs) as a
katsheet task-pool month, every row that could not be mapped reported, and GREMS's final rewards
compared with katsheet's, member by member, so a DAO can move over and see where the numbers part.

GREMS keeps the tasks' pool shares outside SCORE and REF: give them with --tasks TASKS.csv (task,
share); without it every task found in SCORE gets an equal share, and the output says so.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..engine import InputError
from ..engine.grape.pools import Task
from ..engine.names import member_key
from ..engine.numbers import plain
from ..io.atomic import write_atomic
from ..io.csvfile import read_tasks
from ..io.grems import read_grems
from ..layouts.grape import DEFAULT_ROWS, next_month
from ..layouts.pools import PoolsMonth, pools_layout, pools_month
from ..workbook.writer import workbook_bytes
from .options import PATH, choice, parse_whole
from .pools import parse_assets, parse_max_reward
from .render import emit


def _tasks(path: Path | None, scores: list) -> tuple[list[Task], bool]:
    if path is not None:
        return read_tasks(path), False
    seen: dict[str, str] = {}
    for s in scores:
        seen.setdefault(member_key(s.task), s.task)
    if not seen:
        raise InputError("SCORE has no row katsheet could map: nothing to import", where="SCORE")
    return [Task(name, Decimal(1), "SCORE") for name in seen.values()], True


def comparison(month: PoolsMonth, finals: dict[str, Decimal], names: dict[str, str]) -> list[dict[str, Any]]:
    """Per member GREMS scored or paid: GREMS's final reward, katsheet's (the first asset), the difference."""
    ours = {member_key(m.member): m for m in month.allocations[0].members}
    keys = list(dict.fromkeys([*(member_key(r.member) for r in month.rows), *finals]))
    shown = {member_key(r.member): r.member for r in month.rows} | {k: names.get(k, k) for k in finals if k not in ours}
    out = []
    for k in keys:
        mine = ours[k].total if k in ours else Decimal(0)
        theirs = finals.get(k)
        out.append({"member": shown.get(k, k), "grems": theirs, "katsheet": mine,
                    "difference": None if theirs is None else mine - theirs,
                    "capped": bool(k in ours and ours[k].capped)})  # fmt: skip
    return out


@click.command(name="import-grems")
@click.argument("source", type=PATH)
@click.argument("out", type=PATH, required=False)
@click.option("--tasks", "tasks_path", type=PATH, help="The tasks' pool shares (task, share); default: equal shares.")
@click.option("--budget", help="The month's GRAPE budget (one asset).")
@click.option("--asset", "assets", multiple=True, help="An asset, NAME=BUDGET[:DECIMALS] (repeat it).")
@click.option("--decimals", default="6", show_default=True, help="Decimals of the totals with --budget.")
@click.option("--max-reward", help="The per-member cap (GREMS Max Reward %), e.g. 40%.")
@click.option("--month", help="The month, YYYY-MM (default: next month).")
@click.option("--rows", default=str(DEFAULT_ROWS), show_default=True, help="Room for this many members.")
@click.option("--format", "fmt", default="table", show_default=True, help="table or json.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def import_grems_command(source: Path, out: Path | None, tasks_path: Path | None, budget: str | None,
                         assets: tuple[str, ...], decimals: str, max_reward: str | None, month: str | None, rows: str,
                         fmt: str, force: bool) -> None:  # fmt: skip
    """Import a GREMS workbook (SCORE and REF tabs) as a katsheet task-pool month OUT.xlsx (default:
    beside it, NAME-katsheet.xlsx); report the rows that could not be mapped and compare GREMS's final
    rewards with katsheet's."""
    import re

    fmt = choice(fmt, ("table", "json"), what="the format", where="--format")
    target = out if out is not None else source.with_name(f"{source.stem}-katsheet.xlsx")
    if target.suffix.lower() != ".xlsx":
        raise InputError("the workbook must be an .xlsx file", where="OUT", value=str(target))
    label = month.strip() if month is not None else next_month()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", label):
        raise InputError("the month must be written YYYY-MM", where="--month", value=month)
    places = parse_whole(decimals, what="--decimals", where="--decimals", low=0, high=18)
    capacity = parse_whole(rows, what="--rows", where="--rows", low=1, high=100_000)
    wanted = parse_assets(assets, budget, places)
    cap = parse_max_reward(max_reward)
    grems = read_grems(source)
    tasks, equal = _tasks(tasks_path, grems.scores)
    made = pools_month(label, tasks, wanted, grems.scores, max_share=cap, identities=grems.identities,
                       capacity=capacity)  # fmt: skip
    write_atomic(target, lambda: workbook_bytes(pools_layout(made), made, decimals=made.decimals), force=force)
    rows_ = comparison(made, grems.finals, grems.names)
    compared = [r for r in rows_ if r["grems"] is not None]
    agree = sum(1 for r in compared if r["difference"] == 0)
    asset = made.assets[0]

    def as_json() -> dict[str, Any]:
        return {
            "workbook": str(target), "month": label, "equal_shares": equal, "unmapped": grems.unmapped,
            "members": [{**r, "grems": None if r["grems"] is None else plain(r["grems"]), "katsheet": plain(r["katsheet"]),
                         "difference": None if r["difference"] is None else plain(r["difference"])} for r in rows_],
            "compared": len(compared), "agree": agree,
        }  # fmt: skip

    def as_table(console: Console) -> None:
        console.print(Text(f"Wrote {target} (pools template, {label}): {len(made.rows)} members, {len(tasks)} tasks"
                           + (" (equal shares: give --tasks for GREMS's ratios)" if equal else "") + "."))  # fmt: skip
        for line in grems.unmapped:
            console.print(Text(f"  not mapped: {line}", style="yellow"))
        table = Table(title=f"Final rewards: GREMS and katsheet ({asset.name})", title_justify="left")
        for column in ("member", "GREMS", "katsheet", "difference", "capped"):
            table.add_column(column, justify="left" if column == "member" else "right")
        d = asset.decimals
        for r in rows_:
            diff = r["difference"]
            table.add_row(Text(r["member"]), "" if r["grems"] is None else f"{r['grems']:,.{d}f}",
                          f"{r['katsheet']:,.{d}f}", "" if diff is None else Text(f"{diff:+,.{d}f}",
                          style="bold red" if diff else ""), "yes" if r["capped"] else "")  # fmt: skip
        console.print(table)
        console.print(Text(f"{agree} of {len(compared)} members' final rewards agree to the unit; "
                           f"{len(grems.unmapped)} rows not mapped."))  # fmt: skip

    emit(fmt, as_json=as_json, as_csv=lambda: "", as_table=as_table)
