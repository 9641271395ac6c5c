"""The GRAPE workbook templates (workbook.md): Guide, Scoring, Compact or Expanded, Members.

Every cell address and formula of the GRAPE templates is written here, once. Each computed cell
also names the engine figure it must show, which is both its cached value when we write the file
and what the checker expects when it reads one back.

- Scoring: the "GRAPE WEIGHT SCORE - Skill Role Scoring Grid": levels table, criteria table, and
  one row per member and role with a score per criterion and the GRAPE weight formula. Members
  are typed here, once.
- Compact / Expanded: the parameter block (E3 the threshold override, E7 the average weight, every
  option a named cell) and the member table, which follows the Scoring rows index by index.
- Members: each member's totals over all role rows.
- Guide: colours, the monthly cycle, and what made the file.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from .. import __version__
from ..engine import (
    DEFAULT_LEVELS,
    FOUR_CRITERIA,
    Allocation,
    Criteria,
    MemberSummary,
    Options,
    allocate,
    empty_allocation,
    summarize,
)
from ..engine.allocation import CAP_RULES, MAX_DECIMALS
from ..engine.roster import UNASSIGNED, ScoredRow
from .model import (
    Chart,
    Column,
    Conditional,
    Note,
    Param,
    ParamConditional,
    Sheet,
    Table,
    Validation,
    WorkbookLayout,
    col_letter,
)

TEMPLATES = ("compact", "expanded")
#: Bumped whenever a cell address or formula of these templates changes: the checker reads it.
LAYOUT_VERSION = 2  # 2: row formulas without AND (element-wise, for column evaluation)
DEFAULT_ROWS = 100
#: Spare rows kept below a roster that is longer than --rows.
MIN_SPARE_ROWS = 20
TABLE_HEADER_ROW = 15
#: GRAPE weights have 6 decimals: formulas that must round them exactly work in millionths.
MICRO = 1_000_000
SCORING = "Scoring"
MEMBERS = "Members"
GUIDE = "Guide"


def template_id(template: str) -> str:
    return f"grape-{template}"


@dataclass(frozen=True)
class Month:
    """Everything a monthly workbook shows: the inputs, and (derived) the engine's allocation."""

    template: str = "expanded"
    month: str = ""
    criteria: Criteria = FOUR_CRITERIA
    levels: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    budget: Decimal | None = None
    options: Options = field(default_factory=Options)
    rows: tuple[ScoredRow, ...] = ()
    capacity: int = DEFAULT_ROWS
    #: where each table row's member is in ``rows`` (None: a blank row). Default: rows first, in
    #: order; a workbook read back may have blank rows between members.
    slots: tuple[int | None, ...] | None = None

    def row_at(self, i: int) -> int | None:
        """The index in ``rows`` of the member in table row i, or None for a blank row."""
        if self.slots is not None:
            return self.slots[i] if i < len(self.slots) else None
        return i if i < len(self.rows) else None

    @property
    def table_rows(self) -> int:
        """--rows when the roster fits in it; else the roster plus MIN_SPARE_ROWS spare rows."""
        return self.capacity if len(self.rows) <= self.capacity else len(self.rows) + MIN_SPARE_ROWS

    @cached_property
    def allocation(self) -> Allocation:
        budget = self.budget if self.budget is not None else Decimal(0)
        if not self.rows:
            return empty_allocation(budget, self.options)
        return allocate(budget, [r.role_row() for r in self.rows], self.options)

    @cached_property
    def summary(self) -> list[MemberSummary]:
        return summarize(self.allocation) if self.rows else []

    @cached_property
    def first_rows(self) -> list[bool]:
        """Per member row: is it the member's first row (names compared as Excel's = does)?"""
        seen: set[str] = set()
        out = []
        for r in self.rows:
            key = r.member.casefold()
            out.append(key not in seen)
            seen.add(key)
        return out

    @cached_property
    def member_numbers(self) -> list[int | str]:
        """Per member row: 1, 2, ... at each member's first row, blank at their other rows."""
        out: list[int | str] = []
        count = 0
        for first in self.first_rows:
            count += first
            out.append(count if first else "")
        return out

    @cached_property
    def sorted_totals(self) -> list[Decimal]:
        return sorted(m.total for m in self.allocation.members)

    def rank(self, k: int) -> int:
        """1 + how many role rows have a larger total (ties share a rank), as COUNTIF does."""
        total = self.allocation.members[k].total
        return len(self.sorted_totals) - bisect.bisect_right(self.sorted_totals, total) + 1


def next_month(today: date | None = None) -> str:
    today = today or date.today()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year:04d}-{month:02d}"


# ---------------------------------------------------------------------------------------------
# Value helpers: what each computed cell shows, from the engine. ``m`` is a Month, ``i`` a row.


def _member(attr: str):
    """The value of a member table column: an engine figure of the row's member, or blank."""

    def value(m: Month, i: int) -> Any:
        k = m.row_at(i)
        return "" if k is None else getattr(m.allocation.members[k], attr)

    return value


def _row(fn):
    """``fn(month, k)`` for the member k in table row i, blank for a blank row."""

    def value(m: Month, i: int) -> Any:
        k = m.row_at(i)
        return "" if k is None else fn(m, k)

    return value


def _figure(attr: str):
    return lambda m: getattr(m.allocation, attr)


BLANK = '""'
MEMBER_BLANK = '{member}=""'


def _guard(expr: str) -> str:
    """Spare rows stay blank until a name is typed: every row formula starts with this test."""
    return f"=IF({MEMBER_BLANK},{BLANK},{expr})"


# ---------------------------------------------------------------------------------------------
# The parameter block, shared by Compact and Expanded. E3 and E7 are where the original has them.


def _parameter_block(template: str) -> tuple[Param, ...]:
    excess_pool = (
        "=Budget-SUM(Bases)-SUM(BonusesBeforeCap)"
        if template == "expanded"
        else '=BonusPool-IF(BonusOn,BonusPool*SUMIF(Weights,">"&Threshold)/Divisor,0)'
    )
    return (
        Param("Budget", "Budget (tokens)", "E2", "input", "amount", lambda m: m.budget,
              help="The month's token budget, a number >= 0.",
              validation=Validation("decimal", minimum=0, blank_ok=False)),
        Param("ThresholdOverride", "Bonus threshold override", "E3", "override", "weight",
              lambda m: m.options.threshold,
              help="Optional. Blank: the threshold is the average GRAPE weight (E7). "
                   "Type 0% to 100% to override it.",
              validation=Validation("decimal", minimum=0, maximum=1)),
        Param("MinDivisor", "Minimum bonus divisor", "E4", "input", "count", lambda m: m.options.min_divisor,
              help="Bonus and excess are never shared in fewer parts than this (default 3).",
              validation=Validation("whole", minimum=1, blank_ok=False)),
        Param("BonusOn", "Bonus tier on", "E5", "input", "flag", lambda m: m.options.bonus,
              help="TRUE: members above the threshold share the bonus pool.",
              validation=Validation("list", source=("TRUE", "FALSE"), blank_ok=False)),
        Param("ExcessOn", "Excess tier on", "E6", "input", "flag", lambda m: m.options.excess,
              help="TRUE: members above the threshold share what the bonus left.",
              validation=Validation("list", source=("TRUE", "FALSE"), blank_ok=False)),
        Param("AverageWeight", "Average GRAPE weight", "E7", "computed", "weight", _figure("average_weight"),
              # in whole millionths, so an exact half at the 7th decimal rounds up in every engine
              formula=f'=IF(Performers=0,0,ROUND(ROUND(SUMIF(Weights,">0")*{MICRO},0)/Performers,0)/{MICRO})',
              help="Mean weight of the members above 0%, rounded to 6 decimals."),
        Param("CapRule", "Dynamic cap rule", "E8", "input", "text", lambda m: m.options.cap_rule,
              help="scale (the original), at-base (excess cut to base) or off.",
              validation=Validation("list", source=CAP_RULES, blank_ok=False)),
        Param("Decimals", "Decimals of totals", "E9", "input", "count", lambda m: m.options.decimals,
              help=f"Totals are rounded down to this many decimals (0 to {MAX_DECIMALS}).",
              validation=Validation("whole", minimum=0, maximum=MAX_DECIMALS, blank_ok=False)),
        Param("RoleHolders", "Role holders (N)", "H2", "computed", "count", _figure("role_holders"),
              formula="=SUMPRODUCT(1*(LEN(MemberNames)>0))"),
        Param("Performers", "Performers (above 0%)", "H3", "computed", "count", _figure("performers"),
              formula='=COUNTIF(Weights,">0")'),
        Param("BaseAllotted", "Base allotted (Budget / N)", "H4", "computed", "amount", _figure("base_allotted"),
              formula="=IF(RoleHolders=0,0,Budget/RoleHolders)"),
        Param("Threshold", "Bonus threshold in use", "H5", "computed", "weight", _figure("threshold"),
              formula="=IF(ISBLANK(ThresholdOverride),AverageWeight,ThresholdOverride)"),
        Param("EligibleCount", "Bonus eligible", "H6", "computed", "count", _figure("bonus_eligible"),
              formula='=COUNTIF(Weights,">"&Threshold)'),
        Param("Divisor", "Bonus divisor", "H7", "computed", "count", _figure("bonus_divisor"),
              formula="=MAX(MinDivisor,EligibleCount)"),
        Param("BonusPool", "Bonus pool", "H8", "computed", "amount", _figure("bonus_pool"),
              formula="=Budget-SUM(Bases)"),
        Param("ExcessPool", "Excess pool", "H9", "computed", "amount", _figure("excess_pool"), formula=excess_pool),
        Param("CapEngaged", "Dynamic cap engaged", "H10", "computed", "flag", _figure("cap_engaged"),
              formula='=AND(EligibleCount>0,ExcessOn,CapRule<>"off",ExcessPool/Divisor>BaseAllotted)'),
        Param("CapRatio", "Cap ratio", "H11", "computed", "ratio", _figure("cap_ratio"),
              formula='=IF(CapEngaged,IF(CapRule="scale",ExcessPool/Budget,BaseAllotted*Divisor/ExcessPool),1)'),
        Param("TotalAllocated", "Total allocated", "H12", "computed", "amount", _figure("total_allocated"),
              formula="=SUM(Totals)", spread=lambda m: len(m.rows)),
        Param("Returned", "Returned to treasury", "H13", "computed", "amount", _figure("returned_to_treasury"),
              formula="=Budget-TotalAllocated", spread=lambda m: len(m.rows)),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Member tables.

#: AND(...) over row values is written as nested IFs: the same in every engine, and element by
#: element, so a checker can evaluate a whole column at once (AND aggregates arrays).
_ELIGIBLE = "IF({weight}>0,{weight}>Threshold,FALSE)"


def _mirror_columns() -> tuple[Column, ...]:
    """No., member, role and weight: the Scoring row numbered No., looked up by position.

    INDEX by a row number (not a direct reference such as Scoring!$A20) keeps the table right when
    rows are inserted, deleted or sorted on either sheet: Excel would shift or #REF! a direct one.
    """
    return (
        Column("no", "No.", "label", "count", lambda m, i: i + 1, width=6, name="RowNumbers"),
        Column("member", "Member", "computed", "text", _row(lambda m, k: m.rows[k].member), name="MemberNames",
               formula='=IFERROR(IF(INDEX(ScoredMembers,{no})="","",INDEX(ScoredMembers,{no})),"")', width=24),
        Column("role", "Skill Role", "computed", "text", _row(lambda m, k: m.rows[k].role or UNASSIGNED),
               formula=_guard(f'IF(INDEX(ScoredRoles,{{no}})="","{UNASSIGNED}",INDEX(ScoredRoles,{{no}}))'), width=18),
        Column("weight", "GRAPE weight", "computed", "weight", _member("grape_weight"), name="Weights",
               formula=_guard("INDEX(GrapeWeights,{no})")),
    )  # fmt: skip


def _tail_columns() -> tuple[Column, ...]:
    return (
        Column("total", "Total", "computed", "amount", _member("total"), name="Totals", width=15,
               formula=_guard("ROUNDDOWN({base}+{bonus}+{excess},Decimals)")),
        Column("share", "Share of budget", "computed", "percent",
               _row(lambda m, k: m.allocation.members[k].total / m.budget if m.budget else Decimal(0)),
               formula=_guard("IF(Budget=0,0,{total}/Budget)")),
    )  # fmt: skip


def _compact_columns() -> tuple[Column, ...]:
    bonus = (
        f'IF(BonusOn,IF({_ELIGIBLE},{{weight}}*BonusPool/Divisor*IF(AND(CapEngaged,CapRule="scale"),CapRatio,1),0),0)'
    )
    excess = f"IF(ExcessOn,IF({_ELIGIBLE},{{weight}}*ExcessPool/Divisor*CapRatio,0),0)"
    return (
        *_mirror_columns(),
        Column("base", "Base", "computed", "amount", _member("base"), name="Bases",
               formula=_guard("{weight}*BaseAllotted"), width=15),
        Column("bonus", "Bonus", "computed", "amount", _member("bonus"), name="Bonuses",
               formula=_guard(bonus), width=15),
        Column("excess", "Excess", "computed", "amount", _member("excess"), name="Excesses",
               formula=_guard(excess), width=15),
        *_tail_columns(),
    )  # fmt: skip


def _expanded_columns() -> tuple[Column, ...]:
    return (
        *_mirror_columns(),
        Column("performer", "Performer", "computed", "flag", _member("performer"),
               formula=_guard("{weight}>0")),
        Column("eligible", "Bonus eligible", "computed", "flag", _member("bonus_eligible"),
               formula=_guard(_ELIGIBLE)),
        Column("base_allotted", "Base allotted", "computed", "amount", _row(lambda m, k: m.allocation.base_allotted),
               formula=_guard("BaseAllotted"), width=15),
        Column("base", "Base allocated", "computed", "amount", _member("base"), name="Bases",
               formula=_guard("{weight}*BaseAllotted"), width=15),
        Column("bonus_before_cap", "Bonus allotted", "computed", "amount", _member("bonus_before_cap"),
               name="BonusesBeforeCap", formula=_guard("IF(BonusOn,IF({eligible},{weight}*BonusPool/Divisor,0),0)"),
               width=15),
        Column("excess_before_cap", "Excess allotted", "computed", "amount", _member("excess_before_cap"),
               name="ExcessesBeforeCap", formula=_guard("IF(ExcessOn,IF({eligible},{weight}*ExcessPool/Divisor,0),0)"),
               width=15),
        Column("cap_ratio", "Cap ratio applied", "computed", "ratio",
               _row(lambda m, k: m.allocation.cap_ratio if m.allocation.members[k].bonus_eligible else Decimal(1)),
               formula=_guard("IF(CapEngaged,IF({eligible},CapRatio,1),1)")),
        Column("bonus", "Bonus allocated", "computed", "amount", _member("bonus"), name="Bonuses",
               formula=_guard('{bonus_before_cap}*IF(CapRule="scale",{cap_ratio},1)'), width=15),
        Column("excess", "Excess allocated", "computed", "amount", _member("excess"), name="Excesses",
               formula=_guard("{excess_before_cap}*{cap_ratio}"), width=15),
        *_tail_columns(),
        Column("rank", "Rank", "computed", "count", _row(lambda m, k: m.rank(k)),
               formula=_guard('COUNTIF(Totals,">"&{total})+1'), width=8),
    )  # fmt: skip


def _member_number_columns() -> tuple[Column, ...]:
    """Helpers for the Members sheet: each member's first row, and members numbered 1, 2, ...

    Only whole named columns are used, ordered by No. (never a range growing row by row, such as
    $A$16:$A21: the `formulas` package builds each such range on its own, which made a
    1,000-member workbook take minutes to evaluate; and never one ending at the row above, which
    an inserted row falls outside of).
    """
    return (
        Column("first", "First row of member", "computed", "flag", _row(lambda m, k: m.first_rows[k]), width=11,
               name="FirstRows", formula=_guard("SUMPRODUCT(1*(MemberNames={member})*(RowNumbers<{no}))=0")),
        Column("member_no", "Member no.", "computed", "count", _row(lambda m, k: m.member_numbers[k]), width=11,
               name="MemberNumbers",
               formula=_guard('IF({first},SUMPRODUCT(1*(FirstRows=TRUE)*(RowNumbers<={no})),"")')),
    )  # fmt: skip


def allocation_sheet(template: str, rows: int) -> Sheet:
    columns = (*(_compact_columns() if template == "compact" else _expanded_columns()), *_member_number_columns())
    table = Table(TABLE_HEADER_ROW, rows, columns)
    title = "GRAPE emissions: compact" if template == "compact" else "GRAPE emissions: expanded (every step)"
    anchor = f"{col_letter(table.last_col + 2)}2"
    return Sheet(
        name=template.capitalize(),
        params=_parameter_block(template),
        table=table,
        notes=(
            Note("A1", title, "title"),
            Note("A2", "Yellow: required input. Purple: optional override. No fill: computed.", "text"),
            Note(f"A{TABLE_HEADER_ROW - 1}", "Row No. n shows the n-th row of the Scoring sheet.", "text"),
        ),
        conditionals=(
            Conditional(tuple(c.key for c in columns), f"=AND(ISNUMBER({{weight}}),{_ELIGIBLE})", "eligible"),
            Conditional(("bonus", "excess"), f"=AND(CapEngaged,ISNUMBER({{weight}}),{_ELIGIBLE})", "cap"),
        ),
        param_conditionals=(ParamConditional("CapEngaged", "=CapEngaged", "cap"),),
        # the rows holding members when written: a hundred empty slots would crush the bars
        chart=Chart("Total per member", "member", "total", anchor, shown=lambda m: len(m.rows) or m.table_rows),
        freeze=f"C{TABLE_HEADER_ROW + 1}",
    )


def _score_value(c: int):
    def value(m: Month, i: int) -> Any:
        k = m.row_at(i)
        return None if k is None else m.rows[k].scores[c]

    return value


def scoring_sheet(criteria: Criteria, rows: int) -> Sheet:
    """The Scoring Grid: levels (A3:B7), criteria (D3:E...), then the member score table."""
    k = len(criteria.items)
    header_row = max(TABLE_HEADER_ROW, 6 + k)
    level_params = tuple(
        Param(f"Level{n}", name, f"B{4 + n}", "input", "weight",
              (lambda nm: lambda m: m.levels[nm])(name), help=f"The score that {name} stands for.",
              validation=Validation("decimal", minimum=0, maximum=1, blank_ok=False))
        for n, name in enumerate(DEFAULT_LEVELS)
    )  # fmt: skip
    weight_params = tuple(
        Param(f"CriterionWeight{n + 1}", c.name, f"E{4 + n}", "input", "general",
              (lambda w: lambda m: w)(c.weight), help="Weight of this criterion (>= 0; weights are normalised).",
              validation=Validation("decimal", minimum=0, blank_ok=False))
        for n, c in enumerate(criteria.items)
    )  # fmt: skip
    # Scores in whole millionths: ROUND(score*10^6,0) is an exact integer, so a weighted mean that
    # lies exactly half-way at the 7th decimal is seen as such by every engine (in plain floats it
    # can land a hair below, and the `formulas` package then rounds down where Excel rounds up).
    terms = "+".join(
        f"ROUND(IF(ISNUMBER({{s{n}}}),{{s{n}}},IF(LEN({{s{n}}})=0,0,VLOOKUP({{s{n}}},LevelTable,2,FALSE)))*{MICRO},0)"
        f"*CriterionWeight{n + 1}"
        for n in range(k)
    )
    level_list = tuple(DEFAULT_LEVELS)
    score_columns = tuple(
        Column(f"s{n}", c.name, "input", "weight", _score_value(n), width=14,
               help="A percentage (80%) or a level from the list (LEVEL 0 to LEVEL 3).",
               validation=Validation("list", source=level_list, strict=False))
        for n, c in enumerate(criteria.items)
    )  # fmt: skip
    columns = (
        Column("member", "Member", "input", "text", _row(lambda m, k: m.rows[k].member), name="ScoredMembers",
               help="The member's name. Type it in a blank row to add a member.", width=24),
        Column("role", "Skill Role", "input", "text", _row(lambda m, k: m.rows[k].role), name="ScoredRoles",
               help="The Skill Role held; blank means Unassigned. A member with two roles has two rows.", width=18),
        *score_columns,
        Column("weight", "GRAPE weight", "computed", "weight", _member("grape_weight"), name="GrapeWeights",
               formula=_guard(f"ROUND(({terms})/SUM(CriteriaWeights),0)/{MICRO}"), width=14),
    )  # fmt: skip
    table = Table(header_row, rows, columns)
    bad_score = tuple(
        Conditional((f"s{n}",), f"=AND(ISNUMBER({{s{n}}}),OR({{s{n}}}<0,{{s{n}}}>1))", "bad") for n in range(k)
    )
    return Sheet(
        name=SCORING,
        params=level_params + weight_params,
        table=table,
        notes=(
            Note("A1", "GRAPE WEIGHT SCORE - Skill Role Scoring Grid", "title"),
            Note("A3", "Level", "heading"),
            Note("B3", "Score", "heading"),
            Note("D3", "Criterion", "heading"),
            Note("E3", "Weight", "heading"),
            Note(
                f"A{header_row - 1}",
                "One row per member and role. GRAPE weight = ROUND(weighted mean of scores, 6).",
                "text",
            ),
        ),
        conditionals=bad_score,
        ranges=(("LevelTable", "A4:B7"), ("CriteriaWeights", f"E4:E{3 + k}")),
        freeze=f"B{header_row + 1}",
        label_width=14,
    )


def _summary_rows(m: Month, i: int) -> int:
    """A member's total adds up one rounded total per role row."""
    return m.summary[i].role_rows if i < len(m.summary) else 1


def members_sheet(rows: int, allocation_name: str) -> Sheet:
    columns = (
        Column("no", "No.", "label", "count", lambda m, i: i + 1, width=6),
        Column("member", "Member", "computed", "text",
               lambda m, i: m.summary[i].member if i < len(m.summary) else "",
               formula='=IFERROR(INDEX(MemberNames,MATCH({no},MemberNumbers,0)),"")', width=24),
        Column("role_rows", "Role rows", "computed", "count",
               lambda m, i: m.summary[i].role_rows if i < len(m.summary) else "",
               formula=_guard("SUMPRODUCT(1*(MemberNames={member}))"), width=10),
        Column("total", "Total", "computed", "amount",
               lambda m, i: m.summary[i].total if i < len(m.summary) else "",
               formula=_guard("SUMPRODUCT(1*(MemberNames={member}),Totals)"), width=16, name="MemberTotals",
               spread=_summary_rows),
        Column("share", "Share of budget", "computed", "percent",
               lambda m, i: (m.summary[i].total / m.budget if m.budget else Decimal(0)) if i < len(m.summary) else "",
               formula=_guard("IF(Budget=0,0,{total}/Budget)"), width=14, spread=_summary_rows),
    )  # fmt: skip
    return Sheet(
        name=MEMBERS,
        table=Table(4, rows, columns),
        notes=(
            Note("A1", "Members: totals over all role rows", "title"),
            Note("A2", f"Sums each member's totals on the {allocation_name} sheet over every role they hold.", "text"),
        ),
        chart=Chart(
            "Total per member (all roles)", "member", "total", "G2", shown=lambda m: len(m.summary) or m.table_rows
        ),
        freeze="A5",
    )


def guide_sheet(month: Month, allocation_name: str) -> Sheet:
    lines = [
        Note("A1", "katsheet monthly workbook: guide", "title"),
        Note("A3", "Colours", "heading"),
        Note("A4", "Required input", "legend-input"),
        Note("A5", "Optional override (leave blank for the default)", "legend-override"),
        Note("A6", "Computed: locked, do not type here", "legend-computed"),
        Note("A7", "Bonus-eligible row (above the threshold)", "legend-eligible"),
        Note("A8", "Dynamic cap engaged: bonus and excess were cut", "legend-cap"),
        Note("A10", "The monthly cycle", "heading"),
        Note("A11", "1. Scoring sheet: one row per member and role; score each criterion (80% or LEVEL 0-3)."),
        Note("A12", f"2. {allocation_name} sheet: type the budget (E2); set the options if the DAO uses others."),
        Note("A13", "3. Optional: type a bonus threshold in E3 to override the average (E7)."),
        Note("A14", "4. Read the totals, the chart and the Members sheet; the returned amount goes back."),
        Note("A15", "5. Before tokens move: katsheet check this-file.xlsx"),
        Note("A17", "This file", "heading"),
        Note("A18", "Template"),
        Note("B18", template_id(month.template)),
        Note("A19", "Layout version"),
        Note("B19", str(LAYOUT_VERSION)),
        Note("A20", "Month"),
        Note("B20", month.month or "(not set)"),
        Note("A21", "Generated by"),
        Note("B21", f"katsheet {__version__}"),
        Note("A22", "Criteria"),
        Note("B22", ", ".join(f"{c.name} {c.weight}" for c in month.criteria.items)),
    ]
    return Sheet(name=GUIDE, notes=tuple(lines), label_width=60)


def grape_layout(month: Month) -> WorkbookLayout:
    """The whole workbook for one month (or a blank template when ``month.rows`` is empty)."""
    if month.template not in TEMPLATES:
        raise ValueError(f"unknown template {month.template!r}")
    rows = month.table_rows
    allocation = allocation_sheet(month.template, rows)
    return WorkbookLayout(
        template=template_id(month.template),
        version=LAYOUT_VERSION,
        sheets=(
            guide_sheet(month, allocation.name),
            scoring_sheet(month.criteria, rows),
            allocation,
            members_sheet(rows, allocation.name),
        ),
        constants={
            "KatsheetTemplate": template_id(month.template),
            "KatsheetLayoutVersion": str(LAYOUT_VERSION),
            "KatsheetMonth": month.month,
            "KatsheetVersion": __version__,
        },
    )
