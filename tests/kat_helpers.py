"""Building KAT inputs in tests: the CED configuration with changes, ledger rows, CSV files."""

from __future__ import annotations

import copy
import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from katsheet.engine.kat import ExceptionRecord, KatConfig, LedgerRow, MemberState, parse_config
from katsheet.engine.kat.tables import EXCEPTION_COLUMNS, LEDGER_COLUMNS
from katsheet.io.katfiles import ced_text, load_guardrails, parse_toml

MONTH = "2026-11"
DAY = dt.date(2026, 11, 10)
GUARDRAILS = load_guardrails()
CED: dict[str, Any] = parse_toml(ced_text().encode(), source="ced.toml")
#: (stakeholder, credits) of each CED rule
RULES = {r["id"]: (r["stakeholder"], Decimal(r["credits"])) for r in CED["rules"]}


def ced_data(**settlement: Any) -> dict[str, Any]:
    data = copy.deepcopy(CED)
    data["settlement"].update(settlement)
    return data


def ced(**settlement: Any) -> KatConfig:
    return parse_config(ced_data(**settlement), GUARDRAILS, source="test.toml")


def row(member: str, rule: str, quantity: object = 1, *, entry: str | None = None, day: dt.date = DAY,
        status: str = "verified", evidence: str = "https://example.org/e", verifier: str = "Organizer",
        verified_on: dt.date | None = None, stakeholder: str | None = None) -> LedgerRow:  # fmt: skip
    row.n += 1  # type: ignore[attr-defined]
    return LedgerRow(
        entry=entry or f"E{row.n:05d}", date=day, member=member, stakeholder=stakeholder or RULES[rule][0], rule=rule,
        quantity=quantity, evidence=evidence, verified_by=verifier, verified_on=verified_on or day, status=status,
        where=f"row {row.n}",
    )  # fmt: skip


row.n = 0  # type: ignore[attr-defined]


def state(member: str, level: int = 2, streak: int = 0, last_active: dt.date | None = dt.date(2026, 10, 20),
          first_seen: dt.date | None = dt.date(2026, 1, 5), cumulative: str = "0") -> MemberState:  # fmt: skip
    return MemberState(member, level, streak, last_active, first_seen, Decimal(cumulative), where=f"state {member}")


def write_ledger(path: Path, rows: list[LedgerRow]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(LEDGER_COLUMNS)
        for r in rows:
            w.writerow([r.entry, r.date.isoformat() if r.date else "", r.member, r.stakeholder, r.rule, r.quantity,
                        r.evidence, r.verified_by, r.verified_on.isoformat() if r.verified_on else "", r.status,
                        r.notes, r.settled])  # fmt: skip
    return path


def write_exceptions(path: Path, records: list[ExceptionRecord]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(EXCEPTION_COLUMNS)
        for e in records:
            w.writerow([e.id, e.date.isoformat() if e.date else "", e.member, e.kind, e.decision, e.notes, e.settled])
    return path


def write_states(path: Path, states: list[MemberState]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["member", "level", "streak", "last_active", "first_seen", "cumulative_kat"])
        for s in states:
            w.writerow([s.member, s.level, s.streak, s.last_active.isoformat() if s.last_active else "",
                        s.first_seen.isoformat() if s.first_seen else "", s.cumulative])  # fmt: skip
    return path


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """A TOML file for ``data`` (the CED shape: stakeholders, [dao], [settlement], [karma], arrays of tables)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, Decimal)):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"stakeholders = {value(data['stakeholders'])}"]
    for table in ("dao", "settlement", "karma"):
        lines.append(f"[{table}]")
        lines += [f"{k} = {value(v)}" for k, v in data[table].items() if not isinstance(v, list)]
    for level in data["karma"].get("levels", []):
        lines.append("[[karma.levels]]")
        lines += [f"{k} = {value(v)}" for k, v in level.items()]
    for name in ("rules", "tiers"):
        for item in data[name]:
            lines.append(f"[[{name}]]")
            lines += [f"{k} = {value(v)}" for k, v in item.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
