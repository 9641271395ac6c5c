"""Render a WorkbookLayout to .xlsx with XlsxWriter: formulas with their cached values.

XlsxWriter writes a formula and its computed value together (openpyxl cannot), so previews,
Google Sheets import and pandas see the engine's numbers before anyone opens Excel. Text from
users goes through ``write_string`` only, and text input columns carry the Text number format,
so a name such as ``=HYPERLINK(...)`` stays a name.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.packager
import xlsxwriter.workbook
from xlsxwriter.format import Format as XlsxFormat
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellFormulaTuple, CellNumberTuple, CellStringTuple, Worksheet, re_dynamic_function

from .. import __version__
from ..engine.dates import EXCEL_EPOCH
from ..layouts.model import (
    Column,
    Param,
    Sheet,
    Validation,
    WorkbookLayout,
    col_index,
    compile_row_formula,
    row_formula_parts,
    split_cell,
)

YELLOW = "#FFF2CC"
PURPLE = "#E4DFEC"
GREEN = "#C6EFCE"
ORANGE = "#F8CBAD"
RED = "#FFC7CE"
HEADER = "#D9D9D9"
FILLS = {"input": YELLOW, "override": PURPLE}
CONDITIONAL_FILLS = {"eligible": GREEN, "cap": ORANGE, "bad": RED}
LEGEND_FILLS = {"legend-input": YELLOW, "legend-override": PURPLE, "legend-eligible": GREEN, "legend-cap": ORANGE}

#: Width of a parameter's value column: room for the largest budget a workbook holds
#: (10^13 units: 9,999,999,999,999 at 0 decimals, 9,999,999.999999 at 6).
PARAM_WIDTH = 19
#: A fixed creation date keeps regenerated templates identical to the shipped ones.
FIXED_CREATED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def number_format(fmt: str, decimals: int) -> str | None:
    return {
        "amount": "#,##0" + ("." + "0" * decimals if decimals else ""),
        "percent": "0.00%",
        "weight": "0.00##%",
        "count": "0",
        "ratio": "0.000000",
        "text": "@",
        # LibreOffice shows a formula's TRUE as 1 unless the format says otherwise
        "flag": '"TRUE";"TRUE";"FALSE"',
        # a date; 0 (no date: MAXIFS of nothing) shows blank
        "date": "yyyy-mm-dd;;",
    }.get(fmt)


class Styles:
    """XlsxWriter formats, made once per (role, number format) and reused."""

    def __init__(self, workbook: xlsxwriter.Workbook, decimals: int) -> None:
        self.workbook = workbook
        self.decimals = decimals
        self._cache: dict[tuple, XlsxFormat] = {}

    def get(self, role: str, fmt: str = "general", **extra: Any) -> XlsxFormat:
        key = (role, fmt, tuple(sorted(extra.items())))
        if key not in self._cache:
            props: dict[str, Any] = {"font_name": "Calibri", "font_size": 11, **extra}
            code = number_format(fmt, self.decimals)
            if code:
                props["num_format"] = code
            if role in FILLS:
                props.update(bg_color=FILLS[role], locked=False, border=1, border_color="#BFBFBF")
            elif role in LEGEND_FILLS:
                props.update(bg_color=LEGEND_FILLS[role])
            elif role == "header":
                props.update(bold=True, bg_color=HEADER, bottom=1, text_wrap=True, valign="top")
            elif role == "title":
                props.update(bold=True, font_size=14)
            elif role == "heading":
                props.update(bold=True)
            elif role in CONDITIONAL_FILLS:
                props = {"bg_color": CONDITIONAL_FILLS[role]}
            made = self._cache[key] = self.workbook.add_format(props)
            if role not in CONDITIONAL_FILLS:
                # numbered as made, not when XlsxWriter first writes a cell of it: a table's cells
                # are rendered column by column before the file is closed (SheetWriter._raw_column)
                made._get_xf_index()
        return self._cache[key]


#: the types a cell takes as they are (tested first: Fraction's isinstance goes through ABCMeta)
_AS_THEY_ARE = frozenset((str, int, float, bool, type(None)))


def _cell_value(value: Any) -> Any:
    if type(value) in _AS_THEY_ARE:
        return value
    if isinstance(value, (Decimal, Fraction)):
        return float(value)
    if isinstance(value, date):
        return (value - EXCEL_EPOCH).days
    return value


def _write_value(ws: Worksheet, row: int, col: int, value: Any, fmt: XlsxFormat) -> None:
    """A constant (input) cell. Strings are always written as strings, never parsed."""
    value = _cell_value(value)
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _validation(v: Validation, help_text: str, title: str) -> dict[str, Any]:
    options: dict[str, Any] = {"ignore_blank": v.blank_ok}
    if v.kind == "list":
        # a tuple lists the choices; a string is a range (=RuleIds)
        options.update(validate="list", source=v.source if isinstance(v.source, str) else list(v.source))
    else:
        options["validate"] = v.kind
        if v.minimum is not None and v.maximum is not None:
            options.update(criteria="between", minimum=v.minimum, maximum=v.maximum)
        elif v.minimum is not None:
            options.update(criteria=">=", value=v.minimum)
        else:
            options.update(criteria="<=", value=v.maximum)
    if not v.strict:
        options["show_error"] = False
    else:
        options.update(error_title="Not allowed here", error_message=help_text[:255] or "See the input message.")
    if help_text:
        options.update(input_title=title[:32], input_message=help_text[:255])
    return options


class SheetWriter:
    """Writes one sheet of a layout: notes, parameter cells, the table, validation, chart."""

    def __init__(
        self, workbook: xlsxwriter.Workbook, sheet: Sheet, layout: WorkbookLayout, month: Any, styles: Styles
    ) -> None:
        self.workbook, self.sheet, self.layout, self.month, self.styles = workbook, sheet, layout, month, styles
        self.ws: Worksheet = workbook.add_worksheet(sheet.name, worksheet_class=LeanWorksheet)
        fast_formulas(self.ws)

    def write(self) -> None:
        for letter, width in self.sheet.widths:
            c = col_index(letter)
            self.ws.set_column(c, c, width)
        self._notes()
        self._params()
        self._blocks()
        if self.sheet.table:
            self._table()
        self._chart()
        if self.sheet.freeze:
            self.ws.freeze_panes(self.sheet.freeze)
        self._print_setup()
        if self.sheet.protect:
            edits = not self.layout.settled  # a settled month's rows stay where they were sealed
            self.ws.protect(
                "",
                {
                    "insert_rows": edits,
                    "delete_rows": edits,
                    "sort": edits,
                    "autofilter": True,
                    "format_columns": True,
                    "format_rows": True,
                },
            )
        if self.sheet.hidden:
            self.ws.hide()

    def _print_setup(self) -> None:
        """A month prints (or PDFs) readably: A4, as many pages wide as the sheet needs to stay
        legible, the table header (and the member's name) on every page, and only the rows that
        hold members: a hundred spare rows would print as empty pages."""
        printing = self.sheet.printing
        if printing.landscape:
            self.ws.set_landscape()
        else:
            self.ws.set_portrait()
        self.ws.set_paper(9)  # A4
        self.ws.fit_to_pages(printing.pages_wide, 0)
        self.ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        self.ws.set_footer("&L&A&RPage &P of &N")
        table = self.sheet.table
        if table:
            self.ws.repeat_rows(table.header_row - 1)
            if printing.repeat_columns:
                self.ws.repeat_columns(printing.repeat_columns)
            shown = table.rows if printing.rows is None else max(1, min(table.rows, printing.rows(self.month)))
            self.ws.print_area(0, 0, table.header_row - 1 + shown, table.last_col)

    def _notes(self) -> None:
        styles: dict[str, XlsxFormat] = {}
        write = self.ws.write_string
        for note in self.sheet.notes:  # a settled month's Sealed sheet: 22,000 notes
            col, row = split_cell(note.cell)
            fmt = styles.get(note.style)
            if fmt is None:
                fmt = styles[note.style] = self.styles.get(note.style)
            write(row - 1, col_index(col), note.text, fmt)

    def _blocks(self) -> None:
        header = self.styles.get("header")
        for b in self.sheet.blocks:
            c, r = split_cell(b.anchor)
            self.ws.write_string(r - 1, col_index(c), b.title, self.styles.get("heading"))
            for j, text in enumerate(b.headers):
                self.ws.write_string(r, col_index(c) + j, text, header)
            for i, values in enumerate(b.values(self.month)):
                for j, value in enumerate(values):
                    row, col = b.cell(i, j)
                    _write_value(self.ws, row, col, value, self.styles.get("label", b.formats[j]))

    def _params(self) -> None:
        for p in self.sheet.params:
            col, row = split_cell(p.cell)
            c = col_index(col)
            if p.labelled:
                self.ws.write_string(row - 1, c - 1, p.label, self.styles.get("label"))
            self._param_cell(p, row - 1, c)
        for c in self._label_cols():
            self.ws.set_column(c, c, self.sheet.label_width)

    def _param_cell(self, p: Param, row: int, col: int) -> None:
        fmt = self.styles.get(p.role, p.fmt)
        value = p.value(self.month)
        if p.formula:
            self.ws.write_formula(row, col, p.formula, fmt, _cell_value(value))
        else:
            _write_value(self.ws, row, col, value, fmt)
        if p.validation:
            self.ws.data_validation(row, col, row, col, _validation(p.validation, p.help, p.label))
        for pc in self.sheet.param_conditionals:
            if pc.param == p.name:
                self.ws.conditional_format(
                    row, col, row, col, {"type": "formula", "criteria": pc.formula, "format": self.styles.get(pc.style)}
                )

    def _table(self) -> None:
        table = self.sheet.table
        assert table is not None
        header = self.styles.get("header")
        self.ws.set_row(table.header_row - 1, 30)
        first, last = table.first_row - 1, table.last_row - 1
        label_cols, value_cols = self._label_cols(), {c + 1 for c in self._label_cols()}
        raw = self._raw_table_possible()
        rendered: list[tuple[int, list[str]]] = []  # each column's cells as XML, when raw
        for col in table.columns:
            c = table.index(col.key)
            if c not in label_cols:
                self.ws.set_column(c, c, max(col.width, PARAM_WIDTH) if c in value_cols else col.width)
            self.ws.write_string(table.header_row - 1, c, col.header, header)
            if raw:
                rendered.append((c, self._raw_column(col, c, first, table.rows)))
            else:
                self._column(col, c, first, table.rows)
            if col.validation:
                self.ws.data_validation(first, c, last, c, _validation(col.validation, col.help, col.header))
            elif col.help and col.role in ("input", "override"):
                self.ws.data_validation(
                    first, c, last, c,
                    {"validate": "any", "input_title": col.header[:32], "input_message": col.help[:255]},
                )  # fmt: skip
        if rendered:
            self.ws.put_raw_rows(first, rendered)
        for cond in self.sheet.conditionals:
            rule = compile_row_formula(cond.formula, self.sheet, self.layout)(0)
            for start, end in _runs(sorted(table.index(k) for k in cond.keys)):
                self.ws.conditional_format(
                    first, start, last, end,
                    {"type": "formula", "criteria": rule, "format": self.styles.get(cond.style)},
                )  # fmt: skip

    def _raw_table_possible(self) -> bool:
        """Can the table's rows be rendered as XML here, a column at a time (LeanWorksheet)? Not
        when a formula needs XlsxWriter's expansion (an array, a newer function), or when a row
        of the table already holds a cell (a note beside it): XlsxWriter writes those."""
        table, ws = self.sheet.table, self.ws
        assert table is not None
        if not isinstance(ws, LeanWorksheet) or not LeanWorksheet.raw_tables or not table.rows:
            return False
        first = table.first_row - 1
        if any(ws.table.get(first + i) for i in range(table.rows)):
            return False
        return all(
            _plain_formula(compile_row_formula(col.formula, self.sheet, self.layout)(0))
            for col in table.columns
            if col.formula
        )

    def _raw_column(self, col: Column, c: int, first: int, rows: int) -> list[str]:
        """The column's cells as XlsxWriter's cell loop writes them (tested equal, part by part),
        rendered in one pass: 10,000 rows x 30 columns went through a call, a tuple and a type
        test each, twice (when stored, and when written)."""
        ws, month = self.ws, self.month
        fmt = self.styles.get(col.role, col.fmt)
        letter = xl_col_to_name(c)
        heads = [f'<c r="{letter}{first + 1 + i}" s=' for i in range(rows)]
        values = [_cell_value(col.value(month, i)) for i in range(rows)]
        if col.formula:
            escape = ws._escape_data
            start, texts, _, offsets = row_formula_parts(col.formula, self.sheet, self.layout)
            if offsets:
                render = compile_row_formula(col.formula, self.sheet, self.layout)
                formulas = [escape(render(i)[1:]) for i in range(rows)]
            else:  # escaping is character by character: the pieces once, joined by each row's number
                pieces = [escape(t) for t in texts]
                pieces[0] = pieces[0][1:]  # the leading =
                formulas = [str(start + i).join(pieces) for i in range(rows)]
            xf = f'"{fmt._get_xf_index()}"'
            ws.raw_data[c] = (first, True, values)
            return [_formula_xml(h + xf, f, v, escape) for h, f, v in zip(heads, formulas, values, strict=True)]
        table = self.sheet.table
        sealed = table.locked_rows if table is not None and col.role in ("input", "override") else 0
        locked = self.styles.get("label", col.fmt)  # made where _column makes it: formats are numbered as made
        xf, locked_xf = f'"{fmt._get_xf_index()}"', f'"{locked._get_xf_index()}"'
        ws.raw_data[c] = (first, False, values)
        return [
            ws.value_xml(first + i, c, h + (locked_xf if i < sealed else xf), v)
            for i, (h, v) in enumerate(zip(heads, values, strict=True))
        ]

    def _label_cols(self) -> set[int]:
        return {col_index(split_cell(p.cell)[0]) - 1 for p in self.sheet.params if p.labelled}

    def _column(self, col: Column, c: int, first: int, rows: int) -> None:
        fmt = self.styles.get(col.role, col.fmt)
        ws, month = self.ws, self.month
        if col.formula:
            render = compile_row_formula(col.formula, self.sheet, self.layout)
            if rows and _plain_formula(render(0)):
                # The rows differ in their row numbers only: what XlsxWriter's write_formula would
                # store for each (it searches every formula for newer functions; 10,000 rows x 20
                # columns made that a third of `katsheet new`). Tested equal, part by part.
                ws._check_dimensions(first, c)
                if ws._check_dimensions(first + rows - 1, c):
                    raise ValueError(f"column {col.key} runs past the sheet's last row")
                table = ws.table
                for i in range(rows):
                    table[first + i][c] = CellFormulaTuple(render(i)[1:], fmt, _cell_value(col.value(month, i)))
                return
            for i in range(rows):
                ws.write_formula(first + i, c, render(i), fmt, _cell_value(col.value(month, i)))
        else:
            table = self.sheet.table
            sealed = table.locked_rows if table is not None and col.role in ("input", "override") else 0
            locked = self.styles.get("label", col.fmt)
            for i in range(rows):
                _write_value(ws, first + i, c, col.value(month, i), locked if i < sealed else fmt)

    def _chart(self) -> None:
        spec = self.sheet.chart
        source = self.layout.sheet(spec.source) if spec is not None and spec.source else self.sheet
        table = source.table
        if spec is None or table is None:
            return
        chart = self.workbook.add_chart({"type": "bar"})
        shown = max(1, min(table.rows, spec.shown(self.month))) if spec.shown else table.rows
        first, last = table.first_row - 1, table.first_row - 2 + shown
        categories, values = table.index(spec.categories), table.index(spec.values)
        chart.add_series(
            {
                "name": spec.title,
                "categories": [source.name, first, categories, last, categories],
                "values": [source.name, first, values, last, values],
                "fill": {"color": "#5B9BD5"},
            }
        )
        chart.set_title({"name": spec.title})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        chart.set_size({"width": 640, "height": 420})
        self.ws.insert_chart(spec.anchor, chart)


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """[1,2,3,5] -> [(1,3),(5,5)]: contiguous column runs, one conditional format each."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def write_workbook(layout: WorkbookLayout, month: Any, path: Path, *, decimals: int) -> None:
    """Write ``layout`` filled with ``month`` to ``path`` (for scripts and tests: `katsheet new`
    publishes ``workbook_bytes`` atomically instead)."""
    Path(path).write_bytes(workbook_bytes(layout, month, decimals=decimals))


#: The functions XlsxWriter rewrites to their _xlfn. names in every formula (its dynamic-array list).
_DYNAMIC = re.compile(
    r"\b(?:ANCHORARRAY|BYCOL|BYROW|CHOOSECOLS|CHOOSEROWS|DROP|EXPAND|FILTER|HSTACK|LAMBDA|MAKEARRAY|MAP|RANDARRAY|"
    r"REDUCE|SCAN|SEQUENCE|SORT|SORTBY|SWITCH|TAKE|TEXTSPLIT|TOCOL|TOROW|UNIQUE|VSTACK|WRAPCOLS|WRAPROWS|XLOOKUP)\("
    r"|SINGLE\("
)


def _plain_formula(formula: str) -> bool:
    """A formula XlsxWriter writes as it is, its leading = removed (no array, no newer function)."""
    return (formula.startswith("=") and not formula.endswith("}") and not _DYNAMIC.search(formula)
            and not re_dynamic_function.search(formula))  # fmt: skip


def fast_formulas(worksheet: Worksheet) -> None:
    """XlsxWriter runs about thirty regular expressions over every formula to expand newer
    function names (0.3 ms a formula: minutes for a month of 10,000 rows). None of ours needs it,
    so one search decides: a formula naming none of them is written as XlsxWriter would write it
    (its leading = removed), any other goes through XlsxWriter's own expansion. Tested equal on
    every formula of the shipped templates."""
    original = worksheet._prepare_formula

    def prepare(formula: str, expand_future_functions: bool = False) -> str:
        if _plain_formula(formula):
            return formula[1:]
        return original(formula, expand_future_functions)

    worksheet._prepare_formula = prepare  # type: ignore[method-assign]


#: the error values XlsxWriter marks t="e" in a formula's cached value
_ERROR_VALUES = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"))


def _formula_xml(head: str, formula: str, value: Any, escape: Callable[[Any], Any]) -> str:
    """A formula cell as XlsxWriter writes it: ``head`` is ``<c r="A1" s="3"``, ``formula`` is
    escaped (its leading = removed), ``value`` the cached value."""
    if isinstance(value, bool):
        head, value = head + ' t="b"', 1 if value else 0
    elif isinstance(value, str):
        if value:
            head += ' t="e"' if value in _ERROR_VALUES else ' t="str"'
        value = escape(value)  # (XlsxWriter's escaping gives anything else back as it is, by an exception)
    return f"{head}><f>{formula}</f><v>{value}</v></c>"


class LeanWorksheet(Worksheet):
    """XlsxWriter's worksheet with its innermost loop made lean for the cells katsheet writes: a
    number, a shared string or a formula, each with its cell format, is written as one string
    instead of through an attribute list, a class-name test and an escaping call per attribute
    (a third of `katsheet new` for a 10,000-row KAT month). Every other cell goes to XlsxWriter.

    A layout's table comes as whole rows of XML (``put_raw_rows``), rendered a column at a time
    by SheetWriter; the rows are written in their place among XlsxWriter's own. The same bytes:
    tests/test_kat_workbook.py writes the samples both ways, part by part."""

    #: False: tables are written cell by cell, as XlsxWriter stores them (the tests' reference)
    raw_tables = True

    def __init__(self) -> None:
        super().__init__()
        #: 0-based row -> (first column, last column, the row's cells as XML)
        self.raw_rows: dict[int, tuple[int, int, str]] = {}
        #: column -> (its first row, formulas or constants, each row's value): what charts cache
        self.raw_data: dict[int, tuple[int, bool, list[Any]]] = {}
        #: (row, column) -> shared string index of a text XlsxWriter truncated
        self.raw_long: dict[tuple[int, int], int] = {}

    def put_raw_rows(self, first: int, columns: list[tuple[int, list[str]]]) -> None:
        """Rows ``first``, ``first + 1``, ... of the given columns' cells (each column: its index
        and one XML string per row), in column order."""
        columns = sorted(columns, key=lambda item: item[0])
        lo, hi = columns[0][0], columns[-1][0]
        rows = len(columns[0][1])
        if self._check_dimensions(first, lo) or self._check_dimensions(first + rows - 1, hi):
            raise ValueError(f"a table runs past the sheet's last row ({first + rows})")
        for i, xml in enumerate(map("".join, zip(*(cells for _, cells in columns), strict=True))):
            self.raw_rows[first + i] = (lo, hi, xml)

    def value_xml(self, row: int, col: int, head: str, value: Any) -> str:
        """A constant cell as XlsxWriter writes it (``_write_value``'s kinds): ``head`` is
        ``<c r="A1" s="3"``. A text goes into the shared strings as write_string puts it."""
        if value is None or value == "":
            return head + "/>"
        if isinstance(value, bool):
            return f'{head} t="b"><v>{1 if value else 0}</v></c>'
        if isinstance(value, (int, float)):
            if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
                self.write_number(row, col, value)  # XlsxWriter's own refusal
            return f"{head}><v>{value:.16G}</v></c>"
        text = str(value)
        if len(text) > self.xls_strmax // 2:  # maybe too long: XlsxWriter's own truncation
            self._write_string(row, col, text)
            index = self.raw_long[(row, col)] = self.table[row].pop(col).string
        else:
            index = self.str_table._get_shared_string_index(text)
        return f'{head} t="s"><v>{index}</v></c>'

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        fmt, kind = cell.format, type(cell)
        if not fmt or self.constant_memory or kind not in (CellFormulaTuple, CellNumberTuple, CellStringTuple):
            super()._write_cell(row, col, cell)
            return
        head = f'<c r="{xl_rowcol_to_cell_fast(row, col)}" s="{fmt._get_xf_index()}"'
        if kind is CellNumberTuple:
            self.fh.write(f"{head}><v>{cell.number:.16G}</v></c>")
        elif kind is CellStringTuple:  # the shared string's index
            self.fh.write(f'{head} t="s"><v>{cell.string}</v></c>')
        else:
            escape = self._escape_data  # XlsxWriter's own escaping of an element's text
            self.fh.write(_formula_xml(head, escape(cell.formula), cell.value, escape))

    def _get_range_data(self, row_start: int, col_start: int, row_end: int, col_end: int) -> list[Any]:
        """What a chart caches of a range (XlsxWriter's _get_range_data), raw rows included."""
        if not self.raw_rows:
            return super()._get_range_data(row_start, col_start, row_end, col_end)
        data: list[Any] = []
        for row in range(row_start, row_end + 1):
            if row not in self.raw_rows:
                data += super()._get_range_data(row, col_start, row, col_end)
                continue
            for col in range(col_start, col_end + 1):
                if col not in self.raw_data:
                    data.append(None)
                    continue
                first, formula, values = self.raw_data[col]
                value = values[row - first]
                if formula:
                    data.append(0 if value is None else value)
                elif value is None or value == "":
                    data.append("")
                elif isinstance(value, bool):
                    continue  # XlsxWriter gives nothing for a boolean cell
                elif isinstance(value, (int, float)):
                    data.append(f"{value:.16g}")
                else:
                    index = self.raw_long.get((row, col))
                    text = str(value)
                    data.append(text if index is None else self.str_table._get_shared_string(index))
        return data

    def _calculate_spans(self) -> None:
        """XlsxWriter's spans (the columns used in each block of 16 rows), raw rows included."""
        if not self.raw_rows:
            super()._calculate_spans()
            return
        spans: dict[int, str] = {}
        span_min = span_max = None
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            used = []
            for cells in (self.table.get(row_num), self.comments.get(row_num)):
                if cells:
                    used += [min(cells), max(cells)]
            if row_num in self.raw_rows:
                used += self.raw_rows[row_num][:2]
            if used:
                span_min = min(used) if span_min is None else min(span_min, *used)
                span_max = max(used) if span_max is None else max(span_max, *used)
            if ((row_num + 1) % 16 == 0 or row_num == self.dim_rowmax) and span_min is not None:
                spans[row_num // 16] = f"{span_min + 1}:{span_max + 1}"
                span_min = span_max = None
        self.row_spans = spans

    def _write_rows(self) -> None:
        """XlsxWriter's row loop (worksheet._write_rows), a raw row written as it came."""
        if not self.raw_rows:
            super()._write_rows()
            return
        self._calculate_spans()
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            span = self.row_spans.get(row_num // 16)
            info = self.row_info.get(row_num)
            if row_num in self.raw_rows:
                if self.table.get(row_num) or row_num in self.comments:
                    raise AssertionError(f"row {row_num + 1} holds a table's rendered row and other cells")
                self._write_row(row_num, span, info)
                self.fh.write(self.raw_rows[row_num][2])
                self._xml_end_tag("row")
            elif self.table.get(row_num):
                self._write_row(row_num, span, info)
                cells = self.table[row_num]
                for col_num in range(self.dim_colmin, self.dim_colmax + 1):
                    if col_num in cells:
                        self._write_cell(row_num, col_num, cells[col_num])
                self._xml_end_tag("row")
            elif info is not None or row_num in self.comments:
                self._write_empty_row(row_num, span, info)


#: a control character or a non-character, which XlsxWriter writes as ``_xHHHH_``
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def _needs_care(text: str) -> bool:
    """Does XlsxWriter change ``text`` as it writes it into the shared strings (an ``_xHHHH_``
    look-alike or a control character escaped, leading or trailing white space preserved, rich
    text)? Told by string methods: a regular expression scanned each sealed row's JSON twice."""
    return (
        "_x" in text
        or text.startswith("<r>")
        or text[:1].isspace()
        or text[-1:].isspace()
        or (not text.isprintable() and _CONTROL.search(text) is not None)
    )


class LeanSharedStrings(SharedStrings):
    """XlsxWriter's shared strings part with a plain text only XML-escaped, instead of going
    through two substitutions, two white-space searches and an attribute list (52,000 texts in a
    settled 10,000-row KAT month). The same bytes: tests/test_kat_workbook.py."""

    def _write_sst_strings(self) -> None:
        plain: list[str] = []
        for text in self.string_table.string_array:
            if _needs_care(text):
                self.fh.write("".join(plain))
                plain.clear()
                self._write_si(text)  # XlsxWriter's own
            else:
                plain.append(f"<si><t>{text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</t></si>")
        self.fh.write("".join(plain))


#: zlib's fastest level for the parts of the files we write: a 10,000-row KAT month's 41 MB of XML
#: deflate in 0.34 s instead of 1.13 s at the default level 6, for a file of 6.3 MB instead of 4.4
#: (docs/decisions.md, "Files deflated at level 1"). Reading them back inflates as fast.
DEFLATE_LEVEL = 1
_DEFLATE_LOCK = threading.Lock()


class _QuickZip(zipfile.ZipFile):
    """The zip XlsxWriter writes into, deflating at DEFLATE_LEVEL (XlsxWriter has no option for
    it: it passes each part as a ZipInfo, which carries no level, so the default would apply)."""

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: Any = None, compresslevel: Any = None) -> None:
        super().writestr(
            zinfo_or_arcname, data, compress_type, DEFLATE_LEVEL if compresslevel is None else compresslevel
        )


@contextlib.contextmanager
def _quick_zip() -> Iterator[None]:
    """XlsxWriter's ZipFile and shared strings part are ours while katsheet closes a workbook, and
    only then (another user of XlsxWriter in the same process, pandas for one, keeps its own)."""
    with _DEFLATE_LOCK:
        xlsxwriter.workbook.ZipFile = _QuickZip  # type: ignore[attr-defined,misc]
        xlsxwriter.packager.SharedStrings = LeanSharedStrings  # type: ignore[misc]
        try:
            yield
        finally:
            xlsxwriter.workbook.ZipFile = zipfile.ZipFile  # type: ignore[attr-defined,misc]
            xlsxwriter.packager.SharedStrings = SharedStrings  # type: ignore[misc]


def workbook_bytes(layout: WorkbookLayout, month: Any, *, decimals: int) -> bytes:
    """``layout`` filled with ``month``, as the bytes of an .xlsx file (rendered in memory)."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "in_memory": True,
        },
    )
    workbook.set_properties(
        {
            "title": f"{layout.title} {layout.constants.get('KatsheetMonth', '')}".strip(),
            "subject": layout.template,
            "author": "katsheet",
            "company": "katsheet",
            "comments": f"Generated by katsheet {__version__}; layout version {layout.version}.",
            "created": FIXED_CREATED,
        }
    )
    for name, value in layout.constants.items():
        workbook.set_custom_property(name, value)
    for name, ref in layout.defined_names().items():
        workbook.define_name(name, ref if ref.startswith("=") else "=" + ref)
    styles = Styles(workbook, decimals)
    for sheet in layout.sheets:
        SheetWriter(workbook, sheet, layout, month, styles).write()
    with _quick_zip():
        workbook.close()
    return buffer.getvalue()
