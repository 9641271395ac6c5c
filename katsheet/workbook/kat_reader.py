"""Read a KAT month back (layouts/kat.py): its configuration, ledger, exceptions and carried state.

The configuration is read from the Config sheet's named cells and lists and checked against the
shipped guardrails, as a TOML file is; the tables are read where their defined names say they
now are (rows appended at the end, or inserted inside, make a table longer). Inputs the sheet and
the engine both judge (a status or rule not in the lists, a quantity that is not a whole number,
an entry id used twice) are reported and the numbers are still checked: both make the row a
problem. Inputs the sheet cannot compute with (a date typed as text, a member missing from the
Members sheet, a configuration outside the guardrails) are reported once and stop the number
check: every figure downstream would differ for that one reason.

The Members sheet may be sorted: the month keeps the sheet's order of members (KatMonth.member_order),
so each row is held to its own member's figures.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..cycle.wallets import evm_problem
from ..engine import InputError
from ..engine.kat import ExceptionRecord, KatConfig, Ledger, LedgerRow, MemberState, parse_config
from ..engine.kat.sheet import LEVELS, RULES, SETTINGS, STAKEHOLDERS, TIERS, Table, cell_date, cell_text, config_data
from ..engine.names import member_key
from ..io.katfiles import load_guardrails
from ..layouts.kat import (
    CONFIG,
    EXCEPTION_INPUTS,
    EXCEPTIONS,
    LAYOUT_VERSION,
    LEDGER,
    LEDGER_INPUTS,
    MEMBERS,
    TEMPLATE,
    KatMonth,
    kat_layout,
)
from ..layouts.model import WorkbookLayout, split_cell
from .reader import Cells, Finding, Workbook, _constant, _named, signed_cells, stamp_of

STATE_INPUTS = ("member", "wallet", "level_before", "streak_before", "last_active_before", "first_seen_before",
                "cumulative_before")  # fmt: skip


class _Reader:
    def __init__(self, path: Path, formulas: Cells, cached: Cells, keys: set, names: dict[str, str]) -> None:
        self.path, self.formulas, self.cached, self.keys, self.names = path, formulas, cached, keys, names
        self.findings: list[Finding] = []
        self.informational: list[Finding] = []
        self.stop = False

    def value(self, sheet: str, cell: str) -> Any:
        if (sheet, cell) in self.keys:
            return self.cached.get((sheet, cell))
        return self.formulas.get((sheet, cell))

    def bad(self, sheet: str, cell: str, expected: str, found: Any, message: str, *, blocking: bool) -> None:
        f = Finding("bad-input", sheet, cell, expected, "" if found is None else repr(found), message)
        self.findings.append(f)
        if blocking:
            self.stop = True
        else:
            self.informational.append(f)

    def named(self, name: str) -> tuple[str, str, str]:
        if name not in self.names:
            raise InputError(f"has no defined name {name}: start from a new workbook (katsheet new --template kat)",
                             where=str(self.path))  # fmt: skip
        return _named(self.names, name, self.path)

    def column(self, name: str) -> tuple[str, str, list[int]]:
        """A named column's sheet, letter and rows."""
        sheet, first, last = self.named(name)
        (letter, r1), (_, r2) = split_cell(first), split_cell(last)
        return sheet, letter, list(range(r1, r2 + 1))

    def block(self, name: str) -> list[Any]:
        sheet, letter, rows = self.column(name)
        return [self.value(sheet, f"{letter}{r}") for r in rows]

    def date(self, sheet: str, cell: str, *, required: bool = False) -> dt.date | None:
        raw = self.value(sheet, cell)
        if raw is None or raw == "":
            return None
        if (day := cell_date(raw)) is not None:
            return day
        self.bad(sheet, cell, "a date", raw, "not a date (text or a number that is no day): type it as a date",
                 blocking=True)  # fmt: skip
        return None


def _config(r: _Reader) -> KatConfig | None:
    """The Config sheet as a configuration mapping, checked as a TOML file is."""

    def setting(name: str) -> Any:
        sheet, cell, _ = r.named(name)
        return r.value(sheet, cell)

    def rows(table: Table) -> list[tuple[Any, ...]]:
        return list(zip(*(r.block(n) for n in table.names), strict=True))

    try:
        return parse_config(config_data(setting, rows), load_guardrails(), source="the Config sheet")
    except InputError as e:
        r.bad(CONFIG, "A1", "a configuration inside the guardrails", e.value, e.line(), blocking=True)
        return None


def _table(r: _Reader, anchor_name: str, sheet: str, columns: dict[str, str], inputs: tuple[str, ...]):
    """Each row of a table as {input: (cell, value)}; blank rows as None (kept: they hold a place)."""
    _, _, rows = r.column(anchor_name)
    out = []
    for row in rows:
        cells = {key: (f"{columns[key]}{row}", r.value(sheet, f"{columns[key]}{row}")) for key in inputs}
        typed = any(cell_text(v).strip() for k, (_, v) in cells.items())
        out.append(cells if typed else None)
    return out


def _typed(rows: list) -> Any:
    """The typed rows of a table: (cells, values) for each."""
    for row in rows:
        if row is not None:
            yield row, {k: val for k, (_, val) in row.items()}


def _letters(layout: WorkbookLayout, sheet: str) -> dict[str, str]:
    table = layout.sheet(sheet).table
    assert table is not None
    return {c.key: table.letter(c.key) for c in table.columns}


def _quantity(r: _Reader, cell: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        r.bad(LEDGER, cell, "a whole number >= 1", value, "the quantity is text: the row does not count until it "
              "is typed as a number", blocking=False)  # fmt: skip
        return "'" + value  # what Excel shows for forced text: never a number to the engine either
    number = Decimal(repr(value)) if isinstance(value, float) else value
    if isinstance(number, bool) or number != int(number) or number < 1:
        r.bad(LEDGER, cell, "a whole number >= 1", value, "the quantity must be a whole number >= 1: the row "
              "does not count", blocking=False)  # fmt: skip
        return number
    return int(number)


def read_kat_workbook(path: Path, formulas: Cells, cached: Cells, keys: set, names: dict[str, str]) -> Workbook:
    version = _constant(names, "KatsheetVersion")
    if version != str(LAYOUT_VERSION):
        raise InputError(f"was made with KAT layout version {version}; this katsheet reads version "
                         f"{LAYOUT_VERSION}: make the month again with `katsheet new --template kat`",
                         where=str(path))  # fmt: skip
    r = _Reader(path, formulas, cached, keys, names)
    config = _config(r)
    label = _constant(names, "KatsheetMonth") or ""
    empty = WorkbookLayout(TEMPLATE, LAYOUT_VERSION, ())
    if config is None:
        return Workbook(path, TEMPLATE, empty, formulas, cached, None, r.findings, keys, names)
    # the geometry of the blank month: the tables' columns (the rule columns come from the configuration)
    skeleton = kat_layout(KatMonth(config, label))
    ledger_cols, exception_cols, member_cols = (_letters(skeleton, s) for s in (LEDGER, EXCEPTIONS, MEMBERS))

    ledger_rows = _table(r, "EntryKeys", LEDGER, ledger_cols, LEDGER_INPUTS)
    ledger: list[LedgerRow] = []
    typed_entries: dict[str, str] = {}
    for i, row in enumerate(ledger_rows):
        if row is None:
            continue
        if i != len(ledger):
            cell = row["entry"][0]
            r.bad(LEDGER, cell, "rows typed one below the other", "a blank row above",
                  "a blank ledger row sits between typed rows: delete it (or type in it)", blocking=True)  # fmt: skip
            break
        v = {k: val for k, (_, val) in row.items()}  # (the row's position matters here: see above)
        entry = cell_text(v["entry"]).strip()
        if entry and entry.casefold() in typed_entries:
            r.bad(LEDGER, row["entry"][0], "a unique entry id", entry,
                  f"entry id {entry} is used twice (also at {typed_entries[entry.casefold()]})", blocking=False)  # fmt: skip
        typed_entries.setdefault(entry.casefold(), row["entry"][0])
        status = cell_text(v["status"]).strip().lower()
        if status not in ("pending", "verified", "disputed", "void"):
            r.bad(LEDGER, row["status"][0], "pending, verified, disputed or void", v["status"],
                  "the status is not in the list: the row blocks settlement", blocking=False)  # fmt: skip
        if cell_text(v["rule"]).strip() and config.rule(cell_text(v["rule"])) is None:
            r.bad(LEDGER, row["rule"][0], "a rule of the Config sheet", v["rule"],
                  "the rule is not in the list: the row does not count", blocking=False)  # fmt: skip
        ledger.append(LedgerRow(
            entry=cell_text(v["entry"]), date=r.date(LEDGER, row["date"][0]), member=cell_text(v["member"]),
            stakeholder=cell_text(v["stakeholder"]), rule=cell_text(v["rule"]),
            quantity=_quantity(r, row["quantity"][0], v["quantity"]), evidence=cell_text(v["evidence"]),
            verified_by=cell_text(v["verified_by"]), verified_on=r.date(LEDGER, row["verified_on"][0]),
            status=cell_text(v["status"]), notes=cell_text(v["notes"]), settled=cell_text(v["settled"]),
            where=f"{LEDGER}!{row['entry'][0]}", seal=cell_text(v["seal"]).strip(),
        ))  # fmt: skip

    exceptions: list[ExceptionRecord] = []
    for row, v in _typed(_table(r, "ExceptionMemberNos", EXCEPTIONS, exception_cols, EXCEPTION_INPUTS)):
        exceptions.append(ExceptionRecord(
            cell_text(v["id"]), r.date(EXCEPTIONS, row["date"][0]), cell_text(v["member"]), cell_text(v["kind"]),
            cell_text(v["decision"]), cell_text(v["notes"]), cell_text(v["settled"]), where=f"{EXCEPTIONS}!{row['id'][0]}",
            seal=cell_text(v["seal"]).strip(),
        ))  # fmt: skip

    states: list[MemberState] = []
    for row, v in _typed(_table(r, "MemberKeys", MEMBERS, member_cols, STATE_INPUTS)):
        cumulative = v["cumulative_before"]
        wallet = cell_text(v["wallet"]).strip()
        if wallet and (problem := evm_problem(wallet)):
            r.bad(MEMBERS, row["wallet"][0], "an EVM address", wallet, f"the wallet {problem}: correct it",
                  blocking=False)  # fmt: skip
        states.append(MemberState(
            cell_text(v["member"]).strip(), int(v["level_before"] or 0), int(v["streak_before"] or 0),
            r.date(MEMBERS, row["last_active_before"][0]), r.date(MEMBERS, row["first_seen_before"][0]),
            Decimal(repr(cumulative)) if isinstance(cumulative, float) else Decimal(cumulative or 0),
            where=f"{MEMBERS}!{row['member'][0]}", wallet=wallet,
        ))  # fmt: skip
    listed = {member_key(s.member) for s in states}
    for row in ledger:
        if member_key(row.member) and member_key(row.member) not in listed:
            cell = row.where.split("!")[1]
            member_cell = f"{ledger_cols['member']}{split_cell(cell)[1]}"
            r.bad(LEDGER, member_cell, "a member of the Members sheet", row.member,
                  "the member is not on the Members sheet: add a row for them there (or write the month again "
                  "with katsheet new)", blocking=True)  # fmt: skip
            break

    n_ledger, n_exc, n_members = (len(r.column(n)[2]) for n in ("EntryKeys", "ExceptionMemberNos", "MemberKeys"))
    month = KatMonth(config, label, Ledger.of(ledger), tuple(exceptions), tuple(states),
                     spare_rows=max(n_ledger - len(ledger), 0), member_spare_rows=0,
                     exception_spare_rows=max(n_exc - len(exceptions), 0),
                     member_order=tuple(member_key(s.member) for s in states), approval=signed_cells(r.names, r.value),
                     stamp=stamp_of(names))  # fmt: skip
    if not r.stop:
        try:
            month.member_spare_rows = max(n_members - len(month.members), 0)
        except InputError as e:
            r.bad(MEMBERS, "A1", "usable inputs", e.value, e.line(), blocking=True)
    layout = kat_layout(month) if not r.stop else skeleton
    book = Workbook(path, TEMPLATE, layout, formulas, cached, None if r.stop else month, r.findings, keys, names)
    book.informational = r.informational
    return book


#: the Config sheet's cell of each configuration field (the lists: their table's first column)
_CONFIG_CELLS = {s.key[1]: s.name for s in SETTINGS} | {
    "levels": LEVELS.names[0], "stakeholders": STAKEHOLDERS.names[0], "rules": RULES.names[0], "tiers": TIERS.names[0],
}  # fmt: skip


def config_findings(book: Workbook, dao: KatConfig, source: str) -> list[Finding]:
    """Where a KAT month's configuration differs from the DAO's TOML file: one finding per field,
    at its Config cell (the numbers are still checked, with the workbook's configuration)."""
    month = book.month
    if not isinstance(month, KatMonth):
        return []
    out = []
    for field, name in _CONFIG_CELLS.items():
        mine, theirs = getattr(month.config, field), getattr(dao, field)
        if mine == theirs:
            continue
        sheet, first, _ = _named(book.names, name, book.path)
        if isinstance(mine, tuple):
            sheet_row = split_cell(first)
            first = f"{sheet_row[0]}{sheet_row[1] - 2}"  # the list's title
        out.append(Finding("bad-input", sheet, first, f"{theirs!s:.80}", f"{mine!s:.80}",
                           f"the configuration's {field} differs from {source}: write the month again with "
                           "katsheet new, or fix the TOML file"))  # fmt: skip
    return out
