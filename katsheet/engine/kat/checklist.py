"""The machine-checked items of kat.md section 6, each with the rows or members it names.

The workbook's Checklist sheet computes the same items with formulas; the engine is the
reference. A period can be settled only when every item passes (and the hand-signed items are
signed: those are inputs, not computed here). Two items are left to `katsheet check` and the
settlement chain (issue 12): sealed records unchanged, and the configuration inside the
guardrails (a configuration outside them is refused before a period is computed at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..names import excel_trim, member_key
from .period import KatPeriod
from .records import LedgerRow


@dataclass(frozen=True)
class CheckItem:
    key: str
    text: str
    #: the rows or members the item names (0 when it passes)
    count: int
    passed: bool


def _verified(row: LedgerRow, history: bool) -> bool:
    return not history and excel_trim(row.status).lower() == "verified"


def rule_ok(period: KatPeriod, row: LedgerRow) -> bool:
    """The row names an existing rule, of the row's stakeholder."""
    rule = period.config.rule(row.rule)
    return rule is not None and excel_trim(row.stakeholder).lower() == excel_trim(rule.stakeholder).lower()


def verification_ok(row: LedgerRow) -> bool:
    """Evidence, a verifier, and the verifier is not the member."""
    verifier = excel_trim(row.verified_by)
    return bool(excel_trim(row.evidence)) and bool(verifier) and verifier.lower() != excel_trim(row.member).lower()


def entry_counts(ledger: Sequence[LedgerRow]) -> dict[str, int]:
    """How many rows hold each (trimmed, case-blind) entry id."""
    counts: dict[str, int] = {}
    for row in ledger:
        key = excel_trim(row.entry).casefold()
        counts[key] = counts.get(key, 0) + 1
    return counts


def over_limit(period: KatPeriod, events: dict[tuple[str, str], int], member: str) -> bool:
    """The member's counted events of some rule exceed its limit (the excess was not credited)."""
    key = member_key(member)
    return any(r.limit is not None and events.get((key, member_key(r.id)), 0) > r.limit for r in period.config.rules)


def karma_ok(m) -> bool:
    """The level moved at most one step, and an inactive member stepped down one."""
    if abs(m.level - m.level_before) > 1:
        return False
    return m.level == max(0, m.level_before - 1) if m.inactive else True


def checklist(period: KatPeriod, ledger: Sequence[LedgerRow]) -> tuple[CheckItem, ...]:
    rows = list(ledger)
    results = list(period.rows)
    counts = entry_counts(rows)
    events: dict[tuple[str, str], int] = {}
    for r in results:
        if r.counted:
            k = (member_key(r.member), member_key(r.rule))
            events[k] = events.get(k, 0) + r.quantity  # type: ignore[operator]
    verified = [(row, r) for row, r in zip(rows, results, strict=True) if _verified(row, r.history)]
    units = 10**period.config.decimals
    items = [
        ("rules", "Every counted row names an existing rule of its stakeholder",
         sum(1 for row, _ in verified if not rule_ok(period, row))),
        ("verification", "Counted rows are verified, not self-verified, with evidence",
         sum(1 for row, _ in verified if not verification_ok(row))),
        ("entries", "No entry id twice",
         sum(1 for row, r in zip(rows, results, strict=True)
             if not r.history and excel_trim(row.entry) and counts[excel_trim(row.entry).casefold()] > 1)),
        ("karma", "Every level moved at most one step; the inactivity rule applied",
         sum(1 for m in period.members if not karma_ok(m))),
        ("caps", "The member cap and the pro-rata scale applied",
         sum(1 for m in period.members if m.capped > period.config.per_user_cap)),
        ("minted", "The mint list sums to minted, and minted <= the global cap",
         0 if period.minted * units <= period.config.global_cap * units else 1),
        ("problems", "No open row problem", len(period.blocking)),
    ]  # fmt: skip
    out = [CheckItem(key, text, count, count == 0) for key, text, count in items]
    limited = sum(1 for m in period.members if over_limit(period, events, m.member))
    # informational: limits are applied by construction; the members over one are listed
    out.insert(3, CheckItem("limits", "Frequency limits applied (members over a limit)", limited, True))
    return tuple(out)
