"""GREMS parity in `katsheet compute` (grape.md 6): task pools (``--model pools``), the per-member
cap (``--max-reward``) and several assets (``--asset``), for both models, as JSON, CSV or tables."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..engine import InputError, Options, parse_decimal, plain, round_half_up
from ..engine.grape.pools import (
    Asset,
    PoolAllocation,
    allocate_scoring,
    check_max_share,
    check_pool_budget,
    pool_scoring,
)
from ..engine.numbers import AMOUNT_PLACES, fixed
from ..io.csvfile import read_task_scores, read_tasks
from ..layouts.grape import DEFAULT_ASSET
from .options import parse_budget, parse_whole
from .render import csv_text, emit


def parse_asset(text: str, default_decimals: int) -> Asset:
    """``NAME=BUDGET[:DECIMALS]`` (``USDC=100:2``, ``SOL=1:9``)."""
    name, sep, rest = text.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise InputError("give an asset as NAME=BUDGET or NAME=BUDGET:DECIMALS (e.g. USDC=100:2)", where="--asset",
                         value=text)  # fmt: skip
    amount, _, places = rest.partition(":")
    d = (
        parse_whole(places, what="decimals", where=f"--asset {name.strip()}", low=0, high=18)
        if places
        else default_decimals
    )
    return Asset(name.strip(), parse_budget(amount.strip(), d), d)


def parse_assets(assets: tuple[str, ...], budget: str | None, decimals: int) -> list[Asset]:
    """--asset NAME=BUDGET[:DECIMALS] repeated, or one asset (GRAPE) of --budget at --decimals."""
    if assets and budget is not None:
        raise InputError("give either --budget or --asset NAME=BUDGET[:DECIMALS], not both", where="--budget")
    wanted = [parse_asset(a, decimals) for a in assets] or [
        Asset(DEFAULT_ASSET, parse_budget(budget, decimals), decimals)
    ]
    names = [a.name.lower() for a in wanted]
    if len(set(names)) != len(names):
        raise InputError("an asset is given twice", where="--asset", value=", ".join(a.name for a in wanted))
    return wanted


def parse_max_reward(text: str | None) -> Decimal | None:
    if text is None:
        return None
    share = parse_decimal(text, what="the per-member cap", where="--max-reward", percent=True)
    check_max_share(share)
    return share


def _exact(value: Fraction | Decimal) -> str:
    """An intermediate figure: exact when it has few places, else to AMOUNT_PLACES (rounded half up)."""
    return plain(round_half_up(Fraction(value), AMOUNT_PLACES).normalize()) if value else "0"


def _texts(values: dict[str, Decimal]) -> dict[str, str]:
    """Each member's figure as text; the few distinct figures of a month of levels written once."""
    texts = {v: plain(v.normalize()) if v else "0" for v in set(values.values())}
    return {member: texts[v] for member, v in values.items()}


def to_json(a: PoolAllocation) -> dict[str, Any]:
    return {
        "model": "pools", "budget": plain(a.budget), "decimals": a.decimals,
        "max_reward": plain(a.max_share) if a.max_share is not None else None,
        "total_allocated": plain(a.total_allocated), "returned_to_treasury": plain(a.returned_to_treasury),
        "members": [{"member": m.member, "before_cap": _exact(m.before_cap), "total": plain(m.total), "capped": m.capped}
                    for m in a.members],
        "tasks": [{"task": t.task, "share": plain(t.share), "pat": _exact(t.pat), "tpws": plain(t.tpws),
                   "scorers": t.scorers, "unallocated": _exact(t.unallocated),
                   "pwr": _texts(t.pwr_rounded(AMOUNT_PLACES))}
                  for t in a.tasks],
    }  # fmt: skip


def compute_pools(roster: Path | None, tasks_path: Path | None, budget: str | None, decimals: int,
                  max_reward: str | None, assets: tuple[str, ...], fmt: str) -> None:  # fmt: skip
    if roster is None or tasks_path is None:
        raise InputError("--model pools needs the roster (member, task, score) and --tasks TASKS.csv (task, share)",
                         where="ROSTER" if roster is None else "--tasks")  # fmt: skip
    wanted = parse_assets(assets, budget, decimals)
    cap = parse_max_reward(max_reward)
    tasks, scores = read_tasks(tasks_path), read_task_scores(roster)
    for a in wanted:  # the options first, then what the files hold
        check_pool_budget(a.budget, a.decimals, cap)
    scoring = pool_scoring(tasks, scores)
    results = [(a.name, allocate_scoring(a.budget, scoring, decimals=a.decimals, max_share=cap))
               for a in wanted]  # fmt: skip

    def as_json() -> dict[str, Any]:
        if not assets:
            return to_json(results[0][1])
        return {"model": "pools", "assets": [{"asset": name, **to_json(r)} for name, r in results]}

    def as_csv() -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["asset", "member", "before_cap", "total", "capped"])
        for name, r in results:
            for m in r.members:
                writer.writerow([csv_text(name), csv_text(m.member), fixed(round_half_up(m.before_cap, r.decimals), r.decimals),
                                 fixed(m.total, r.decimals), "TRUE" if m.capped else "FALSE"])  # fmt: skip
        return buffer.getvalue()

    def as_table(console: Console) -> None:
        for name, r in results:
            d = r.decimals
            table = Table(title=f"{name}: budget {r.budget:,.{d}f}, allocated {r.total_allocated:,.{d}f}, returned "
                                f"{r.returned_to_treasury:,.{d}f}", title_justify="left")  # fmt: skip
            for column in ("member", "before cap", "total", "capped"):
                table.add_column(column, justify="left" if column == "member" else "right")
            for m in r.members:
                table.add_row(Text(m.member), f"{round_half_up(m.before_cap, d):,.{d}f}", f"{m.total:,.{d}f}",
                              "yes" if m.capped else "")  # fmt: skip
            console.print(table)
        r = results[0][1]
        tasks_table = Table(title="Tasks", title_justify="left")
        for column in ("task", "share", "pool (PAT)", "TPWS", "scorers", "not allocated"):
            tasks_table.add_column(column, justify="left" if column == "task" else "right")
        for t in r.tasks:
            tasks_table.add_row(Text(t.task), plain(t.share), f"{round_half_up(t.pat, r.decimals):,.{r.decimals}f}",
                                plain(t.tpws), str(t.scorers) + (" (lone scorer)" if t.scorers == 1 else ""),
                                f"{round_half_up(t.unallocated, r.decimals):,.{r.decimals}f}")  # fmt: skip
        console.print(tasks_table)

    emit(fmt, as_json=as_json, as_csv=as_csv, as_table=as_table)


def compute_tiers(rows: list, budget: Decimal | None, options: Options, max_reward: str | None,
                  assets: tuple[str, ...], fmt: str) -> None:  # fmt: skip
    """The BASE/BONUS/EXCESS model with GREMS' per-member cap and/or several assets (grape.md 6).

    Per asset, the allocation as `katsheet compute` gives it (role rows, before the member cap),
    and with --max-reward each member's summed total after the cap: ``members_capped``, and the
    total allocated and returned after it."""
    import dataclasses

    from ..engine import allocate
    from ..engine.grape.pools import cap_members
    from .render import print_table, to_json_dict

    # the same parsing as for pools (an asset named twice is refused); else the budget's one asset
    wanted = (
        parse_assets(assets, None, options.decimals) if assets else [Asset(DEFAULT_ASSET, budget, options.decimals)]
    )  # type: ignore[arg-type]
    cap = parse_max_reward(max_reward)
    results = []
    for a in wanted:
        allocation = allocate(a.budget, rows, dataclasses.replace(options, decimals=a.decimals))
        results.append((a.name, allocation, cap_members(allocation, cap) if cap is not None else None))

    def one(allocation: Any, capped: Any) -> dict[str, Any]:
        out = to_json_dict(allocation)
        if capped is not None:
            members, allocated, returned = capped
            out.update(max_reward=plain(cap), total_allocated=plain(allocated), returned_to_treasury=plain(returned),  # type: ignore[arg-type]
                       members_capped=[{"member": m.member, "before_cap": plain(m.before_cap), "total": plain(m.total),
                                        "capped": m.capped} for m in members])  # fmt: skip
        return out

    def as_json() -> dict[str, Any]:
        if not assets:
            return one(results[0][1], results[0][2])
        return {"model": "tiers", "assets": [{"asset": name, **one(a, c)} for name, a, c in results]}

    def as_csv() -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["asset", "member", "before_cap", "total", "capped"])
        for name, a, c in results:
            d = a.options.decimals
            members = c[0] if c is not None else cap_members(a, None)[0]
            for m in members:
                writer.writerow([csv_text(name), csv_text(m.member), fixed(m.before_cap, d), fixed(m.total, d),
                                 "TRUE" if m.capped else "FALSE"])  # fmt: skip
        return buffer.getvalue()

    def as_table(console: Console) -> None:
        for name, a, c in results:
            console.print(Text(f"Asset {name}", style="bold"))
            print_table(a, console)
            if c is not None:
                d = a.options.decimals
                table = Table(title=f"{name}: per-member cap {plain(cap * 100)}% of the budget; allocated "  # type: ignore[operator]
                                    f"{c[1]:,.{d}f}, returned {c[2]:,.{d}f}", title_justify="left")  # fmt: skip
                for column in ("member", "before cap", "total", "capped"):
                    table.add_column(column, justify="left" if column == "member" else "right")
                for m in c[0]:
                    table.add_row(
                        Text(m.member), f"{m.before_cap:,.{d}f}", f"{m.total:,.{d}f}", "yes" if m.capped else ""
                    )
                console.print(table)

    emit(fmt, as_json=as_json, as_csv=as_csv, as_table=as_table)
