"""The GRAPE workbook templates (workbook.md): Guide, Scoring, Compact or Expanded, Members.

Every cell address and formula of the GRAPE templates is written here, once. Each computed cell
also names the engine figure it must show, which is both its cached value when we write the file
and what the checker expects when it reads one back.

- Scoring: the "GRAPE WEIGHT SCORE - Skill Role Scoring Grid": levels table, criteria table, and
  one row per member and role with a score per criterion and the GRAPE weight formula. Members
  are typed here, once.
- Compact / Expanded: the parameter block (E3 the threshold override, E7 the average weight, every
  option a named cell) and the member table, which follows the Scoring rows index by index.
- Members: each member's totals over all role rows (of every SubDAO in the workbook).
- Guide: colours, the monthly cycle, and what made the file.

A workbook holds one SubDAO, or several: each SubDAO has its own Scoring and allocation sheet,
whose defined names carry a suffix (Budget, Budget_2, ...), and the Members sheet sums them all.

How the formulas compute (docs/decisions.md, "Spreadsheet arithmetic"): totals are whole numbers
of units (10^-Decimals), ROUND(amount x UnitsPerToken x Nudge + 0.5, 0) - 1, which every engine
evaluates alike (ROUNDDOWN and INT do not: LibreOffice rounds them to 12 to 15 digits); pools come
from sums of weights in whole millionths; sums of totals are sums of units.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from .. import __version__
from ..engine import DEFAULT_LEVELS, FOUR_CRITERIA, Allocation, Criteria, InputError, Options, allocate
from ..engine.grape.allocation import CAP_RULES, MAX_DECIMALS, NUDGE_BITS, empty_allocation
from ..engine.grape.pools import Asset, asset_cap_units, cap_members, check_assets, check_max_share
from ..engine.grape.roster import UNASSIGNED, ScoredRow
from ..engine.limits import MAX_MIN_DIVISOR
from ..engine.names import excel_trim, member_key
from ..engine.numbers import exact_sum, from_units, to_units
from .model import (
    Chart,
    Column,
    Conditional,
    Note,
    Param,
    ParamConditional,
    ParamValue,
    Printing,
    Sheet,
    Table,
    Validation,
    WorkbookLayout,
    col_letter,
    escaped,
    foreign,
    scope_names,
)
from .settled import Stamp, settled_layout

TEMPLATES = ("compact", "expanded")
#: the asset a month's budget is in, unless --asset names it
DEFAULT_ASSET = "GRAPE"
#: Bumped whenever a cell address or formula of these templates changes: the checker reads it.
LAYOUT_VERSION = 4  # 4: wallets and Discord ids (Scoring inputs, Members lookups); 3: totals in whole units, pools from weight sums, MATCH/SUMIF member numbering
DEFAULT_ROWS = 100
#: Spare rows kept below a roster that is longer than --rows.
MIN_SPARE_ROWS = 20
TABLE_HEADER_ROW = 15
#: GRAPE weights have 6 decimals: formulas that must round them exactly work in millionths.
MICRO = 1_000_000
#: Criterion weights have at most 3 decimals: the weight formula works in thousandths of them.
MILLI = 1_000
SCORING = "Scoring"
MEMBERS = "Members"
GUIDE = "Guide"
#: the Guide's first line of criteria (one per SubDAO), then katsheet next's budget origins, then a
#: blank line, the approval heading and ApprovedBy (so ApprovedBy's row tells where they end)
GUIDE_CRITERIA_ROW = 26


def origin_cells(parts: int, approved_by_row: int) -> list[str]:
    """The Guide cells holding where each budget came from (``Book.origin``), as the layout puts them."""
    return [f"A{r}" for r in range(GUIDE_CRITERIA_ROW + parts, approved_by_row - 2)]


#: A SubDAO's name becomes part of its sheets' names (Excel allows 31 characters).
SUBDAO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._&-]{0,19}")
AMOUNT_WIDTH = 19  # 9,999,999,999,999.00: the largest amount a workbook holds (10^13 units)
UNITS_WIDTH = 16


#: A member's identity on the Scoring sheet (typed once per member is enough) and on the Members
#: sheet: (key, header, defined-name stem, width, help, the check's chain in cycle/wallets.py).
IDENTITY = (
    ("wallet", "Wallet (Solana)", "Wallets", 46,
     "The member's Solana address (base58), where katsheet settle pays them; once per member is enough.", "solana"),
    ("discord_id", "Discord ID", "DiscordIds", 20, "The member's Discord id (17 to 20 digits), typed as text.",
     "discord"),
)  # fmt: skip


def template_id(template: str) -> str:
    return f"grape-{template}"


def check_subdao_name(name: str, *, where: str) -> str:
    """A SubDAO name that can be part of a sheet name: letters, digits, space . _ & -, up to 20."""
    if not SUBDAO_NAME.fullmatch(name) or name != name.strip():
        raise InputError(
            "a SubDAO name is 1 to 20 letters, digits, spaces or . _ & - (it names the SubDAO's sheets)",
            where=where,
            value=name,
        )
    return name


class TableRows:
    """A month's table of members: ``rows`` typed, room for ``capacity``, and ``slots`` (where each
    table row's member is in ``rows``, None for a blank row; default: rows first, in order)."""

    rows: tuple[Any, ...]
    capacity: int
    slots: tuple[int | None, ...] | None

    def row_at(self, i: int) -> int | None:
        """The index in ``rows`` of the member in table row i, or None for a blank row."""
        if self.slots is not None:
            return self.slots[i] if i < len(self.slots) else None
        return i if i < len(self.rows) else None

    @property
    def table_rows(self) -> int:
        """--rows when the roster fits in it; else the roster plus MIN_SPARE_ROWS spare rows."""
        return self.capacity if len(self.rows) <= self.capacity else len(self.rows) + MIN_SPARE_ROWS


@dataclass(frozen=True)
class Month(TableRows):
    """One SubDAO's month: the inputs, and (derived) the engine's allocation."""

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
    #: the SubDAO's name ("" when the workbook holds one SubDAO)
    subdao: str = ""
    #: the allocation table's rows as the sheet shows them: row i shows table index order[i]
    #: (None: in order). A sorted sheet numbers its members in the order it shows them.
    order: tuple[int, ...] | None = None
    #: the budget before any carry-over (katsheet next adds carry-over % x returned to it)
    base_budget: Decimal | None = None

    @cached_property
    def allocation(self) -> Allocation:
        budget = self.budget if self.budget is not None else Decimal(0)
        if not self.rows:
            return empty_allocation(budget, self.options)
        return allocate(budget, [r.role_row() for r in self.rows], self.options)

    @cached_property
    def sorted_units(self) -> list[int]:
        return sorted(m.units for m in self.allocation.members)

    def rank(self, k: int) -> int:
        """1 + how many role rows have more units (ties share a rank), as COUNTIF does."""
        import bisect

        units = self.allocation.members[k].units
        return len(self.sorted_units) - bisect.bisect_right(self.sorted_units, units) + 1

    @cached_property
    def book(self) -> Book:
        """This month as a workbook of one SubDAO."""
        return Book((self,))


@dataclass(frozen=True)
class MemberLine:
    """One member of the Members sheet: the name as the sheet shows it, role rows, total."""

    member: str
    role_rows: int
    total: Decimal
    #: the wallet and Discord id typed on the member's first role row (blank if none)
    wallet: str = ""
    discord_id: str = ""
    #: with the cap and assets section (Book.cap_section): per asset, (units before the cap,
    #: units after it), the month's first asset first
    units: tuple[tuple[int, int], ...] = ()

    def paid(self, book: Book, k: int = 0) -> Decimal:
        """What the member is paid in asset k: after the cap when the book has one, else the total."""
        if not book.cap_section:
            return self.total
        return from_units(self.units[k][1], book.asset_list[k].decimals)


@dataclass
class PartNumbering:
    """Per table index of one SubDAO's allocation sheet: the Members-helper columns' values."""

    first_at: list[Any]
    first: list[Any]
    running: list[int]
    member_no: list[Any]
    prior: list[Any]


@dataclass(frozen=True)
class Book:
    """What one workbook holds: one or several SubDAO months, and the Members sheet over them."""

    parts: tuple[Month, ...]
    #: the signed-by-hand cells as typed (ApprovedBy, ApprovedOn); katsheet settle needs both
    approval: dict[str, Any] = field(default_factory=dict)
    #: set once the month is settled (layouts/settled.py)
    stamp: Stamp | None = None
    #: where the budgets came from, one line per SubDAO (katsheet next: base + carry-over)
    origin: tuple[str, ...] = ()
    #: the per-member cap and several assets (grape.md 6; a workbook of one SubDAO): the workbook
    #: carries their section; ``max_share`` None is no cap (its cell left blank)
    cap_section: bool = False
    max_share: Decimal | None = None
    #: the name of the asset the budget is in, and the assets paid beside it from the same scores
    main_asset: str = DEFAULT_ASSET
    assets: tuple[Asset, ...] = ()
    #: each further asset's budget before carry-over (katsheet next), None where it is the budget
    asset_bases: tuple[Decimal | None, ...] = ()

    def __post_init__(self) -> None:
        if not self.cap_section:
            return
        if len(self.parts) > 1:
            raise InputError("the per-member cap and several assets are for a workbook of one SubDAO: leave out "
                             "--max-reward and --asset, or --subdao", where="--subdao")  # fmt: skip
        check_max_share(self.max_share)
        check_assets(self.asset_list)
        if self.assets and self.parts[0].rows and not self.parts[0].budget:
            raise InputError(f"the month pays several assets in proportion to the {self.main_asset} budget: give it a "
                             "budget above 0", where="--asset", value=self.main_asset)  # fmt: skip

    @property
    def asset_list(self) -> tuple[Asset, ...]:
        """Every asset the month pays: the budget's first, then the others."""
        part = self.first
        return (Asset(self.main_asset, part.budget or Decimal(0), part.options.decimals), *self.assets)

    @cached_property
    def asset_allocations(self) -> tuple[Allocation, ...]:
        """Per asset, the same roster allocated with its budget and decimals (the first: the part's)."""
        part = self.first
        out = [part.allocation]
        for a in self.assets:
            options = dataclasses.replace(part.options, decimals=a.decimals)
            out.append(allocate(a.budget, [r.role_row() for r in part.rows], options) if part.rows
                       else empty_allocation(a.budget, options))  # fmt: skip
        return tuple(out)

    def paid_total(self, k: int = 0) -> Decimal:
        """What the month pays in asset k (after the per-member cap, when the book has one)."""
        return exact_sum(line.paid(self, k) for line in self.members)

    def returned(self, k: int) -> Decimal:
        """What asset k returns to the treasury after the per-member cap."""
        return self.asset_list[k].budget - self.paid_total(k)

    def cap_units(self, k: int) -> int:
        """Asset k's per-member cap in units (its whole budget without a cap)."""
        return asset_cap_units(self.asset_list[k], self.max_share)

    @property
    def first(self) -> Month:
        return self.parts[0]

    @property
    def template(self) -> str:
        return self.first.template

    @property
    def month(self) -> str:
        return self.first.month

    @property
    def total_budget(self) -> Decimal:
        return exact_sum(p.budget or Decimal(0) for p in self.parts)

    @property
    def member_rows(self) -> int:
        """Rows of the Members sheet: room for every role row of every SubDAO."""
        return sum(p.table_rows for p in self.parts)

    @cached_property
    def numbering(self) -> tuple[list[PartNumbering], list[MemberLine]]:
        """Member numbers as the sheets compute them: in the order the sheets show the rows,
        SubDAO after SubDAO, a member numbered at their first row (names compared as
        member_key does, which is what TRIM and MATCH do), and the Members sheet's lines."""
        numbers: dict[str, int] = {}
        lines: list[list[Any]] = []
        out: list[PartNumbering] = []
        running = 0
        for part in self.parts:
            n = part.table_rows
            order = part.order or tuple(range(n))
            num = PartNumbering([""] * n, [""] * n, [0] * n, [""] * n, [""] * n)
            seen_here: dict[str, int] = {}
            earlier_parts = dict(numbers)  # what a later SubDAO's "prior" column looks up
            for position, k in enumerate(order, start=1):
                r = part.row_at(k)
                if r is None:
                    num.running[k] = running
                    continue
                row, alloc = part.rows[r], part.allocation.members[r]
                key = member_key(row.member)
                earlier = earlier_parts.get(key)
                first_at = seen_here.setdefault(key, position)
                is_first = earlier is None and first_at == position
                if part is not self.parts[0]:
                    num.prior[k] = earlier if earlier is not None else ""
                num.first_at[k], num.first[k] = first_at, is_first
                if is_first:
                    running += 1
                    numbers[key] = running
                    lines.append([excel_trim(row.member), 0, Decimal(0), row.wallet, row.discord_id])
                num.running[k] = running
                number = numbers[key]
                num.member_no[k] = number
                line = lines[number - 1]
                line[1] += 1
                line[2] = exact_sum((alloc.total,), line[2])
            out.append(num)
        if self.cap_section:  # the engine's cap (cap_members), per asset, each member's units before and after
            capped = [{member_key(m.member): (to_units(m.before_cap, a.options.decimals), to_units(m.total,
                       a.options.decimals)) for m in cap_members(a, self.max_share)[0]} for a in self.asset_allocations]  # fmt: skip
            for line in lines:
                line.append(tuple(c[member_key(line[0])] for c in capped))
        return out, [MemberLine(*line) for line in lines]

    @property
    def members(self) -> list[MemberLine]:
        return self.numbering[1]


def as_book(month: Month | Book) -> Book:
    return month if isinstance(month, Book) else month.book


def next_month(today: date | None = None) -> str:
    today = today or date.today()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year:04d}-{month:02d}"


# ---------------------------------------------------------------------------------------------
# Value helpers: what each computed cell shows, from the engine. ``m`` is a Month, ``i`` a row.

Value = Callable[[Any, int], Any]


def _part(p: int, fn: Callable[[Month, int], Any]) -> Value:
    """A column value of SubDAO ``p``, given the Month or Book the writer or checker passes."""
    return lambda obj, i: fn(as_book(obj).parts[p], i)


def _member(attr: str) -> Callable[[Month, int], Any]:
    """The value of a member table column: an engine figure of the row's member, or blank."""

    def value(m: Month, i: int) -> Any:
        k = m.row_at(i)
        return "" if k is None else getattr(m.allocation.members[k], attr)

    return value


def _row(fn: Callable[[Month, int], Any]) -> Callable[[Month, int], Any]:
    """``fn(month, k)`` for the member k in table row i, blank for a blank row."""

    def value(m: Month, i: int) -> Any:
        k = m.row_at(i)
        return "" if k is None else fn(m, k)

    return value


def _numbering(p: int, attr: str) -> Value:
    return lambda obj, i: getattr(as_book(obj).numbering[0][p], attr)[i]


BLANK = '""'
MEMBER_BLANK = '{member}=""'


def _guard(expr: str) -> str:
    """Spare rows stay blank until a name is typed: every row formula starts with this test."""
    return f"=IF({MEMBER_BLANK},{BLANK},{expr})"


# ---------------------------------------------------------------------------------------------
# The parameter block, shared by Compact and Expanded. E3 and E7 are where the original has them.


def _parameter_block(template: str, p: int) -> tuple[Param, ...]:
    def fig(attr: str):
        return lambda obj: getattr(as_book(obj).parts[p].allocation, attr)

    def opt(attr: str):
        return lambda obj: getattr(as_book(obj).parts[p].options, attr)

    def month(fn):
        return lambda obj: fn(as_book(obj).parts[p])

    bonus_pool = f"=IF(RoleHolders=0,Budget,Budget*(RoleHolders*{MICRO}-WeightSum)/(RoleHolders*{MICRO}))"
    excess_pool = f"=IF(BonusOn,BonusPool*(Divisor*{MICRO}-EligibleWeightSum)/(Divisor*{MICRO}),BonusPool)"
    # excess_i > base_i for the eligible <=> (N*10^6 - sum w)(D*10^6 - sum w_E) > D^2 * 10^12 (with
    # bonus; without, N*10^6 - sum w > D*10^6): whole numbers, so an exact tie stays a tie
    cap_test = (
        f"IF(BonusOn,(RoleHolders*{MICRO}-WeightSum)*(Divisor*{MICRO}-EligibleWeightSum)>Divisor*Divisor*{MICRO}*{MICRO},"
        f"RoleHolders*{MICRO}-WeightSum>Divisor*{MICRO})"
    )
    return (
        Param("Budget", "Budget (tokens)", "E2", "input", "amount", month(lambda m: m.budget),
              help="The month's token budget, a number >= 0 with at most Decimals decimals.",
              validation=Validation("decimal", minimum=0, blank_ok=False)),
        Param("ThresholdOverride", "Bonus threshold override", "E3", "override", "weight", opt("threshold"),
              help="Optional. Blank: the threshold is the average GRAPE weight (E7). "
                   "Type 0% to 100% to override it.",
              validation=Validation("decimal", minimum=0, maximum=1)),
        Param("MinDivisor", "Minimum bonus divisor", "E4", "input", "count", opt("min_divisor"),
              help="Bonus and excess are never shared in fewer parts than this (default 3).",
              validation=Validation("whole", minimum=1, maximum=MAX_MIN_DIVISOR, blank_ok=False)),
        Param("BonusOn", "Bonus tier on", "E5", "input", "flag", opt("bonus"),
              help="TRUE: members above the threshold share the bonus pool.",
              validation=Validation("list", source=("TRUE", "FALSE"), blank_ok=False)),
        Param("ExcessOn", "Excess tier on", "E6", "input", "flag", opt("excess"),
              help="TRUE: members above the threshold share what the bonus left.",
              validation=Validation("list", source=("TRUE", "FALSE"), blank_ok=False)),
        Param("AverageWeight", "Average GRAPE weight", "E7", "computed", "weight", fig("average_weight"),
              # in whole millionths, so an exact half at the 7th decimal rounds up in every engine
              formula=f"=IF(Performers=0,0,ROUND(WeightSum/Performers,0)/{MICRO})",
              help="Mean weight of the members above 0%, rounded to 6 decimals."),
        Param("CapRule", "Dynamic cap rule", "E8", "input", "text", opt("cap_rule"),
              help="scale (the original), at-base (excess cut to base) or off.",
              validation=Validation("list", source=CAP_RULES, blank_ok=False)),
        Param("Decimals", "Decimals of totals", "E9", "input", "count", opt("decimals"),
              help=f"Totals are rounded down to this many decimals (0 to {MAX_DECIMALS}).",
              validation=Validation("whole", minimum=0, maximum=MAX_DECIMALS, blank_ok=False)),
        Param("UnitsPerToken", "Units per token (10^Decimals)", "E10", "computed", "count",
              month(lambda m: 10**m.options.decimals), formula="=10^Decimals"),
        Param("BudgetUnits", "Budget in units", "E11", "computed", "count",
              month(lambda m: to_units(m.allocation.budget, m.options.decimals)),
              formula="=ROUND(Budget*UnitsPerToken,0)"),
        Param("WeightSum", "Sum of weights, in millionths", "E12", "computed", "count",
              month(lambda m: sum(int(r.grape_weight * MICRO) for r in m.allocation.members)),
              formula=f'=ROUND(SUMIF(Weights,">0")*{MICRO},0)'),
        Param("EligibleWeightSum", "Sum of eligible weights, in millionths", "E13", "computed", "count",
              month(lambda m: sum(int(r.grape_weight * MICRO) for r in m.allocation.members if r.bonus_eligible)),
              formula=f'=ROUND(SUMIF(Weights,">"&Threshold)*{MICRO},0)'),
        Param("Nudge", f"Rounding guard (1 + 2^-{NUDGE_BITS})", "E14", "computed", "general",
              lambda obj: 1 + 2.0**-NUDGE_BITS, formula=f"=1+2^-{NUDGE_BITS}",
              help="Amounts are raised by 2^-47 of themselves before they are rounded down, so binary "
                   "noise never costs a whole unit (docs/decisions.md)."),
        Param("RoleHolders", "Role holders (N)", "H2", "computed", "count", fig("role_holders"),
              formula="=SUMPRODUCT(1*(LEN(MemberNames)>0))"),
        Param("Performers", "Performers (above 0%)", "H3", "computed", "count", fig("performers"),
              formula='=COUNTIF(Weights,">0")'),
        Param("BaseAllotted", "Base allotted (Budget / N)", "H4", "computed", "amount", fig("base_allotted"),
              formula="=IF(RoleHolders=0,0,Budget/RoleHolders)"),
        Param("Threshold", "Bonus threshold in use", "H5", "computed", "weight", fig("threshold"),
              formula="=IF(ISBLANK(ThresholdOverride),AverageWeight,ThresholdOverride)"),
        Param("EligibleCount", "Bonus eligible", "H6", "computed", "count", fig("bonus_eligible"),
              formula='=COUNTIF(Weights,">"&Threshold)'),
        Param("Divisor", "Bonus divisor", "H7", "computed", "count", fig("bonus_divisor"),
              formula="=MAX(MinDivisor,EligibleCount)"),
        Param("BonusPool", "Bonus pool", "H8", "computed", "amount", fig("bonus_pool"), formula=bonus_pool),
        Param("ExcessPool", "Excess pool", "H9", "computed", "amount", fig("excess_pool"), formula=excess_pool),
        Param("CapEngaged", "Dynamic cap engaged", "H10", "computed", "flag", fig("cap_engaged"),
              formula=f'=AND(EligibleCount>0,ExcessOn,CapRule<>"off",Budget>0,{cap_test})'),
        Param("CapRatio", "Cap ratio", "H11", "computed", "ratio", fig("cap_ratio"),
              formula='=IF(CapEngaged,IF(CapRule="scale",ExcessPool/Budget,BaseAllotted*Divisor/ExcessPool),1)'),
        Param("TotalAllocated", "Total allocated", "H12", "computed", "amount", fig("total_allocated"),
              formula="=SUM(TotalUnits)/UnitsPerToken"),
        Param("Returned", "Returned to treasury", "H13", "computed", "amount", fig("returned_to_treasury"),
              formula="=(BudgetUnits-SUM(TotalUnits))/UnitsPerToken"),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Member tables.

#: AND(...) over row values is written as nested IFs: the same in every engine, and element by
#: element, so a checker can evaluate a whole column at once (AND aggregates arrays).
_ELIGIBLE = "IF({weight}>0,{weight}>Threshold,FALSE)"


def _mirror_columns(p: int, scoring: str) -> tuple[Column, ...]:
    """No., member, role and weight: the Scoring row numbered No., looked up by position.

    INDEX by a row number (not a direct reference such as Scoring!$A20) keeps the table right when
    rows are inserted, deleted or sorted on either sheet: Excel would shift or #REF! a direct one.
    TRIM makes names compare as the rules compare them (spaces around and doubled do not count).
    """
    return (
        Column("no", "No.", "label", "count", lambda m, i: i + 1, width=6, name="RowNumbers"),
        Column("member", "Member", "computed", "text", _part(p, _row(lambda m, k: excel_trim(m.rows[k].member))),
               name="MemberNames",
               formula='=IFERROR(IF(INDEX(ScoredMembers,{no})="","",TRIM(INDEX(ScoredMembers,{no}))),"")', width=24),
        Column("role", "Skill Role", "computed", "text",
               _part(p, _row(lambda m, k: excel_trim(m.rows[k].role) or UNASSIGNED)),
               formula=_guard(f'IF(INDEX(ScoredRoles,{{no}})="","{UNASSIGNED}",TRIM(INDEX(ScoredRoles,{{no}})))'),
               width=18),
        Column("weight", "GRAPE weight", "computed", "weight", _part(p, _member("grape_weight")), name="Weights",
               formula=_guard("INDEX(GrapeWeights,{no})")),
    )  # fmt: skip


def _total_columns(p: int) -> tuple[Column, ...]:
    """Units, total and share: the total is a whole number of units, rounded down after the guard."""
    return (
        Column("units", "Total in units", "computed", "count", _part(p, _member("units")), name="TotalUnits",
               formula=_guard("ROUND(({base}+{bonus}+{excess})*UnitsPerToken*Nudge+0.5,0)-1"), width=UNITS_WIDTH,
               help="The total in units of the last decimal (10^-Decimals), rounded down."),
        Column("total", "Total", "computed", "amount", _part(p, _member("total")), name="Totals", width=AMOUNT_WIDTH,
               formula=_guard("{units}/UnitsPerToken")),
        Column("share", "Share of budget", "computed", "percent",
               _part(p, _row(lambda m, k: m.allocation.members[k].total / m.budget if m.budget else Decimal(0))),
               formula=_guard("IF(Budget=0,0,{total}/Budget)")),
    )  # fmt: skip


def _compact_columns(p: int, scoring: str) -> tuple[Column, ...]:
    bonus = (
        f'IF(BonusOn,IF({_ELIGIBLE},{{weight}}*BonusPool/Divisor*IF(AND(CapEngaged,CapRule="scale"),CapRatio,1),0),0)'
    )
    excess = f"IF(ExcessOn,IF({_ELIGIBLE},{{weight}}*ExcessPool/Divisor*CapRatio,0),0)"
    return (
        *_mirror_columns(p, scoring),
        Column("base", "Base", "computed", "amount", _part(p, _member("base")), name="Bases",
               formula=_guard("{weight}*BaseAllotted"), width=AMOUNT_WIDTH),
        Column("bonus", "Bonus", "computed", "amount", _part(p, _member("bonus")), name="Bonuses",
               formula=_guard(bonus), width=AMOUNT_WIDTH),
        Column("excess", "Excess", "computed", "amount", _part(p, _member("excess")), name="Excesses",
               formula=_guard(excess), width=AMOUNT_WIDTH),
        *_total_columns(p),
    )  # fmt: skip


def _expanded_columns(p: int, scoring: str) -> tuple[Column, ...]:
    return (
        *_mirror_columns(p, scoring),
        Column("performer", "Performer", "computed", "flag", _part(p, _member("performer")),
               formula=_guard("{weight}>0")),
        Column("eligible", "Bonus eligible", "computed", "flag", _part(p, _member("bonus_eligible")),
               formula=_guard(_ELIGIBLE)),
        Column("base_allotted", "Base allotted", "computed", "amount",
               _part(p, _row(lambda m, k: m.allocation.base_allotted)), formula=_guard("BaseAllotted"),
               width=AMOUNT_WIDTH),
        Column("base", "Base allocated", "computed", "amount", _part(p, _member("base")), name="Bases",
               formula=_guard("{weight}*BaseAllotted"), width=AMOUNT_WIDTH),
        Column("bonus_before_cap", "Bonus allotted", "computed", "amount", _part(p, _member("bonus_before_cap")),
               name="BonusesBeforeCap", formula=_guard("IF(BonusOn,IF({eligible},{weight}*BonusPool/Divisor,0),0)"),
               width=AMOUNT_WIDTH),
        Column("excess_before_cap", "Excess allotted", "computed", "amount", _part(p, _member("excess_before_cap")),
               name="ExcessesBeforeCap", formula=_guard("IF(ExcessOn,IF({eligible},{weight}*ExcessPool/Divisor,0),0)"),
               width=AMOUNT_WIDTH),
        Column("cap_ratio", "Cap ratio applied", "computed", "ratio",
               _part(p, _row(lambda m, k: m.allocation.cap_ratio if m.allocation.members[k].bonus_eligible
                             else Decimal(1))),
               formula=_guard("IF(CapEngaged,IF({eligible},CapRatio,1),1)")),
        Column("bonus", "Bonus allocated", "computed", "amount", _part(p, _member("bonus")), name="Bonuses",
               formula=_guard('{bonus_before_cap}*IF(CapRule="scale",{cap_ratio},1)'), width=AMOUNT_WIDTH),
        Column("excess", "Excess allocated", "computed", "amount", _part(p, _member("excess")), name="Excesses",
               formula=_guard("{excess_before_cap}*{cap_ratio}"), width=AMOUNT_WIDTH),
        *_total_columns(p),
        Column("rank", "Rank", "computed", "count", _part(p, _row(lambda m, k: m.rank(k))),
               formula=_guard('COUNTIF(TotalUnits,">"&{units})+1'), width=8),
    )  # fmt: skip


def _member_number_columns(p: int, earlier: tuple[str, ...]) -> tuple[Column, ...]:
    """Helpers for the Members sheet: where each member's first row is, and members numbered 1, 2, ...

    Each is a lookup or a running count (near-linear in every engine): MATCH finds the first row
    with the same name, a running count numbers the first rows, and INDEX gives every role row
    its member's number. A later SubDAO first looks the name up in the earlier SubDAOs' sheets
    (``earlier``: their name suffixes), so a member of two SubDAOs is one member.
    """
    start = f"MAX({foreign('MembersSoFar' + earlier[-1])})" if earlier else "0"
    prior = '""'
    for tail in reversed(earlier):
        nos, names = foreign("MemberNos" + tail), foreign("MemberNames" + tail)
        prior = f"IFERROR(INDEX({nos},MATCH({escaped('{member}')},{names},0)),{prior})"
    columns: list[Column] = []
    if earlier:
        columns.append(Column("prior", "Member no. in an earlier SubDAO", "computed", "count",
                              _numbering(p, "prior"), formula=_guard(prior), width=12))  # fmt: skip
    first = "INDEX(RowNumbers,{first_at})={no}"
    if earlier:
        first = f'IF({{prior}}="",{first},FALSE)'
    number = "INDEX(MembersSoFar,{first_at})"
    if earlier:
        number = f'IF({{prior}}<>"",{{prior}},{number})'
    columns += [
        Column("first_at", "First row of this name", "computed", "count", _numbering(p, "first_at"), width=11,
               name="FirstAt", formula=_guard(f"MATCH({escaped('{member}')},MemberNames,0)")),
        Column("first", "First row of member", "computed", "flag", _numbering(p, "first"), width=11,
               name="FirstRows", formula=_guard(first)),
        Column("running", "Members so far", "computed", "count", _numbering(p, "running"), width=11,
               name="MembersSoFar",
               formula=f"=IF(ISNUMBER({{running.above}}),{{running.above}},{start})+IF({{first}}=TRUE,1,0)"),
        Column("member_no", "Member no.", "computed", "count", _numbering(p, "member_no"), width=11,
               name="MemberNos", formula=_guard(number)),
    ]  # fmt: skip
    return tuple(columns)


def _print_rows(p: int) -> Value:
    """The rows with members when the file is written (a blank template prints its header only)."""
    return lambda obj: len(as_book(obj).parts[p].rows) or 1


# ---------------------------------------------------------------------------------------------
# The per-member cap and several assets (grape.md 6, both models; a workbook of one SubDAO): a
# grid right of the parameter block, a units column per further asset, and on the Members sheet
# each asset before and after the cap. Every tier is linear in the budget, so a role row's amount
# in another asset is its amount x that asset's budget / the budget, rounded down in its units.

SECTION_COLUMN = 9  # J
SECTION_HEADERS = ("Asset", "Budget", "Decimals", "Units per token", "Cap in units", "Paid after the cap",
                   "Returned after the cap")  # fmt: skip


def _asset_fig(k: int, fn: Callable[[Book, int], Any]) -> ParamValue:
    return lambda obj: fn(as_book(obj), k)


def _section_params(book: Book) -> tuple[Param, ...]:
    """Row 2: headers (notes); row 3: the budget's asset; then one row per further asset; then the cap."""
    col = [col_letter(SECTION_COLUMN + j) for j in range(len(SECTION_HEADERS))]
    params: list[Param] = []
    for k, asset in enumerate(book.asset_list):
        n, r = k + 1, 3 + k
        if k == 0:
            budget, decimals, units = "Budget", "Decimals", "UnitsPerToken"
            params += [
                Param("AssetName1", "Asset", f"{col[0]}{r}", "label", "text", _asset_fig(0, lambda b, k: b.main_asset),
                      labelled=False),
                Param("AssetBudget1", "Budget", f"{col[1]}{r}", "computed", "amount",
                      _asset_fig(0, lambda b, k: b.asset_list[0].budget), formula="=Budget", labelled=False),
                Param("AssetDecimals1", "Decimals", f"{col[2]}{r}", "computed", "count",
                      _asset_fig(0, lambda b, k: b.asset_list[0].decimals), formula="=Decimals", labelled=False),
            ]  # fmt: skip
        else:
            budget, decimals, units = f"AssetBudget{n}", f"AssetDecimals{n}", f"AssetUnitsPerToken{n}"
            params += [
                Param(f"AssetName{n}", "Asset", f"{col[0]}{r}", "label", "text",
                      _asset_fig(k, lambda b, k: b.asset_list[k].name), labelled=False),
                Param(budget, f"{asset.name} budget", f"{col[1]}{r}", "input", "amount",
                      _asset_fig(k, lambda b, k: b.asset_list[k].budget), labelled=False,
                      help="This asset's budget, shared in proportion to the first asset's (>= 0, at most its "
                           "Decimals decimals).", validation=Validation("decimal", minimum=0, blank_ok=False)),
                Param(decimals, f"{asset.name} decimals", f"{col[2]}{r}", "input", "count",
                      _asset_fig(k, lambda b, k: b.asset_list[k].decimals), labelled=False,
                      help=f"Totals in this asset are rounded down to this many decimals (0 to {MAX_DECIMALS}).",
                      validation=Validation("whole", minimum=0, maximum=MAX_DECIMALS, blank_ok=False)),
                Param(units, "Units per token", f"{col[3]}{r}", "computed", "count",
                      _asset_fig(k, lambda b, k: 10 ** b.asset_list[k].decimals), formula=f"=10^{decimals}",
                      labelled=False),
            ]  # fmt: skip
        budget_units = "BudgetUnits" if k == 0 else f"ROUND({budget}*{units},0)"
        params += [
            Param(f"AssetCapUnits{n}", "Cap in units", f"{col[4]}{r}", "computed", "count",
                  _asset_fig(k, lambda b, k: b.cap_units(k)), labelled=False,
                  formula=f"=IF(ISBLANK(MaxReward),{budget_units},ROUND({budget}*MaxReward*{units}*Nudge+0.5,0)-1)"),
            Param(f"AssetPaid{n}", "Paid after the cap", f"{col[5]}{r}", "computed", "amount",
                  _asset_fig(k, lambda b, k: b.paid_total(k)),
                  formula=f"=SUM(MemberUnits{n})/{units}", labelled=False, scale=_asset_scale(k)),
            Param(f"AssetReturned{n}", "Returned after the cap", f"{col[6]}{r}", "computed", "amount",
                  _asset_fig(k, lambda b, k: b.returned(k)),
                  formula=f"=({budget_units}-SUM(MemberUnits{n}))/{units}", labelled=False, scale=_asset_scale(k)),
        ]  # fmt: skip
    r = 3 + len(book.asset_list) + 1
    params.append(Param("MaxReward", "Max reward per member (blank: no cap)", f"{col[1]}{r}", "override", "percent",
                        lambda obj: as_book(obj).max_share, labelled=False,
                        help="Optional: the most one member receives over all their roles, as a share of each "
                             "asset's budget (GREMS Max Reward %).",
                        validation=Validation("decimal", minimum=0, maximum=1)))  # fmt: skip
    return tuple(params)


def _asset_scale(k: int) -> ParamValue:
    return lambda obj: (as_book(obj).asset_list[k].decimals, as_book(obj).asset_list[k].budget)


def _section_notes(book: Book) -> tuple[Note, ...]:
    r = 3 + len(book.asset_list) + 1
    return (
        *(Note(f"{col_letter(SECTION_COLUMN + j)}2", h, "heading") for j, h in enumerate(SECTION_HEADERS)),
        Note(f"{col_letter(SECTION_COLUMN)}{r}", "Max reward %", "heading"),
    )


def _asset_columns(book: Book) -> tuple[Column, ...]:
    def units(k: int) -> Value:
        def value(obj: Any, i: int) -> Any:
            b = as_book(obj)
            r = b.first.row_at(i)
            return "" if r is None else b.asset_allocations[k].members[r].units

        return value

    return tuple(
        Column(f"asset_units_{k + 1}", f"{a.name} in units", "computed", "count", units(k), name=f"AssetUnits{k + 1}",
               width=UNITS_WIDTH,
               formula=_guard(f"IF(Budget=0,0,ROUND(({{base}}+{{bonus}}+{{excess}})*AssetBudget{k + 1}/Budget"
                              f"*AssetUnitsPerToken{k + 1}*Nudge+0.5,0)-1)"))
        for k, a in enumerate(book.asset_list) if k > 0
    )  # fmt: skip


def _member_asset_columns(book: Book) -> tuple[Column, ...]:
    """Per asset: the member's units over their role rows, after the cap, the total, capped."""
    out: list[Column] = []
    for k, a in enumerate(book.asset_list):
        n = k + 1
        rows = "TotalUnits" if k == 0 else f"AssetUnits{n}"
        units = "UnitsPerToken" if k == 0 else f"AssetUnitsPerToken{n}"

        def line(fn: Callable[[Book, MemberLine, int], Any], k: int = k) -> Value:
            def value(obj: Any, i: int) -> Any:
                b = as_book(obj)
                return fn(b, b.members[i], k) if i < len(b.members) else ""

            return value

        out += [
            Column(f"before_units_{n}", f"{a.name} before the cap, units", "computed", "count",
                   line(lambda b, x, k: x.units[k][0]), width=UNITS_WIDTH,
                   formula=_guard(f"SUMIF(MemberNos,{{no}},{rows})")),
            Column(f"units_{n}", f"{a.name} after the cap, units", "computed", "count",
                   line(lambda b, x, k: x.units[k][1]), width=UNITS_WIDTH, name=f"MemberUnits{n}",
                   formula=_guard(f"IF({{before_units_{n}}}>AssetCapUnits{n},AssetCapUnits{n},{{before_units_{n}}})")),
            Column(f"paid_{n}", f"{a.name} paid", "computed", "amount", line(lambda b, x, k: x.paid(b, k)),
                   width=AMOUNT_WIDTH, name=f"MemberPaid{n}", formula=_guard(f"{{units_{n}}}/{units}"),
                   scale=_asset_scale(k)),
            Column(f"capped_{n}", f"{a.name} capped", "computed", "flag",
                   line(lambda b, x, k: x.units[k][1] < x.units[k][0]), width=10,
                   formula=_guard(f"{{units_{n}}}<{{before_units_{n}}}")),
        ]  # fmt: skip
    return tuple(out)


def allocation_sheet(template: str, rows: int, p: int, name: str, scoring: str, earlier: tuple[str, ...],
                     section: Book | None = None) -> Sheet:  # fmt: skip
    base = _compact_columns(p, scoring) if template == "compact" else _expanded_columns(p, scoring)
    extra = _asset_columns(section) if section is not None else ()
    columns = (*base, *extra, *_member_number_columns(p, earlier))
    table = Table(TABLE_HEADER_ROW, rows, columns)
    title = "GRAPE emissions: compact" if template == "compact" else "GRAPE emissions: expanded (every step)"
    shift = len(SECTION_HEADERS) + 1 if section is not None else 0
    anchor = f"{col_letter(max(table.last_col + 2, SECTION_COLUMN + shift))}2"
    helpers = table.index("first_at") - (1 if earlier else 0)
    return Sheet(
        name=name,
        params=_parameter_block(template, p) + (_section_params(section) if section is not None else ()),
        table=table,
        notes=(
            *(_section_notes(section) if section is not None else ()),
            Note("A1", title, "title"),
            Note("A2", "Yellow: required input. Purple: optional override. No fill: computed.", "text"),
            Note(f"A{TABLE_HEADER_ROW - 1}", "Row No. n shows the n-th row of the Scoring sheet.", "text"),
            Note(f"{col_letter(helpers)}{TABLE_HEADER_ROW - 1}", "Helpers for the Members sheet:", "text"),
        ),
        conditionals=(
            Conditional(tuple(c.key for c in base), f"=AND(ISNUMBER({{weight}}),{_ELIGIBLE})", "eligible"),
            Conditional(("bonus", "excess"), f"=AND(CapEngaged,ISNUMBER({{weight}}),{_ELIGIBLE})", "cap"),
        ),
        param_conditionals=(ParamConditional("CapEngaged", "=CapEngaged", "cap"),),
        # one bar per member (the Members sheet), not per role row
        chart=Chart("Total per member (all roles)", "member", "total", anchor, source=MEMBERS,
                    shown=lambda obj: len(as_book(obj).members) or 1),
        freeze=f"C{TABLE_HEADER_ROW + 1}",
        printing=Printing(pages_wide=1 if template == "compact" else 2, repeat_columns="A:B", rows=_print_rows(p)),
        part=p,
    )  # fmt: skip


def _score_value(p: int, c: int) -> Value:
    def value(m: Month, i: int) -> Any:
        k = m.row_at(i)
        return None if k is None else m.rows[k].scores[c]

    return _part(p, value)


def scoring_sheet(criteria: Criteria, rows: int, p: int, name: str) -> Sheet:
    """The Scoring Grid: levels (A3:B7), criteria (D3:E...), then the member score table."""
    k = len(criteria.items)
    header_row = max(TABLE_HEADER_ROW, 6 + k)
    level_params = tuple(
        Param(f"Level{n}", level, f"B{4 + n}", "input", "weight",
              (lambda nm: lambda obj: as_book(obj).parts[p].levels[nm])(level),
              help=f"The score that {level} stands for.",
              validation=Validation("decimal", minimum=0, maximum=1, blank_ok=False))
        for n, level in enumerate(DEFAULT_LEVELS)
    )  # fmt: skip
    weight_params = tuple(
        Param(f"CriterionWeight{n + 1}", c.name, f"E{4 + n}", "input", "general",
              (lambda i: lambda obj: as_book(obj).parts[p].criteria.items[i].weight)(n),
              help="Weight of this criterion: 0 to 1,000 with at most 3 decimals (weights are normalised).",
              validation=Validation("decimal", minimum=0, maximum=1000, blank_ok=False))
        for n, c in enumerate(criteria.items)
    )  # fmt: skip
    # Scores in whole millionths and criterion weights in whole thousandths: every product and
    # sum is a whole number a double holds exactly, so a weighted mean that lies exactly half-way
    # at the 7th decimal is seen as such by every engine and rounds up in each.
    terms = "+".join(
        f"ROUND(IF(ISNUMBER({{s{n}}}),{{s{n}}},IF(LEN({{s{n}}})=0,0,VLOOKUP({{s{n}}},LevelTable,2,FALSE)))*{MICRO},0)"
        f"*ROUND(CriterionWeight{n + 1}*{MILLI},0)"
        for n in range(k)
    )
    level_list = tuple(DEFAULT_LEVELS)
    score_columns = tuple(
        Column(f"s{n}", c.name, "input", "weight", _score_value(p, n), width=14,
               help="A percentage (80%) or a level from the list (LEVEL 0 to LEVEL 3).",
               validation=Validation("list", source=level_list, strict=False))
        for n, c in enumerate(criteria.items)
    )  # fmt: skip
    columns = (
        Column("member", "Member", "input", "text", _part(p, _row(lambda m, r: m.rows[r].member)),
               name="ScoredMembers",
               help="The member's name. Type it in a blank row to add a member.", width=24),
        Column("role", "Skill Role", "input", "text", _part(p, _row(lambda m, r: m.rows[r].role)), name="ScoredRoles",
               help="The Skill Role held; blank means Unassigned. A member with two roles has two rows.", width=18),
        *score_columns,
        Column("weight", "GRAPE weight", "computed", "weight", _part(p, _member("grape_weight")), name="GrapeWeights",
               formula=_guard(f"ROUND(({terms})/ROUND(SUM(CriteriaWeights)*{MILLI},0),0)/{MICRO}"), width=14),
        *(Column(key, header, "input", "text", _part(p, _row(lambda m, r, k=key: getattr(m.rows[r], k) or None)),
                 name=f"Scored{name}", width=width, help=text)
          for key, header, name, width, text, _ in IDENTITY),
    )  # fmt: skip
    table = Table(header_row, rows, columns)
    bad_score = tuple(
        Conditional((f"s{n}",), f"=AND(ISNUMBER({{s{n}}}),OR({{s{n}}}<0,{{s{n}}}>1))", "bad") for n in range(k)
    )
    return Sheet(
        name=name,
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
        printing=Printing(rows=_print_rows(p)),
        part=p,
    )


def _member_line(attr: str) -> Value:
    def value(obj: Any, i: int) -> Any:
        lines = as_book(obj).members
        return getattr(lines[i], attr) if i < len(lines) else ""

    return value


def _share(obj: Any, i: int) -> Any:
    book = as_book(obj)
    if i >= len(book.members):
        return ""
    budget = book.total_budget
    return book.members[i].total / budget if budget else Decimal(0)


def members_sheet(rows: int, parts: tuple[tuple[str, str], ...], section: Book | None = None) -> Sheet:
    """One line per member over every SubDAO: ``parts`` are (name suffix, allocation sheet name)."""
    suffixes = [s for s, _ in parts]
    name = '""'
    for suffix in reversed(suffixes):
        name = f"IFERROR(INDEX(MemberNames{suffix},MATCH({{no}},MemberNos{suffix},0)),{name})"

    def first_row(name: str) -> str:  # the member's first role row's cell of Scored<name>, as text
        out = '""'
        for suffix in reversed(suffixes):
            out = (f"IFERROR(INDEX(Scored{name}{suffix},INDEX(RowNumbers{suffix},MATCH({{no}},MemberNos{suffix},0)))"
                   f'&"",{out})')  # fmt: skip
        return out

    role_rows = "+".join(f"COUNTIF(MemberNos{s},{{no}})" for s in suffixes)
    total = "+".join(f"SUMIF(MemberNos{s},{{no}},TotalUnits{s})/UnitsPerToken{s}" for s in suffixes)
    budget = "+".join(f"Budget{s}" for s in suffixes)
    budget = budget if len(suffixes) == 1 else f"({budget})"
    sheets = " and ".join(sheet for _, sheet in parts)
    columns = (
        Column("no", "No.", "label", "count", lambda m, i: i + 1, width=6),
        Column("member", "Member", "computed", "text", _member_line("member"), formula=f"={name}", width=24),
        Column("role_rows", "Role rows", "computed", "count", _member_line("role_rows"),
               formula=_guard(role_rows), width=10),
        Column("total", "Total", "computed", "amount", _member_line("total"),
               formula=_guard(total), width=AMOUNT_WIDTH, name="MemberTotals"),
        Column("share", "Share of budget", "computed", "percent", _share,
               formula=_guard(f"IF({budget}=0,0,{{total}}/{budget})"), width=14),
        *(Column(key, f"{header} (first role row's)", "computed", "text", _member_line(key),
                 formula=_guard(first_row(name)), width=width)
          for key, header, name, width, _, _ in IDENTITY),
        *(_member_asset_columns(section) if section is not None else ()),
    )  # fmt: skip
    plural = "s" if len(parts) > 1 else ""
    members_shown = lambda obj: len(as_book(obj).members) or 1  # noqa: E731
    return Sheet(
        name=MEMBERS,
        table=Table(4, rows, columns),
        notes=(
            Note("A1", "Members: totals over all role rows", "title"),
            Note("A2", f"Sums each member's totals on the {sheets} sheet{plural} over every role they hold.", "text"),
        ),
        chart=Chart("Total per member (all roles)", "member", "total", "G2", shown=members_shown),
        freeze="A5",
        printing=Printing(landscape=False, rows=members_shown),
    )


#: The Guide's colour legend (rows 3 to 6), the same in every GRAPE template.
COLOURS = (
    Note("A3", "Colours", "heading"),
    Note("A4", "Required input", "legend-input"),
    Note("A5", "Optional override (leave blank for the default)", "legend-override"),
    Note("A6", "Computed: locked, do not type here", "legend-computed"),
)


def approval_params(row: int, approval: Callable[[Any], dict[str, Any]]) -> tuple[Param, Param]:
    """The DAO's approval on the Guide (rows ``row`` and ``row + 1``): katsheet settle needs both."""
    return (
        Param("ApprovedBy", "Approved by (the DAO's approval)", f"B{row}", "input", "text",
              lambda obj: approval(obj).get("ApprovedBy"), help="Who approved the month for the DAO."),
        Param("ApprovedOn", "Approved on", f"B{row + 1}", "input", "date", lambda obj: approval(obj).get("ApprovedOn"),
              help="The date of the approval."),
    )  # fmt: skip


def guide_sheet(book: Book, allocation_names: list[str]) -> Sheet:
    first = allocation_names[0]
    lines = [
        Note("A1", "katsheet monthly workbook: guide", "title"),
        *COLOURS,
        Note("A7", "Bonus-eligible row (above the threshold)", "legend-eligible"),
        Note("A8", "Dynamic cap engaged: bonus and excess were cut", "legend-cap"),
        Note("A10", "The monthly cycle", "heading"),
        Note("A11", "1. Scoring sheet: one row per member and role; score each criterion (80% or LEVEL 0-3)."),
        Note("A12", f"2. {first} sheet: type the budget (E2); set the options if the DAO uses others."),
        Note("A13", "3. Optional: type a bonus threshold in E3 to override the average (E7)."),
        Note("A14", "4. Read the totals, the chart and the Members sheet; the returned amount goes back."),
        Note("A15", "5. Before tokens move: katsheet check this-file.xlsx"),
        Note("A17", "How totals are rounded", "heading"),
        Note("A18", "Each total is rounded down to Decimals, in whole units of 10^-Decimals, after a guard of"),
        Note("A19", "2^-47 of itself; sums are sums of units: every spreadsheet program shows katsheet's digits."),
        Note("A21", "This file", "heading"),
        Note("A22", f"Template: {template_id(book.template)}"),
        Note("A23", f"Layout version: {LAYOUT_VERSION}"),
        Note("A24", f"Month: {book.month or '(not set)'}"),
        Note("A25", f"Generated by: katsheet {__version__}"),
    ]  # fmt: skip
    row = GUIDE_CRITERIA_ROW
    for part in book.parts:
        label = f"Criteria ({part.subdao})" if part.subdao else "Criteria"
        lines.append(Note(f"A{row}", f"{label}: " + ", ".join(f"{c.name} {c.weight}" for c in part.criteria.items)))
        row += 1
    for text in book.origin:  # katsheet next: where each budget came from
        lines.append(Note(f"A{row}", text))
        row += 1
    lines.append(Note(f"A{row + 1}", "The DAO's approval (katsheet settle needs both)", "heading"))
    params = approval_params(row + 2, lambda obj: as_book(obj).approval)
    return Sheet(name=GUIDE, notes=tuple(lines), params=params, label_width=100, widths=(("A", 100), ("B", 30)),
                 printing=Printing(landscape=False))  # fmt: skip


def sheet_names(template: str, subdao: str) -> tuple[str, str]:
    """The Scoring and allocation sheet names of a SubDAO ("" for a workbook of one)."""
    if not subdao:
        return SCORING, template.capitalize()
    return f"{SCORING} {subdao}", f"{template.capitalize()} {subdao}"


def suffix(p: int) -> str:
    """Defined names of the p-th SubDAO (0-based): Budget, Budget_2, Budget_3, ..."""
    return "" if p == 0 else f"_{p + 1}"


def _scoped(sheet: Sheet, names: set[str], tail: str) -> Sheet:
    """The sheet with its own defined names (and references to them) given the SubDAO's suffix
    (and another SubDAO's names, marked ``foreign``, as written)."""
    import dataclasses

    def f(text: str | None) -> str | None:
        return scope_names(text, names, tail) if text else text

    params = tuple(dataclasses.replace(p, name=p.name + tail, formula=f(p.formula)) for p in sheet.params)
    table = sheet.table
    if table is not None:
        table = dataclasses.replace(table, columns=tuple(
            dataclasses.replace(c, name=c.name + tail if c.name else None, formula=f(c.formula)) for c in table.columns
        ))  # fmt: skip
    return dataclasses.replace(
        sheet,
        params=params,
        table=table,
        conditionals=tuple(dataclasses.replace(c, formula=f(c.formula)) for c in sheet.conditionals),
        param_conditionals=tuple(
            dataclasses.replace(c, param=c.param + tail, formula=f(c.formula)) for c in sheet.param_conditionals
        ),
        ranges=tuple((n + tail, ref) for n, ref in sheet.ranges),
    )


def _local_names(*sheets: Sheet) -> set[str]:
    out: set[str] = set()
    for sheet in sheets:
        out |= {p.name for p in sheet.params}
        out |= {n for n, _ in sheet.ranges}
        if sheet.table:
            out |= {c.name for c in sheet.table.columns if c.name}
    return out


def grape_layout(month: Month | Book) -> WorkbookLayout:
    """The whole workbook for one month (or a blank template when the month has no rows)."""
    book = as_book(month)
    template = book.template
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}")
    if len({p.template for p in book.parts}) != 1:
        raise ValueError("every SubDAO of a workbook uses the same template")
    parts_sheets: list[Sheet] = []
    allocation_names: list[str] = []
    members_parts: list[tuple[str, str]] = []
    for p, part in enumerate(book.parts):
        scoring_name, allocation_name = sheet_names(template, part.subdao)
        tail = suffix(p)
        scoring = scoring_sheet(part.criteria, part.table_rows, p, scoring_name)
        allocation = allocation_sheet(
            template,
            part.table_rows,
            p,
            allocation_name,
            scoring_name,
            tuple(suffix(q) for q in range(p)),
            book if book.cap_section and p == 0 else None,
        )
        names = _local_names(scoring, allocation)
        parts_sheets += [_scoped(scoring, names, tail), _scoped(allocation, names, tail)]
        allocation_names.append(allocation_name)
        members_parts.append((tail, allocation_name))
    constants = {
        "KatsheetTemplate": template_id(template),
        "KatsheetLayoutVersion": str(LAYOUT_VERSION),
        "KatsheetMonth": book.month,
        "KatsheetVersion": __version__,
    }
    if len(book.parts) > 1:
        constants["KatsheetSubDAOs"] = "|".join(p.subdao for p in book.parts)
    for p, part in enumerate(book.parts):
        if part.base_budget is not None:
            constants[f"KatsheetBaseBudget{suffix(p)}"] = format(part.base_budget, "f")
    for k, base in enumerate(book.asset_bases, start=2):
        if base is not None:
            constants[f"KatsheetAssetBaseBudget{k}"] = format(base, "f")
    layout = WorkbookLayout(
        template=template_id(template),
        version=LAYOUT_VERSION,
        sheets=(
            guide_sheet(book, allocation_names),
            *parts_sheets,
            members_sheet(book.member_rows, tuple(members_parts), book if book.cap_section else None),
        ),
        constants=constants,
    )
    return layout if book.stamp is None else settled_layout(layout, book, book.stamp, GUIDE)
