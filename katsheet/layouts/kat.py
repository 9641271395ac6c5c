"""The KAT workbook (kat.md): Guide, Config, Ledger, Exceptions, Members, Settlement.

Every cell address and formula of the KAT template is written here, once, on the machinery of the
GRAPE templates (layouts/model.py): each computed cell names the engine figure it must show, its
cached value when the file is written and what the checker expects when it reads one back.

- Config: the DAO's configuration as named cells, and its levels, rules and tiers as named lists
  (locked: the configuration comes from the TOML file).
- Ledger: one row per claimed contribution (yellow inputs), then what kat.md section 2 makes of
  it: the member's and the rule's number, the quantity that counts, the row's first problem in
  the engine's words, counted, late, credits before limits.
- Exceptions: id, date, member, kind, decision, notes; upheld ones step Karma down.
- Members: the carried state (locked), events per rule, and every figure of kat.md sections 3 and
  4 as its own column.
- Settlement: total capped, the pro-rata scale, whether the global cap engaged, minted, residue.

How the formulas compute (docs/decisions.md): members are numbered once (a MATCH of the escaped,
trimmed name) and every SUMIFS, COUNTIFS, MAXIFS and MINIFS is keyed by that number, never by a
name; each KAT is a whole number of units, ROUND(scaled x UnitsPerKat x Nudge + 0.5, 0) - 1, as
the GRAPE totals are. The engine floors the exact amount; the sheet's binary floats can differ by
one unit only within 2^-47 of a whole unit (the checker's tolerance is one unit).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from .. import __version__
from ..engine.dates import parse_month
from ..engine.grape.allocation import NUDGE_BITS
from ..engine.kat import ExceptionRecord, KatConfig, KatPeriod, Ledger, MemberResult, MemberState, compute_period
from ..engine.kat.checklist import (
    CheckItem,
    checklist,
    entry_counts,
    karma_ok,
    over_limit,
    rule_ok,
    verification_ok,
)
from ..engine.kat.records import DECISIONS, STATUSES
from ..engine.kat.sheet import LABELS, LEVELS, PERIOD_LABEL, PRIVILEGE_SEPARATOR, RULES, STAKEHOLDERS, TIERS
from ..engine.names import excel_trim, member_key
from .model import (
    Block,
    Chart,
    Column,
    Conditional,
    Note,
    Param,
    ParamConditional,
    Printing,
    Sheet,
    Table,
    Validation,
    WorkbookLayout,
    escaped,
)
from .settled import Stamp, settled_layout

TEMPLATE = "kat"
#: Bumped whenever a cell address or formula of the template changes: the checker reads it.
LAYOUT_VERSION = 2
GUIDE, CONFIG, LEDGER, EXCEPTIONS, MEMBERS, SETTLEMENT = (
    "Guide",
    "Config",
    "Ledger",
    "Exceptions",
    "Members",
    "Settlement",
)
CHECKLIST = "Checklist"
HEADER_ROW = 4
#: the typed columns of the Ledger and Exceptions tables, in order
LEDGER_INPUTS = ("entry", "date", "member", "stakeholder", "rule", "quantity", "evidence", "verified_by",
                 "verified_on", "status", "notes", "settled", "seal")  # fmt: skip
EXCEPTION_INPUTS = ("id", "date", "member", "kind", "decision", "notes", "settled", "seal")
#: the built-in sample month (the CED configuration and data in katsheet/data)
SAMPLE_MONTH = "2026-11"
#: spare rows below the typed ones: room for a month of typing
SPARE_LEDGER_ROWS, SPARE_MEMBER_ROWS, SPARE_EXCEPTION_ROWS = 100, 20, 20
DATE_WIDTH, AMOUNT_WIDTH = 11, 14


@dataclass
class KatMonth:
    """What a KAT workbook holds: the configuration, the month's inputs, and the engine's figures."""

    config: KatConfig
    month: str
    ledger: Ledger = field(default_factory=lambda: Ledger.of(()))
    exceptions: tuple[ExceptionRecord, ...] = ()
    states: tuple[MemberState, ...] = ()
    spare_rows: int = SPARE_LEDGER_ROWS
    member_spare_rows: int = SPARE_MEMBER_ROWS
    exception_spare_rows: int = SPARE_EXCEPTION_ROWS
    #: the members' keys in the Members sheet's order, top to bottom (a sheet a person sorted);
    #: empty: the engine's order, by name
    member_order: tuple[str, ...] = ()
    #: wallets by member key (a wallets file, or the Members sheet); a carried state's own otherwise
    wallets: dict[str, str] = field(default_factory=dict)
    #: the Checklist's signed-by-hand cells as typed (ApprovedBy, ApprovedOn, DisputesReviewed, ...)
    approval: dict[str, Any] = field(default_factory=dict)
    #: set once the month is settled (layouts/settled.py)
    stamp: Stamp | None = None

    @cached_property
    def period(self) -> KatPeriod:
        return compute_period(self.config, self.month, self.ledger, self.exceptions, self.states)

    @property
    def sealed_rows(self) -> int:
        """How many ledger rows, from the top, are sealed (a carried ledger starts with them)."""
        seals = self.ledger.columns["seal"]
        return next((i for i, s in enumerate(seals) if not s), len(seals))

    def wallet_of(self, member: str) -> str | None:
        key = member_key(member)
        state = self.carried.get(key)
        return self.wallets.get(key) or (state.wallet if state else "") or None

    @cached_property
    def members(self) -> tuple[MemberResult, ...]:
        """The engine's members in the Members sheet's order (those the order does not name last)."""
        members = self.period.members
        if not self.member_order:
            return members
        place = {k: i for i, k in enumerate(self.member_order)}
        return tuple(sorted(members, key=lambda r: place.get(member_key(r.member), len(place))))

    @property
    def start(self) -> dt.date:
        return parse_month(self.month, where="month")[0]

    @property
    def ledger_rows(self) -> int:
        return len(self.ledger) + self.spare_rows

    @property
    def member_rows(self) -> int:
        return len(self.members) + self.member_spare_rows

    @property
    def exception_rows(self) -> int:
        return len(self.exceptions) + self.exception_spare_rows

    @property
    def tolerance_scale(self) -> tuple[int, Any]:
        """What the checker's one-unit tolerance is measured in: KAT's decimals (and the global cap)."""
        return self.config.decimals, self.config.global_cap

    @cached_property
    def rows(self) -> list:
        """The ledger's rows, made once (the sheet's columns read them row by row; the value
        functions ask ``len(m.rows)``, a list's length, not the Ledger's, a Python call each)."""
        return list(self.ledger)

    @cached_property
    def results(self) -> list:
        """What became of each ledger row, made once."""
        return list(self.period.rows)

    @cached_property
    def entry_counts(self) -> dict[str, int]:
        return entry_counts(self.rows)

    @cached_property
    def checks(self) -> dict[str, CheckItem]:
        """kat.md section 6's machine-checked items, as the engine finds them."""
        return {item.key: item for item in checklist(self.period, self.rows)}

    @cached_property
    def entry_rows(self) -> dict[str, int]:
        """Each trimmed entry id's first ledger row, from 1 (what the sheet's MATCH finds)."""
        out: dict[str, int] = {}
        for j, row in enumerate(self.rows):
            out.setdefault(excel_trim(row.entry).casefold(), j + 1)
        out.pop("", None)
        return out

    @cached_property
    def numbers(self) -> dict[str, int]:
        """Each member's number: their row on the Members sheet, from 1."""
        return {member_key(m.member): i + 1 for i, m in enumerate(self.members)}

    @cached_property
    def carried(self) -> dict[str, MemberState]:
        return {member_key(s.member): s for s in self.states}

    @cached_property
    def events(self) -> dict[tuple[str, str], int]:
        """Counted events per (member, rule), before limits (what the sheet's SUMIFS adds up)."""
        out: dict[tuple[str, str], int] = defaultdict(int)
        for r in self.results:
            if r.counted:
                out[member_key(r.member), member_key(r.rule)] += r.quantity  # type: ignore[operator]
        return out

    @cached_property
    def first_dates(self) -> dict[str, dt.date]:
        """Each member's earliest dated ledger row (what the sheet's MINIFS finds)."""
        out: dict[str, dt.date] = {}
        for row in self.rows:
            k = member_key(row.member)
            if k and row.date is not None and (k not in out or row.date < out[k]):
                out[k] = row.date
        return out

    @cached_property
    def last_counted(self) -> dict[str, dt.date]:
        out: dict[str, dt.date] = {}
        for row, result in zip(self.rows, self.results, strict=True):
            k = member_key(row.member)
            if result.counted and (k not in out or row.date > out[k]):  # type: ignore[operator]
                out[k] = row.date  # type: ignore[assignment]
        return out


Value = Any


def _number_of(cell: str, names: str) -> str:
    """The number of the row of ``names`` holding the trimmed text of ``cell``, 0 if none (or blank:
    the spare rows of ``names`` are blank too)."""
    return f'IF(TRIM({cell})="",0,IFERROR(MATCH({escaped(f"TRIM({cell})")},{names},0),0))'


# ---------------------------------------------------------------------------------------------
# Config


def _config_params() -> tuple[Param, ...]:
    def cfg(fn):
        return lambda m: fn(m.config)

    return (
        Param("DaoName", LABELS["DaoName"], "B2", "label", "text", cfg(lambda c: c.name)),
        Param("DaoCode", LABELS["DaoCode"], "B3", "label", "text", cfg(lambda c: c.code)),
        Param("Period", PERIOD_LABEL, "B4", "label", "text", lambda m: m.period.period),
        Param("SettlementId", "Settlement id", "B5", "label", "text", lambda m: m.period.settlement_id),
        Param("PeriodStart", "Period start", "B6", "label", "date", lambda m: m.period.start),
        Param("PeriodEnd", "Period end", "B7", "label", "date", lambda m: m.period.end),
        Param("PeriodEndText", "Period end (as text)", "B8", "label", "text", lambda m: m.period.end.isoformat()),
        Param("KatPerCredit", LABELS["KatPerCredit"], "B9", "label", "general", cfg(lambda c: c.kat_per_credit)),
        Param("GlobalCap", LABELS["GlobalCap"], "B10", "label", "amount", cfg(lambda c: c.global_cap)),
        Param("PerUserCap", LABELS["PerUserCap"], "B11", "label", "amount",
              cfg(lambda c: c.per_user_cap)),
        Param("Decimals", LABELS["Decimals"], "B12", "label", "count", cfg(lambda c: c.decimals)),
        Param("UnitsPerKat", "Units per KAT (10^Decimals)", "B13", "computed", "count",
              cfg(lambda c: 10**c.decimals), formula="=10^Decimals"),
        Param("Nudge", f"Rounding guard (1 + 2^-{NUDGE_BITS})", "B14", "computed", "general",
              lambda m: 1 + 2.0**-NUDGE_BITS, formula=f"=1+2^-{NUDGE_BITS}",
              help="KAT is raised by 2^-47 of itself before it is rounded down, so binary noise never "
                   "costs a whole unit (docs/decisions.md)."),
        Param("InactivityDays", LABELS["InactivityDays"], "B15", "label", "count", cfg(lambda c: c.inactivity_days)),
        Param("PromoteAfter", LABELS["PromoteAfter"], "B16", "label", "count",
              cfg(lambda c: c.promote_after)),
        Param("StartLevel", LABELS["StartLevel"], "B17", "label", "count", cfg(lambda c: c.start_level)),
        Param("TopLevel", "Top level", "B18", "label", "count", cfg(lambda c: c.top_level)),
    )  # fmt: skip


def _config_blocks(config: KatConfig) -> tuple[Block, ...]:
    return (
        Block("D2", LEVELS.title, LEVELS.headers, LEVELS.names, ("count", "text", "general"), len(config.levels),
              lambda m: [(lv.number, lv.name, lv.multiplier) for lv in m.config.levels]),
        Block("H2", RULES.title, RULES.headers, RULES.names, ("text", "text", "general", "count", "text", "text"),
              len(config.rules),
              lambda m: [(r.id, r.stakeholder, r.credits, r.limit, r.trigger, r.verification) for r in m.config.rules]),
        Block("O2", TIERS.title, TIERS.headers, TIERS.names, ("text", "amount", "text"), len(config.tiers),
              lambda m: [(t.name, t.threshold, PRIVILEGE_SEPARATOR.join(t.privileges)) for t in m.config.tiers]),
        Block("S2", STAKEHOLDERS.title, STAKEHOLDERS.headers, STAKEHOLDERS.names, ("text",), len(config.stakeholders),
              lambda m: [(x,) for x in m.config.stakeholders]),
        Block("U2", "Statuses", ("Status",), ("StatusList",), ("text",), len(STATUSES),
              lambda m: [(x,) for x in STATUSES]),
        Block("W2", "Decisions", ("Decision",), ("DecisionList",), ("text",), len(DECISIONS),
              lambda m: [(d,) for d in DECISIONS]),
    )  # fmt: skip


def config_sheet(config: KatConfig) -> Sheet:
    return Sheet(
        name=CONFIG,
        params=_config_params(),
        notes=(Note("A1", "The DAO's configuration (from its TOML file; locked)", "title"),),
        blocks=_config_blocks(config),
        widths=(("A", 30), ("B", 14), ("E", 14), ("I", 22), ("L", 30), ("M", 30), ("O", 16), ("P", 16), ("Q", 30),
                ("S", 22)),
        printing=Printing(pages_wide=2),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Ledger


def _typed(expr: str) -> str:
    """Spare rows stay blank until something is typed in the row."""
    return f'=IF({{typed}},{expr},"")'


def _ledger_input(attr: str) -> Value:
    def value(m: KatMonth, i: int) -> Any:
        if i >= len(m.rows):
            return None
        v = m.ledger.columns[attr][i]
        return None if v == "" else v

    return value


def _quantity_typed(m: KatMonth, i: int) -> Any:
    """The quantity as a number when it is one ("2" in a CSV is 2), else as typed (text stays text)."""
    if i >= len(m.rows):
        return None
    typed, understood = m.ledger.columns["quantity"][i], m.results[i].quantity
    if typed is None or typed == "" or (isinstance(typed, str) and not typed.strip()):
        return None
    return understood if understood is not None else typed


def _row_result(fn) -> Value:
    def value(m: KatMonth, i: int) -> Any:
        if i >= len(m.rows):
            return ""
        return fn(m, m.rows[i], m.results[i])

    return value


def _quantity_used(m: KatMonth, row, result) -> int:
    """What the sheet's quantity column holds: blank is 1, a whole number >= 1 itself, else 0."""
    return result.quantity if result.quantity is not None else 0


#: the row's first problem, in the engine's words (engine/kat/period.py), blank when none
_PROBLEM = (
    'IF({history},"",'
    'IF(TRIM({entry})="","the entry id is blank",'
    'IF({twice},"entry id "&TRIM({entry})&" is used twice",'
    'IF(TRIM({member})="","the member is blank",'
    'IF({member_no}=0,"the member is not on the Members sheet",'
    'IF(ISNA(MATCH({status_key},StatusList,0)),"status must be pending, verified, disputed or void",'
    'IF({qty}=0,IF({status_key}="void","","quantity must be a whole number >= 1"),'
    'IF({status_key}<>"verified","",'
    'IF({rule_no}=0,"rule "&IF(TRIM({rule})="","(blank)",TRIM({rule}))&" does not exist",'
    "IF({rule_ok}=FALSE,"
    '"stakeholder "&IF(TRIM({stakeholder})="","(blank)",TRIM({stakeholder}))&" is not rule "'
    '&INDEX(RuleIds,{rule_no})&"\'s ("&INDEX(RuleStakeholders,{rule_no})&")",'
    'IF(TRIM({evidence})="","no evidence",'
    'IF(TRIM({verified_by})="","no verifier (verified_by is blank)",'
    'IF(LOWER(TRIM({verified_by}))=LOWER(TRIM({member})),"verified by the member themself",'
    'IF({date}="","no date",'
    'IF({date}>PeriodEnd,"dated after the period\'s end ("&PeriodEndText&")",'
    'IF({verified_on}="","verified but verified_on is blank",""))))))))))))))))'
)


def _first_problem(m: KatMonth, row, result) -> str:
    return result.problems[0] if result.problems else ""


def ledger_sheet(month: KatMonth) -> Sheet:
    inputs = (
        Column("entry", "Entry", "input", "text", _ledger_input("entry"), name="LedgerEntries", width=10,
               help="A unique id per row."),
        Column("date", "Date", "input", "date", _ledger_input("date"), name="LedgerDates", width=DATE_WIDTH,
               help="When the contribution happened (a date)."),
        Column("member", "Member", "input", "text", _ledger_input("member"), width=20),
        Column("stakeholder", "Stakeholder", "input", "text", _ledger_input("stakeholder"), width=18,
               validation=Validation("list", source="=StakeholderList", strict=False)),
        Column("rule", "Rule", "input", "text", _ledger_input("rule"), width=8,
               validation=Validation("list", source="=RuleIds")),
        Column("quantity", "Quantity", "input", "count", _quantity_typed, width=9,
               validation=Validation("whole", minimum=1), help="Events (blank: 1), a whole number >= 1."),
        Column("evidence", "Evidence", "input", "text", _ledger_input("evidence"), width=22),
        Column("verified_by", "Verified by", "input", "text", _ledger_input("verified_by"), width=14),
        Column("verified_on", "Verified on", "input", "date", _ledger_input("verified_on"), width=DATE_WIDTH),
        Column("status", "Status", "input", "text", _ledger_input("status"), width=10,
               validation=Validation("list", source="=StatusList")),
        Column("notes", "Notes", "input", "text", _ledger_input("notes"), width=18),
        Column("settled", "Settled in", "label", "text", _ledger_input("settled"), name="LedgerSettled", width=9,
               help="The period that sealed the row (written by katsheet settle)."),
        Column("seal", "Seal", "label", "text", _ledger_input("seal"), name="LedgerSeals", width=12,
               help="SHA-256 chaining the row to the sealed rows above it (docs/cycle.md)."),
    )  # fmt: skip
    computed = (
        Column(
            "typed",
            "Typed",
            "computed",
            "flag",
            lambda m, i: i < len(m.rows),
            formula="=LEN(" + "&".join(f"{{{k}}}" for k in LEDGER_INPUTS) + ")>0",
            width=7,
        ),
        Column(
            "entry_key",
            "Entry (trimmed)",
            "computed",
            "text",
            _row_result(lambda m, row, r: excel_trim(row.entry)),
            name="EntryKeys",
            formula=_typed("TRIM({entry})"),
            width=10,
        ),
        Column(
            "entry_first",
            "First row of entry",
            "computed",
            "count",
            _row_result(lambda m, row, r: _entry_first(m, row)),
            name="EntryFirst",
            formula=_typed(f'IF({{entry_key}}="",0,MATCH({escaped("{entry_key}")},EntryKeys,0))'),
            width=9,
        ),
        Column(
            "member_no",
            "Member no.",
            "computed",
            "count",
            _row_result(lambda m, row, r: m.numbers.get(member_key(row.member), 0)),
            name="LedgerMemberNos",
            formula=_typed(_number_of("{member}", "MemberKeys")),
            width=8,
        ),
        Column(
            "rule_no",
            "Rule no.",
            "computed",
            "count",
            _row_result(lambda m, row, r: _rule_number(m.config, row.rule)),
            name="LedgerRuleNos",
            formula=_typed(_number_of("{rule}", "RuleIds")),
            width=7,
        ),
        Column(
            "status_key",
            "Status (as read)",
            "computed",
            "text",
            _row_result(lambda m, row, r: excel_trim(row.status).lower()),
            name="LedgerStatusKeys",
            formula=_typed("LOWER(TRIM({status}))"),
            width=10,
        ),
        Column(
            "qty",
            "Quantity that counts",
            "computed",
            "count",
            _row_result(_quantity_used),
            name="LedgerQuantities",
            formula=_typed(
                'IF({quantity}="",1,IF(ISNUMBER({quantity}),IF({quantity}>=1,'
                "IF({quantity}=ROUND({quantity},0),{quantity},0),0),0))"
            ),
            width=9,
        ),
        Column(
            "history",
            "Settled earlier",
            "computed",
            "flag",
            _row_result(lambda m, row, r: r.history),
            name="LedgerHistory",
            formula=_typed('IF(TRIM({settled})="",FALSE,TRIM({settled})<Period)'),
            width=8,
        ),
        Column(
            "twice",
            "Entry id used twice",
            "computed",
            "flag",
            _row_result(
                lambda m, row, r: (
                    m.entry_counts.get(excel_trim(row.entry).casefold(), 0) > 1 and bool(excel_trim(row.entry))
                )
            ),
            name="LedgerTwice",
            formula=_typed('IF({entry_key}="",FALSE,COUNTIF(EntryFirst,{entry_first})>1)'),
            width=8,
        ),
        Column(
            "rule_ok",
            "Rule of this stakeholder",
            "computed",
            "flag",
            _row_result(lambda m, row, r: rule_ok(m.period, row)),
            name="LedgerRuleOk",
            formula=_typed(
                "IF({rule_no}=0,FALSE,LOWER(TRIM({stakeholder}))=LOWER(TRIM(INDEX(RuleStakeholders,{rule_no}))))"
            ),
            width=9,
        ),
        Column(
            "verification_ok",
            "Evidence and a verifier not the member",
            "computed",
            "flag",
            _row_result(lambda m, row, r: verification_ok(row)),
            name="LedgerVerificationOk",
            formula=_typed(
                'IF(TRIM({evidence})="",FALSE,IF(TRIM({verified_by})="",FALSE,'
                "LOWER(TRIM({verified_by}))<>LOWER(TRIM({member}))))"
            ),
            width=10,
        ),
        Column(
            "problem",
            "Problem (blocks settlement)",
            "computed",
            "text",
            _row_result(_first_problem),
            name="LedgerProblems",
            formula=_typed(_PROBLEM),
            width=34,
        ),
        Column(
            "blocks",
            "Blocks settlement",
            "computed",
            "flag",
            lambda m, i: bool(m.results[i].problems) if i < len(m.rows) else False,
            name="LedgerBlocking",
            formula='=IF({typed},{problem}<>"",FALSE)',
            width=8,
        ),
        Column(
            "counted",
            "Counted",
            "computed",
            "flag",
            _row_result(lambda m, row, r: r.counted),
            name="LedgerCounted",
            formula=_typed(
                'IF({problem}<>"",FALSE,IF({history},FALSE,IF({status_key}<>"verified",FALSE,'
                "{verified_on}<=PeriodEnd)))"
            ),
            width=8,
        ),
        Column(
            "late",
            "Late (dated before the period)",
            "computed",
            "flag",
            _row_result(lambda m, row, r: r.late),
            formula=_typed("IF({counted},{date}<PeriodStart,FALSE)"),
            width=9,
        ),
        Column(
            "credits",
            "Credits before limits",
            "computed",
            "general",
            _row_result(lambda m, row, r: r.credits),
            name="LedgerCredits",
            formula=_typed("IF({counted},{qty}*INDEX(RuleCredits,{rule_no}),0)"),
            width=10,
        ),
    )
    table = Table(HEADER_ROW, month.ledger_rows, (*inputs, *computed), locked_rows=month.sealed_rows)
    return Sheet(
        name=LEDGER,
        table=table,
        notes=(
            Note("A1", "Credits ledger: one row per claimed contribution (kat.md section 2)", "title"),
            Note(
                "A2", "Yellow: type here. A row counts when it is verified, in the period and has no problem.", "text"
            ),
        ),
        conditionals=(Conditional(("problem",), '=AND({typed},{problem}<>"")', "bad"),),
        freeze=f"B{HEADER_ROW + 1}",
        label_width=12,
        printing=Printing(pages_wide=2, repeat_columns="A:A", rows=lambda m: max(1, len(m.ledger))),
    )


def _entry_first(m: KatMonth, row) -> int:
    return m.entry_rows.get(excel_trim(row.entry).casefold(), 0)


def _rule_number(config: KatConfig, text: str) -> int:
    key = member_key(text)
    for j, rule in enumerate(config.rules):
        if member_key(rule.id) == key:
            return j + 1
    return 0


# ---------------------------------------------------------------------------------------------
# Exceptions


def _exception_input(attr: str) -> Value:
    def value(m: KatMonth, i: int) -> Any:
        if i >= len(m.exceptions):
            return None
        v = getattr(m.exceptions[i], attr)
        return None if v == "" else v

    return value


def _exception_figure(fn) -> Value:
    return lambda m, i: fn(m, m.exceptions[i]) if i < len(m.exceptions) else ""


def _upheld(m: KatMonth, e: ExceptionRecord) -> bool:
    settled = excel_trim(e.settled)
    if settled and settled < m.period.period:
        return False
    return e.decision.strip().lower() == "upheld" and (e.date is None or e.date <= m.period.end)


def exceptions_sheet(month: KatMonth) -> Sheet:
    table = Table(HEADER_ROW, month.exception_rows, (
        Column("id", "Id", "input", "text", _exception_input("id"), width=10),
        Column("date", "Date", "input", "date", _exception_input("date"), width=DATE_WIDTH),
        Column("member", "Member", "input", "text", _exception_input("member"), width=20),
        Column("kind", "Kind", "input", "text", _exception_input("kind"), width=14),
        Column("decision", "Decision", "input", "text", _exception_input("decision"), width=10,
               validation=Validation("list", source="=DecisionList")),
        Column("notes", "Notes", "input", "text", _exception_input("notes"), width=24),
        Column("settled", "Settled in", "label", "text", _exception_input("settled"), width=9),
        Column("seal", "Seal", "label", "text", _exception_input("seal"), width=12),
        Column("member_no", "Member no.", "computed", "count",
               _exception_figure(lambda m, e: m.numbers.get(member_key(e.member), 0)), name="ExceptionMemberNos",
               formula=f'=IF(TRIM({{id}})="","",{_number_of("{member}", "MemberKeys")})', width=8),
        Column("upheld", "Upheld in the period", "computed", "flag", _exception_figure(_upheld), name="ExceptionUpheld",
               formula='=IF(TRIM({id})="","",IF(TRIM({settled})<>"",IF(TRIM({settled})<Period,FALSE,'
                       'IF(LOWER(TRIM({decision}))="upheld",IF({date}="",TRUE,{date}<=PeriodEnd),FALSE)),'
                       'IF(LOWER(TRIM({decision}))="upheld",IF({date}="",TRUE,{date}<=PeriodEnd),FALSE)))', width=9),
    ))  # fmt: skip
    return Sheet(
        name=EXCEPTIONS,
        table=table,
        notes=(Note("A1", "Exceptions: an upheld one steps the member's Karma down one level", "title"),),
        freeze=f"B{HEADER_ROW + 1}",
        label_width=12,
        printing=Printing(rows=lambda m: max(1, len(m.exceptions))),
    )


# ---------------------------------------------------------------------------------------------
# Members


def _member(fn) -> Value:
    """``fn(month, MemberResult)`` for a member row, blank for a spare row."""
    return lambda m, i: fn(m, m.members[i]) if i < len(m.members) else ""


def _state(fn, default: Any = None) -> Value:
    def value(m: KatMonth, i: int) -> Any:
        if i >= len(m.members):
            return None
        s = m.carried.get(member_key(m.members[i].member))
        return default if s is None else fn(s)

    return value


def _events(rule_key: str) -> Value:
    return _member(lambda m, r: m.events.get((member_key(r.member), rule_key), 0))


def _guard(expr: str) -> str:
    return f'=IF({{member}}="","",{expr})'


def _credits_formula(config: KatConfig) -> str:
    terms = [
        f'IF(INDEX(RuleLimits,{j})="",{{events_{j}}},IF({{events_{j}}}>INDEX(RuleLimits,{j}),INDEX(RuleLimits,{j}),'
        f"{{events_{j}}}))*INDEX(RuleCredits,{j})"
        for j in range(1, len(config.rules) + 1)
    ]
    return _guard("+".join(terms) or "0")


def _over_limit_formula(config: KatConfig) -> str:
    terms = [
        f'IF(INDEX(RuleLimits,{j})="",0,IF({{events_{j}}}>INDEX(RuleLimits,{j}),1,0))'
        for j in range(1, len(config.rules) + 1)
    ]
    return _guard("(" + ("+".join(terms) or "0") + ")>0")


def _day(d: dt.date | None) -> Any:
    return d if d is not None else 0


def members_sheet(month: KatMonth) -> Sheet:
    config = month.config
    rules = tuple(
        Column(f"events_{j}", f"Events {rule.id}", "computed", "count",
               _events(member_key(rule.id)),
               formula=_guard(f"SUMIFS(LedgerQuantities,LedgerMemberNos,{{pos}},LedgerRuleNos,{j},LedgerCounted,TRUE)"),
               width=8)
        for j, rule in enumerate(config.rules, start=1)
    )  # fmt: skip
    columns = (
        Column("no", "No.", "label", "count", lambda m, i: i + 1, width=6),
        Column("member", "Member", "label", "text", _member(lambda m, r: r.member), width=20),
        Column(
            "wallet",
            "Wallet (EVM, for the mint list)",
            "input",
            "text",
            _member(lambda m, r: m.wallet_of(r.member)),
            width=24,
            help="The member's EVM address (0x and 40 hex digits), where katsheet settle mints their KAT.",
        ),
        Column(
            "key",
            "Member (trimmed)",
            "computed",
            "text",
            _member(lambda m, r: excel_trim(r.member)),
            name="MemberKeys",
            formula="=TRIM({member})",
            width=14,
        ),
        Column(
            "pos",
            "Member no. (row on this sheet)",
            "computed",
            "count",
            lambda m, i: i + 1 if i < len(m.members) else "",
            formula=_guard(f"MATCH({escaped('{key}')},MemberKeys,0)"),
            width=8,
        ),
        Column(
            "level_before",
            "Level before",
            "label",
            "count",
            _state(lambda s: s.level, month.config.start_level),
            width=8,
        ),
        Column("streak_before", "Streak before", "label", "count", _state(lambda s: s.streak, 0), width=8),
        Column(
            "last_active_before",
            "Last active before",
            "label",
            "date",
            _state(lambda s: s.last_active),
            width=DATE_WIDTH,
        ),
        Column(
            "first_seen_before", "First seen before", "label", "date", _state(lambda s: s.first_seen), width=DATE_WIDTH
        ),
        Column(
            "cumulative_before",
            "Cumulative KAT before",
            "label",
            "amount",
            _state(lambda s: s.cumulative, 0),
            width=AMOUNT_WIDTH,
        ),
        *rules,
        Column(
            "credits",
            "Credits (after limits)",
            "computed",
            "general",
            _member(lambda m, r: r.credits),
            formula=_credits_formula(config),
            width=10,
        ),
        Column(
            "active",
            "Active",
            "computed",
            "flag",
            _member(lambda m, r: r.active),
            formula=_guard("COUNTIFS(LedgerMemberNos,{pos},LedgerCounted,TRUE)>0"),
            width=7,
        ),
        Column(
            "last_counted",
            "Last counted row",
            "computed",
            "date",
            _member(lambda m, r: _day(m.last_counted.get(member_key(r.member)))),
            formula=_guard("_xlfn.MAXIFS(LedgerDates,LedgerMemberNos,{pos},LedgerCounted,TRUE)"),
            width=DATE_WIDTH,
        ),
        Column(
            "first_row",
            "First ledger row",
            "computed",
            "date",
            _member(lambda m, r: _day(m.first_dates.get(member_key(r.member)))),
            formula=_guard("_xlfn.MINIFS(LedgerDates,LedgerMemberNos,{pos})"),
            width=DATE_WIDTH,
        ),
        Column(
            "last_active",
            "Last active",
            "computed",
            "date",
            _member(lambda m, r: _day(r.last_active)),
            formula=_guard(
                'IF({last_counted}>IF({last_active_before}="",0,{last_active_before}),{last_counted},'
                'IF({last_active_before}="",0,{last_active_before}))'
            ),
            width=DATE_WIDTH,
        ),
        Column(
            "first_seen",
            "First seen",
            "computed",
            "date",
            _member(lambda m, r: _day(r.first_seen)),
            formula=_guard(
                'IF({first_seen_before}="",{first_row},IF({first_row}=0,{first_seen_before},'
                "IF({first_row}<{first_seen_before},{first_row},{first_seen_before})))"
            ),
            width=DATE_WIDTH,
        ),
        Column(
            "idle",
            "Days idle",
            "computed",
            "count",
            _member(lambda m, r: "" if r.idle_days is None else r.idle_days),
            formula=_guard('IF({last_active}>0,PeriodEnd-{last_active},IF({first_seen}>0,PeriodEnd-{first_seen},""))'),
            width=7,
        ),
        Column(
            "inactive",
            "Inactive",
            "computed",
            "flag",
            _member(lambda m, r: r.inactive),
            formula=_guard('IF({idle}="",FALSE,{idle}>=InactivityDays)'),
            width=8,
        ),
        Column(
            "upheld",
            "Upheld exception",
            "computed",
            "flag",
            _member(lambda m, r: r.upheld),
            formula=_guard("COUNTIFS(ExceptionMemberNos,{pos},ExceptionUpheld,TRUE)>0"),
            width=9,
        ),
        Column(
            "down",
            "Level one step down",
            "computed",
            "count",
            _member(lambda m, r: max(0, r.level_before - 1)),
            formula=_guard("IF({level_before}>0,{level_before}-1,0)"),
            width=7,
        ),
        Column(
            "streak_count",
            "Active periods in a row",
            "computed",
            "count",
            _member(lambda m, r: 0 if r.inactive or r.upheld or not r.active else _before(m, r, "streak") + 1),
            formula=_guard("IF({inactive},0,IF({upheld},0,IF({active},{streak_before}+1,0)))"),
            width=8,
        ),
        Column(
            "level",
            "Level",
            "computed",
            "count",
            _member(lambda m, r: r.level),
            name="Levels",
            formula=_guard(
                "IF({inactive},{down},IF({upheld},{down},"
                "IF({streak_count}>=PromoteAfter,IF({level_before}<TopLevel,{level_before}+1,TopLevel),{level_before})))"
            ),
            width=7,
        ),
        Column(
            "streak",
            "Streak carried",
            "computed",
            "count",
            _member(lambda m, r: r.streak),
            formula=_guard("IF({level}>{level_before},0,{streak_count})"),
            width=8,
        ),
        Column(
            "multiplier",
            "Multiplier",
            "computed",
            "general",
            _member(lambda m, r: r.multiplier),
            formula=_guard("INDEX(Multipliers,{level}+1)"),
            width=9,
        ),
        Column(
            "raw",
            "KAT before caps",
            "computed",
            "amount",
            _member(lambda m, r: r.raw),
            formula=_guard("{credits}*KatPerCredit*{multiplier}"),
            width=AMOUNT_WIDTH,
        ),
        Column(
            "capped",
            "After the member cap",
            "computed",
            "amount",
            _member(lambda m, r: r.capped),
            name="Capped",
            formula=_guard("IF({raw}>PerUserCap,PerUserCap,{raw})"),
            width=AMOUNT_WIDTH,
        ),
        Column(
            "scaled",
            "After the global cap",
            "computed",
            "ratio",
            _member(lambda m, r: r.scaled),
            formula=_guard("{capped}*Scale"),
            width=AMOUNT_WIDTH,
        ),
        Column(
            "units",
            "KAT in units",
            "computed",
            "count",
            _member(lambda m, r: int(r.kat.scaleb(m.config.decimals))),
            name="KatUnits",
            formula=_guard("ROUND({scaled}*UnitsPerKat*Nudge+0.5,0)-1"),
            width=12,
        ),
        Column(
            "kat",
            "KAT",
            "computed",
            "amount",
            _member(lambda m, r: r.kat),
            name="Kat",
            formula=_guard("{units}/UnitsPerKat"),
            width=AMOUNT_WIDTH,
        ),
        Column(
            "cumulative",
            "Cumulative KAT",
            "computed",
            "amount",
            _member(lambda m, r: r.cumulative),
            formula=_guard("{cumulative_before}+{kat}"),
            width=AMOUNT_WIDTH,
        ),
        Column(
            "tier",
            "Tier",
            "computed",
            "text",
            _member(lambda m, r: r.tier),
            formula=_guard("INDEX(TierNames,MATCH({cumulative},TierThresholds,1))"),
            width=14,
        ),
        Column(
            "over_limit",
            "Over a rule's limit",
            "computed",
            "flag",
            _member(lambda m, r: over_limit(m.period, m.events, r.member)),
            name="MembersOverLimit",
            formula=_over_limit_formula(config),
            width=8,
        ),
        Column(
            "karma_ok",
            "Level moved as the rules say",
            "computed",
            "flag",
            _member(lambda m, r: karma_ok(r)),
            name="MembersKarmaOk",
            formula=_guard("IF(ABS({level}-{level_before})>1,FALSE,IF({inactive},{level}={down},TRUE))"),
            width=9,
        ),
    )
    table = Table(HEADER_ROW, month.member_rows, columns)
    return Sheet(
        name=MEMBERS,
        table=table,
        notes=(
            Note("A1", "Members: Karma (kat.md section 3), then KAT (section 4)", "title"),
            Note("A2", "Green: level up. Red: level down. Orange: held back by the member cap.", "text"),
        ),
        conditionals=(
            Conditional(("level",), '=AND({member}<>"",{level}>{level_before})', "eligible"),
            Conditional(("level",), '=AND({member}<>"",{level}<{level_before})', "bad"),
            Conditional(("capped",), '=AND({member}<>"",{raw}>PerUserCap)', "cap"),
        ),
        chart=Chart("KAT per member", "member", "kat", "A2", shown=lambda m: max(1, len(m.members))),
        freeze=f"C{HEADER_ROW + 1}",
        label_width=12,
        printing=Printing(pages_wide=3, repeat_columns="A:B", rows=lambda m: max(1, len(m.members))),
    )


def _before(m: KatMonth, r, attr: str) -> int:
    s = m.carried.get(member_key(r.member))
    return getattr(s, attr) if s is not None else 0


# ---------------------------------------------------------------------------------------------
# Settlement and Guide


LEVELS_HEADER_ROW = 11


def _level_figure(fn) -> Value:
    return lambda m, i: fn(m, m.config.levels[i])


def settlement_sheet(month: KatMonth) -> Sheet:
    def fig(attr: str):
        return lambda m: getattr(m.period, attr)

    levels = Table(LEVELS_HEADER_ROW, len(month.config.levels), (
        Column("level", "Level", "label", "count", _level_figure(lambda m, lv: lv.number), width=8),
        Column("name", "Name", "label", "text", _level_figure(lambda m, lv: lv.name), width=18),
        Column("members", "Members at the level now", "computed", "count",
               _level_figure(lambda m, lv: sum(1 for x in m.members if x.level == lv.number)),
               formula="=COUNTIF(Levels,{level})", width=12),
        Column("kat", "KAT minted to them", "computed", "amount",
               _level_figure(lambda m, lv: sum((x.kat for x in m.members if x.level == lv.number), Decimal(0))),
               formula="=SUMIFS(Kat,Levels,{level})", width=AMOUNT_WIDTH),
    ))  # fmt: skip

    return Sheet(
        name=SETTLEMENT,
        params=(
            Param(
                "TotalCapped",
                "Total after member caps (T)",
                "B2",
                "computed",
                "amount",
                fig("total_capped"),
                formula="=SUM(Capped)",
            ),
            Param(
                "GlobalCapEngaged",
                "Global cap engaged (T > GlobalCap)",
                "B3",
                "computed",
                "flag",
                fig("global_cap_engaged"),
                formula="=TotalCapped>GlobalCap",
            ),
            Param(
                "Scale",
                "Pro-rata scale r = MIN(1, GlobalCap / T)",
                "B4",
                "computed",
                "ratio",
                fig("scale"),
                formula="=IF(GlobalCapEngaged,GlobalCap/TotalCapped,1)",
            ),
            Param(
                "Minted", "KAT minted", "B5", "computed", "amount", fig("minted"), formula="=SUM(KatUnits)/UnitsPerKat"
            ),
            Param(
                "Residue",
                "Residue (not minted)",
                "B6",
                "computed",
                "amount",
                fig("residue"),
                formula="=MIN(TotalCapped,GlobalCap)-Minted",
            ),
            Param(
                "MintRows",
                "Members on the mint list",
                "B7",
                "computed",
                "count",
                lambda m: len(m.period.mint_list),
                formula='=COUNTIF(KatUnits,">0")',
            ),
            Param(
                "BlockingRows",
                "Ledger rows that block settlement",
                "B8",
                "computed",
                "count",
                lambda m: len(m.period.blocking),
                formula="=COUNTIF(LedgerBlocking,TRUE)",
            ),
        ),
        table=levels,
        notes=(
            Note("A1", "Settlement (kat.md section 4)", "title"),
            Note(f"A{LEVELS_HEADER_ROW - 1}", "The level distribution after this period (kat.md section 3)", "heading"),
        ),
        chart=Chart("Members per level", "name", "members", "F2"),
        param_conditionals=(
            ParamConditional("GlobalCapEngaged", "=GlobalCapEngaged", "cap"),
            ParamConditional("BlockingRows", "=BlockingRows>0", "bad"),
        ),
        widths=(("A", 40), ("B", 18)),
        printing=Printing(landscape=False),
    )


#: (name, engine item key, count formula) of kat.md section 6's machine-checked items, in order
_CHECKS = (
    ("ChkRules", "rules", '=COUNTIFS(LedgerStatusKeys,"verified",LedgerHistory,FALSE,LedgerRuleOk,FALSE)'),
    ("ChkVerification", "verification",
     '=COUNTIFS(LedgerStatusKeys,"verified",LedgerHistory,FALSE,LedgerVerificationOk,FALSE)'),
    ("ChkEntries", "entries", "=COUNTIFS(LedgerTwice,TRUE,LedgerHistory,FALSE)"),
    ("ChkLimits", "limits", "=COUNTIF(MembersOverLimit,TRUE)"),
    ("ChkKarma", "karma", "=COUNTIF(MembersKarmaOk,FALSE)"),
    ("ChkCaps", "caps", '=COUNTIF(Capped,">"&PerUserCap)'),
    ("ChkMinted", "minted", "=IF(SUM(KatUnits)<=ROUND(GlobalCap*UnitsPerKat,0),0,1)"),
    ("ChkProblems", "problems", "=BlockingRows"),
)  # fmt: skip


def _signed(name: str) -> Any:
    """A signed-by-hand Checklist cell: what was typed there (blank in a new month)."""
    return lambda m: m.approval.get(name)


def checklist_sheet(month: KatMonth) -> Sheet:
    """kat.md section 6: each machine-checked item with the count of rows or members it names and
    PASS or FAIL (frequency limits are applied by the formulas: its members are listed, it passes);
    then the items signed by hand."""
    params: list[Param] = []
    first = 4
    for i, (name, key, formula) in enumerate(_CHECKS):
        r = first + i
        text = month.checks[key].text
        params.append(Param(name, text, f"B{r}", "computed", "count", lambda m, k=key: m.checks[k].count,
                            formula=formula))  # fmt: skip
        result = '="PASS"' if key == "limits" else f'=IF({name}=0,"PASS","FAIL")'
        params.append(Param(f"{name}Result", "Result", f"D{r}", "computed", "text",
                            lambda m, k=key: "PASS" if m.checks[k].passed else "FAIL", formula=result))  # fmt: skip
    r = first + len(_CHECKS)
    counted = "+".join(name for name, key, _ in _CHECKS if key != "limits")
    params.append(Param("MachineChecksPass", "Every machine-checked item passes", f"B{r}", "computed", "flag",
                        lambda m: all(c.passed for c in m.checks.values()), formula=f"={counted}=0"))  # fmt: skip
    flag = Validation("list", source=("TRUE", "FALSE"))
    params += [
        Param("ApprovedBy", "Approved by (the DAO's approval)", f"B{r + 3}", "input", "text", _signed("ApprovedBy"),
              help="Who approved the period for the DAO."),
        Param("ApprovedOn", "Approved on", f"B{r + 4}", "input", "date", _signed("ApprovedOn"),
              help="The date of the approval (a date)."),
        Param("DisputesReviewed", "Open disputes reviewed", f"B{r + 5}", "input", "flag", _signed("DisputesReviewed"),
              help="TRUE once every disputed row and open exception was reviewed.", validation=flag),
        Param("DocumentationPublished", "Documentation published", f"B{r + 6}", "input", "flag", _signed("DocumentationPublished"),
              help="TRUE once the period's report is published.", validation=flag),
    ]  # fmt: skip
    return Sheet(
        name=CHECKLIST,
        params=tuple(params),
        notes=(
            Note("A1", "Audit checklist (kat.md section 6)", "title"),
            Note(
                "A2",
                "A period settles only when every machine-checked item passes and the items below are signed.",
                "text",
            ),
            Note("A3", "Machine-checked: rows or members named", "heading"),
            Note(f"A{r + 2}", "Signed by hand", "heading"),
        ),
        param_conditionals=tuple(
            ParamConditional(f"{name}Result", f'={name}Result="FAIL"', "bad") for name, _, _ in _CHECKS
        ),
        widths=(("A", 62), ("B", 14), ("C", 8), ("D", 8)),
        printing=Printing(landscape=False),
    )


def guide_sheet(month: KatMonth) -> Sheet:
    lines = [
        "KAT recognition month (kat.md): Credits -> Karma -> KAT.",
        "Yellow cells are yours to type; everything else is computed or locked.",
        "The monthly cycle: data approved -> review -> validation -> preview -> documentation.",
        "1. Type each claimed contribution on the Ledger sheet; an organizer verifies it.",
        "2. `katsheet check` this file: every formula, input and figure at its cell.",
        "3. Resolve the rows that block settlement (Settlement sheet) and the open exceptions.",
        "4. Sign the approval; `katsheet settle` writes the mint list and seals the month.",
    ]
    notes = [Note("A1", "katsheet: KAT month", "title")]
    notes += [Note(f"A{3 + i}", text) for i, text in enumerate(lines)]
    notes += [
        Note("A12", "Legend", "heading"),
        Note("A13", "Input", "legend-input"),
        Note("A14", "Level up", "legend-eligible"),
        Note("A15", "Held back by a cap", "legend-cap"),
        Note("A17", f"DAO: {month.config.name} ({month.config.code})"),
        Note("A18", f"Period: {month.period.period}   Template: {TEMPLATE} v{LAYOUT_VERSION}"),
        Note("A19", f"Written by katsheet {__version__}"),
    ]
    return Sheet(name=GUIDE, notes=tuple(notes), widths=(("A", 100),), printing=Printing(landscape=False))


def kat_layout(month: KatMonth) -> WorkbookLayout:
    """The KAT workbook for ``month``: its configuration fixes the rule columns and the lists."""
    layout = WorkbookLayout(
        template=TEMPLATE,
        version=LAYOUT_VERSION,
        sheets=(
            guide_sheet(month),
            config_sheet(month.config),
            ledger_sheet(month),
            exceptions_sheet(month),
            members_sheet(month),
            settlement_sheet(month),
            checklist_sheet(month),
        ),
        constants={
            "KatsheetTemplate": TEMPLATE,
            "KatsheetVersion": str(LAYOUT_VERSION),
            "KatsheetMonth": month.period.period,
            "KatsheetDao": month.config.code,
        },
        title="KAT recognition",
    )
    return layout if month.stamp is None else settled_layout(layout, month, month.stamp, GUIDE)
