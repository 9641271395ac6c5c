"""`katsheet history FOLDER`: every settled month in a folder, per DAO, verified.

A month is its settlement record (``ID-settlement.json``) and the files it names. For each:
every file must still have the SHA-256 the record gives; the settled workbook must be the month
the record says (its period and seal). Per DAO the months must follow each other without a gap,
and each KAT month's ledger chain must extend the previous month's: the record's head must be the
seal of the same record in the next month's sealed ledger. A broken link is named: the file, and
the entry id where the chains part.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..engine.errors import InputError
from .next import month_after


@dataclass
class Month:
    record_path: Path
    record: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    amounts: dict[str, Decimal] = field(default_factory=dict)

    @property
    def dao(self) -> str:
        return str(self.record.get("dao", {}).get("code", "?"))

    @property
    def period(self) -> str:
        return str(self.record.get("period", "?"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(m: Month) -> None:
    folder = m.record_path.parent
    for name, digest in m.record.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            m.problems.append(f"{path}: missing (the settlement record names it)")
        elif _sha(path) != digest:
            m.problems.append(f"{path}: changed since settlement (its SHA-256 is not the record's)")
    csvs = [name for name in m.record.get("files", {}) if name.endswith(".csv") and (folder / name).is_file()]
    totals = m.record.get("totals", {})
    # a task-pool month pays several assets, one file (or Safe's parts) each: each sums to its own total
    groups = [(a["file_prefix"], Decimal(a["total_allocated"])) for a in m.record.get("assets", {}).values()]
    groups = groups or [("", Decimal(totals.get("minted", totals.get("total_allocated", "0"))))]
    for n, (prefix, expected) in enumerate(groups):
        amounts = _amounts(folder, [name for name in csvs if name.startswith(prefix)], m.record.get("payout_format"))
        if n == 0:
            m.amounts = amounts  # the DAO's token (the first asset): history's per-member series
        if amounts and sum(amounts.values(), Decimal(0)) != expected:
            m.problems.append(f"{folder}: the {prefix or 'payout '}files of {m.record['settlement_id']} sum to "
                              f"{sum(amounts.values(), Decimal(0))}, the record says {expected}")  # fmt: skip


def _amounts(folder: Path, names: list[str], fmt: str | None) -> dict[str, Decimal]:
    """Per member (or wallet), the amounts of the payout files ``names``, read back."""
    amounts: dict[str, Decimal] = {}
    for name in names:
        lines = list(csv.reader(io.StringIO((folder / name).read_text(encoding="utf-8"))))
        header = ["address", "amount"] if fmt == "grape-governance" else lines.pop(0)
        lower = [h.lower() for h in header]
        amount = lower.index("amount")
        who = next((lower.index(k) for k in ("member", "name") if k in lower), 0 if "address" in lower else None)
        if who is None:
            who = next(i for i, h in enumerate(lower) if h in ("recipient", "receiver", "wallet address", "wallet"))
        for line in lines:
            key = line[who].removeprefix("'")
            amounts[key] = amounts.get(key, Decimal(0)) + Decimal(line[amount])
    return amounts


def _column(raw: Any, name: str, path: Path) -> tuple[list[str], list[Any]]:
    """A named column's cells and values as read (constants: no formula to evaluate)."""
    from ..layouts.model import split_cell
    from ..workbook.reader import _named

    if name not in raw.names:
        raise InputError(f"has no defined name {name}: not a settled katsheet KAT month")
    sheet, first, last = _named(raw.names, name, path)
    (letter, r1), (_, r2) = split_cell(first), split_cell(last)
    cells = [f"{sheet}!{letter}{r}" for r in range(r1, r2 + 1)]
    return cells, [raw.formulas.get((sheet, f"{letter}{r}")) for r in range(r1, r2 + 1)]


def _workbook(m: Month) -> list[tuple[str, str, str, str]] | None:
    """The settled workbook's sealed ledger rows in order: (entry, seal, where, period sealed in),
    read straight from its cells (no formula evaluated: history reads 24 months in seconds)."""
    from ..workbook.reader import _constant
    from ..workbook.xlsx import read_xlsx

    path = m.record_path.parent / f"{m.record['settlement_id']}-settled.xlsx"
    if not path.is_file() or any(str(path) in p for p in m.problems):
        return None
    raw = read_xlsx(path)
    month, seal = _constant(raw.names, "KatsheetMonth"), _constant(raw.names, "KatsheetSeal")
    if month != m.period or seal != m.record.get("seal"):
        m.problems.append(
            f"{path}: holds {month} with seal {seal}, not the record's {m.period} ({m.record.get('seal')})"
        )
        return None
    try:
        (cells, entries), (_, seals), (_, settled) = (_column(raw, n, path) for n in ("LedgerEntries", "LedgerSeals",
                                                                                      "LedgerSettled"))  # fmt: skip
    except InputError as e:
        m.problems.append(f"{path}: {e.problem}")
        return None
    return [(str(entries[i]).strip(), str(seals[i]), cells[i], str(settled[i] or "").strip())
            for i in range(len(entries)) if seals[i]]  # fmt: skip


def history(folder: Path) -> dict[str, list[Month]]:
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("is not a folder", where=str(folder))
    months: dict[str, list[Month]] = {}
    for path in sorted(folder.rglob("*-settlement.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise InputError(f"is not a settlement record ({e})", where=str(path)) from None
        m = Month(path, record)
        _files(m)
        months.setdefault(m.dao, []).append(m)
    for dao_months in months.values():
        dao_months.sort(key=lambda m: m.period)
        previous: Month | None = None
        previous_chain: list[tuple[str, str, str, str]] | None = None
        for m in dao_months:
            chain = _workbook(m) if m.record.get("framework") == "kat" else None
            earlier = sorted({row[3] for row in chain or () if row[3] < m.period} - {x.period for x in dao_months})
            if earlier:
                m.problems.append(f"{m.record_path}: its sealed ledger holds rows settled in {', '.join(earlier)}, "
                                  "whose settlement is missing from the folder")  # fmt: skip
            if previous is not None and m.period != month_after(previous.period):
                kind = "twice" if m.period == previous.period else f"missing: {month_after(previous.period)}"
                m.problems.append(f"{m.record_path}: the month before {m.period} is {kind} (after {previous.period})")
            elif previous is not None and chain is not None and previous_chain is not None:
                n = previous.record["chains"]["ledger"]["records"]
                head = previous.record["chains"]["ledger"]["head"]
                if n and (len(chain) < n or chain[n - 1][1] != head):
                    at = next((i for i, (a, b) in enumerate(zip(previous_chain, chain, strict=False)) if a[:2] != b[:2]),
                              min(len(chain), n) - 1)  # fmt: skip
                    entry, _, where, _ = chain[at] if at < len(chain) else ("(missing)", "", "", "")
                    m.problems.append(f"{m.record_path.parent / (m.record['settlement_id'] + '-settled.xlsx')}: its "
                                      f"sealed ledger does not extend {previous.period}'s at entry {entry} ({where})")  # fmt: skip
            previous, previous_chain = m, chain
    return months
