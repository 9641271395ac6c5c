"""`katsheet settle`: a checked, approved month becomes final (kat.md sections 2, 6 and 7).

Settling refuses, with every reason, unless `katsheet check` finds nothing, the approval is signed
(ApprovedBy, ApprovedOn), and every member paid has a wallet of their own. It then writes, all or
nothing and never over an existing file, into the output folder:

- ``ID-settled.xlsx``: the month with every input locked, the "SETTLED" stamp, (KAT) the ledger
  rows and exceptions decided in the period sealed into their chains, and the settlement seal;
- the payout file (payouts.py), summing exactly to the total: KAT's mint list ``ID-mint.csv``, or
  GRAPE's ``ID-FORMAT.csv`` per member over every role and SubDAO sheet;
- ``ID-report.html``: the month for the documentation step (report.py);
- ``ID-settlement.json``: what a DAO publishes with its proposal: id, period, DAO, totals, the
  seal and chain heads, the SHA-256 of every file above, katsheet's version.

A settled month is never settled again; ``--again`` writes its payout file, report and record once
more, byte for byte as the first time (the settled workbook is their source). ID is CODE-YYYY-MM
for KAT and GRAPE-YYYY-MM for GRAPE.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.errors import InputError
from ..engine.kat import Ledger
from ..engine.kat.seal import GENESIS, seal_period
from ..engine.names import member_key
from ..engine.numbers import exact_sum, plain
from ..io.atomic import write_all
from ..layouts.grape import Book, grape_layout, scoring_sheet, sheet_names
from ..layouts.kat import MEMBERS, TEMPLATE, KatMonth, kat_layout, members_sheet
from ..layouts.model import split_cell
from ..layouts.pools import SCORING as POOLS_SCORING
from ..layouts.pools import TEMPLATE_ID as POOLS_TEMPLATE
from ..layouts.pools import PoolsMonth, pools_layout
from ..layouts.pools import scoring_sheet as pools_scoring_sheet
from ..layouts.settled import Stamp, constant_rows, flat_rows, seal_of
from ..workbook.checker import check
from ..workbook.reader import _named, read_workbook
from ..workbook.writer import workbook_bytes
from .payouts import GRAPE_FORMATS, KAT_FORMAT, payees, render
from .report import grape_report, kat_report, pools_report
from .wallets import solana_problem


class Refused(Exception):
    """Settlement refused: every reason, one line each (the CLI prints them and exits 1)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons

    @classmethod
    def findings(cls, findings: list[Any]) -> Refused:
        """Refused for what `katsheet check` found: one reason per finding, at its cell."""
        return cls([f"{f.sheet}!{f.cell}: {f.message}" for f in findings])


@dataclass(frozen=True)
class Settlement:
    settlement_id: str
    files: list[tuple[Path, bytes]]
    record: dict[str, Any]
    unchanged: list[Path] = dataclasses.field(default_factory=list)


def _decided_rows(month: KatMonth) -> list[int]:
    """The ledger rows this period decides (kat.md section 2): counted verified rows and void rows,
    not sealed before. Pending and disputed rows, and rows verified after the period, stay open."""
    out = []
    for i, (row, result) in enumerate(zip(month.rows, month.results, strict=True)):
        if row.seal or result.history:
            continue
        if result.counted or row.status.strip().lower() == "void":
            out.append(i)
    return out


def _decided_exceptions(month: KatMonth) -> list[int]:
    end, period = month.period.end, month.period.period
    return [
        i for i, e in enumerate(month.exceptions)
        if not e.seal and e.settled.strip() in ("", period) and e.decision.strip().lower() in ("upheld", "dismissed")
        and (e.date is None or e.date <= end)
    ]  # fmt: skip


def _sealed_heads(month: KatMonth) -> tuple[str, str]:
    """The chains' heads: the last ledger row and exception sealed in the file (before settling: the
    heads this period's records extend; after: the heads the record publishes)."""
    ledger = [r.seal for r in month.rows if r.seal]
    excs = [e.seal for e in month.exceptions if e.seal]
    return (ledger[-1] if ledger else GENESIS), (excs[-1] if excs else GENESIS)


def _sealed_month(month: KatMonth, stamp: Stamp) -> KatMonth:
    """The month with this period's decided records sealed and the stamp (its seal computed)."""
    period = month.period.period
    rows, exc_idx = _decided_rows(month), _decided_exceptions(month)
    ledger_seals, exception_seals = seal_period(
        period, [month.rows[i] for i in rows], [month.exceptions[i] for i in exc_idx], _sealed_heads(month)
    )
    new_rows = list(month.rows)
    for i, s in zip(rows, ledger_seals, strict=True):
        new_rows[i] = dataclasses.replace(new_rows[i], settled=period, seal=s.seal)
    new_excs = list(month.exceptions)
    for i, s in zip(exc_idx, exception_seals, strict=True):
        new_excs[i] = dataclasses.replace(new_excs[i], settled=period, seal=s.seal)
    # a new KatMonth (replace calls __init__): its cached figures are made afresh from the sealed inputs
    sealed = dataclasses.replace(month, ledger=Ledger.of(new_rows), exceptions=tuple(new_excs), stamp=None)
    stamped = _with_seal(stamp, kat_layout(sealed), sealed)  # first: the copy keeps what it computed
    settled = copy.copy(sealed)  # a stamp changes the layout alone: keep the figures just computed
    settled.stamp = stamped
    return settled


def _with_seal(stamp: Stamp, layout: Any, month: Any) -> Stamp:
    """``stamp`` with the seal of the month's constant cells, and the cells (the Sealed sheet)."""
    rows = tuple(constant_rows(layout, month))
    return dataclasses.replace(stamp, seal=seal_of(flat_rows(rows)), rows=rows)


def _approval(month: Any, names: dict[str, str]) -> tuple[str, dt.date | None, list[str]]:
    """Who approved the period and when (the Checklist's ApprovedBy and ApprovedOn), or the reasons."""

    def at(name: str) -> str:
        sheet, cell, _ = _named(names, name, Path(name))
        return f"{sheet}!{cell}"

    by = str(month.approval.get("ApprovedBy", "") or "").strip()
    on = month.approval.get("ApprovedOn")
    reasons = []
    if not by:
        reasons.append(f"{at('ApprovedBy')}: the approval is not signed: type who approved the period for the DAO")
    if not isinstance(on, dt.date):
        reasons.append(f"{at('ApprovedOn')}: the approval has no date: type the date it was approved"
                       + (f" (found {on!r}, not a date)" if on not in (None, "") else ""))  # fmt: skip
    return by, on if isinstance(on, dt.date) else None, reasons


def _kat_payout(month: KatMonth, fmt: str, token: str) -> tuple[list[tuple[str, bytes]], list[str], int]:
    """The batch mint list (named files), the reasons it cannot be made, and how many are paid."""
    if fmt != KAT_FORMAT:
        raise InputError(f"a KAT month settles into its mint list (--payout {KAT_FORMAT})", where="--payout", value=fmt)
    p = month.period
    amounts = {m.member: m.kat for m in p.members}
    wallets = {m.member: month.wallet_of(m.member) or "" for m in p.members}
    table = members_sheet(month).table  # the Members sheet alone: the whole layout of a settled month seals it again
    assert table is not None
    column = table.letter("wallet")
    where = {m.member: f"{MEMBERS}!{column}{table.first_row + i}" for i, m in enumerate(month.members)}
    paid, problems = payees(amounts, wallets, where=where)
    if problems:
        return [], problems, 0
    files = render(KAT_FORMAT, paid, p.minted, settlement_id=p.settlement_id, period=p.period)
    return [(f"{p.settlement_id}-mint.csv", files[0].data)], [], len(paid)


def _kat_record(month: KatMonth) -> dict[str, Any]:
    """The KAT part of the settlement record: the DAO, totals and the chains' heads."""
    p = month.period
    ledger_head, exception_head = _sealed_heads(month)
    return {
        "framework": "kat",
        "dao": {"name": month.config.name, "code": month.config.code},
        "totals": {
            "members": len(p.members), "total_capped": plain(p.total_capped),
            "global_cap": plain(month.config.global_cap), "global_cap_engaged": p.global_cap_engaged,
            "minted": plain(p.minted), "residue": plain(p.residue),
        },
        "chains": {
            "ledger": {"head": ledger_head, "records": sum(1 for r in month.rows if r.seal)},
            "exceptions": {"head": exception_head, "records": sum(1 for e in month.exceptions if e.seal)},
        },
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# GRAPE


def grape_settlement_id(month: Book | PoolsMonth) -> str:
    """GRAPE months (tiers or task pools) have no DAO code: GRAPE-YYYY-MM."""
    return f"GRAPE-{month.month}"


def _payout_files(fmt: str, token: str, sid: str, period: str, named: dict[str, str], cells: dict[str, str],
                  lots: list[tuple[str, dict[str, Decimal], Decimal]],
                  problems: list[str]) -> tuple[list[tuple[str, bytes]], list[str], int]:  # fmt: skip
    """The payout file(s) in ``fmt`` for each lot (a tag for its file names, each member's amount,
    the total): wallets ``named`` per member, each at its cell; ``problems`` found before (two
    wallets for one member) are reasons too. Several lots (assets) are never merged: one file each."""
    if fmt not in GRAPE_FORMATS:
        raise InputError(f"GRAPE payout formats: {', '.join(GRAPE_FORMATS)}", where="--payout", value=fmt)
    if fmt == "safe" and len(lots) > 1:
        raise InputError("the safe format takes one --token address, and this month pays several assets: use "
                         "solana-tokens, streamflow, grape-governance or generic", where="--payout", value=fmt)  # fmt: skip
    files: list[tuple[str, bytes]] = []
    count = 0
    for tag, amounts, total in lots:
        paid, more = payees(amounts, named, where=cells)
        problems += more
        if fmt != "safe":
            problems += [f"{cells[p.member]}: {p.member}'s wallet {problem}" for p in paid
                         if (problem := solana_problem(p.wallet))]  # fmt: skip
        if not problems:
            rendered = render(fmt, paid, total, token=token, settlement_id=sid, period=period)
            files += [(f"{sid}-{tag}{fmt}{f.suffix}.csv", f.data) for f in rendered]
        count = max(count, len(paid))
    if problems:  # a missing wallet blocks every asset: said once, at its cell (the first asset's line)
        return (
            [],
            list({p.partition(": ")[0]: p for p in reversed(problems)}.values())[::-1] if len(lots) > 1 else problems,
            0,
        )
    return files, [], count


def _grape_payout(book: Book, fmt: str, token: str) -> tuple[list[tuple[str, bytes]], list[str], int]:
    """The payout file(s) in ``fmt``: per member, summed over roles and SubDAO sheets (with the cap
    and assets section: one file per asset, each after the per-member cap); a member whose role rows
    give two different wallets is a reason, named at both cells."""
    wallets: dict[str, str] = {}
    where: dict[str, str] = {}
    first_cell: dict[str, str] = {}
    problems: list[str] = []
    for p, part in enumerate(book.parts):
        scoring, _ = sheet_names(book.template, part.subdao)
        # the Scoring sheet alone: the whole layout of a settled month seals it again
        letter = scoring_sheet(part.criteria, part.table_rows, p, scoring).table.letter("wallet")  # type: ignore[union-attr]
        for row in part.rows:
            key = member_key(row.member)
            cell = f"{scoring}!{letter}{split_cell(row.where.rpartition('!')[2])[1]}"
            first_cell.setdefault(key, cell)
            wallet = row.wallet.strip()
            if not wallet:
                continue
            if key in wallets and wallets[key] != wallet:
                problems.append(
                    f"{cell}: {row.member.strip()} has two wallets ({wallets[key]} at {where[key]}): keep one"
                )
                continue
            wallets.setdefault(key, wallet)
            where.setdefault(key, cell)
    named = {line.member: wallets.get(member_key(line.member), "") for line in book.members}
    cells = {line.member: where.get(member_key(line.member), first_cell.get(member_key(line.member), "")) for line in
             book.members}  # fmt: skip
    assets = book.asset_list if book.cap_section else book.asset_list[:1]
    lots = [(f"{a.name}-" if book.cap_section else "", {line.member: line.paid(book, k) for line in book.members},
             book.paid_total(k)) for k, a in enumerate(assets)]  # fmt: skip
    return _payout_files(fmt, token, grape_settlement_id(book), book.month, named, cells, lots, problems)


def _sealer(layout: Callable[[Any], Any]) -> Callable[[Any, Stamp], Any]:
    """A framework's ``sealed``: the month with the stamp and the seal of its constant cells."""

    def sealed(month: Any, stamp: Stamp) -> Any:
        unsealed = dataclasses.replace(month, stamp=None)
        return dataclasses.replace(month, stamp=_with_seal(stamp, layout(unsealed), unsealed))

    return sealed


def _asset_entry(sid: str, a: Any, paid: Decimal, returned: Decimal, members_paid: int) -> dict[str, Any]:
    """One asset in a settlement record: its totals and the prefix of its payout files."""
    return {"budget": plain(a.budget), "decimals": a.decimals, "total_allocated": plain(paid),
            "returned_to_treasury": plain(returned), "members_paid": members_paid, "file_prefix": f"{sid}-{a.name}-"}  # fmt: skip


def _grape_record(book: Book) -> dict[str, Any]:
    returned = exact_sum(part.allocation.returned_to_treasury for part in book.parts)
    record: dict[str, Any] = {
        "framework": "grape",
        "dao": {"name": "", "code": "GRAPE", "subdaos": [part.subdao for part in book.parts if part.subdao]},
        "totals": {"members": len(book.members), "budget": plain(book.total_budget),
                   "total_allocated": plain(book.paid_total()), "returned_to_treasury": plain(returned)},
    }  # fmt: skip
    if book.cap_section:  # after the per-member cap, per asset (the first is the budget's)
        sid = grape_settlement_id(book)
        record["totals"]["returned_to_treasury"] = plain(book.returned(0))
        record["max_reward"] = plain(book.max_share) if book.max_share is not None else None
        record["assets"] = {
            a.name: _asset_entry(sid, a, book.paid_total(k), book.returned(k),
                                 sum(1 for x in book.members if x.paid(book, k) > 0))
            for k, a in enumerate(book.asset_list)
        }  # fmt: skip
    return record


# ---------------------------------------------------------------------------------------------
# GRAPE task pools: one payout file per asset, never merged


def _pools_payout(month: PoolsMonth, fmt: str, token: str) -> tuple[list[tuple[str, bytes]], list[str], int]:
    """One payout file (or Safe's parts) per asset, each summing exactly to the asset's total."""
    letter = pools_scoring_sheet(month).table.letter("wallet")  # type: ignore[union-attr]  # the sheet alone
    named = {r.member: r.wallet.strip() for r in month.rows}
    cells = {r.member: f"{POOLS_SCORING}!{letter}{split_cell(r.where.rpartition('!')[2])[1]}" for r in month.rows}
    lots = [(f"{a.name}-", {m.member: m.total for m in r.members}, r.total_allocated)
            for a, r in zip(month.assets, month.allocations, strict=True)]  # fmt: skip
    return _payout_files(fmt, token, grape_settlement_id(month), month.month, named, cells, lots, [])


def _pools_record(month: PoolsMonth) -> dict[str, Any]:
    """The top-level totals are the first asset's (the DAO's token, as history and the dashboard
    chart it); ``assets`` gives every asset's, each with its own payout files."""
    sid = grape_settlement_id(month)
    assets = {
        a.name: _asset_entry(sid, a, r.total_allocated, r.returned_to_treasury, sum(1 for m in r.members if m.total > 0))
        for a, r in zip(month.assets, month.allocations, strict=True)
    }  # fmt: skip
    first = month.allocations[0]
    return {
        "framework": "grape",
        "dao": {"name": "", "code": "GRAPE", "subdaos": []},
        "totals": {"members": len(month.rows), "asset": month.assets[0].name, "budget": plain(month.assets[0].budget),
                   "total_allocated": plain(first.total_allocated),
                   "returned_to_treasury": plain(first.returned_to_treasury)},
        "model": "pools",
        "max_reward": plain(month.max_share) if month.max_share is not None else None,
        "assets": assets,
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Both


@dataclass(frozen=True)
class _Framework:
    """What settling needs of a framework's month."""

    settlement_id: Callable[[Any], str]
    period: Callable[[Any], str]
    layout: Callable[[Any], Any]
    decimals: Callable[[Any], int]
    sealed: Callable[[Any, Stamp], Any]
    payout: Callable[[Any, str, str], tuple[list[tuple[str, bytes]], list[str], int]]
    report: Callable[[Any, list[tuple[str, bytes]]], str]
    record: Callable[[Any], dict[str, Any]]
    default_format: str

    def workbook(self, month: Any) -> bytes:
        """The month as a workbook's bytes, by katsheet's own writer."""
        return workbook_bytes(self.layout(month), month, decimals=self.decimals(month))


def framework(template: str) -> _Framework:
    """KAT, GRAPE's tiers or GRAPE's task pools, as a workbook's template says."""
    return {TEMPLATE: KAT, POOLS_TEMPLATE: POOLS}.get(template, GRAPE)


KAT = _Framework(
    settlement_id=lambda m: m.period.settlement_id, period=lambda m: m.period.period, layout=kat_layout,
    decimals=lambda m: m.config.decimals, sealed=_sealed_month, payout=_kat_payout,
    report=lambda m, files: kat_report(m, files[0][1]), record=_kat_record, default_format=KAT_FORMAT,
)  # fmt: skip
GRAPE = _Framework(
    settlement_id=grape_settlement_id, period=lambda b: b.month, layout=grape_layout,
    decimals=lambda b: b.first.options.decimals, sealed=_sealer(grape_layout), payout=_grape_payout,
    report=grape_report, record=_grape_record, default_format="generic",
)  # fmt: skip

POOLS = _Framework(
    settlement_id=grape_settlement_id, period=lambda m: m.month, layout=pools_layout, decimals=lambda m: m.decimals,
    sealed=_sealer(pools_layout), payout=_pools_payout, report=pools_report, record=_pools_record,
    default_format="generic",
)  # fmt: skip


def settle(path: Path, out: Path | None = None, *, payout: str | None = None, token: str = "",
           again: bool = False) -> Settlement:  # fmt: skip
    """Settle the month in ``path`` (see the module's docstring); nothing is written here.

    The files are made in memory while the check's formulas are evaluated on the other core
    (checker.check's ``meanwhile``), and dropped when the check then finds something: what is
    refused, and why, is the same as making them after the check."""
    book = read_workbook(Path(path), evaluate_early=True)
    made: list[Settlement | Exception] = []

    def meanwhile(found: list[Any]) -> None:
        if not found:
            try:
                made.append(_settlement(book, path, out, payout, token, again))
            except (Refused, InputError) as e:
                made.append(e)

    report = check(book, meanwhile=meanwhile)
    if report.findings:
        raise Refused.findings(report.findings)
    result = made[0] if made else _settlement(book, path, out, payout, token, again)
    if isinstance(result, Exception):
        raise result
    return result


def _settlement(book: Any, path: Path, out: Path | None, payout: str | None, token: str, again: bool) -> Settlement:
    """The files of a checked month's settlement (``settle``)."""
    kind = framework(book.template)
    month = book.month
    settled_as = month.stamp.payout if month is not None and month.stamp is not None else ""
    fmt = (payout or settled_as or kind.default_format).strip().lower()
    if month is None:
        raise Refused(["the workbook's inputs cannot be read: run katsheet check"])
    out = Path(out) if out is not None else Path(path).parent
    if not out.is_dir():
        raise InputError("the output folder does not exist", where=str(out))
    if month.stamp is not None and not again:
        raise Refused([f"{path}: was settled as {month.stamp.settlement_id} (approved by {month.stamp.approved_by}): "
                       "a month is settled once; --again writes its payout file, report and record once more"])  # fmt: skip
    if month.stamp is None and again:
        raise Refused([f"{path}: is not settled yet: --again is for a settled month"])
    settlement_id = kind.settlement_id(month)
    if month.stamp is None:
        by, on, reasons = _approval(month, book.names)
        _, problems, _ = kind.payout(month, fmt, token)
        if reasons or problems:
            raise Refused([*reasons, *problems])
        settled = kind.sealed(month, Stamp(settlement_id, by, on, payout=fmt))
        workbook = kind.workbook(settled)
    else:
        settled, workbook = month, Path(path).read_bytes()
    payout_files, problems, paid = kind.payout(settled, fmt, token)
    if problems:
        raise Refused(problems)
    stamp = settled.stamp
    workbook_name = f"{settlement_id}-settled.xlsx"
    files = {workbook_name: workbook, **dict(payout_files),
             f"{settlement_id}-report.html": kind.report(settled, payout_files).encode("utf-8")}  # fmt: skip
    specific = kind.record(settled)
    record = {
        "settlement_id": settlement_id, "framework": specific.pop("framework"), "period": kind.period(settled),
        "dao": specific.pop("dao"), "approved_by": stamp.approved_by,
        "approved_on": stamp.approved_on.isoformat() if stamp.approved_on else None,
        "payout_format": fmt, "totals": {**specific.pop("totals"), "members_paid": paid}, "seal": stamp.seal,
        **specific, "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "katsheet": __version__,
    }  # fmt: skip
    files[f"{settlement_id}-settlement.json"] = (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode()
    writes, unchanged = [], []
    for name, data in files.items():
        target = out / name
        if again and target.exists() and target.read_bytes() == data:
            unchanged.append(target)
        elif not (again and name == workbook_name):
            writes.append((target, data))
    return Settlement(settlement_id, writes, record, unchanged)


def write_settlement(s: Settlement) -> None:
    write_all(s.files)
