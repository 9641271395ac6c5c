"""The GREMS-style task-pool workbook (grape.md section 6): Guide, Tasks, Scoring, Members, Results.

Every cell address and formula of the pools template is written here, once, on the same model as
the GRAPE and KAT templates (layouts/model.py).

- Tasks: the per-member cap (MaxReward), one line per asset (budget, decimals, the cap and the
  results in whole units) and one line per task: its share, pool share, TPWS, scorers and, per
  asset, the pool (PAT), the rate one unit of score earns and what the pool leaves unallocated.
- Scoring: the levels, then one row per member (name, wallet, Discord id) with a score per task,
  the score as a number (PWS) per task, and per asset the sum of PWR before the cap.
- Members: each Scoring row's member, wallet and, per asset, the amount before the cap, in whole
  units, after the cap, the total and whether the cap cut it (GREMS's before/after columns).
- Results: GREMS's "Emissions Results Interface": budget, distributed, remaining, utilized %,
  members paid and the wallet count check, per asset.

How the formulas compute: PWR = PWS x rate, rate = PAT / TPWS, or PAT for a task's only scorer
(the lone-scorer rule); a member's sum is rounded down in whole units after the 2^-47 guard, as
the GRAPE templates do (docs/decisions.md, "Spreadsheet arithmetic"), then held to the cap, also
in whole units. Task names and assets are fixed when the file is written (they head columns);
shares, budgets, decimals, the cap, levels, members and scores are inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from .. import __version__
from ..engine import DEFAULT_LEVELS, InputError
from ..engine.grape.allocation import MAX_DECIMALS, NUDGE_BITS
from ..engine.grape.pools import (
    Asset,
    PoolAllocation,
    PoolMember,
    Task,
    TaskScore,
    allocate_scoring,
    asset_cap_units,
    check_assets,
    check_max_share,
    pool_scoring,
)
from ..engine.limits import MAX_ROLE_ROWS
from ..engine.names import excel_trim, member_key
from ..engine.numbers import to_units
from .grape import (
    AMOUNT_WIDTH,
    COLOURS,
    DEFAULT_ROWS,
    IDENTITY,
    UNITS_WIDTH,
    TableRows,
    approval_params,
)
from .model import (
    Chart,
    Column,
    Conditional,
    Note,
    Param,
    Printing,
    Sheet,
    Table,
    Validation,
    WorkbookLayout,
    col_letter,
)
from .settled import Stamp, settled_layout

TEMPLATE = "pools"
TEMPLATE_ID = "grape-pools"
LAYOUT_VERSION = 1
GUIDE, TASKS, SCORING, MEMBERS, RESULTS = "Guide", "Tasks", "Scoring", "Members", "Results"
MAX_TASKS = 60
MAX_ASSETS = 6
SCORING_HEADER_ROW = 10
MEMBERS_HEADER_ROW = 4
ASSET_HEADER_ROW = 7
#: where katsheet next writes its origin lines on the Guide (read back by a rewrite)
ORIGIN_FIRST_ROW = 22

Value = Callable[[Any, int], Any]


@dataclass(frozen=True)
class PoolRow:
    """One Scoring row: the member, their identity, and a score per task (as shown, and as a number)."""

    member: str
    shown: tuple[Decimal | str, ...]
    scores: tuple[Decimal, ...]
    wallet: str = ""
    discord_id: str = ""
    where: str = ""


@dataclass(frozen=True)
class PoolsMonth(TableRows):
    """A task-pool month: tasks, assets, the cap, levels and the Scoring rows; the engine's
    allocation per asset is derived."""

    month: str
    tasks: tuple[Task, ...]
    assets: tuple[Asset, ...]
    rows: tuple[PoolRow, ...] = ()
    max_share: Decimal | None = None
    levels: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    capacity: int = DEFAULT_ROWS
    #: where each Scoring row's member is in ``rows`` (None: a blank row); default rows first
    slots: tuple[int | None, ...] | None = None
    approval: dict[str, Any] = field(default_factory=dict)
    stamp: Stamp | None = None
    #: katsheet next's lines saying where each budget came from
    origin: tuple[str, ...] = ()
    #: each asset's budget before carry-over (None: the budget is the base)
    base_budgets: tuple[Decimal | None, ...] = ()

    template = TEMPLATE

    def __post_init__(self) -> None:
        if not 1 <= len(self.tasks) <= MAX_TASKS:
            raise InputError(f"a pools month has 1 to {MAX_TASKS} tasks", where="tasks", value=len(self.tasks))
        if not 1 <= len(self.assets) <= MAX_ASSETS:
            raise InputError(f"a pools month pays 1 to {MAX_ASSETS} assets", where="--asset", value=len(self.assets))
        check_assets(self.assets)
        check_max_share(self.max_share)
        if self.table_rows > MAX_ROLE_ROWS:
            raise InputError(f"the workbook would hold {self.table_rows:,} members; it holds up to {MAX_ROLE_ROWS:,} "
                             "(spare rows included): give fewer --rows", where="--rows")  # fmt: skip

    @property
    def period(self) -> str:
        return self.month

    @cached_property
    def scores(self) -> tuple[TaskScore, ...]:
        return tuple(
            TaskScore(r.member, t.name, s, r.where)
            for r in self.rows
            for t, s in zip(self.tasks, r.scores, strict=True)
            if s
        )

    @cached_property
    def allocations(self) -> tuple[PoolAllocation, ...]:
        """One allocation per asset, from the same scores (never merged)."""
        scoring = pool_scoring(self.tasks, self.scores)
        return tuple(
            allocate_scoring(a.budget, scoring, decimals=a.decimals, max_share=self.max_share) for a in self.assets
        )

    @cached_property
    def _members(self) -> tuple[dict[str, PoolMember], ...]:
        return tuple({member_key(m.member): m for m in a.members} for a in self.allocations)

    def member(self, k: int, i: int) -> PoolMember | None:
        """Asset k's figures for the member of Scoring row i (None: a blank row or no score)."""
        r = self.row_at(i)
        return None if r is None else self._members[k].get(member_key(self.rows[r].member))

    def cap_units(self, k: int) -> int:
        return asset_cap_units(self.assets[k], self.max_share)

    def scale(self, k: int) -> tuple[int, Decimal]:
        return self.assets[k].decimals, self.assets[k].budget

    @property
    def tolerance_scale(self) -> tuple[int, Decimal]:
        return max(a.decimals for a in self.assets), max(a.budget for a in self.assets)

    @property
    def decimals(self) -> int:
        return max(a.decimals for a in self.assets)


def pools_month(month: str, tasks: Sequence[Task], assets: Sequence[Asset], scores: Sequence[TaskScore], *,
                max_share: Decimal | None = None, identities: dict[str, tuple[str, str]] | None = None,
                capacity: int = DEFAULT_ROWS) -> PoolsMonth:  # fmt: skip
    """A month from a roster of (member, task, score) rows: one Scoring row per member, in the
    order they first appear, a score per task (blank where none was given). Every input is
    checked by the engine before a byte is written."""
    ids = identities or {}
    order = {member_key(t.name): i for i, t in enumerate(tasks)}
    rows: dict[str, list[Any]] = {}
    for s in scores:
        if member_key(s.task) not in order:
            raise InputError(f"no such task (the tasks are {', '.join(t.name for t in tasks)})", where=s.where,
                             value=s.task)  # fmt: skip
        key = member_key(s.member)
        if not key:
            raise InputError("a score needs a member", where=s.where, value=s.member)
        row = rows.setdefault(key, [s.member, [None] * len(tasks)])
        t = order[member_key(s.task)]
        if row[1][t] is not None:
            raise InputError("the same member and task twice", where=s.where, value=f"{s.member} / {s.task}")
        row[1][t] = s.score
    out = tuple(
        PoolRow(name, tuple(v if v is not None else Decimal(0) for v in values),
                tuple(v if v is not None else Decimal(0) for v in values), *ids.get(key, ("", "")))
        for key, (name, values) in rows.items()
    )  # fmt: skip
    result = PoolsMonth(month, tuple(tasks), tuple(assets), out, max_share, capacity=capacity)
    _ = result.allocations  # bad input fails here, before anything is written
    return result


def _guard(expr: str) -> str:
    return f'=IF({{member}}="","",{expr})'


def _row(fn: Callable[[PoolsMonth, int], Any]) -> Value:
    """A Scoring row's figure, blank for a blank row."""

    def value(m: PoolsMonth, i: int) -> Any:
        r = m.row_at(i)
        return "" if r is None else fn(m, r)

    return value


def _scale(k: int) -> Callable[[PoolsMonth], tuple[int, Decimal]]:
    return lambda m: m.scale(k)


_letter = col_letter


# ---------------------------------------------------------------------------------------------
# Tasks: the cap, the assets and the tasks.


def tasks_sheet(month: PoolsMonth) -> Sheet:
    n_assets, n_tasks = len(month.assets), len(month.tasks)
    task_header = ASSET_HEADER_ROW + n_assets + 2
    params: list[Param] = [
        Param("MaxReward", "Max reward per member (blank: no cap)", "B3", "override", "percent",
              lambda m: m.max_share,
              help="Optional: the most one member receives, as a share of each asset's budget (GREMS Max Reward %).",
              validation=Validation("decimal", minimum=0, maximum=1)),
        Param("Nudge", f"Rounding guard (1 + 2^-{NUDGE_BITS})", "B4", "computed", "general",
              lambda m: 1 + 2.0**-NUDGE_BITS, formula=f"=1+2^-{NUDGE_BITS}"),
        Param("ShareSum", "Sum of task shares", "B5", "computed", "general",
              lambda m: sum((t.share for t in m.tasks), Decimal(0)), formula="=SUM(Shares)"),
    ]  # fmt: skip
    asset_headers = ("Asset", "Budget", "Decimals", "Units per token", "Budget in units", "Cap in units",
                     "Distributed", "Returned")  # fmt: skip
    for k, asset in enumerate(month.assets):
        r, n = ASSET_HEADER_ROW + 1 + k, k + 1
        params += [
            Param(f"AssetName_{n}", "Asset", f"A{r}", "label", "text", lambda m, k=k: m.assets[k].name, labelled=False),
            Param(f"Budget_{n}", f"{asset.name} budget", f"B{r}", "input", "amount", lambda m, k=k: m.assets[k].budget,
                  help="The asset's budget this month, >= 0, with at most Decimals decimals.", labelled=False,
                  validation=Validation("decimal", minimum=0, blank_ok=False), scale=_scale(k)),
            Param(f"Decimals_{n}", f"{asset.name} decimals", f"C{r}", "input", "count",
                  lambda m, k=k: m.assets[k].decimals, labelled=False,
                  help=f"Amounts are rounded down to this many decimals (0 to {MAX_DECIMALS}).",
                  validation=Validation("whole", minimum=0, maximum=MAX_DECIMALS, blank_ok=False)),
            Param(f"UnitsPerToken_{n}", "Units per token", f"D{r}", "computed", "count",
                  lambda m, k=k: 10 ** m.assets[k].decimals, formula=f"=10^Decimals_{n}", labelled=False),
            Param(f"BudgetUnits_{n}", "Budget in units", f"E{r}", "computed", "count",
                  lambda m, k=k: to_units(m.assets[k].budget, m.assets[k].decimals),
                  formula=f"=ROUND(Budget_{n}*UnitsPerToken_{n},0)", labelled=False),
            Param(f"CapUnits_{n}", "Cap in units", f"F{r}", "computed", "count", lambda m, k=k: m.cap_units(k),
                  formula=f"=IF(ISBLANK(MaxReward),BudgetUnits_{n},"
                          f"ROUND(Budget_{n}*MaxReward*UnitsPerToken_{n}*Nudge+0.5,0)-1)", labelled=False),
            Param(f"Distributed_{n}", f"{asset.name} distributed", f"G{r}", "computed", "amount",
                  lambda m, k=k: m.allocations[k].total_allocated, formula=f"=SUM(Units_{n})/UnitsPerToken_{n}",
                  labelled=False, scale=_scale(k)),
            Param(f"Returned_{n}", f"{asset.name} returned", f"H{r}", "computed", "amount",
                  lambda m, k=k: m.allocations[k].returned_to_treasury,
                  formula=f"=(BudgetUnits_{n}-SUM(Units_{n}))/UnitsPerToken_{n}", labelled=False, scale=_scale(k)),
        ]  # fmt: skip
    task_headers = ["Task", "Share", "Pool share", "TPWS (sum of scores)", "Scorers above 0"]
    for asset in month.assets:
        task_headers += [f"{asset.name} pool (PAT)", f"{asset.name} per whole score", f"{asset.name} unallocated"]
    for t, task in enumerate(month.tasks):
        r, n = task_header + 1 + t, t + 1

        def res(k: int, attr: str, t: int = t) -> Callable[[PoolsMonth], Any]:
            return lambda m: getattr(m.allocations[k].tasks[t], attr)

        params += [
            Param(f"TaskName_{n}", "Task", f"A{r}", "label", "text", lambda m, t=t: m.tasks[t].name, labelled=False),
            Param(f"Share_{n}", f"{task.name} share", f"B{r}", "input", "general", lambda m, t=t: m.tasks[t].share,
                  help="The task's share of each budget (any number >= 0: shares are normalised).", labelled=False,
                  validation=Validation("decimal", minimum=0, blank_ok=False)),
            Param(f"PoolShare_{n}", "Pool share", f"C{r}", "computed", "ratio",
                  lambda m, t=t: m.tasks[t].share / sum(x.share for x in m.tasks),
                  formula=f"=IF(ShareSum=0,0,Share_{n}/ShareSum)", labelled=False),
            Param(f"TPWS_{n}", "TPWS", f"D{r}", "computed", "ratio", res(0, "tpws"), formula=f"=SUM(TaskScores_{n})",
                  labelled=False),
            Param(f"Scorers_{n}", "Scorers", f"E{r}", "computed", "count", res(0, "scorers"),
                  formula=f'=COUNTIF(TaskScores_{n},">0")', labelled=False),
        ]  # fmt: skip
        for k in range(n_assets):
            a, c = k + 1, 5 + 3 * k
            params += [
                Param(f"Pool_{a}_{n}", "PAT", f"{_letter(c)}{r}", "computed", "amount", res(k, "pat"),
                      formula=f"=IF(ShareSum=0,0,Budget_{a}*Share_{n}/ShareSum)", labelled=False, scale=_scale(k)),
                Param(f"Rate_{a}_{n}", "Per whole score", f"{_letter(c + 1)}{r}", "computed", "ratio",
                      lambda m, k=k, t=t: m.allocations[k].tasks[t].rate,
                      formula=f"=IF(Scorers_{n}=1,Pool_{a}_{n},IF(TPWS_{n}=0,0,Pool_{a}_{n}/TPWS_{n}))",
                      labelled=False),
                Param(f"Unallocated_{a}_{n}", "Unallocated", f"{_letter(c + 2)}{r}", "computed", "amount",
                      res(k, "unallocated"), formula=f"=Pool_{a}_{n}-Rate_{a}_{n}*TPWS_{n}", labelled=False,
                      scale=_scale(k)),
            ]  # fmt: skip
    notes = (
        Note("A1", "Tasks, pools and assets (GRIPv2)", "title"),
        *(Note(f"{_letter(j)}{ASSET_HEADER_ROW}", h, "heading") for j, h in enumerate(asset_headers)),
        *(Note(f"{_letter(j)}{task_header}", h, "heading") for j, h in enumerate(task_headers)),
        Note(f"A{task_header + n_tasks + 2}", "PAT = budget x share / sum of shares. PWR = score x PAT / TPWS when two or "
             "more members score above 0 on the task; the only scorer gets score x PAT (the rest is unallocated)."),
    )  # fmt: skip
    width = 4 + 3 * n_assets
    return Sheet(
        name=TASKS, params=tuple(params), notes=notes,
        ranges=(("Shares", f"B{task_header + 1}:B{task_header + n_tasks}"),),
        widths=(("A", 30), *((_letter(j), 18) for j in range(1, width + 1))),
        printing=Printing(landscape=True),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Scoring: one row per member, a score per task.


def scoring_sheet(month: PoolsMonth) -> Sheet:
    level_list = tuple(DEFAULT_LEVELS)
    levels = tuple(
        Param(f"Level{n}", level, f"B{4 + n}", "input", "weight", lambda m, level=level: m.levels[level],
              help=f"The score that {level} stands for.",
              validation=Validation("decimal", minimum=0, maximum=1, blank_ok=False))
        for n, level in enumerate(level_list)
    )  # fmt: skip
    n_tasks = len(month.tasks)
    identity = tuple(
        Column(key, header, "input", "text", _row(lambda m, r, k=key: getattr(m.rows[r], k) or None),
               name=f"Scored{stem}", width=width, help=text)
        for key, header, stem, width, text, _ in IDENTITY
    )  # fmt: skip
    scores = tuple(
        Column(f"s_{t + 1}", f"Score: {task.name}", "input", "weight", _row(lambda m, r, t=t: m.rows[r].shown[t] or None),
               help="A percentage (66%) or a level from the list; blank is 0.", width=14,
               validation=Validation("list", source=level_list, strict=False))
        for t, task in enumerate(month.tasks)
    )  # fmt: skip
    pws = tuple(
        Column(f"p_{t + 1}", f"PWS: {task.name}", "computed", "weight", _row(lambda m, r, t=t: m.rows[r].scores[t]),
               name=f"TaskScores_{t + 1}", width=12,
               formula=_guard(f"IF(ISNUMBER({{s_{t + 1}}}),{{s_{t + 1}}},"
                              f"IF(LEN({{s_{t + 1}}})=0,0,VLOOKUP({{s_{t + 1}}},LevelTable,2,FALSE)))"))
        for t, task in enumerate(month.tasks)
    )  # fmt: skip

    def before(k: int) -> Value:
        return _row(lambda m, r: x.before_cap if (x := m._members[k].get(member_key(m.rows[r].member))) else 0)

    sums = tuple(
        Column(f"b_{k + 1}", f"{asset.name} before cap (sum of PWR)", "computed", "amount", before(k),
               name=f"BeforeCap_{k + 1}", width=AMOUNT_WIDTH, scale=_scale(k),
               formula=_guard("+".join(f"{{p_{t + 1}}}*Rate_{k + 1}_{t + 1}" for t in range(n_tasks))))
        for k, asset in enumerate(month.assets)
    )  # fmt: skip
    columns = (
        Column("member", "Member", "input", "text", _row(lambda m, r: m.rows[r].member), name="ScoredMembers",
               help="The member's name (their Discord name). Type it in a blank row to add a member.", width=24),
        *identity, *scores, *pws, *sums,
    )  # fmt: skip
    bad = tuple(
        Conditional((f"s_{t + 1}",), f"=AND(ISNUMBER({{s_{t + 1}}}),OR({{s_{t + 1}}}<0,{{s_{t + 1}}}>1))", "bad")
        for t in range(n_tasks)
    )
    return Sheet(
        name=SCORING, params=levels, table=Table(SCORING_HEADER_ROW, month.table_rows, columns),
        notes=(
            Note("A1", "Scoring: one row per member, a score per task (PWS)", "title"),
            Note("A3", "Level", "heading"), Note("B3", "Score", "heading"),
            Note(f"A{SCORING_HEADER_ROW - 1}", "Score each task as a percentage or a level; blank is 0. "
                 "PWR = PWS x the task's rate (Tasks sheet)."),
        ),
        conditionals=bad, ranges=(("LevelTable", "A4:B7"),), freeze=f"B{SCORING_HEADER_ROW + 1}", label_width=14,
        printing=Printing(pages_wide=2, repeat_columns="A:A", rows=lambda m: len(m.rows) or 1),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Members: per member and asset, before and after the cap.


def _member(k: int, fn: Callable[[PoolsMonth, int, PoolMember | None], Any]) -> Value:
    def value(m: PoolsMonth, i: int) -> Any:
        return "" if m.row_at(i) is None else fn(m, k, m.member(k, i))

    return value


def _before_units(m: PoolsMonth, k: int, x: PoolMember | None) -> int:
    return 0 if x is None else x.before_units


def members_sheet(month: PoolsMonth) -> Sheet:
    def mirror(fn: Callable[[PoolsMonth, int], Any]) -> Value:
        return lambda m, i: "" if m.row_at(i) is None else fn(m, m.row_at(i))  # type: ignore[arg-type]

    columns: list[Column] = [
        Column("no", "No.", "label", "count", lambda m, i: i + 1, width=6, name="RowNumbers"),
        Column("member", "Member", "computed", "text", mirror(lambda m, r: excel_trim(m.rows[r].member)),
               name="MemberNames", width=24,
               formula='=IFERROR(IF(INDEX(ScoredMembers,{no})="","",TRIM(INDEX(ScoredMembers,{no}))),"")'),
        *(Column(key, header, "computed", "text", mirror(lambda m, r, key=key: getattr(m.rows[r], key)),
                 name=f"Member{stem}", width=width, formula=_guard(f'INDEX(Scored{stem},{{no}})&""'))
          for key, header, stem, width, _, _ in IDENTITY),
    ]  # fmt: skip
    for k, asset in enumerate(month.assets):
        n = k + 1
        columns += [
            Column(f"before_{n}", f"{asset.name} before cap", "computed", "amount",
                   _member(k, lambda m, k, x: x.before_cap if x else 0), width=AMOUNT_WIDTH, scale=_scale(k),
                   formula=_guard(f"INDEX(BeforeCap_{n},{{no}})")),
            Column(f"before_units_{n}", f"{asset.name} before cap, units", "computed", "count",
                   _member(k, _before_units), width=UNITS_WIDTH,
                   formula=_guard(f"ROUND({{before_{n}}}*UnitsPerToken_{n}*Nudge+0.5,0)-1")),
            Column(f"units_{n}", f"{asset.name} after cap, units", "computed", "count",
                   _member(k, lambda m, k, x: min(_before_units(m, k, x), m.cap_units(k))), width=UNITS_WIDTH,
                   name=f"Units_{n}",  # IF, not MIN: element by element, so a checker evaluates the column at once
                   formula=_guard(f"IF({{before_units_{n}}}>CapUnits_{n},CapUnits_{n},{{before_units_{n}}})")),
            Column(f"total_{n}", f"{asset.name} total", "computed", "amount",
                   _member(k, lambda m, k, x: x.total if x else Decimal(0)), width=AMOUNT_WIDTH, scale=_scale(k),
                   name=f"Totals_{n}", formula=_guard(f"{{units_{n}}}/UnitsPerToken_{n}")),
            Column(f"capped_{n}", f"{asset.name} capped", "computed", "flag",
                   _member(k, lambda m, k, x: _before_units(m, k, x) > m.cap_units(k)), width=10,
                   formula=_guard(f"{{before_units_{n}}}>CapUnits_{n}")),
        ]  # fmt: skip
    capped = tuple(
        Conditional((f"total_{k + 1}",), f"={{capped_{k + 1}}}=TRUE", "cap") for k in range(len(month.assets))
    )
    table = Table(MEMBERS_HEADER_ROW, month.table_rows, tuple(columns))
    shown = lambda m: len(m.rows) or 1  # noqa: E731
    return Sheet(
        name=MEMBERS, table=table,
        notes=(
            Note("A1", "Members: each asset before and after the per-member cap", "title"),
            Note("A2", "Totals are rounded down in whole units; orange: the cap (Tasks!B3) cut the member's amount."),
        ),
        conditionals=capped, freeze=f"C{MEMBERS_HEADER_ROW + 1}",
        chart=Chart(f"{month.assets[0].name} per member", "member", "total_1", f"{_letter(table.last_col + 2)}2",
                    shown=shown),
        printing=Printing(pages_wide=2, repeat_columns="A:B", rows=shown),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Results: GREMS's Emissions Results Interface.


def _paid(m: PoolsMonth, k: int) -> int:
    return sum(1 for x in m.allocations[k].members if x.total > 0)


def _wallets(m: PoolsMonth, k: int) -> int:
    wallets = {member_key(r.member): r.wallet for r in m.rows}
    return sum(1 for x in m.allocations[k].members if x.total > 0 and wallets.get(member_key(x.member)))


def results_sheet(month: PoolsMonth) -> Sheet:
    headers = ("Asset", "Budget", "Distributed", "Remaining", "Utilized", "Members paid", "Paid with a wallet",
               "Wallet count check")  # fmt: skip
    params: list[Param] = []
    for k in range(len(month.assets)):
        r, n = 5 + k, k + 1
        params += [
            Param(f"ResultAsset_{n}", "Asset", f"A{r}", "computed", "text", lambda m, k=k: m.assets[k].name,
                  formula=f"=AssetName_{n}", labelled=False),
            Param(f"ResultBudget_{n}", "Budget", f"B{r}", "computed", "amount", lambda m, k=k: m.assets[k].budget,
                  formula=f"=Budget_{n}", labelled=False, scale=_scale(k)),
            Param(f"ResultDistributed_{n}", "Distributed", f"C{r}", "computed", "amount",
                  lambda m, k=k: m.allocations[k].total_allocated, formula=f"=Distributed_{n}", labelled=False,
                  scale=_scale(k)),
            Param(f"ResultRemaining_{n}", "Remaining", f"D{r}", "computed", "amount",
                  lambda m, k=k: m.allocations[k].returned_to_treasury, formula=f"=Returned_{n}", labelled=False,
                  scale=_scale(k)),
            Param(f"Utilized_{n}", "Utilized", f"E{r}", "computed", "percent",
                  lambda m, k=k: (m.allocations[k].total_allocated / m.assets[k].budget) if m.assets[k].budget else 0,
                  formula=f"=IF(Budget_{n}=0,0,Distributed_{n}/Budget_{n})", labelled=False, scale=_scale(k)),
            Param(f"Paid_{n}", "Members paid", f"F{r}", "computed", "count", lambda m, k=k: _paid(m, k),
                  formula=f'=COUNTIF(Units_{n},">0")', labelled=False),
            Param(f"PaidWithWallet_{n}", "Paid with a wallet", f"G{r}", "computed", "count",
                  lambda m, k=k: _wallets(m, k), formula=f"=SUMPRODUCT((Units_{n}>0)*(LEN(MemberWallets)>0))",
                  labelled=False),
            Param(f"WalletCheck_{n}", "Wallet count check", f"H{r}", "computed", "text",
                  lambda m, k=k: "OK" if _paid(m, k) == _wallets(m, k) else f"MISSING {_paid(m, k) - _wallets(m, k)}",
                  formula=f'=IF(Paid_{n}=PaidWithWallet_{n},"OK","MISSING "&(Paid_{n}-PaidWithWallet_{n}))',
                  labelled=False),
        ]  # fmt: skip
    return Sheet(
        name=RESULTS, params=tuple(params),
        notes=(
            Note("A1", "Emissions results", "title"),
            Note("A2", "Per asset: what was distributed and what returns to the treasury; every member paid needs a "
                 "wallet before katsheet settle writes the payout files (one per asset)."),
            *(Note(f"{_letter(j)}4", h, "heading") for j, h in enumerate(headers)),
        ),
        widths=(("A", 16), *((_letter(j), 20) for j in range(1, 8))),
        printing=Printing(landscape=True),
    )  # fmt: skip


def guide_sheet(month: PoolsMonth) -> Sheet:
    lines = [
        Note("A1", "katsheet task-pool workbook (GRIPv2): guide", "title"),
        *COLOURS,
        Note("A7", "Capped: the per-member cap cut this amount", "legend-cap"),
        Note("A9", "The monthly cycle", "heading"),
        Note("A10", "1. Tasks sheet: each asset's budget and decimals, each task's share, the optional cap (B3)."),
        Note("A11", "2. Scoring sheet: one row per member with wallet; score each task (66% or LEVEL 0-3)."),
        Note("A12", "3. Read Members (before and after the cap) and Results (utilized %, wallet check)."),
        Note("A13", "4. Before tokens move: katsheet check this-file.xlsx, then approve and settle (a payout file "
             "per asset)."),
        Note("A15", "This file", "heading"),
        Note("A16", f"Template: {TEMPLATE_ID}"),
        Note("A17", f"Layout version: {LAYOUT_VERSION}"),
        Note("A18", f"Month: {month.month or '(not set)'}"),
        Note("A19", f"Generated by: katsheet {__version__}"),
        Note("A20", "Tasks: " + ", ".join(t.name for t in month.tasks)),
        Note("A21", "Assets: " + ", ".join(f"{a.name} ({a.decimals} decimals)" for a in month.assets)),
    ]  # fmt: skip
    row = ORIGIN_FIRST_ROW
    for text in month.origin:
        lines.append(Note(f"A{row}", text))
        row += 1
    lines.append(Note(f"A{row + 1}", "The DAO's approval (katsheet settle needs both)", "heading"))
    return Sheet(name=GUIDE, notes=tuple(lines), params=approval_params(row + 2, lambda m: m.approval),
                 label_width=100, widths=(("A", 100), ("B", 30)), printing=Printing(landscape=False))  # fmt: skip


def pools_layout(month: PoolsMonth) -> WorkbookLayout:
    constants = {
        "KatsheetTemplate": TEMPLATE_ID,
        "KatsheetLayoutVersion": str(LAYOUT_VERSION),
        "KatsheetMonth": month.month,
        "KatsheetVersion": __version__,
    }
    for k, base in enumerate(month.base_budgets):
        if base is not None:
            constants[f"KatsheetBaseBudget_{k + 1}"] = format(base, "f")
    layout = WorkbookLayout(
        template=TEMPLATE_ID, version=LAYOUT_VERSION,
        sheets=(guide_sheet(month), tasks_sheet(month), scoring_sheet(month), members_sheet(month),
                results_sheet(month)),
        constants=constants, title="GRAPE task pools",
    )  # fmt: skip
    return layout if month.stamp is None else settled_layout(layout, month, month.stamp, GUIDE)
