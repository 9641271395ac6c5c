"""The declarative description of a workbook: sheets, named parameter cells, member tables.

A layout says, once, where every cell is, what role it plays (required input, optional override,
computed), its formula, how it is formatted and validated, and which engine figure it shows. The
writer renders it; the reader finds inputs through it; the checker derives expected formulas and
values from it. Nothing here knows about GRAPE: the rules live in ``layouts/grape.py`` (and a KAT
layout will live beside it), the engine in ``katsheet/engine``.

Formulas of table columns are templates with placeholders, compiled once per column:

- ``{key}``: the cell of column ``key`` in the same row (``$C16``);
- ``{key.first}`` / ``{key.last}``: the column's first / last data cell, absolute (``$C$16``);
- ``{key.above}``: the cell of column ``key`` one row up (the header cell for the first row);
- ``{key.header}``: the column's header cell, absolute (``$F$15``);
- ``{Sheet!key}``: the cell of column ``key`` in the row with the same index of ``Sheet``'s table.

Parameters and whole columns are referred to by their defined names (``Budget``, ``Weights``), so
formulas read like the rules.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["input", "override", "computed", "label"]
#: Number formats by meaning; the writer maps them to Excel codes.
Format = Literal["amount", "percent", "weight", "count", "flag", "text", "ratio", "general", "date"]

#: A value function: what the engine says a cell holds (its cached value, the checker's expectation).
ParamValue = Callable[[Any], Any]
ColumnValue = Callable[[Any, int], Any]


@functools.cache
def col_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA. Cached: a check turns hundreds of thousands of cells into
    references over a few dozen columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@functools.cache
def col_index(letters: str) -> int:
    """A -> 0, Z -> 25, AA -> 26: the inverse of col_letter."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_CELL_REF = re.compile(r"\$?([A-Z]+)\$?(\d+)")


def split_cell(ref: str) -> tuple[str, int]:
    m = _CELL_REF.fullmatch(ref)
    if not m:
        raise ValueError(f"not a cell reference: {ref}")
    return m.group(1), int(m.group(2))


@dataclass(frozen=True)
class Validation:
    """Data validation of an input: ``kind`` is decimal, whole, list or custom."""

    kind: Literal["decimal", "whole", "list"]
    minimum: float | None = None
    maximum: float | None = None
    source: tuple[str, ...] | str = ()
    #: False: the dropdown is offered but other values are accepted (scores: number or level).
    strict: bool = True
    blank_ok: bool = True


@dataclass(frozen=True)
class Param:
    """A named single cell: an input, an override or a computed figure, with its label on the left."""

    name: str
    label: str
    cell: str
    role: Role
    fmt: Format
    value: ParamValue
    formula: str | None = None
    help: str = ""
    validation: Validation | None = None
    #: how many rounded amounts this figure adds up (its tolerance is that many units)
    spread: ParamValue | None = None
    #: False: the cell is part of a grid whose headers say what it is (no label on its left)
    labelled: bool = True
    #: (decimals, budget) its tolerance is measured in, when not the sheet's (an asset's figure)
    scale: ParamValue | None = None


@dataclass(frozen=True)
class Column:
    """A column of a member table. ``name`` defines a workbook name for its whole data range."""

    key: str
    header: str
    role: Role
    fmt: Format
    value: ColumnValue
    formula: str | None = None
    name: str | None = None
    help: str = ""
    validation: Validation | None = None
    width: float = 12
    #: how many rounded amounts the cell of row i adds up (its tolerance is that many units)
    spread: ColumnValue | None = None
    #: (decimals, budget) its tolerance is measured in, when not the sheet's (an asset's figure)
    scale: ParamValue | None = None


@dataclass(frozen=True)
class Table:
    """A member table: a header row, then ``rows`` data rows (members first, then spare rows)."""

    header_row: int
    rows: int
    columns: tuple[Column, ...]
    first_col: int = 0
    #: where each column actually is, when not side by side from first_col (a reader sets this for
    #: a workbook in which someone inserted a notes column)
    positions: tuple[int, ...] | None = None
    #: the first rows hold sealed records (a carried KAT ledger): their input cells are locked
    locked_rows: int = 0

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    @property
    def last_row(self) -> int:
        return self.header_row + self.rows

    def index(self, key: str) -> int:
        for i, c in enumerate(self.columns):
            if c.key == key:
                return self.positions[i] if self.positions else self.first_col + i
        raise KeyError(key)

    def letter(self, key: str) -> str:
        return col_letter(self.index(key))

    def range(self, key: str, sheet: str) -> str:
        c = self.letter(key)
        return f"{quote_sheet(sheet)}!${c}${self.first_row}:${c}${self.last_row}"

    @property
    def last_col(self) -> int:
        return max(self.positions) if self.positions else self.first_col + len(self.columns) - 1


@dataclass(frozen=True)
class Conditional:
    """Conditional formatting: ``formula`` is a row template applied to the columns ``keys``."""

    keys: tuple[str, ...]
    formula: str
    style: Literal["eligible", "cap", "bad"]


@dataclass(frozen=True)
class ParamConditional:
    """Conditional formatting on a parameter cell (e.g. the cap-engaged flag)."""

    param: str
    formula: str
    style: Literal["eligible", "cap", "bad"]


@dataclass(frozen=True)
class Chart:
    """A bar chart of ``values`` per ``categories`` of a table, anchored at ``anchor``.

    The table is the sheet's own unless ``source`` names another sheet (the allocation sheet
    charts the Members sheet: one bar per member, not per role row).
    """

    title: str
    categories: str
    values: str
    anchor: str
    #: how many table rows to plot, from the month (None: all rows)
    shown: ParamValue | None = None
    source: str | None = None


@dataclass(frozen=True)
class Printing:
    """How a sheet prints: pages wide, columns repeated on every page, how many table rows."""

    pages_wide: int = 1
    landscape: bool = True
    repeat_columns: str | None = None
    #: table rows to print, from the month (None: all); spare rows never print empty pages
    rows: ParamValue | None = None


@dataclass(frozen=True)
class Note:
    """Static text on a sheet (titles, guide lines). ``style``: title, heading, text, legend-*."""

    cell: str
    text: str
    style: str = "text"


@dataclass(frozen=True)
class Block:
    """A small fixed table of constants (a configuration's levels, rules, tiers): a title at
    ``anchor``, a header row below it, then ``rows`` rows. Each column with a ``name`` defines a
    workbook name for its cells (``RuleIds``), so formulas look the configuration up by name."""

    anchor: str
    title: str
    headers: tuple[str, ...]
    names: tuple[str | None, ...]
    formats: tuple[Format, ...]
    rows: int
    #: the rows' values, from the month (a list of tuples, one per row)
    values: Callable[[Any], list[tuple[Any, ...]]]

    def cell(self, row: int, column: int) -> tuple[int, int]:
        """0-based (row, column) of data row ``row`` and column ``column``."""
        c, r = split_cell(self.anchor)
        return r + 1 + row, col_index(c) + column


@dataclass(frozen=True)
class Sheet:
    name: str
    params: tuple[Param, ...] = ()
    table: Table | None = None
    notes: tuple[Note, ...] = ()
    conditionals: tuple[Conditional, ...] = ()
    param_conditionals: tuple[ParamConditional, ...] = ()
    chart: Chart | None = None
    freeze: str | None = None
    label_width: float = 30
    protect: bool = True
    #: extra defined names for fixed ranges of this sheet, e.g. ("LevelTable", "A4:B7")
    ranges: tuple[tuple[str, str], ...] = ()
    printing: Printing = field(default_factory=Printing)
    #: column widths for columns outside the table and the parameter block, e.g. (("A", 100),)
    widths: tuple[tuple[str, float], ...] = ()
    #: the SubDAO (part of the workbook) whose figures the sheet shows; None: the whole workbook
    part: int | None = None
    blocks: tuple[Block, ...] = ()
    #: a sheet people need not see (a settled month's sealed copy)
    hidden: bool = False

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True)
class WorkbookLayout:
    """All sheets of one template, plus the constant names that record what made the file."""

    template: str
    version: int
    sheets: tuple[Sheet, ...]
    constants: dict[str, str] = field(default_factory=dict)
    #: the file's title property, before the month
    title: str = "GRAPE emissions"
    #: a settled month (layouts/settled.py): no sheet lets rows be inserted, deleted or sorted
    settled: bool = False

    def sheet(self, name: str) -> Sheet:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)

    def defined_names(self) -> dict[str, str]:
        """Every defined name: parameters, named columns, constants (as ``="text"``)."""
        names: dict[str, str] = {}
        for s in self.sheets:
            for p in s.params:
                c, r = split_cell(p.cell)
                names[p.name] = f"{quote_sheet(s.name)}!${c}${r}"
            if s.table:
                for col in s.table.columns:
                    if col.name:
                        names[col.name] = s.table.range(col.key, s.name)
            for b in s.blocks:
                for j, name in enumerate(b.names):
                    if name:
                        (r1, c1), (r2, _) = b.cell(0, j), b.cell(max(b.rows, 1) - 1, j)
                        letter = col_letter(c1)
                        names[name] = f"{quote_sheet(s.name)}!${letter}${r1 + 1}:${letter}${r2 + 1}"
            for name, ref in s.ranges:
                start, end = ref.split(":")
                (c1, r1), (c2, r2) = split_cell(start), split_cell(end)
                names[name] = f"{quote_sheet(s.name)}!${c1}${r1}:${c2}${r2}"
        for name, text in self.constants.items():
            names[name] = '="' + text.replace('"', '""') + '"'
        return names


def escaped(cell: str) -> str:
    """A name as a MATCH key: its wildcards (* ? ~) escaped, so a name is only ever itself."""
    return f'SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({cell},"~","~~"),"*","~*"),"?","~?")'


def quote_sheet(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else "'" + name.replace("'", "''") + "'"


#: Marks a name that belongs to another part of the workbook (an earlier SubDAO's MemberNames):
#: ``scope_names`` leaves it as written.
FOREIGN = "\u00a4"
_STRING_OR_NAME = re.compile(r'"(?:[^"]|"")*"|(?<![\w.$!\'' + FOREIGN + r"])([A-Za-z_][A-Za-z0-9_]*)(?![\w(!.])")


def foreign(name: str) -> str:
    """``name`` as another part's name, kept as it is when a SubDAO's names get their suffix."""
    return FOREIGN + name


def scope_names(formula: str, names: set[str], suffix: str) -> str:
    """``formula`` with each of ``names`` (whole words, outside strings) given ``suffix``, and
    names marked ``foreign`` left as written.

    One template serves every SubDAO of a workbook: the second SubDAO's sheets use Budget_2,
    Weights_2, ... for the same formulas.
    """
    if suffix:

        def sub(m: re.Match[str]) -> str:
            word = m.group(1)
            return word + suffix if word is not None and word in names else m.group(0)

        formula = _STRING_OR_NAME.sub(sub, formula)
    return formula.replace(FOREIGN, "")


_PLACEHOLDER = re.compile(r"\{(?:([A-Za-z_][A-Za-z0-9_ ]*)!)?([a-z_0-9]+)(?:\.(first|last|above|header))?\}")


def compile_row_formula(template: str, sheet: Sheet, layout: WorkbookLayout) -> Callable[[int], str]:
    """A function from a data-row index (0-based) to the formula of that row, placeholders resolved.

    The template is parsed once: a formula whose row references all carry the row's own number
    (most: another table starting on the same row counts as such) is its text pieces joined by
    that number, four times quicker than ``str.format`` over 200,000 cells a check; any other is a
    ``str.format`` pattern, one field per distinct row offset.
    """
    first, texts, pattern, offsets = row_formula_parts(template, sheet, layout)
    if not offsets:
        return lambda i: str(first + i).join(texts)
    return lambda i: pattern.format(r=first + i, **{k: base + i for k, base in offsets.items()})


def row_formula_parts(
    template: str, sheet: Sheet, layout: WorkbookLayout
) -> tuple[int, list[str], str, dict[str, int]]:
    """A row formula parsed: the table's first row; the literal texts between the fields of the
    row's own number; the whole as a ``str.format`` pattern (field ``r``: the row's number); and
    the other fields' first rows (a row above, a table starting elsewhere)."""
    table = sheet.table
    assert table is not None
    first = table.first_row
    offsets: dict[str, int] = {}  # format field -> row offset from this table's first row
    texts: list[str] = []  # the literal text around each row field, unescaped
    pieces: list[str] = []  # the same as a format pattern
    current = ""

    def row_field(base: int) -> None:
        nonlocal current
        field_name = "r" if base == first else f"x{len(offsets)}"
        if field_name != "r":
            offsets[field_name] = base
        texts.append(current)
        current = ""
        pieces.append(f"{{{field_name}}}")

    def literal(text: str) -> None:
        nonlocal current
        current += text
        pieces.append(text.replace("{", "{{").replace("}", "}}"))

    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        literal(template[pos : m.start()])
        pos = m.end()
        other, key, where = m.groups()
        if other:
            target = layout.sheet(other).table
            assert target is not None
            literal(f"{quote_sheet(other)}!${target.letter(key)}")
            row_field(target.first_row)
        elif where == "first":
            literal(f"${table.letter(key)}${table.first_row}")
        elif where == "header":
            literal(f"${table.letter(key)}${table.header_row}")
        elif where == "last":
            literal(f"${table.letter(key)}${table.last_row}")
        elif where == "above":
            literal(f"${table.letter(key)}")
            row_field(first - 1)
        else:
            literal(f"${table.letter(key)}")
            row_field(first)
    literal(template[pos:])
    texts.append(current)
    return first, texts, "".join(pieces), offsets
