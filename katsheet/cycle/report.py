"""The settlement report for the documentation step: one self-contained HTML page (no script, no
file or font fetched) with the month's figures, the checklist, a chart of KAT per member and the
mint list, that a DAO attaches to its proposal. Every text from the workbook is escaped: a member
named ``<script>`` is shown as those characters. Deterministic: the same month gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

from .. import __version__
from ..charts import bars
from ..engine.numbers import grouped, plain

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;color:#1b1b1b;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#1a7f37}.fail{color:#b42318;font-weight:bold}
.stamp{border:2px solid #1a7f37;padding:.5rem 1rem;display:inline-block;color:#1a7f37;font-weight:bold}
code{word-break:break-all}@media print{body{margin:0}h2{break-after:avoid}}
"""


def kat_report(month: Any, mint: bytes) -> str:
    """The report of a settled KAT month (``month.stamp`` set) and its mint list's bytes."""
    p, c, stamp = month.period, month.config, month.stamp
    d = c.decimals
    on = stamp.approved_on.isoformat() if stamp and stamp.approved_on else ""
    figures = [
        ("Members", str(len(p.members))), ("Total capped", grouped(p.total_capped, d)),
        ("Global cap", grouped(c.global_cap, d)), ("Global cap engaged", "yes" if p.global_cap_engaged else "no"),
        ("Minted", grouped(p.minted, d)), ("Residue (not redistributed)", plain(p.residue)),
    ]  # fmt: skip
    checks = "".join(
        f'<tr><td>{escape(item.text)}</td><td class="n">{item.count}</td>'
        f'<td class="{"pass" if item.passed else "fail"}">{"PASS" if item.passed else "FAIL"}</td></tr>'
        for item in month.checks.values()
    )
    members = "".join(
        f"<tr><td>{escape(m.member)}</td><td class='n'>{m.level_before} &rarr; {m.level}</td>"
        f"<td class='n'>{plain(m.credits)}</td><td class='n'>{grouped(m.raw, d)}</td>"
        f"<td class='n'>{grouped(m.capped, d)}</td><td class='n'>{grouped(m.kat, d)}</td>"
        f"<td>{escape(m.tier)}</td><td>{escape(m.reason)}</td></tr>"
        for m in month.members
    )
    title = f"{c.name} ({c.code}): KAT settlement {p.settlement_id}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{STYLE}</style></head><body>
<h1>{escape(title)}</h1>
<p class="stamp">SETTLED {escape(p.settlement_id)}: approved by {escape(stamp.approved_by if stamp else "")} on {escape(on)}</p>
<p>Period {escape(p.period)} ({p.start.isoformat()} to {p.end.isoformat()}). Settlement seal (SHA-256):
<code>{escape(stamp.seal if stamp else "")}</code></p>
<h2>Figures</h2><table>{"".join(f"<tr><th>{k}</th><td class='n'>{v}</td></tr>" for k, v in figures)}</table>
<h2>Checklist (kat.md section 6)</h2><table><tr><th>Item</th><th>Rows or members named</th><th>Result</th></tr>{checks}</table>
<h2>KAT per member</h2>{bars([(m.member, float(m.kat)) for m in month.members], "KAT")}
<h2>Members</h2><table><tr><th>Member</th><th>Level</th><th>Credits</th><th>Raw</th><th>Capped</th><th>KAT</th>
<th>Tier</th><th>Karma</th></tr>{members}</table>
<h2>Mint list</h2>{_csv_table(mint)}
<p>Written by katsheet {escape(__version__)}. Verify the files with <code>katsheet check</code> and the
SHA-256 sums in the settlement record.</p>
</body></html>
"""


def _csv_table(data: bytes, header: bool = True) -> str:
    lines = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if not lines:
        return "<p>No payout.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in lines[0]) if header else ""
    body = lines[1:] if header else lines
    rows = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in line) + "</tr>" for line in body)
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{rows}</table>"


def grape_report(book: Any, payout_files: list[tuple[str, bytes]]) -> str:
    """The report of a settled GRAPE month (``book.stamp`` set) and its payout file(s)."""
    stamp = book.stamp
    d = book.first.options.decimals
    parts = "".join(
        f"<tr><td>{escape(part.subdao or 'GRAPE')}</td><td class='n'>{grouped(part.budget or 0, d)}</td>"
        f"<td class='n'>{grouped(part.allocation.total_allocated, d)}</td>"
        f"<td class='n'>{grouped(part.allocation.returned_to_treasury, d)}</td>"
        f"<td>{'yes' if part.allocation.cap_engaged else 'no'}</td></tr>"
        for part in book.parts
    )
    members = "".join(
        f"<tr><td>{escape(line.member)}</td><td class='n'>{line.role_rows}</td><td class='n'>{grouped(line.paid(book), d)}</td>"
        f"<td><code>{escape(line.wallet)}</code></td></tr>"
        for line in book.members
    )
    title = f"GRAPE settlement {stamp.settlement_id if stamp else ''}"
    body = f"""<h2>Budget and allocation</h2><table><tr><th>SubDAO</th><th>Budget</th><th>Allocated</th><th>Returned</th>
<th>Cap engaged</th></tr>{parts}</table>
<h2>Total per member (all roles{", after the cap" if book.cap_section else ""})</h2>{bars([(line.member, float(line.paid(book))) for line in book.members], "Total")}
<h2>Members</h2><table><tr><th>Member</th><th>Role rows</th><th>Total</th><th>Wallet</th></tr>{members}</table>
<h2>Payout</h2>{_payout_files(payout_files)}"""
    return _settled_page(title, stamp, f"Month {escape(book.month)}.", body)


def _payout_files(payout_files: list[tuple[str, bytes]]) -> str:
    return "".join(f"<h3>{escape(name)}</h3>{_csv_table(data, 'grape-governance' not in name)}"
                   for name, data in payout_files)  # fmt: skip


def _settled_page(title: str, stamp: Any, intro: str, body: str) -> str:
    """A settled GRAPE month's page: the title, the SETTLED stamp, ``intro`` (HTML) with the seal,
    ``body`` (HTML), and how to verify it."""
    on = stamp.approved_on.isoformat() if stamp and stamp.approved_on else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{STYLE}</style></head><body>
<h1>{escape(title)}</h1>
<p class="stamp">SETTLED {escape(stamp.settlement_id if stamp else "")}: approved by {escape(stamp.approved_by if stamp else "")} on {escape(on)}</p>
<p>{intro} Settlement seal (SHA-256): <code>{escape(stamp.seal if stamp else "")}</code></p>
{body}
<p>Written by katsheet {escape(__version__)}. Verify the files with <code>katsheet check</code> and the
SHA-256 sums in the settlement record.</p>
</body></html>
"""


def pools_report(month: Any, payout_files: list[tuple[str, bytes]]) -> str:
    """The report of a settled task-pool month: per asset what was paid and returned, the tasks'
    pools, each member before and after the cap, and every payout file (one per asset)."""
    stamp = month.stamp
    assets = "".join(
        f"<tr><td>{escape(a.name)}</td><td class='n'>{grouped(a.budget, a.decimals)}</td>"
        f"<td class='n'>{grouped(r.total_allocated, a.decimals)}</td>"
        f"<td class='n'>{grouped(r.returned_to_treasury, a.decimals)}</td></tr>"
        for a, r in zip(month.assets, month.allocations, strict=True)
    )
    first, main = month.assets[0], month.allocations[0]
    tasks = "".join(
        f"<tr><td>{escape(t.task)}</td><td class='n'>{plain(t.share)}</td><td class='n'>{t.scorers}</td>"
        f"<td class='n'>{grouped(t.pat, first.decimals)}</td><td class='n'>{grouped(t.unallocated, first.decimals)}</td></tr>"
        for t in main.tasks
    )
    members = "".join(
        f"<tr><td>{escape(m.member)}</td><td class='n'>{grouped(m.before_cap, first.decimals)}</td>"
        f"<td class='n'>{grouped(m.total, first.decimals)}</td><td>{'yes' if m.capped else ''}</td></tr>"
        for m in main.members
    )
    cap = f"{plain(month.max_share * 100)}% of each budget" if month.max_share is not None else "none"
    title = f"GRAPE task-pool settlement {stamp.settlement_id if stamp else ''}"
    body = f"""<h2>Assets</h2><table><tr><th>Asset</th><th>Budget</th><th>Distributed</th><th>Returned</th></tr>{assets}</table>
<h2>Tasks ({escape(first.name)})</h2><table><tr><th>Task</th><th>Share</th><th>Scorers</th><th>Pool (PAT)</th>
<th>Unallocated</th></tr>{tasks}</table>
<h2>{escape(first.name)} per member</h2>{bars([(m.member, float(m.total)) for m in main.members], "Total")}
<h2>Members ({escape(first.name)})</h2><table><tr><th>Member</th><th>Before the cap</th><th>Total</th><th>Capped</th></tr>
{members}</table>
<h2>Payout files (one per asset)</h2>{_payout_files(payout_files)}"""
    return _settled_page(title, stamp, f"Month {escape(month.month)}. Per-member cap: {escape(cap)}.", body)
