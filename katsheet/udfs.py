"""The GRAPE rules and KAT's Karma step as Excel functions, for classic xlwings (Windows) and xlwings Lite.

Excel hands us floats, None for blank cells, text ("80%", "LEVEL 2") and 2-D lists for ranges;
we answer with numbers, 2-D lists (which spill) or, for bad input, one line of text starting with
"#katsheet:" that names the cell position and the value, never a Python traceback.

Only the engine is imported here (no openpyxl, no `formulas`): the module runs in Pyodide.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from xlwings import arg, func, ret

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from .engine import (
    DEFAULT_LEVELS,
    FOUR_CRITERIA,
    Criteria,
    Criterion,
    InputError,
    Options,
    RoleRow,
    allocate,
    grape_weight,
    parse_bool,
    parse_decimal,
    parse_score,
)
from .engine.dates import parse_date
from .engine.grape.allocation import CAP_RULES
from .engine.grape.criteria import slug
from .engine.kat import KarmaRules, MemberState, compute_period, karma_step, parse_config, parse_guardrails
from .engine.kat.sheet import cell_date, cell_text, scan_config
from .engine.kat.tables import exception_records, ledger_rows, member_states
from .functions import FUNCTIONS

ERROR = "#katsheet: "
ALLOCATE_HEADER = ["Base", "Bonus", "Excess", "Total", "Eligible"]


def _excel_safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input becomes a visible one-line message in the cell, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as e:
            return ERROR + e.line()
        except (TypeError, ValueError, ArithmeticError) as e:
            return ERROR + f"{type(e).__name__}: {e}"

    return wrapper


def _flat(values: Any) -> list[Any]:
    """A cell, a row, a column or a 2-D range, read row by row."""
    if not isinstance(values, (list, tuple)):
        return [values]
    out: list[Any] = []
    for v in values:
        out += _flat(v) if isinstance(v, (list, tuple)) else [v]
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any, what: str, where: str, default: Any = None) -> Decimal:
    if _blank(value):
        if default is not None:
            return default
        raise InputError(f"{what} is missing", where=where)
    return parse_decimal(value, what=what, where=where, percent=True)


def _criteria(weights: Any, count: int) -> Criteria:
    if weights is None:
        if count != len(FOUR_CRITERIA.items):
            raise InputError(f"give the weights: the default criteria are four (60/10/10/20), not {count}")
        return FOUR_CRITERIA
    values = _flat(weights)
    if len(values) != count:
        raise InputError(f"{len(values)} weights for {count} scores")
    return Criteria(
        tuple(Criterion(f"criterion {i + 1}", _number(w, "weight", f"weight {i + 1}")) for i, w in enumerate(values))
    )


def _levels(table: Any) -> dict[str, Decimal]:
    if table is None:
        return dict(DEFAULT_LEVELS)
    out = {}
    for i, row in enumerate(table if isinstance(table, list) else [table]):
        if not isinstance(row, (list, tuple)) or len(row) < 2:
            raise InputError("a level table has two columns: level, score", where=f"table row {i + 1}", value=row)
        if _blank(row[0]):
            continue
        out[" ".join(str(row[0]).upper().split())] = parse_score(row[1], where=f"table row {i + 1}", levels={})
    return out


@func
@arg("scores", ndim=1)
@arg("weights", ndim=1)
@_excel_safe
def GRAPE_WEIGHT(scores: Any, weights: Any = None) -> Any:
    """GRAPE weight of one row of scores (0.8, "80%" or "LEVEL 2"); default criteria 60/10/10/20."""
    values = _flat(scores)
    parsed = [parse_score(0 if _blank(s) else s, where=f"score {i + 1}") for i, s in enumerate(values)]
    return float(grape_weight(parsed, _criteria(weights, len(parsed))))


@func
@arg("table", ndim=2)
@_excel_safe
def GRAPE_LEVEL(level: Any, table: Any = None) -> Any:
    """A performance level ("LEVEL 2") to its score through the level table (default 0/33/66/100%)."""
    levels = _levels(table)
    key = " ".join(str(level).upper().split()) if level is not None else ""
    if key not in levels:
        raise InputError(f"unknown level; known: {', '.join(levels)}", where="level", value=level)
    return float(levels[key])


def _allocation(budget, weights, threshold, min_divisor, bonus, excess, cap_rule, decimals):
    """Shared by ALLOCATE and SUMMARY: (result, position of each weight cell, or None for blanks)."""
    amount = _number(budget, "budget", "budget")
    if amount < 0:
        raise InputError("the budget must be >= 0", where="budget", value=budget)
    cells = _flat(weights)
    rows, positions = [], []
    for i, w in enumerate(cells):
        if _blank(w):  # a blank cell is not a member
            positions.append(None)
            continue
        positions.append(len(rows))
        where = f"weight {i + 1}"
        weight = parse_score(w, where=where, what="GRAPE weight")
        rows.append(RoleRow(f"row {i + 1}", f"row {i + 1}", weight, where=where))
    t = None if _blank(threshold) else _number(threshold, "threshold", "threshold")
    k = _number(min_divisor, "minimum divisor", "min_divisor", Decimal(3))
    d = _number(decimals, "decimals", "decimals", Decimal(6))
    rule = "scale" if _blank(cap_rule) else str(cap_rule).strip().lower()
    if rule not in CAP_RULES:
        raise InputError(f"the cap rule must be one of {', '.join(CAP_RULES)}", where="cap_rule", value=cap_rule)
    if k != int(k) or d != int(d):
        raise InputError("the minimum divisor and decimals are whole numbers", where="min_divisor/decimals")
    options = Options(
        threshold=t,
        min_divisor=int(k),
        bonus=True if _blank(bonus) else parse_bool(bonus, what="bonus", where="bonus"),
        excess=True if _blank(excess) else parse_bool(excess, what="excess", where="excess"),
        cap_rule=rule,  # type: ignore[arg-type]
        decimals=int(d),
    )
    return allocate(amount, rows, options), positions


@func
@arg("weights", ndim=1)
@ret(expand="table")
@_excel_safe
def GRAPE_ALLOCATE(
    budget: Any,
    weights: Any,
    threshold: Any = None,
    min_divisor: Any = None,
    bonus: Any = None,
    excess: Any = None,
    cap_rule: Any = None,
    decimals: Any = None,
    header: Any = False,
) -> Any:
    """One row per weight cell (Base, Bonus, Excess, Total, Eligible); blank weight cells stay blank."""
    result, positions = _allocation(budget, weights, threshold, min_divisor, bonus, excess, cap_rule, decimals)
    out: list[list[Any]] = [list(ALLOCATE_HEADER)] if not _blank(header) and parse_bool(header, what="header") else []
    for p in positions:
        if p is None:
            out.append(["", "", "", "", ""])
        else:
            m = result.members[p]
            out.append([float(m.base), float(m.bonus), float(m.excess), float(m.total), m.bonus_eligible])
    return out


SUMMARY_LABELS = [
    ("Role holders (N)", "role_holders"),
    ("Base allotted", "base_allotted"),
    ("Average GRAPE weight", "average_weight"),
    ("Bonus threshold", "threshold"),
    ("Bonus eligible", "bonus_eligible"),
    ("Bonus divisor", "bonus_divisor"),
    ("Bonus pool", "bonus_pool"),
    ("Excess pool", "excess_pool"),
    ("Cap engaged", "cap_engaged"),
    ("Cap ratio", "cap_ratio"),
    ("Total allocated", "total_allocated"),
    ("Returned to treasury", "returned_to_treasury"),
]


@func
@arg("weights", ndim=1)
@ret(expand="table")
@_excel_safe
def GRAPE_SUMMARY(
    budget: Any,
    weights: Any,
    threshold: Any = None,
    min_divisor: Any = None,
    bonus: Any = None,
    excess: Any = None,
    cap_rule: Any = None,
    decimals: Any = None,
) -> Any:
    """The intermediate figures of grape.md section 2 as a two-column table (label, value)."""
    result, _ = _allocation(budget, weights, threshold, min_divisor, bonus, excess, cap_rule, decimals)
    out = []
    for label, attr in SUMMARY_LABELS:
        value = getattr(result, attr)
        out.append([label, float(value) if isinstance(value, Decimal) else value])
    return out


KAT_LEVEL_HEADER = ["Level", "Streak", "Inactive", "Reason"]


def _date(value: Any, what: str) -> dt.date | None:
    """A date as Excel hands it: a date or datetime (xlwings), a serial number (`formulas`), ISO text."""
    if _blank(value):
        return None
    day = cell_date(value)
    return day if day is not None else parse_date(str(value), what=what, where=what)


def _whole(value: Any, what: str, low: int) -> int:
    number = _number(value, what, what)
    if number != number.to_integral_value() or number < low:
        raise InputError(f"{what} must be a whole number >= {low}", value=value)
    return int(number)


@func
@ret(expand="table")
@_excel_safe
def KAT_LEVEL(
    level: Any,
    streak: Any,
    last_active: Any,
    first_seen: Any,
    last_counted: Any,
    upheld: Any,
    period_end: Any,
    inactivity_days: Any,
    promote_after: Any,
    top_level: Any,
    header: Any = False,
) -> Any:
    """One member's Karma step (kat.md section 3), as the engine takes it: the level and streak
    carried in, the last active and first seen dates, the latest counted row of the period (blank:
    not active), whether an exception was upheld, and the period's end and rules. Spills one row:
    Level, Streak, Inactive, Reason."""
    rules = KarmaRules(_whole(inactivity_days, "inactivity_days", 1), _whole(promote_after, "promote_after", 1),
                       _whole(top_level, "top_level", 1))  # fmt: skip
    before = _whole(level, "level", 0)
    if before > rules.top_level:
        raise InputError(f"level must be one of 0..{rules.top_level}", value=level)
    state = MemberState("member", before, _whole(0 if _blank(streak) else streak, "streak", 0),
                        _date(last_active, "last_active"), _date(first_seen, "first_seen"))  # fmt: skip
    end = _date(period_end, "period_end")
    if end is None:
        raise InputError("period_end is missing")
    held = False if _blank(upheld) else parse_bool(upheld, what="upheld")
    step = karma_step(rules, end, state, _date(last_counted, "last_counted"), held)
    row = [step["level"], step["streak"], step["inactive"], step["reason"]]
    return [list(KAT_LEVEL_HEADER), row] if not _blank(header) and parse_bool(header, what="header") else [row]


KAT_SETTLE_HEADER = ["Member", "Level before", "Level", "Streak", "Credits", "Multiplier", "Raw KAT",
                     "Capped KAT", "KAT", "Cumulative KAT", "Tier", "Reason"]  # fmt: skip
#: the columns of KAT's tables that hold dates (a date cell reaches us as a date or a serial number)
_DATE_COLUMNS = {"date", "verified_on", "last_active", "first_seen"}
GUARDRAILS = "kat_guardrails.toml"


def _guardrails() -> Any:
    """The shared guardrails the package ships (in xlwings Lite, embedded in main.py as DATA)."""
    package = __name__.rpartition(".")[0]
    text = getattr(sys.modules[package], "DATA", {}).get(GUARDRAILS)
    if text is None:
        from importlib.resources import files

        text = (files(package) / "data" / GUARDRAILS).read_text(encoding="utf-8")
    return parse_guardrails(tomllib.loads(text, parse_float=Decimal), source=GUARDRAILS)


def _table(values: Any, what: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """A range whose first row is the header, as the text rows a CSV file gives (row 1 is the header)."""
    grid = values if isinstance(values, list) and values and isinstance(values[0], list) else [_flat(values)]
    header = [cell_text(h).strip() for h in grid[0]]
    dates = [slug(h) in _DATE_COLUMNS for h in header]
    rows = []
    for n, row in enumerate(grid[1:], start=2):
        cells = []
        for is_date, value in zip(dates, row, strict=False):
            day = cell_date(value) if is_date else None
            cells.append(day.isoformat() if day else cell_text(value))
        rows.append((n, cells))
    return header, rows


@func
@arg("ledger", ndim=2)
@arg("config", ndim=2)
@arg("state", ndim=2)
@arg("exceptions", ndim=2)
@ret(expand="table")
@_excel_safe
def KAT_SETTLE(ledger: Any, config: Any, state: Any = None, exceptions: Any = None, month: Any = None,
               header: Any = False) -> Any:  # fmt: skip
    """A month's KAT (kat.md sections 2 to 4), one row per member: the ledger range with its header
    row (the Ledger sheet's or the CSV's column names), the configuration range (the Config sheet:
    labels with values to their right, the Levels, Rules and Tiers tables under their headers),
    optionally the carried state and the exceptions (ranges with headers as their CSV files) and
    the month (YYYY-MM or a date in it; default: the configuration's Period). Spills Member, Level
    before, Level, Streak, Credits, Multiplier, Raw KAT, Capped KAT, KAT, Cumulative KAT, Tier,
    Reason. Rows with a problem are not counted, as in the workbook."""
    data, period = scan_config(config if isinstance(config, list) else [[config]])
    dao = parse_config(data, _guardrails(), source="configuration range")
    if not _blank(month):
        day = cell_date(month)
        period = f"{day.year:04d}-{day.month:02d}" if day else str(month).strip()
    if not period:
        raise InputError("give the month (YYYY-MM): the configuration range has no Period")
    rows = ledger_rows(*_table(ledger, "ledger"), source="ledger")
    states = member_states(*_table(state, "state"), source="state") if not _blank(state) else ()
    decided = (
        exception_records(*_table(exceptions, "exceptions"), source="exceptions") if not _blank(exceptions) else ()
    )
    result = compute_period(dao, period, rows, decided, states)
    out = [list(KAT_SETTLE_HEADER)] if not _blank(header) and parse_bool(header, what="header") else []
    for m in result.members:
        out.append([m.member, m.level_before, m.level, m.streak, float(m.credits), float(m.multiplier), float(m.raw),
                    float(m.capped), float(m.kat), float(m.cumulative), m.tier, m.reason])  # fmt: skip
    return out or [[""] * len(KAT_SETTLE_HEADER)]


__all__ = list(FUNCTIONS)
