"""KAT recognition (kat.md): a DAO's configuration inside the guardrails, the Credits ledger, Karma
levels and KAT. Pure Python, exact decimals, no I/O: it runs in xlwings Lite as the GRAPE engine does."""

from .config import Guardrails, KatConfig, Level, Rule, Tier, parse_config, parse_guardrails
from .period import KarmaRules, KatPeriod, MemberResult, MintRow, RowResult, compute_period, karma_step
from .records import DECISIONS, STATUSES, ExceptionRecord, Ledger, LedgerRow, MemberState

__all__ = [
    "DECISIONS",
    "STATUSES",
    "ExceptionRecord",
    "Guardrails",
    "KarmaRules",
    "KatConfig",
    "KatPeriod",
    "Ledger",
    "LedgerRow",
    "Level",
    "MemberResult",
    "MemberState",
    "MintRow",
    "RowResult",
    "Rule",
    "Tier",
    "compute_period",
    "karma_step",
    "parse_config",
    "parse_guardrails",
]
