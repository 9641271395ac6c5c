"""What each page shows, as plain data for the templates (app.py serves them, site.py writes them).

Every figure comes from the engine's results on the workbook's own inputs (the reader's month), and
is formatted as the workbooks format it. Charts are inline SVG (charts.py). Nothing here writes.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..charts import bars, columns
from ..cycle.next import month_after
from ..cycle.payouts import GRAPE_FORMATS
from ..cycle.settle import GRAPE, KAT, POOLS
from ..engine.grape.sensitivity import cap_switches
from ..engine.names import member_key
from ..engine.numbers import grouped
from ..layouts.pools import PoolsMonth
from .explain import grape_steps, kat_steps, percent, pools_steps
from .folder import STAGES, Folder, MonthFiles


@dataclass
class Table:
    """A table the page can sort: headers, and per row (shown text, sort key) cells."""

    headers: list[str]
    rows: list[list[tuple[str, str]]] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)
    links: dict[int, list[str]] = field(default_factory=dict)  # column -> per row, a member to link


def _csv_table(data: bytes, header: bool) -> Table:
    lines = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    head = lines.pop(0) if header and lines else ["address", "amount"]
    table = Table(head)
    for line in lines:
        table.rows.append([(cell, cell) for cell in line])
    return table


def paid_series(months: list[MonthFiles]) -> list[tuple[str, float]]:
    """What each settled month paid or minted, from its record (nothing read but the JSON); a record
    whose total is not a number is left out of the chart (history and check name it)."""
    out = []
    for m in months:
        totals = (m.record or {}).get("totals", {})
        value = totals.get("minted", totals.get("total_allocated")) if isinstance(totals, dict) else None
        try:
            out.append((m.period, float(Decimal(str(value)))))
        except (InvalidOperation, ValueError, TypeError):
            continue
    return out


def _month(folder: Folder, path: Path | None) -> Any:
    """The month the reader read from ``path`` (a KatMonth or a Book), None if it cannot be read."""
    book = folder.analyse(path).book if path is not None else None
    return book.month if book is not None else None


def settled_amounts(folder: Folder, m: MonthFiles) -> dict[str, Decimal]:
    """What a settled month paid each member (by member key), from its sealed workbook: the figures
    its payout file was written from, whatever the file's format (solana-tokens has no names)."""
    month = _month(folder, m.settled) if m.record is not None else None
    if month is None:
        return {}
    if m.framework == "kat":
        return {member_key(r.member): r.kat for r in month.members}
    if isinstance(month, PoolsMonth):  # the DAO's token, the first asset (as history charts it)
        return {member_key(x.member): x.total for x in month.allocations[0].members}
    return {member_key(line.member): line.paid(month) for line in month.members}


def index_context(folder: Folder, *, wait: bool = True) -> dict[str, Any]:
    """The DAOs and their months; with ``wait=False`` a month not yet checked shows as pending
    (the page then reloads itself until every stage is known) instead of being checked now."""
    daos = []
    pending = False
    for dao, months in folder.months().items():
        items = [{"m": m, "stage": folder.stage(m, wait=wait)} for m in months]
        pending = pending or any(item["stage"] is None for item in items)
        daos.append({"dao": dao, "framework": months[0].framework, "months": items,
                     "chart": Markup(columns(paid_series(months), f"{dao}: paid or minted per settled month"))})  # fmt: skip
    return {"daos": daos, "stages": STAGES, "title": "katsheet dashboard", "pending": pending}


def version_of(m: MonthFiles) -> str:
    """The working workbook's SHA-256 as the page saw it: an action on an older page is refused."""
    path = m.workbook
    return hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else ""


def month_context(folder: Folder, m: MonthFiles, *, with_sensitivity: bool = True) -> dict[str, Any]:
    """Everything the month's page shows."""
    path = m.workbook
    analysis = folder.analyse(path) if path is not None else None
    stage = folder.stage(m)
    ctx: dict[str, Any] = {
        "m": m, "stage": stage, "stages": STAGES, "title": f"{m.dao} {m.period}",
        "error": analysis.error if analysis else "no workbook for this month in the folder",
        "findings": analysis.report.findings if analysis and analysis.report else [],
        "workbook": path.name if path is not None else "",
        "payout_formats": GRAPE_FORMATS if m.framework == "grape" else ("kat-mint",),
        "files": [], "record": m.record, "next_exists": False,
    }  # fmt: skip
    months = folder.months().get(m.dao, [])
    ctx["history"] = Markup(columns(paid_series(months), f"{m.dao}: paid or minted per settled month"))
    ctx["next_exists"] = any(x.period == month_after(m.period) for x in months)
    if m.record is not None and m.record_path is not None:
        present = folder.files_of(m)
        for name, digest in m.record.get("files", {}).items():
            file = present.get(name)
            ctx["files"].append({"name": name, "sha256": digest, "present": file is not None,
                                 "verified": file is not None and hashlib.sha256(file.read_bytes()).hexdigest() == digest})  # fmt: skip
        ctx["files"].append({"name": m.record_path.name, "sha256": hashlib.sha256(m.record_path.read_bytes()).hexdigest(),
                             "present": True, "verified": True})  # fmt: skip
    book = analysis.book if analysis else None
    month = book.month if book is not None else None
    if month is None:
        return ctx
    ctx["approval"] = month.approval
    if m.framework == "kat":
        ctx.update(_kat(month))
    elif isinstance(month, PoolsMonth):
        ctx.update(_pools(month))
    else:
        ctx.update(_grape(month, with_sensitivity))
    if m.record is not None:  # the files as settled, not a preview
        fmt = m.record.get("payout_format", "")
        ctx["preview"] = [(name, _csv_table(path.read_bytes(), fmt != "grape-governance"))
                          for name, path in folder.files_of(m).items() if name.endswith(".csv") and name in m.record["files"]]  # fmt: skip
        ctx["preview_problems"] = []
    return ctx


def _payout_preview(kind: Any, month: Any, fmt: str) -> tuple[list[tuple[str, Table]], list[str]]:
    files, problems, _ = kind.payout(month, fmt, "")
    return [(name, _csv_table(data, fmt != "grape-governance")) for name, data in files], problems


def _kat(month: Any) -> dict[str, Any]:
    p, c = month.period, month.config
    d = c.decimals
    figures = [
        ("Members", str(len(p.members))), ("Total capped", grouped(p.total_capped, d)),
        ("Global cap", grouped(c.global_cap, d)), ("Global cap engaged", "yes" if p.global_cap_engaged else "no"),
        ("Scale", str(p.scale)), ("Minted", grouped(p.minted, d)), ("Residue (not redistributed)", str(p.residue)),
        ("Settlement id", p.settlement_id),
    ]  # fmt: skip
    table = Table(["Member", "Level before", "Level", "Credits", "Raw", "Capped", "KAT", "Cumulative", "Tier", "Karma"],
                  numeric={1, 2, 3, 4, 5, 6, 7})  # fmt: skip
    names = []
    for r in month.members:
        table.rows.append([(r.member, r.member), (str(r.level_before), str(r.level_before)), (str(r.level), str(r.level)),
                           (str(r.credits), str(r.credits)), (grouped(r.raw, d), str(r.raw)),
                           (grouped(r.capped, d), str(r.capped)), (grouped(r.kat, d), str(r.kat)),
                           (grouped(r.cumulative, d), str(r.cumulative)), (r.tier, r.tier), (r.reason, r.reason)])  # fmt: skip
        names.append(r.member)
    table.links[0] = names
    levels: dict[int, int] = {}
    for r in month.members:
        levels[r.level] = levels.get(r.level, 0) + 1
    level_names = {lv.number: lv.name for lv in c.levels}
    preview, problems = _payout_preview(KAT, month, "kat-mint")
    return {
        "figures": figures, "members": table, "decimals": d,
        "checklist": list(month.checks.values()),
        "charts": [("KAT per member", Markup(bars([(r.member, float(r.kat)) for r in month.members], "KAT"))),
                   ("Members per level", Markup(columns([(f"{n} {level_names.get(n, '')}".strip(), float(levels.get(n, 0)))
                                                         for n in sorted(level_names)], "members per level", decimals=0)))],
        "preview": preview, "preview_problems": problems,
    }  # fmt: skip


def _grape(book: Any, with_sensitivity: bool) -> dict[str, Any]:
    d = book.first.options.decimals
    figures = []
    for part in book.parts:
        a = part.allocation
        name = f"{part.subdao}: " if part.subdao else ""
        figures += [(f"{name}Budget", grouped(a.budget, d)), (f"{name}Allocated", grouped(a.total_allocated, d)),
                    (f"{name}Returned to treasury", grouped(a.returned_to_treasury, d)),
                    (f"{name}Threshold", percent(a.threshold)),
                    (f"{name}Dynamic cap", f"engaged (ratio {a.cap_ratio})" if a.cap_engaged else "not engaged")]  # fmt: skip
    figures += [(line, "") for line in book.origin]
    assets = book.asset_list if book.cap_section else ()
    if book.cap_section:
        cap = percent(book.max_share) if book.max_share is not None else "none"
        figures.append(("Per-member cap", cap))
        for k, a in enumerate(assets):
            figures += [(f"{a.name}: paid after the cap", grouped(book.paid_total(k), a.decimals)),
                        (f"{a.name}: returned after the cap", grouped(book.returned(k), a.decimals))]  # fmt: skip
    headers = [
        "Member",
        "Role rows",
        "Total" if not assets else "Total before the cap",
        *(f"{a.name} paid" for a in assets),
    ]
    table = Table([*headers, "Wallet"], numeric=set(range(1, len(headers))))
    for line in book.members:
        paid = [(grouped(line.paid(book, k), a.decimals), str(line.paid(book, k))) for k, a in enumerate(assets)]
        table.rows.append([(line.member, line.member), (str(line.role_rows), str(line.role_rows)),
                           (grouped(line.total, d), str(line.total)), *paid, (line.wallet, line.wallet)])  # fmt: skip
    table.links[0] = [line.member for line in book.members]
    preview, problems = _payout_preview(GRAPE, book, "generic")
    switches = []
    if with_sensitivity:
        for part in book.parts:
            for s in cap_switches(part.budget or Decimal(0), [r.role_row() for r in part.rows], part.options):
                switches.append({"part": part.subdao, "s": s, "jump": grouped(s.jump, d),
                                 "before": grouped(s.total_before, d), "after": grouped(s.total_after, d),
                                 "weight": percent(s.weight), "new_weight": percent(s.new_weight)})  # fmt: skip
    picture = Markup(columns([(f"{x['s'].member} → {x['new_weight']}", float(x["s"].jump)) for x in switches[:12]],
                             "jump of the member's total if the cap switches"))  # fmt: skip
    return {
        "figures": figures, "members": table, "decimals": d, "checklist": [],
        "charts": [("Total per member (all roles)", Markup(bars([(x.member, float(x.paid(book))) for x in book.members],
                                                               "Total")))],
        "preview": preview, "preview_problems": problems,
        "switches": switches, "switch_picture": picture if switches else None,
    }  # fmt: skip


def _pools(month: Any) -> dict[str, Any]:
    """A task-pool month: per asset the budget, distributed and returned; per member each asset's
    total (the cap marked); the payout preview, one file per asset."""
    figures = []
    for a, r in zip(month.assets, month.allocations, strict=True):
        figures += [(f"{a.name}: Budget", grouped(a.budget, a.decimals)),
                    (f"{a.name}: Distributed", grouped(r.total_allocated, a.decimals)),
                    (f"{a.name}: Returned to treasury", grouped(r.returned_to_treasury, a.decimals))]  # fmt: skip
    figures += [("Per-member cap", percent(month.max_share) if month.max_share is not None else "none"),
                ("Tasks", ", ".join(t.name for t in month.tasks))]  # fmt: skip
    figures += [(line, "") for line in month.origin]
    by_asset = [{member_key(x.member): x for x in r.members} for r in month.allocations]
    table = Table(["Member", *(a.name for a in month.assets), "Capped", "Wallet"],
                  numeric=set(range(1, len(month.assets) + 1)))  # fmt: skip
    for row in month.rows:
        got = [b.get(member_key(row.member)) for b in by_asset]
        amounts = [(grouped(x.total, a.decimals), str(x.total)) if x else (grouped(0, a.decimals), "0")
                   for a, x in zip(month.assets, got, strict=True)]  # fmt: skip
        capped = "yes" if any(x is not None and x.capped for x in got) else ""
        table.rows.append([(row.member, row.member), *amounts, (capped, capped), (row.wallet, row.wallet)])
    table.links[0] = [row.member for row in month.rows]
    preview, problems = _payout_preview(POOLS, month, "generic")
    first = month.allocations[0]
    return {
        "figures": figures, "members": table, "decimals": month.decimals, "checklist": [],
        "charts": [(f"{month.assets[0].name} per member", Markup(bars([(x.member, float(x.total)) for x in first.members],
                                                                      "Total")))],
        "preview": preview, "preview_problems": problems,
    }  # fmt: skip


def member_names(folder: Folder, m: MonthFiles) -> list[str]:
    """The members of a month as its workbook names them (the members table's order)."""
    month = _month(folder, m.workbook)
    if month is None:
        return []
    return [r.member for r in (month.rows if isinstance(month, PoolsMonth) else month.members)]


def member_context(folder: Folder, m: MonthFiles, member: str) -> dict[str, Any] | None:
    """A member's figures month by month and this month's explained; None if not a member."""
    key = member_key(member)
    month = _month(folder, m.workbook)
    shown = next((n for n in member_names(folder, m) if member_key(n) == key), None)
    if month is None or shown is None:
        return None
    if isinstance(month, PoolsMonth):
        steps, d = pools_steps(month, member), month.assets[0].decimals  # the series is the first asset's
    else:
        steps = kat_steps(month, member) if m.framework == "kat" else grape_steps(month, member)
        d = (KAT if m.framework == "kat" else GRAPE).decimals(month)
    series = [(x.period, settled_amounts(folder, x).get(key, Decimal(0)))
              for x in folder.months().get(m.dao, []) if x.record is not None]  # fmt: skip
    rows = [(period, grouped(v, d)) for period, v in series]
    return {"m": m, "member": shown, "steps": steps, "series": rows, "title": f"{shown}: {m.dao} {m.period}",
            "chart": Markup(columns([(p, float(v)) for p, v in series], f"{shown} per settled month"))}  # fmt: skip
