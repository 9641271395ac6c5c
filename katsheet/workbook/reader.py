"""Read a katsheet workbook back, through its layout: template, parameters, member rows.

The geometry comes from the workbook itself: Excel and LibreOffice update defined names when
rows or columns are inserted or deleted, so a named column's range says where a table now is,
and header texts say where each column went. Inputs that are wrong become findings (with their
cell), not exceptions: the checker reports them all at once. Only an unusable file raises.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl

from ..engine import CAP_RULES, Criteria, Criterion, InputError, Options, parse_bool, parse_decimal, parse_score
from ..engine.allocation import MAX_DECIMALS
from ..engine.criteria import DEFAULT_LEVELS, grape_weight
from ..engine.roster import ScoredRow
from ..layouts.grape import LAYOUT_VERSION, SCORING, TEMPLATES, Month, grape_layout, template_id
from ..layouts.model import Sheet, Table, WorkbookLayout, col_index, col_letter, split_cell
from .safe_open import check_file

Cells = dict[tuple[str, str], Any]


@dataclass(frozen=True)
class Finding:
    """One thing wrong, where it is, what was expected and what was found."""

    kind: str  # formula-drift | bad-input | wrong-number | stale-value | structure
    sheet: str
    cell: str
    expected: str
    found: str
    message: str


@dataclass
class Workbook:
    """A workbook as read: its layout in its actual geometry, its cells, and what it asks for."""

    path: Path
    template: str
    layout: WorkbookLayout
    formulas: Cells
    cached: Cells
    month: Month | None
    findings: list[Finding] = field(default_factory=list)
    #: the cells that hold a formula (a text typed as "=..." is in ``formulas`` too, but is text)
    formula_keys: set[tuple[str, str]] = field(default_factory=set)
    #: the workbook's defined names and what they refer to
    names: dict[str, str] = field(default_factory=dict)
    #: per sheet whose rows carry their number (No.): the index each row shows (sorted tables)
    row_maps: dict[str, list[int]] = field(default_factory=dict)


class FunctionsWorkbook(Exception):
    """Not a template, but a sheet built from katsheet's Excel functions: checked call by call."""

    def __init__(self, path: Path, formulas: Cells, cached: Cells, sheetnames: list[str]) -> None:
        super().__init__(str(path))
        self.path, self.formulas, self.cached, self.sheetnames = path, formulas, cached, sheetnames


def _load(path: Path) -> tuple[Cells, Cells, set[tuple[str, str]], dict[str, str], list[str]]:
    """Every non-empty cell (formulas view and cached-values view), which cells hold formulas,
    the defined names, the sheet names."""
    try:
        wb = openpyxl.load_workbook(path, read_only=True, keep_vba=False, keep_links=False)
        values = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_vba=False, keep_links=False)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        raise InputError(f"cannot be read as a workbook ({_reason(e)})", where=str(path)) from None
    try:
        names = {n: d.attr_text for n, d in wb.defined_names.items()}
        keys: set[tuple[str, str]] = set()
        formulas, cached = _cells(wb, keys), _cells(values)
        return formulas, cached, keys, names, list(wb.sheetnames)
    except Exception as e:
        raise InputError(f"cannot be read as a workbook ({_reason(e)})", where=str(path)) from None
    finally:
        wb.close()
        values.close()


def _reason(e: BaseException) -> str:
    """Why openpyxl could not read it; XML entity tricks (refused by defusedxml) named as such."""
    chain = [e]
    while chain[-1].__cause__ or chain[-1].__context__:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    if any(type(x).__module__.startswith("defusedxml") for x in chain):
        return "its XML declares entities, a known attack; refused"
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _cells(wb: Any, formula_keys: set[tuple[str, str]] | None = None) -> Cells:
    out: Cells = {}
    for ws in wb.worksheets:
        ws.reset_dimensions()  # iterate the rows present, not the size the file claims
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None and hasattr(c, "column_letter"):
                    value = c.value
                    if type(value).__name__ == "ArrayFormula":  # {=GRAPE_ALLOCATE(...)}: its text
                        value = value.text
                    out[(ws.title, f"{c.column_letter}{c.row}")] = value
                    if formula_keys is not None and c.data_type == "f":
                        formula_keys.add((ws.title, f"{c.column_letter}{c.row}"))
    return out


def _target(ref: str) -> tuple[str, str, str]:
    """'Compact'!$E$2 or Scoring!$A$16:$A$115 -> (sheet, first cell, last cell)."""
    m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^!]+))!\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?", ref)
    if not m:
        raise ValueError(ref)
    sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
    first = f"{m.group(3)}{m.group(4)}"
    last = f"{m.group(5)}{m.group(6)}" if m.group(5) else first
    return sheet, first, last


def _constant(names: dict[str, str], name: str) -> str | None:
    text = names.get(name)
    return text.strip('="') if text is not None else None


def read_workbook(path: Path) -> Workbook:
    """Read ``path``; raise InputError only when it is not a usable katsheet workbook."""
    check_file(path)
    formulas, cached, formula_keys, names, sheetnames = _load(path)
    template = _constant(names, "KatsheetTemplate")
    kinds = {template_id(t): t for t in TEMPLATES}
    if template not in kinds:
        from .functions_check import calls_functions

        if calls_functions(formulas):
            raise FunctionsWorkbook(path, formulas, cached, sheetnames)
        raise InputError(
            "is not a katsheet workbook (no KatsheetTemplate name): made by another tool?", where=str(path)
        )
    version = _constant(names, "KatsheetLayoutVersion")
    if version != str(LAYOUT_VERSION):
        raise InputError(
            f"was made with layout version {version}; this katsheet reads version {LAYOUT_VERSION}", where=str(path)
        )
    findings: list[Finding] = []
    criteria = _criteria(names, formulas, findings)
    base = grape_layout(Month(template=kinds[template], criteria=criteria))
    layout = _actual_geometry(base, names, formulas, findings, sheetnames)
    book = Workbook(path, kinds[template], layout, formulas, cached, None, findings, formula_keys, names)
    book.row_maps = _row_maps(book)
    book.month = _month(book, names, criteria)
    return book


def _row_maps(book: Workbook) -> dict[str, list[int]]:
    """Tables whose rows carry their number (No.) may have been sorted: map each row to it.

    Every number from 1 to the table's size must appear once; one missing means a Scoring row
    (or a member) is not shown, so it is reported and the table is read in its written order.
    """
    maps: dict[str, list[int]] = {}
    for sheet in book.layout.sheets:
        table = sheet.table
        if table is None or "no" not in {c.key for c in table.columns}:
            continue
        letter = col_letter(table.index("no"))
        numbers = [_input(book, sheet.name, f"{letter}{table.first_row + i}") for i in range(table.rows)]
        wanted = list(range(1, table.rows + 1))
        as_int = [
            int(n) if isinstance(n, (int, float)) and not isinstance(n, bool) and n == int(n) else None for n in numbers
        ]
        if sorted(x for x in as_int if x is not None) == wanted:
            if as_int != wanted:
                maps[sheet.name] = [x - 1 for x in as_int]  # type: ignore[operator]
            continue
        missing = sorted(set(wanted) - set(as_int))
        book.findings.append(
            Finding("structure", sheet.name, f"{letter}{table.first_row}", f"the numbers 1 to {table.rows} once each",
                    f"missing {missing[:5]}" if missing else "a number twice",
                    "the No. column was changed: some rows are shown twice or not at all")
        )  # fmt: skip
    return maps


def _criteria(names: dict[str, str], cells: Cells, findings: list[Finding]) -> Criteria:
    items = []
    n = 1
    while f"CriterionWeight{n}" in names:
        sheet, cell, _ = _target(names[f"CriterionWeight{n}"])
        col, row = split_cell(cell)
        label = str(cells.get((sheet, f"{col_letter(col_index(col) - 1)}{row}"), f"Criterion {n}"))
        raw = cells.get((sheet, cell))
        try:
            weight = parse_decimal(raw, what="criterion weight", where=f"{sheet}!{cell}")
            if weight < 0:
                raise InputError("a criterion weight must be >= 0", where=f"{sheet}!{cell}", value=raw)
        except InputError as e:
            findings.append(Finding("bad-input", sheet, cell, "a weight >= 0", repr(raw), e.problem))
            weight = Decimal(0)
        items.append(Criterion(label, weight))
        n += 1
    try:
        return Criteria(tuple(items))
    except InputError as e:
        sheet, cell, _ = _target(names.get("CriterionWeight1", "Scoring!$E$4"))
        findings.append(Finding("bad-input", sheet, cell, "criteria weights summing to > 0", "", e.problem))
        return Criteria(
            tuple(dataclasses.replace(c, weight=Decimal(1)) for c in items) or (Criterion("Score", Decimal(1)),)
        )


def _actual_geometry(
    base: WorkbookLayout, names: dict[str, str], cells: Cells, findings: list[Finding], sheetnames: list[str]
) -> WorkbookLayout:
    """The layout moved to where the workbook's names and headers say its cells now are."""
    sheets = []
    for sheet in base.sheets:
        if sheet.name not in sheetnames:
            raise InputError(f"has no sheet named {sheet.name!r}: not a katsheet {base.template} workbook")
        params = tuple(
            dataclasses.replace(p, cell=_target(names[p.name])[1]) if p.name in names else p for p in sheet.params
        )
        table = _actual_table(sheet, names, cells, findings) if sheet.table else None
        sheets.append(dataclasses.replace(sheet, params=params, table=table))
    return dataclasses.replace(base, sheets=tuple(sheets))


def _actual_table(sheet: Sheet, names: dict[str, str], cells: Cells, findings: list[Finding]) -> Table:
    table = sheet.table
    assert table is not None
    named = next((c for c in table.columns if c.name and c.name in names), None)
    header_row, rows = table.header_row, table.rows
    if named:
        _, first, last = _target(names[named.name])  # type: ignore[index]
        header_row = split_cell(first)[1] - 1
        rows = split_cell(last)[1] - header_row
    headers = {
        str(v).strip(): col_index(split_cell(cell)[0])
        for (s, cell), v in cells.items()
        if s == sheet.name and split_cell(cell)[1] == header_row and isinstance(v, str)
    }
    positions = []
    for i, col in enumerate(table.columns):
        if col.header in headers:
            positions.append(headers[col.header])
        else:
            default = table.first_col + i
            positions.append(default)
            findings.append(
                Finding("structure", sheet.name, f"{col_letter(default)}{header_row}", col.header,
                        str(cells.get((sheet.name, f"{col_letter(default)}{header_row}"), "")),
                        f"the column header {col.header!r} is missing or renamed")
            )  # fmt: skip
    return dataclasses.replace(table, header_row=header_row, rows=rows, positions=tuple(positions))


def _input(book: Workbook, sheet: str, cell: str) -> Any:
    """An input cell's value. Should it hold a formula (LibreOffice saves TRUE as =TRUE(), or
    someone typed =0.5*2), the value it shows is what the sheet computes with."""
    raw = book.formulas.get((sheet, cell))
    if isinstance(raw, str) and raw.startswith("="):
        return book.cached.get((sheet, cell))
    return raw


def _param(book: Workbook, name: str) -> tuple[str, Any]:
    for sheet in book.layout.sheets:
        for p in sheet.params:
            if p.name == name:
                return f"{sheet.name}!{p.cell}", _input(book, sheet.name, p.cell)
    raise KeyError(name)


def _bad(book: Workbook, where: str, expected: str, found: Any, message: str) -> None:
    sheet, cell = where.split("!")
    book.findings.append(Finding("bad-input", sheet, cell, expected, "" if found is None else repr(found), message))


def _options(book: Workbook) -> tuple[Decimal | None, Options]:
    defaults = Options()
    where, raw = _param(book, "Budget")
    budget = None
    if raw is None or raw == "":
        _bad(book, where, "a budget >= 0", raw, "the budget is missing")
    else:
        try:
            budget = parse_decimal(raw, what="budget", where=where)
            if budget < 0:
                _bad(book, where, "a budget >= 0", raw, "the budget is negative")
                budget = None
        except InputError as e:
            _bad(book, where, "a budget >= 0", raw, e.problem)
    values: dict[str, Any] = {}
    where, raw = _param(book, "ThresholdOverride")
    if raw not in (None, ""):
        try:
            t = parse_decimal(raw, what="threshold", where=where, percent=True)
            if not Decimal(0) <= t <= Decimal(1):
                raise InputError("the threshold override must lie in [0, 1]")
            values["threshold"] = t
        except InputError as e:
            _bad(book, where, "blank or a value in [0, 1]", raw, e.problem)
    for name, key, check in (
        ("MinDivisor", "min_divisor", lambda v: int(v) if v == int(v) and v >= 1 else None),
        ("Decimals", "decimals", lambda v: int(v) if v == int(v) and 0 <= v <= MAX_DECIMALS else None),
    ):
        where, raw = _param(book, name)
        try:
            number = check(parse_decimal(raw, what=name, where=where))
        except InputError:
            number = None
        if number is None:
            _bad(book, where, "a whole number in range", raw, f"{name} is not a valid whole number")
        else:
            values[key] = number
    for name, key in (("BonusOn", "bonus"), ("ExcessOn", "excess")):
        where, raw = _param(book, name)
        try:
            values[key] = parse_bool(raw, what=name, where=where)
        except InputError as e:
            _bad(book, where, "TRUE or FALSE", raw, e.problem)
    where, raw = _param(book, "CapRule")
    if raw in CAP_RULES:
        values["cap_rule"] = raw
    else:
        _bad(book, where, " / ".join(CAP_RULES), raw, "unknown cap rule")
    return budget, dataclasses.replace(defaults, **values)


def _levels(book: Workbook) -> dict[str, Decimal]:
    levels = dict(DEFAULT_LEVELS)
    for n, name in enumerate(DEFAULT_LEVELS):
        where, raw = _param(book, f"Level{n}")
        try:
            levels[name] = parse_score(raw, where=where, levels={}, what=f"score of {name}")
        except InputError as e:
            _bad(book, where, "a score in [0, 1]", raw, e.problem)
    return levels


def _month(book: Workbook, names: dict[str, str], criteria: Criteria) -> Month | None:
    """The month the workbook's own inputs describe, or None when they cannot be allocated."""
    before = len(book.findings)
    budget, options = _options(book)
    readable = 0  # findings that are reported but do not stop the month being computed
    levels = _levels(book)
    scoring = book.layout.sheet(SCORING)
    table = scoring.table
    assert table is not None
    member_col = col_letter(table.index("member"))
    role_col = col_letter(table.index("role"))
    score_cols = [col_letter(table.index(f"s{n}")) for n in range(len(criteria.items))]
    rows: list[ScoredRow] = []
    slots: list[int | None] = []
    seen: dict[tuple[str, str], str] = {}
    for i in range(table.rows):
        r = table.first_row + i
        member = _input(book, SCORING, f"{member_col}{r}")
        role = _input(book, SCORING, f"{role_col}{r}")
        raw_scores = [_input(book, SCORING, f"{c}{r}") for c in score_cols]
        name = "" if member is None else str(member).strip()
        if not name:
            slots.append(None)
            if any(s not in (None, "") for s in raw_scores):
                _bad(
                    book, f"{SCORING}!{member_col}{r}", "a member name", member, "a row with scores has no member name"
                )
            continue
        scores: list[Decimal | str] = []
        parsed: list[Decimal] = []
        for c, raw in zip(score_cols, raw_scores, strict=True):
            where = f"{SCORING}!{c}{r}"
            if raw is None or raw == "":
                scores.append(Decimal(0))
                parsed.append(Decimal(0))
                continue
            level = " ".join(raw.upper().split()) if isinstance(raw, str) else None
            try:
                value = parse_score(raw, where=where, levels=levels)
            except InputError as e:
                _bad(book, where, "a score in [0, 1] or a level", raw, e.problem)
                scores.append(Decimal(0))
                parsed.append(Decimal(0))
                continue
            if level is not None and level not in levels:  # "80%" typed as text: read, but reported
                _bad(book, where, "a number", raw, "text in a number cell: the sheet cannot compute with it")
                readable += 1
            scores.append(level if level in levels else value)
            parsed.append(value)
        role_text = "" if role is None else str(role).strip()
        key = (name.casefold(), role_text.casefold())
        if key in seen:
            _bad(book, f"{SCORING}!{member_col}{r}", "one row per member and role", f"{name} / {role_text}",
                 f"the same member and role twice (first at {seen[key]})")  # fmt: skip
        seen[key] = f"{SCORING}!{member_col}{r}"
        slots.append(len(rows))
        rows.append(
            ScoredRow(
                name, role_text, tuple(scores), grape_weight(parsed, criteria), where=f"{SCORING}!{member_col}{r}"
            )
        )
    readable += _appended(book, table, member_col)
    if len(book.findings) - readable > before or budget is None or not rows:
        return None
    return Month(
        template=book.template, month=_constant(names, "KatsheetMonth") or "", criteria=criteria, levels=levels,
        budget=budget, options=options, rows=tuple(rows), capacity=table.rows, slots=tuple(slots),
    )  # fmt: skip


def _appended(book: Workbook, table: Table, member_col: str) -> int:
    """Members typed below the table are not counted by the sheet's formulas: say so (how many)."""
    count = 0
    for (sheet, cell), value in book.formulas.items():
        if sheet != SCORING or not cell.startswith(member_col):
            continue
        col, row = split_cell(cell)
        if col == member_col and row > table.last_row and str(value).strip():
            book.findings.append(
                Finding("bad-input", sheet, cell, f"a member inside rows {table.first_row}-{table.last_row}",
                        repr(value), "a member below the table is not counted: insert a row inside the table")
            )  # fmt: skip
            count += 1
    return count
