"""`katsheet settle`: a checked, approved month becomes final (kat.md sections 2, 6 and 7).

Settling refuses, with every reason, unless `katsheet check` finds nothing, the approval is signed
(ApprovedBy, ApprovedOn), and every member paid has a wallet of their own. It then writes, all or
nothing and never over an existing file, into the output folder:

- ``ID-settled.xlsx``: the month with every input locked, the "SETTLED" stamp, the ledger rows and
  exceptions decided in the period sealed into their chains, and the settlement seal;
- ``ID-mint.csv``: the batch mint list (payouts.py), summing exactly to minted;
- ``ID-report.html``: the month for the documentation step (report.py);
- ``ID-settlement.json``: what a DAO publishes with its proposal: id, period, DAO, totals, the
  seal and chain heads, the SHA-256 of every file above, katsheet's version.

A settled month is never settled again; ``--again`` writes its list, report and record once more,
byte for byte as the first time (the settled workbook is their source).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..engine.errors import InputError
from ..engine.kat import Ledger
from ..engine.kat.seal import GENESIS, seal_period
from ..engine.numbers import plain
from ..io.atomic import write_all
from ..layouts.kat import MEMBERS, TEMPLATE, KatMonth, kat_layout
from ..layouts.settled import Stamp, constant_cells, seal_of
from ..workbook.checker import check
from ..workbook.reader import read_workbook
from ..workbook.writer import workbook_bytes
from .payouts import KAT_FORMAT, payees, render
from .report import kat_report


class Refused(Exception):
    """Settlement refused: every reason, one line each (the CLI prints them and exits 1)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("\n".join(reasons))
        self.reasons = reasons


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
    """The chains' heads before this period: the last record sealed in the file."""
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
    seal = seal_of(constant_cells(kat_layout(sealed), sealed))
    return dataclasses.replace(sealed, stamp=dataclasses.replace(stamp, seal=seal))


def _approval(month: KatMonth, names: dict[str, str]) -> tuple[str, dt.date | None, list[str]]:
    """Who approved the period and when (the Checklist's ApprovedBy and ApprovedOn), or the reasons."""

    def at(name: str) -> str:
        ref = names.get(name, f"{name}").lstrip("=").replace("$", "")
        return ref.replace("'", "")

    by = str(month.approval.get("ApprovedBy", "") or "").strip()
    on = month.approval.get("ApprovedOn")
    reasons = []
    if not by:
        reasons.append(f"{at('ApprovedBy')}: the approval is not signed: type who approved the period for the DAO")
    if not isinstance(on, dt.date):
        reasons.append(f"{at('ApprovedOn')}: the approval has no date: type the date it was approved"
                       + (f" (found {on!r}, not a date)" if on not in (None, "") else ""))  # fmt: skip
    return by, on if isinstance(on, dt.date) else None, reasons


def _mint(month: KatMonth) -> tuple[bytes, list[str], int]:
    p = month.period
    amounts = {m.member: m.kat for m in p.members}
    wallets = {m.member: month.wallet_of(m.member) or "" for m in p.members}
    table = kat_layout(month).sheet(MEMBERS).table
    assert table is not None
    column = table.letter("wallet")
    where = {m.member: f"{MEMBERS}!{column}{table.first_row + i}" for i, m in enumerate(month.members)}
    paid, problems = payees(amounts, wallets, where=where)
    if problems:
        return b"", problems, 0
    files = render(KAT_FORMAT, paid, p.minted, settlement_id=p.settlement_id, period=p.period)
    return files[0].data, [], len(paid)


def _record(month: KatMonth, files: dict[str, bytes], paid: int) -> dict[str, Any]:
    p, stamp = month.period, month.stamp
    assert stamp is not None
    sealed_rows = [r for r in month.rows if r.seal]
    sealed_exceptions = [e for e in month.exceptions if e.seal]
    return {
        "settlement_id": p.settlement_id,
        "framework": "kat",
        "period": p.period,
        "dao": {"name": month.config.name, "code": month.config.code},
        "approved_by": stamp.approved_by,
        "approved_on": stamp.approved_on.isoformat() if stamp.approved_on else None,
        "totals": {
            "members": len(p.members), "members_paid": paid, "total_capped": plain(p.total_capped),
            "global_cap": plain(month.config.global_cap), "global_cap_engaged": p.global_cap_engaged,
            "minted": plain(p.minted), "residue": plain(p.residue),
        },
        "seal": stamp.seal,
        "chains": {
            "ledger": {"head": sealed_rows[-1].seal if sealed_rows else GENESIS, "records": len(sealed_rows)},
            "exceptions": {"head": sealed_exceptions[-1].seal if sealed_exceptions else GENESIS,
                           "records": len(sealed_exceptions)},
        },
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "katsheet": __version__,
    }  # fmt: skip


def settle(path: Path, out: Path | None = None, *, payout: str | None = None, again: bool = False) -> Settlement:
    """Settle the month in ``path`` (see the module's docstring); nothing is written here."""
    book = read_workbook(Path(path))
    if book.template != TEMPLATE:
        raise InputError("is a GRAPE month: katsheet settles KAT months so far (GRAPE payouts come next)",
                         where=str(path))  # fmt: skip
    if payout not in (None, KAT_FORMAT):
        raise InputError(f"a KAT month settles into its mint list (--payout {KAT_FORMAT})", where="--payout",
                         value=payout)  # fmt: skip
    month = book.month
    report = check(book)
    reasons = [f"{f.sheet}!{f.cell}: {f.message}" for f in report.findings]
    if month is None or reasons:
        raise Refused(reasons or ["the workbook cannot be read as a KAT month: run katsheet check"])
    out = Path(out) if out is not None else Path(path).parent
    if not out.is_dir():
        raise InputError("the output folder does not exist", where=str(out))
    if month.stamp is not None and not again:
        raise Refused([f"{path}: was settled as {month.stamp.settlement_id} (approved by {month.stamp.approved_by}): "
                       "a month is settled once; --again writes its mint list, report and record once more"])  # fmt: skip
    if month.stamp is None and again:
        raise Refused([f"{path}: is not settled yet: --again is for a settled month"])
    settlement_id = month.period.settlement_id
    if month.stamp is None:
        by, on, reasons = _approval(month, book.names)
        _, problems, _ = _mint(month)
        if reasons or problems:
            raise Refused([*reasons, *problems])
        settled = _sealed_month(month, Stamp(settlement_id, by, on))
        workbook = workbook_bytes(kat_layout(settled), settled, decimals=settled.config.decimals)
    else:
        settled, workbook = month, Path(path).read_bytes()
    mint, problems, paid = _mint(settled)
    if problems:
        raise Refused(problems)
    names = {"workbook": f"{settlement_id}-settled.xlsx", "mint": f"{settlement_id}-mint.csv",
             "report": f"{settlement_id}-report.html", "record": f"{settlement_id}-settlement.json"}  # fmt: skip
    report_html = kat_report(settled, mint).encode("utf-8")
    files = {names["workbook"]: workbook, names["mint"]: mint, names["report"]: report_html}
    record = _record(settled, files, paid)
    files[names["record"]] = (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    writes, unchanged = [], []
    for name, data in files.items():
        target = out / name
        if again and target.exists() and target.read_bytes() == data:
            unchanged.append(target)
        elif not (again and name == names["workbook"]):
            writes.append((target, data))
    return Settlement(settlement_id, writes, record, unchanged)


def write_settlement(s: Settlement) -> None:
    write_all(s.files)
