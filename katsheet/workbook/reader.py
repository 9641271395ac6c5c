"""Read a katsheet workbook back, through its layout: template, SubDAOs, parameters, member rows.

The geometry comes from the workbook itself: Excel and LibreOffice update defined names when
rows or columns are inserted or deleted, so a named column's range says where a table now is,
and header texts say where each column went. Inputs that are wrong become findings (with their
cell), not exceptions: the checker reports them all at once. Only an unusable file raises.

One mistake gives one finding: an input the sheet cannot compute with (text in a number cell,
criteria weights all zero, a budget a workbook cannot hold) is reported at its cell and the
numbers are not checked, since every figure downstream would differ for that one reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..cycle.wallets import CHAINS
from ..engine import CAP_RULES, Criteria, Criterion, InputError, Options, parse_decimal, parse_score
from ..engine.grape.allocation import MAX_DECIMALS, check_budget, member_key
from ..engine.grape.criteria import DEFAULT_LEVELS, check_criterion_weight, grape_weight
from ..engine.grape.pools import Asset
from ..engine.grape.roster import ScoredRow
from ..engine.kat.sheet import cell_date
from ..engine.limits import MAX_MIN_DIVISOR, MAX_ROLE_ROWS, check_budget_fits
from ..engine.names import check_name
from ..layouts.grape import (
    DEFAULT_ASSET,
    GUIDE,
    IDENTITY,
    LAYOUT_VERSION,
    TEMPLATES,
    Book,
    Month,
    grape_layout,
    origin_cells,
    sheet_names,
    suffix,
    template_id,
)
from ..layouts.kat import TEMPLATE as KAT_TEMPLATE
from ..layouts.model import Sheet, Table, WorkbookLayout, col_index, col_letter, split_cell
from ..layouts.pools import TEMPLATE_ID as POOLS_TEMPLATE
from ..layouts.settled import Stamp
from .background import Background, can_fork
from .safe_open import check_file
from .xlsx import RawBook, Refused, read_xlsx

Cells = dict[tuple[str, str], Any]
MAX_COLUMNS = 16_384  # XFD, the last column of a sheet


@dataclass(frozen=True)
class Finding:
    """One thing wrong, where it is, what was expected and what was found."""

    kind: str  # sealed | structure | bad-input | formula-drift | wrong-number | stale-value
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
    month: Book | None
    findings: list[Finding] = field(default_factory=list)
    #: the cells that hold a formula (a text typed as "=..." is in ``formulas`` too, but is text)
    formula_keys: set[tuple[str, str]] = field(default_factory=set)
    #: the workbook's defined names and what they refer to
    names: dict[str, str] = field(default_factory=dict)
    #: per sheet whose rows carry their number (No.): the index each row shows (sorted tables)
    row_maps: dict[str, list[int]] = field(default_factory=dict)
    #: table rows (sheet, row) and columns (sheet, letter) whose structure is broken: their
    #: formulas are not held to the layout (the structure finding says why, once)
    broken_rows: set[tuple[str, int]] = field(default_factory=set)
    broken_columns: set[tuple[str, str]] = field(default_factory=set)
    #: findings that report without stopping the number check (a member typed below the table:
    #: neither the sheet nor the rules count it)
    informational: list[Finding] = field(default_factory=list)
    #: cell reference -> (0-based column, row), as the file reader met them (xlsx.RawBook)
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: the formulas' evaluation under way on the other core (``read_workbook(evaluate_early=True)``)
    early: Background | None = field(default=None, repr=False, compare=False)
    _formula_cells: list[Any] | None = None
    _formula_cell_keys: set[tuple[str, str]] | None = None

    def formula_cells(self) -> list[Any]:
        """The layout's formula cells in this workbook's geometry, rendered once."""
        if self._formula_cells is None:
            from .expected import formula_cells

            self._formula_cells = list(formula_cells(self.layout))
        return self._formula_cells

    def formula_cell_keys(self) -> set[tuple[str, str]]:
        """(sheet, cell) of each of the layout's formula cells, made once."""
        if self._formula_cell_keys is None:
            self._formula_cell_keys = {(fc.sheet, fc.cell) for fc in self.formula_cells()}
        return self._formula_cell_keys

    def blocking(self) -> list[Finding]:
        """The findings that make the workbook's numbers untrustworthy."""
        kept = {id(f) for f in self.informational}
        return [f for f in self.findings if f.kind in ("bad-input", "structure") and id(f) not in kept]


class FunctionsWorkbook(Exception):
    """Not a template, but a sheet built from katsheet's Excel functions: checked call by call."""

    def __init__(self, path: Path, formulas: Cells, cached: Cells, sheetnames: list[str]) -> None:
        super().__init__(str(path))
        self.path, self.formulas, self.cached, self.sheetnames = path, formulas, cached, sheetnames


# -- formulas as writers write them ------------------------------------------------------------

_STRING = re.compile(r'("(?:[^"]|"")*")')
_PREFIX = re.compile(r"_xl(?:fn|ws|udf)\.", re.IGNORECASE)
#: what a writer may have added: an empty call's parentheses, an _xl prefix (searched for apart:
#: together, case-blind, the search took 0.4 s over a 10,000-row month's formulas; apart, 0.2)
_EMPTY_CALL = re.compile(r"\(\s*\)")
_XL = re.compile(r"_xl", re.IGNORECASE)
_BOOL_CALL = re.compile(r"\b(TRUE|FALSE)\(\)", re.IGNORECASE)


def normalise_formula(text: str) -> str:
    """A formula as we write it, whatever program saved it: LibreOffice's ``TRUE()`` is TRUE,
    Excel's ``_xlfn.`` prefixes go. Only what lies outside string literals changes."""
    if not _EMPTY_CALL.search(text) and not ("_" in text and _XL.search(text)):
        return text
    parts = _STRING.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _BOOL_CALL.sub(lambda m: m.group(1).upper(), _PREFIX.sub("", parts[i]))
    return "".join(parts)


def _load(path: Path) -> RawBook:
    """Every non-empty cell (formulas view and cached-values view), which cells hold formulas,
    the defined names, the sheet names: one pass over the file (xlsx.py), formulas normalised."""
    try:
        raw = read_xlsx(path)
    except Refused as e:
        raise InputError(str(e), where=str(path)) from None
    except Exception as e:  # a damaged part: one line, whatever the parser's message
        raise InputError(f"cannot be read as a workbook ({_reason(e)})", where=str(path)) from None
    for key in raw.formula_keys:
        raw.formulas[key] = normalise_formula(str(raw.formulas[key]))
    return raw


def _reason(e: BaseException) -> str:
    """Why the file could not be read, in one short line."""
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {text[:120]}"


# -- names and geometry ------------------------------------------------------------------------


def _target(ref: str) -> tuple[str, str, str]:
    """'Compact'!$E$2 or Scoring!$A$16:$A$115 -> (sheet, first cell, last cell)."""
    m = re.fullmatch(r"(?:'((?:[^']|'')+)'|([^!]+))!\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?", ref.strip())
    if not m:
        raise ValueError(ref)
    sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
    first = f"{m.group(3)}{m.group(4)}"
    last = f"{m.group(5)}{m.group(6)}" if m.group(5) else first
    return sheet, first, last


def _named(names: dict[str, str], name: str, path: Path) -> tuple[str, str, str]:
    """Where a defined name of the layout points; one line when it points nowhere usable."""
    text = names[name]
    try:
        return _target(text)
    except ValueError:
        what = (
            "points nowhere (#REF!: its cells were deleted)"
            if "#REF!" in text
            else f"is not a cell range ({text[:40]})"
        )
        raise InputError(
            f"the defined name {name} {what}: restore it (Formulas > Name Manager) or start from a new workbook",
            where=str(path),
        ) from None


def _constant(names: dict[str, str], name: str) -> str | None:
    """A constant defined name's text: the quoted text after the equals sign, doubled quotes undone."""
    text = names.get(name)
    if text is None:
        return None
    if text.startswith('="') and text.endswith('"') and len(text) >= 3:
        return text[2:-1].replace('""', '"')
    return text.strip('="')


#: the signed-by-hand cells of every template (katsheet settle needs ApprovedBy and ApprovedOn)
SIGNED = ("ApprovedBy", "ApprovedOn", "DisputesReviewed", "DocumentationPublished")


def signed_cells(names: dict[str, str], value: Callable[[str, str], Any]) -> dict[str, Any]:
    """The signed-by-hand cells as typed, blank ones left out (ApprovedOn as a date when it is one)."""
    out: dict[str, Any] = {}
    for name in SIGNED:
        if name not in names:
            continue
        sheet, cell, _ = _named(names, name, Path(name))
        v = value(sheet, cell)
        if v in (None, ""):
            continue
        out[name] = (cell_date(v) or v) if name == "ApprovedOn" else v
    return out


def stamp_of(names: dict[str, str]) -> Stamp | None:
    """A settled month's stamp, from its defined names (layouts/settled.py); None if not settled."""
    settled = _constant(names, "KatsheetSettled")
    if not settled:
        return None
    on = _constant(names, "KatsheetApprovedOn") or ""
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        day = None
    return Stamp(
        settled,
        _constant(names, "KatsheetApprovedBy") or "",
        day,
        _constant(names, "KatsheetSeal") or "",
        _constant(names, "KatsheetPayout") or "",
    )


def read_workbook(path: Path, *, evaluate_early: bool = False) -> Workbook:
    """Read ``path``; raise InputError only when it is not a usable katsheet workbook.

    ``evaluate_early``: the formulas are evaluated on the other core from the moment the cells are
    read (background.py), while this process makes the month and the layout; `check` takes that
    evaluation when the layout's formulas are the only ones in the file (else it evaluates)."""
    check_file(path)
    raw = _load(path)
    early = None
    if evaluate_early and can_fork():  # every formula of the file: the layout is not known yet
        from .columnwise import formula_results

        early = Background(functools.partial(formula_results, raw.formulas, raw.formula_keys, raw.names,
                                             raw.positions))  # fmt: skip
    try:
        book = _read_book(path, raw)
    except BaseException:
        if early is not None:
            early.close()
        raise
    book.positions = raw.positions
    book.early = early
    return book


def _read_book(path: Path, raw: RawBook) -> Workbook:
    """The workbook of the template its names say, from its cells as read."""
    formulas, cached, formula_keys, names = raw.formulas, raw.cached, raw.formula_keys, raw.names
    sheetnames = raw.sheetnames
    template = _constant(names, "KatsheetTemplate")
    kinds = {template_id(t): t for t in TEMPLATES}
    if template == KAT_TEMPLATE:
        from .kat_reader import read_kat_workbook

        return read_kat_workbook(path, formulas, cached, formula_keys, names)
    if template == POOLS_TEMPLATE:
        from .pools_reader import read_pools_workbook

        return read_pools_workbook(path, formulas, cached, formula_keys, names, sheetnames)
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
            f"was made with layout version {version}; this katsheet reads version {LAYOUT_VERSION}: "
            "make this month again with `katsheet new` (or the katsheet that made it)",
            where=str(path),
        )
    subdaos = (_constant(names, "KatsheetSubDAOs") or "").split("|")
    findings: list[Finding] = []
    criteria = [_criteria(names, formulas, findings, suffix(p), path) for p in range(len(subdaos))]
    kind = kinds[template]
    section = _section_names(names, formulas, path)
    skeleton = Book(tuple(Month(template=kind, criteria=c, subdao=s) for c, s in zip(criteria, subdaos, strict=True)),
                    **section)  # fmt: skip
    layout = _actual_geometry(grape_layout(skeleton), names, formulas, findings, sheetnames, path)
    book = Workbook(path, kind, layout, formulas, cached, None, findings, formula_keys, names)
    book.broken_columns = {(f.sheet, re.sub(r"\d", "", f.cell)) for f in findings if f.kind == "structure"}
    book.row_maps = _row_maps(book)
    book.month = _book(book, names, criteria, subdaos)
    if book.month is not None and section:
        book.month = _section(book, book.month, section)
    if book.month is not None:
        value = lambda sheet, cell: _input(book, sheet, cell)  # noqa: E731
        book.month = dataclasses.replace(book.month, approval=signed_cells(names, value), stamp=stamp_of(names),
                                         origin=_origin(names, formulas, len(subdaos), path))  # fmt: skip
    return book


def _section_names(names: dict[str, str], cells: Cells, path: Path) -> dict[str, Any]:
    """The per-member cap and assets section's shape (layouts/grape.py), from the names: {} without one."""
    if "MaxReward" not in names:
        return {}

    def label(name: str) -> str:
        sheet, cell, _ = _named(names, name, path)
        return str(cells.get((sheet, cell)) or "").strip()

    assets = []
    while f"AssetName{len(assets) + 2}" in names:
        assets.append(Asset(label(f"AssetName{len(assets) + 2}") or f"ASSET{len(assets) + 2}", Decimal(0), 0))
    return {"cap_section": True, "main_asset": label("AssetName1") or DEFAULT_ASSET, "assets": tuple(assets)}


def _section(book: Workbook, month: Book, shape: dict[str, Any]) -> Book | None:
    """The month with its cap and assets as typed; None (and findings) where they cannot be used."""
    usable, share = max_share_input(book)
    if not usable:
        return None
    assets = []
    for k, asset in enumerate(shape["assets"], start=2):
        decimals = _whole(book, f"AssetDecimals{k}", 0, MAX_DECIMALS)
        budget = budget_input(book, f"AssetBudget{k}", decimals, f"the {asset.name} budget")
        if budget is None or decimals is None:
            return None
        assets.append(Asset(asset.name, budget, decimals))
    try:
        bases = tuple(_base_budget(book.names, "", f"KatsheetAssetBaseBudget{k}") for k in range(2, len(assets) + 2))
        return dataclasses.replace(month, cap_section=True, max_share=share, main_asset=shape["main_asset"],
                                   assets=tuple(assets), asset_bases=bases)  # fmt: skip
    except InputError as e:
        cell = _param(book, f"AssetBudget{len(assets) + 1}")[0] if assets else _param(book, "MaxReward")[0]
        _bad(book, cell, "an asset budget the workbook can hold", e.value, e.problem)
        return None


def _origin(names: dict[str, str], cells: Cells, parts: int, path: Path) -> tuple[str, ...]:
    """katsheet next's lines on the Guide saying where each budget came from (kept by a rewrite)."""
    if "ApprovedBy" not in names:
        return ()
    row = split_cell(_named(names, "ApprovedBy", path)[1])[1]
    texts = (cells.get((GUIDE, cell)) for cell in origin_cells(parts, row))
    return tuple(str(t) for t in texts if isinstance(t, str) and t.strip())


def _row_number(n: Any) -> int | None:
    """A No. cell's row number: a whole number as read (an int of any size, a float such as 7.0),
    else None. (float() of a 400-digit int typed into the cell overflows.)"""
    if isinstance(n, bool):
        return None
    if isinstance(n, int):
        return n
    return int(n) if isinstance(n, float) and n.is_integer() else None


def _row_maps(book: Workbook) -> dict[str, list[int]]:
    """Tables whose rows carry their number (No.) may have been sorted: map each row to it.

    Every number from 1 to the table's size must appear once. A row without a number was
    inserted, a number missing means a row was deleted: either way some Scoring row is shown
    twice or not at all. That is one structure finding, at the edited row, and the numbers are
    not checked (every total would differ for that one reason).
    """
    maps: dict[str, list[int]] = {}
    for sheet in book.layout.sheets:
        table = sheet.table
        if table is None or "no" not in {c.key for c in table.columns}:
            continue
        letter = col_letter(table.index("no"))
        numbers = [_input(book, sheet.name, f"{letter}{table.first_row + i}") for i in range(table.rows)]
        as_int = [_row_number(n) for n in numbers]
        wanted = list(range(1, table.rows + 1))
        if sorted(x for x in as_int if x is not None) == wanted:
            if as_int != wanted:
                maps[sheet.name] = [x - 1 for x in as_int]  # type: ignore[operator]
            continue
        finding = _numbering_finding(sheet, table, letter, as_int)
        book.findings.append(finding)
        row = split_cell(finding.cell)[1]
        # the edited row, and the one below: its "row above" references still skip the new row
        book.broken_rows.update({(sheet.name, row), (sheet.name, row + 1)})
    return maps


def _numbering_finding(sheet: Sheet, table: Table, letter: str, numbers: list[int | None]) -> Finding:
    """One finding at the edited row: a row inserted (no No.), a No. twice, or a row deleted."""
    seen: set[int] = set()
    for i, n in enumerate(numbers):
        row = table.first_row + i
        if n is None or not 1 <= n <= table.rows + 1:
            return Finding("structure", sheet.name, f"{letter}{row}", "a row number (No.)", "(blank)" if n is None
                           else str(n), f"a row was inserted in the {sheet.name} table at row {row}: delete it "
                           "(members are added on the Scoring sheet)")  # fmt: skip
        if n in seen:
            return Finding("structure", sheet.name, f"{letter}{row}", "each No. once", str(n),
                           f"No. {n} appears twice in the {sheet.name} table: undo the copy or delete the row")  # fmt: skip
        seen.add(n)
    missing = min(set(range(1, table.rows + 2)) - seen)
    # where the deletion happened: the first row whose No. is past the missing one (in written order)
    at = next((i for i, n in enumerate(numbers) if n is not None and n > missing), 0)
    return Finding("structure", sheet.name, f"{letter}{table.first_row + at}", f"No. {missing}",
                   f"No. {numbers[at]}", f"a row was deleted from the {sheet.name} table above this row (No. "
                   f"{missing}): that Scoring row is not shown; undo the deletion")  # fmt: skip


def _criteria(names: dict[str, str], cells: Cells, findings: list[Finding], tail: str, path: Path) -> Criteria:
    items = []
    n = 1
    while f"CriterionWeight{n}{tail}" in names:
        sheet, cell, _ = _named(names, f"CriterionWeight{n}{tail}", path)
        col, row = split_cell(cell)
        label = str(cells.get((sheet, f"{col_letter(col_index(col) - 1)}{row}"), f"Criterion {n}"))
        raw = cells.get((sheet, cell))
        try:
            if isinstance(raw, str):
                raise InputError("text in a number cell: type the weight as a number")
            weight = parse_decimal(raw, what="criterion weight", where=f"{sheet}!{cell}")
            check_criterion_weight(weight, where=f"{sheet}!{cell}", value=raw)
        except InputError as e:
            findings.append(Finding("bad-input", sheet, cell, "a weight from 0 to 1,000", repr(raw), e.problem))
            weight = Decimal(1)
        items.append(Criterion(label or f"Criterion {n}", weight))
        n += 1
    try:
        return Criteria(tuple(items))
    except InputError as e:
        sheet, cell, _ = _named(names, f"CriterionWeight1{tail}", path)
        findings.append(Finding("bad-input", sheet, cell, "criteria weights summing to > 0", "all 0", e.problem))
        return Criteria(
            tuple(dataclasses.replace(c, weight=Decimal(1)) for c in items) or (Criterion("Score", Decimal(1)),)
        )


def _actual_geometry(
    base: WorkbookLayout,
    names: dict[str, str],
    cells: Cells,
    findings: list[Finding],
    sheetnames: list[str],
    path: Path,
) -> WorkbookLayout:
    """The layout moved to where the workbook's names and headers say its cells now are."""
    sheets = []
    for sheet in base.sheets:
        if sheet.name not in sheetnames:
            raise InputError(
                f"has no sheet named {sheet.name!r}: not a katsheet {base.template} workbook", where=str(path)
            )
        params = tuple(
            dataclasses.replace(p, cell=_named(names, p.name, path)[1]) if p.name in names else p for p in sheet.params
        )
        table = _actual_table(sheet, names, cells, findings, path) if sheet.table else None
        sheets.append(dataclasses.replace(sheet, params=params, table=table))
    actual = dataclasses.replace(base, sheets=tuple(sheets))
    _check_names(actual, names, findings, path)
    return actual


def _check_names(layout: WorkbookLayout, names: dict[str, str], findings: list[Finding], path: Path) -> None:
    """Every defined name the layout's formulas use must say what the layout says: a name that
    points nowhere (#REF!), at a constant or at a whole column makes the workbook unusable; one
    stretched past the largest table makes it unusable too (it would cost minutes, not change a
    number); a named column that no longer covers its table's rows, or a name deleted, is one
    structure finding (the formulas that use it read other cells than the rules)."""
    for sheet in layout.sheets:
        named = [(p.name, p.cell, p.cell) for p in sheet.params]
        table = sheet.table
        if table is not None:
            for c in table.columns:
                if c.name:
                    letter = col_letter(table.index(c.key))
                    named.append((c.name, f"{letter}{table.first_row}", f"{letter}{table.last_row}"))
        for name, first, last in named:
            if name not in names:
                findings.append(Finding("structure", sheet.name, first, f"the defined name {name}", "(missing)",
                                        f"the defined name {name} was deleted: restore it (Formulas > Name Manager)"))  # fmt: skip
                continue
            where, got_first, got_last = _named(names, name, path)
            rows = split_cell(got_last)[1] - split_cell(got_first)[1] + 1
            if rows > MAX_ROLE_ROWS + 1:
                raise InputError(
                    f"the defined name {name} spans {rows:,} rows; katsheet reads tables of up to {MAX_ROLE_ROWS:,} "
                    "rows: was it stretched to the end of the sheet? Restore it (Formulas > Name Manager)",
                    where=str(path),
                )
            if (where, got_first, got_last) != (sheet.name, first, last):
                findings.append(Finding(
                    "structure", sheet.name, first, f"{name} = {sheet.name}!{first}:{last}",
                    names[name][:60], f"the defined name {name} no longer covers its cells: restore it "
                    "(Formulas > Name Manager) or make the month again",
                ))  # fmt: skip


def _actual_table(sheet: Sheet, names: dict[str, str], cells: Cells, findings: list[Finding], path: Path) -> Table:
    table = sheet.table
    assert table is not None
    named = next((c for c in table.columns if c.name and c.name in names), None)
    header_row, rows = table.header_row, table.rows
    if named:
        where, first, last = _named(names, named.name, path)  # type: ignore[arg-type]
        header_row = split_cell(first)[1] - 1
        rows = split_cell(last)[1] - header_row
        if where != sheet.name or rows < 1 or split_cell(first)[0] != split_cell(last)[0]:
            raise InputError(
                f"the defined name {named.name} no longer covers one column of the {sheet.name} table "
                f"({names[named.name][:40]}): restore it or start from a new workbook",
                where=str(path),
            )
        if rows > MAX_ROLE_ROWS:
            raise InputError(
                f"the {sheet.name} table (name {named.name}) spans {rows:,} rows; katsheet reads tables of up to "
                f"{MAX_ROLE_ROWS:,} rows: was the name stretched to the end of the sheet?",
                where=str(path),
            )
    headers = {}  # the header row, probed cell by cell (the sheet has hundreds of thousands of cells)
    for c in range(MAX_COLUMNS - 1, -1, -1):  # from the right: the leftmost of two equal headers wins
        v = cells.get((sheet.name, f"{col_letter(c)}{header_row}"))
        if isinstance(v, str):
            headers[v.strip()] = c
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


# -- inputs ------------------------------------------------------------------------------------


def _input(book: Workbook, sheet: str, cell: str) -> Any:
    """An input cell's value. Should it hold a formula (LibreOffice saves TRUE as =TRUE(), or
    someone typed =0.5*2), the value it shows is what the sheet computes with."""
    if (sheet, cell) in book.formula_keys:
        return book.cached.get((sheet, cell))
    return book.formulas.get((sheet, cell))


def _param(book: Workbook, name: str) -> tuple[str, Any]:
    for sheet in book.layout.sheets:
        for p in sheet.params:
            if p.name == name:
                return f"{sheet.name}!{p.cell}", _input(book, sheet.name, p.cell)
    raise KeyError(name)


def _bad(book: Workbook, where: str, expected: str, found: Any, message: str) -> None:
    sheet, cell = where.rsplit("!", 1)
    book.findings.append(Finding("bad-input", sheet, cell, expected, "" if found is None else repr(found), message))


TEXT_IN_NUMBER = "text in a number cell: the sheet cannot compute with it; type it as a number"


def _number(book: Workbook, where: str, raw: Any, expected: str, what: str) -> Decimal | None:
    """A number input as the sheet sees it: text (even '100,000') is what the sheet cannot use."""
    if raw is None or raw == "":
        _bad(book, where, expected, raw, f"{what} is missing")
        return None
    if isinstance(raw, str):
        _bad(book, where, expected, raw, TEXT_IN_NUMBER)
        return None
    try:
        return parse_decimal(raw, what=what, where=where)
    except InputError as e:
        _bad(book, where, expected, raw, e.problem)
        return None


def _whole(book: Workbook, name: str, low: int, high: int) -> int | None:
    where, raw = _param(book, name)
    number = _number(book, where, raw, f"a whole number from {low} to {high:,}", name)
    if number is None:
        return None
    if number != number.to_integral_value() or not low <= number <= high:
        _bad(book, where, f"a whole number from {low} to {high:,}", raw, f"{name} must be a whole number from {low} "
             f"to {high:,}")  # fmt: skip
        return None
    return int(number)


def _flag(book: Workbook, name: str) -> bool | None:
    where, raw = _param(book, name)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    _bad(book, where, "TRUE or FALSE", raw, f"{name} must be TRUE or FALSE (chosen from the list, not typed as text)")
    return None


def budget_input(book: Workbook, name: str, decimals: int | None, what: str) -> Decimal | None:
    """A budget cell: a number >= 0 with at most ``decimals`` decimals that a workbook can hold, or
    None (reported at its cell)."""
    where, raw = _param(book, name)
    budget = _number(book, where, raw, "a budget >= 0", what)
    if budget is None:
        return None
    try:
        if budget < 0:
            raise InputError("the budget is negative")
        if decimals is not None:
            check_budget_fits(budget, decimals, where=where, value=raw)
            check_budget(budget, decimals, where=where, value=raw)
    except InputError as e:
        _bad(book, where, "a budget >= 0 the workbook can hold", raw, e.problem)
        return None
    return budget


def max_share_input(book: Workbook) -> tuple[bool, Decimal | None]:
    """The per-member cap cell (MaxReward): (usable, the share or None when blank); a value outside
    (0, 1] is reported at its cell."""
    where, raw = _param(book, "MaxReward")
    if raw in (None, ""):
        return True, None
    share = _number(book, where, raw, "blank or a share in (0, 1]", "the per-member cap")
    if share is not None and not Decimal(0) < share <= Decimal(1):
        _bad(book, where, "blank or a share in (0, 1]", raw, "the per-member cap must lie in (0%, 100%]")
        share = None
    return share is not None, share


def _options(book: Workbook, tail: str) -> tuple[Decimal | None, Options | None]:
    """The SubDAO's budget and options, or None where an input cannot be used (reported)."""
    values: dict[str, Any] = {}
    ok = True
    decimals = _whole(book, "Decimals" + tail, 0, MAX_DECIMALS)
    budget = budget_input(book, "Budget" + tail, decimals, "the budget")
    where, raw = _param(book, "ThresholdOverride" + tail)
    if raw not in (None, ""):
        number = _number(book, where, raw, "blank or a value in [0, 1]", "the threshold override")
        if number is not None and not Decimal(0) <= number <= Decimal(1):
            _bad(book, where, "blank or a value in [0, 1]", raw, "the threshold override must lie in [0, 1]")
            number = None
        ok &= number is not None
        values["threshold"] = number
    values["min_divisor"] = _whole(book, "MinDivisor" + tail, 1, MAX_MIN_DIVISOR)
    values["decimals"] = decimals
    values["bonus"] = _flag(book, "BonusOn" + tail)
    values["excess"] = _flag(book, "ExcessOn" + tail)
    where, raw = _param(book, "CapRule" + tail)
    rule = raw.strip().lower() if isinstance(raw, str) else None
    if rule in CAP_RULES:
        values["cap_rule"] = rule
    else:
        _bad(book, where, " / ".join(CAP_RULES), raw, "unknown cap rule: choose scale, at-base or off from the list")
        ok = False
    if not ok or any(values[k] is None for k in ("min_divisor", "decimals", "bonus", "excess")):
        return budget, None
    return budget, Options(**values)


def _levels(book: Workbook, tail: str) -> dict[str, Decimal]:
    levels = dict(DEFAULT_LEVELS)
    for n, name in enumerate(DEFAULT_LEVELS):
        where, raw = _param(book, f"Level{n}{tail}")
        number = _number(book, where, raw, "a score in [0, 1]", f"the score of {name}")
        if number is not None:
            try:
                levels[name] = parse_score(number, where=where, levels={}, what=f"score of {name}")
            except InputError as e:
                _bad(book, where, "a score in [0, 1]", raw, e.problem)
    return levels


def _book(book: Workbook, names: dict[str, str], criteria: list[Criteria], subdaos: list[str]) -> Book | None:
    """The months the workbook's own inputs describe, or None when they cannot be trusted."""
    parts = []
    for p, subdao in enumerate(subdaos):
        part = _part(book, names, criteria[p], subdao, p)
        if part is not None:
            parts.append(part)
    if book.blocking() or len(parts) != len(subdaos):
        return None
    return Book(tuple(parts))


def _part(book: Workbook, names: dict[str, str], criteria: Criteria, subdao: str, p: int) -> Month | None:
    tail = suffix(p)
    budget, options = _options(book, tail)
    levels = _levels(book, tail)
    scoring_name, allocation_name = sheet_names(book.template, subdao)
    table = book.layout.sheet(scoring_name).table
    assert table is not None
    member_col = col_letter(table.index("member"))
    role_col = col_letter(table.index("role"))
    score_cols = [col_letter(table.index(f"s{n}")) for n in range(len(criteria.items))]
    identity_cols = [(key, col_letter(table.index(key)), CHAINS[chain]) for key, *_, chain in IDENTITY]
    rows: list[ScoredRow] = []
    slots: list[int | None] = []
    seen: dict[tuple[str, str], str] = {}
    for i in range(table.rows):
        r = table.first_row + i
        role = _input(book, scoring_name, f"{role_col}{r}")
        raw_scores = [_input(book, scoring_name, f"{c}{r}") for c in score_cols]
        where = f"{scoring_name}!{member_col}{r}"
        name = row_member(book, scoring_name, f"{member_col}{r}", raw_scores)
        if name is None:
            slots.append(None)
            continue
        role_text = "" if role is None else str(role).strip(" ")
        try:
            check_name(role_text, what="role", where=f"{scoring_name}!{role_col}{r}")
        except InputError as e:
            _bad(book, e.where, "a name without control characters, up to 100 characters", e.value, e.problem)
            slots.append(None)
            continue
        scores: list[Decimal | str] = []
        parsed: list[Decimal] = []
        for c, raw in zip(score_cols, raw_scores, strict=True):
            cell = f"{scoring_name}!{c}{r}"
            value, shown = _score(book, cell, raw, levels)
            scores.append(shown)
            parsed.append(value)
        key = (member_key(name), member_key(role_text))
        if key in seen:
            _bad(book, where, "one row per member and role", f"{name} / {role_text}",
                 f"the same member and role twice (first at {seen[key]})")  # fmt: skip
        seen[key] = where
        slots.append(len(rows))
        identity = read_identity(book, scoring_name, identity_cols, r)
        rows.append(ScoredRow(name, role_text, tuple(scores), grape_weight(parsed, criteria), where=where,
                              **identity))  # fmt: skip
    _appended(book, scoring_name, table, member_col)
    shown = book.layout.sheet(allocation_name).table.rows  # type: ignore[union-attr]
    hidden = next((i for i, slot in enumerate(slots) if slot is not None and i >= shown), None)
    if hidden is not None:
        row = table.first_row + hidden
        book.findings.append(Finding(
            "structure", scoring_name, f"{member_col}{row}", f"a member within the {shown} rows {allocation_name} shows",
            repr(rows[slots[hidden]].member), f"the {allocation_name} sheet shows the first {shown} Scoring rows: this "
            "member is not allocated; make the month again with more --rows",
        ))  # fmt: skip
    if budget is None or options is None:
        return None
    order = book.row_maps.get(allocation_name)
    return Month(
        template=book.template, month=_constant(names, "KatsheetMonth") or "", criteria=criteria, levels=levels,
        budget=budget, options=options, rows=tuple(rows), capacity=shown, slots=tuple(slots), subdao=subdao,
        order=tuple(order) if order else None, base_budget=_base_budget(names, tail),
    )  # fmt: skip


def row_member(book: Workbook, sheet: str, cell: str, scores: list[Any]) -> str | None:
    """A table row's member name as typed (spaces around kept off), or None for a blank row or a
    name the workbook cannot hold (reported); scores in a row without a name are reported too."""
    member = _input(book, sheet, cell)
    name = "" if member is None else str(member).strip(" ")
    where = f"{sheet}!{cell}"
    if not name.strip():
        if any(s not in (None, "") for s in scores):
            _bad(book, where, "a member name", member, "a row with scores has no member name")
        return None
    try:
        check_name(name, what="member name", where=where)
    except InputError as e:
        _bad(book, e.where, "a name without control characters, up to 100 characters", e.value, e.problem)
        return None
    return name


def read_identity(book: Workbook, sheet: str, columns: list[tuple[str, str, Any]], r: int) -> dict[str, str]:
    """A Scoring row's wallet and Discord id as text; a bad one is a finding at its cell that
    blocks settlement, not the numbers."""
    identity = {}
    for key, letter, problem_of in columns:
        raw = _input(book, sheet, f"{letter}{r}")
        text = "" if raw is None else (f"{raw:.0f}" if isinstance(raw, float) and raw.is_integer() else str(raw))
        problem = problem_of(text.strip()) if text.strip() else None
        if isinstance(raw, float):
            problem = problem or "is a number: type it as text (a spreadsheet keeps 15 digits of a number)"
        if problem:
            finding = Finding("bad-input", sheet, f"{letter}{r}", key.replace("_", " "), repr(raw),
                              f"the {key.replace('_', ' ')} {problem}: correct it (it blocks settlement, not the "
                              "numbers)")  # fmt: skip
            book.findings.append(finding)
            book.informational.append(finding)
        identity[key] = text
    return identity


def _base_budget(names: dict[str, str], tail: str, name: str = "KatsheetBaseBudget") -> Decimal | None:
    """The budget before carry-over that katsheet next recorded (None: the budget is the base)."""
    text = _constant(names, f"{name}{tail}")
    try:
        return Decimal(text) if text else None
    except ArithmeticError:
        return None


def _score(book: Workbook, cell: str, raw: Any, levels: dict[str, Decimal]) -> tuple[Decimal, Decimal | str]:
    """A score cell: (the value it means, what it shows). Blank is 0%; a level is its score."""
    if raw is None or raw == "":
        return Decimal(0), Decimal(0)
    if isinstance(raw, str):
        level = " ".join(raw.upper().split())
        if level in levels:
            return levels[level], level
        _bad(book, cell, "a number or a level", raw, TEXT_IN_NUMBER + " (or choose a level from the list)")
        return Decimal(0), Decimal(0)
    try:
        value = parse_score(raw, where=cell, levels=levels)
    except InputError as e:
        _bad(book, cell, "a score in [0, 1] or a level", raw, e.problem)
        return Decimal(0), Decimal(0)
    return value, value


def _appended(book: Workbook, sheet_name: str, table: Table, member_col: str) -> None:
    """Members typed below the table are not counted by the sheet's formulas: say so."""
    for (sheet, cell), value in book.formulas.items():
        if sheet != sheet_name or not cell.startswith(member_col):
            continue
        col, row = split_cell(cell)
        if col == member_col and row > table.last_row and str(value).strip():
            finding = Finding(
                "bad-input",
                sheet,
                cell,
                f"a member inside rows {table.first_row}-{table.last_row}",
                repr(value),
                "a member below the table is not counted: insert a row inside the table",
            )
            book.findings.append(finding)
            book.informational.append(finding)
