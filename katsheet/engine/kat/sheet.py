"""The configuration as a sheet shows it: the labels of its settings and the headers of its tables.

The KAT layout writes them (the Config sheet), the workbook reader reads the sheet back through
them, and the Excel function KAT_SETTLE finds them in any range a treasurer selects. Written once
here, so the three cannot drift apart. Pure: no file is opened (it travels into xlwings Lite).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..dates import EXCEL_EPOCH
from ..errors import InputError


@dataclass(frozen=True)
class Setting:
    """One setting: its defined name in the workbook, its label, and its key in the DAO's TOML."""

    name: str
    label: str
    key: tuple[str, ...]


#: The settings a configuration is made of (the Config sheet shows more: the period, computed cells).
SETTINGS = (
    Setting("DaoName", "DAO", ("dao", "name")),
    Setting("DaoCode", "DAO code", ("dao", "code")),
    Setting("KatPerCredit", "KAT per credit", ("settlement", "kat_per_credit")),
    Setting("GlobalCap", "Global cap (KAT per period)", ("settlement", "global_cap")),
    Setting("PerUserCap", "Per-member cap (KAT per period)", ("settlement", "per_user_cap")),
    Setting("Decimals", "Decimals of KAT", ("settlement", "decimals")),
    Setting("InactivityDays", "Inactivity (days)", ("karma", "inactivity_days")),
    Setting("PromoteAfter", "Promote after (active periods)", ("karma", "promote_after")),
    Setting("StartLevel", "Start level", ("karma", "start_level")),
)
LABELS = {s.name: s.label for s in SETTINGS}
#: the period's label (a YYYY-MM text on the Config sheet)
PERIOD_LABEL = "Period"


@dataclass(frozen=True)
class Table:
    """One of the configuration's tables: its title, headers, defined names (one per column) and keys."""

    title: str
    headers: tuple[str, ...]
    names: tuple[str, ...]
    keys: tuple[str, ...]


LEVELS = Table("Karma levels", ("Level", "Name", "Multiplier"), ("LevelNos", "LevelNames", "Multipliers"),
               ("level", "name", "multiplier"))  # fmt: skip
RULES = Table(
    "Credit rules",
    ("Rule", "Stakeholder", "Credits per event", "Limit per period", "Trigger", "Verification"),
    ("RuleIds", "RuleStakeholders", "RuleCredits", "RuleLimits", "RuleTriggers", "RuleVerifications"),
    ("id", "stakeholder", "credits", "limit", "trigger", "verification"),
)
TIERS = Table("Tiers", ("Tier", "From cumulative KAT", "Privileges"), ("TierNames", "TierThresholds",
              "TierPrivileges"), ("name", "threshold", "privileges"))  # fmt: skip
STAKEHOLDERS = Table("Stakeholders", ("Stakeholder",), ("StakeholderList",), ("stakeholder",))
#: a tier's privileges in one cell
PRIVILEGE_SEPARATOR = "; "


def cell_text(value: Any) -> str:
    """A cell's value as the text a TOML or CSV file would hold (1.0 is "1")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cell_number(value: Any) -> Any:
    """A cell's number as the TOML reader would give it (exact from its shortest repr)."""
    if isinstance(value, float):
        return Decimal(repr(value)) if value != int(value) else int(value)
    return value


def cell_date(value: Any) -> dt.date | None:
    """A date cell as Excel, xlwings or `formulas` hand it (a date, a datetime, a serial); None if not one."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 2958466:
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    return None


def config_data(setting: Callable[[str], Any], rows: Callable[[Table], list[tuple[Any, ...]]]) -> dict[str, Any]:
    """The mapping a DAO's TOML file gives (for parse_config), from a sheet's settings (by defined
    name) and tables (rows of cell values)."""
    data: dict[str, Any] = {"stakeholders": [cell_text(s) for (s,) in rows(STAKEHOLDERS)], "rules": [], "tiers": []}
    for s in SETTINGS:
        value = setting(s.name)
        data.setdefault(s.key[0], {})[s.key[1]] = cell_text(value) if s.key[0] == "dao" else cell_number(value)
    data["karma"]["levels"] = [{"level": cell_number(n), "name": cell_text(name), "multiplier": cell_number(m)}
                               for n, name, m in rows(LEVELS)]  # fmt: skip
    for i, s, c, limit, t, v in rows(RULES):
        rule = {"id": cell_text(i), "stakeholder": cell_text(s), "credits": cell_number(c), "trigger": cell_text(t),
                "verification": cell_text(v)}  # fmt: skip
        data["rules"].append(rule | ({} if limit in (None, "") else {"limit": cell_number(limit)}))
    for n, t, p in rows(TIERS):
        tier = {"name": cell_text(n), "threshold": cell_number(t)}
        data["tiers"].append(tier | ({"privileges": cell_text(p).split(PRIVILEGE_SEPARATOR)} if cell_text(p) else {}))
    return data


def _label(value: Any) -> str:
    return " ".join(cell_text(value).split()).casefold()


def scan_config(grid: Sequence[Sequence[Any]]) -> tuple[dict[str, Any], str | None]:
    """A configuration found in a 2-D range (the Config sheet, or any range holding its labels with
    each value to their right and its tables under their header rows): (TOML mapping, period or None).

    A table's rows run down from its header row to the first row whose first cell is blank. Without
    a Stakeholders table, the rules' stakeholders are the DAO's groups."""
    width = max((len(r) for r in grid), default=0)
    cells = [[*row, *[None] * (width - len(row))] for row in grid]
    labels = {s.label.casefold(): s.name for s in SETTINGS}
    found: dict[str, Any] = {}
    period = None
    headers: dict[Table, tuple[int, int]] = {}
    for r, row in enumerate(cells):
        for c, value in enumerate(row):
            text = _label(value)
            right = row[c + 1] if c + 1 < width else None
            if text in labels and labels[text] not in found:
                found[labels[text]] = right
            elif text == PERIOD_LABEL.casefold() and period is None and right not in (None, ""):
                period = cell_text(right).strip()
            for table in (LEVELS, RULES, TIERS, STAKEHOLDERS):
                span = [_label(v) for v in row[c : c + len(table.headers)]]
                if table not in headers and span == [h.casefold() for h in table.headers]:
                    if table is STAKEHOLDERS and (r, c - 1) in headers.values():
                        continue  # the rules' own Stakeholder column
                    headers[table] = (r, c)
    missing = [s.label for s in SETTINGS if s.name not in found]
    absent = [t.title for t in (LEVELS, RULES, TIERS) if t not in headers]
    if missing or absent:
        raise InputError(
            "the configuration range has no " + ", ".join([*missing, *(f"{t} table" for t in absent)])
            + ": select the Config sheet (its labels with each value to their right, tables under their headers)"
        )  # fmt: skip

    def rows(table: Table) -> list[tuple[Any, ...]]:
        if table not in headers:  # no Stakeholders table: the rules' groups, in order
            return [(s,) for s in dict.fromkeys(cell_text(row[1]) for row in rows(RULES))]
        r, c = headers[table]
        out = []
        for row in cells[r + 1 :]:
            if cell_text(row[c]).strip() == "":
                break
            out.append(tuple(row[c : c + len(table.headers)]))
        return out

    return config_data(found.__getitem__, rows), period
