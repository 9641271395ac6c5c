"""Reading an .xlsx in one pass: every cell's formula and stored value, the defined names.

openpyxl reads a workbook's formulas or its stored values, not both; reading it twice took ten of
the twenty-four seconds a 10,000-member check needed. Here each worksheet's XML is streamed once
through expat, and every cell gives both views:

- ``formulas``: the formula text (``=...``, as openpyxl gives it) or, for a plain cell, its value;
- ``cached``: the value the file stores (for a formula, what the program that saved it computed).

Values are typed as openpyxl types them (shared and inline strings, numbers as int or float,
TRUE/FALSE, error texts such as ``#N/A``), except that a number is always a number (openpyxl turns
date-formatted numbers into datetimes; the sheet's formulas compute with the number). Shared
formulas (Excel writes a column as one) are expanded with openpyxl's Translator, array formulas
give their text. XML that declares entities is refused, as defusedxml refuses it; the zip itself
was vetted by safe_open before this runs.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from ..layouts.model import col_index, col_letter
from .safe_open import MAX_CELLS, MAX_COLUMNS, MAX_ROWS

Cells = dict[tuple[str, str], Any]
_CELL = re.compile(r"([A-Z]{1,3})(\d+)")
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class Refused(ValueError):
    """A file katsheet will not read; the text is the one line a user sees."""


class EntitiesRefused(Refused):
    """The XML declares entities (billion laughs, external entities): never followed."""


@dataclass
class RawBook:
    """What a workbook holds, as katsheet reads it."""

    sheetnames: list[str]
    names: dict[str, str]
    formulas: Cells = field(default_factory=dict)
    cached: Cells = field(default_factory=dict)
    formula_keys: set[tuple[str, str]] = field(default_factory=set)
    count: int = 0  # cells met so far, empty ones included
    #: cell reference -> (0-based column, row), as read: the evaluator need not split them again
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)


def _local(tag: str) -> str:
    """``x:c`` or ``{namespace}c`` -> ``c``."""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _parser() -> Any:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16

    def refuse(*_: Any) -> None:
        raise EntitiesRefused("cannot be read as a workbook (its XML declares entities, a known attack; refused)")

    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _parse(data: bytes, start: Any, end: Any = None, text: Any = None) -> None:
    parser = _parser()
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    parser.Parse(data, True)


def _attr(attrs: dict[str, str], name: str) -> str | None:
    for key, value in attrs.items():
        if _local(key) == name:
            return value
    return None


def _shared_strings(data: bytes) -> list[str]:
    """Each <si>'s text: its <t> runs joined, phonetic runs (<rPh>) left out, as Excel shows it."""
    try:
        return _plain_strings(data)
    except _Slow:
        return _strings_by_expat(data)


def _plain_strings(data: bytes) -> list[str]:
    """The strings of a table of the plain shape katsheet, XlsxWriter and LibreOffice write (one
    <t> per <si>), read with one regular expression: 0.03 s instead of 0.25 s for the 50,000
    strings of a settled 10,000-row month. _Slow for any other shape (rich text, phonetic runs,
    comments, character references): expat reads it, and refuses what it refuses."""
    text = _plain_text(data)
    head = _SST_HEAD.search(text)
    end = text.rfind("</sst>")
    if (
        head is None
        or text[text.find("?>") + 2 : head.start()].strip()
        or end < head.end()
        or text[end + len("</sst>") :].strip()
    ):
        raise _Slow
    if not _PLAIN_STRINGS.fullmatch(text, head.end(), end):
        raise _Slow
    return [_unescape(t) for t in _PLAIN_STRING.findall(text, head.end(), end)]


def _plain_text(data: bytes) -> str:
    """A part's XML as text, when the fast paths may read it with regular expressions: UTF-8, and
    nothing whose meaning only an XML parser knows (a declaration or CDATA, a character reference,
    a carriage return expat would fold). _Slow otherwise."""
    if b"<!" in data or b"\r" in data or b"&#" in data or not data.startswith(b'<?xml version="1.0" encoding="UTF-8"'):
        raise _Slow
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Slow from None


def _strings_by_expat(data: bytes) -> list[str]:
    out: list[str] = []
    parts: list[str] = []
    depth = {"phonetic": 0, "t": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        name = _local(tag)
        if name == "si":
            parts.clear()
        elif name == "rPh":
            depth["phonetic"] += 1
        elif name == "t" and not depth["phonetic"]:
            depth["t"] += 1

    def end(tag: str) -> None:
        name = _local(tag)
        if name == "si":
            out.append("".join(parts))
        elif name == "rPh":
            depth["phonetic"] -= 1
        elif name == "t" and depth["t"]:
            depth["t"] -= 1

    def text(data: str) -> None:
        if depth["t"]:
            parts.append(data)

    _parse(data, start, end, text)
    return out


def _number(text: str) -> int | float:
    """A stored number as openpyxl casts it: int unless it has a point or an exponent."""
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


class _SheetReader:
    """Streams one worksheet's <sheetData>, cell by cell (the hot loop of a check: kept lean)."""

    def __init__(self, book: RawBook, title: str, strings: list[str]) -> None:
        self.book, self.title, self.strings = book, title, strings
        self.row = 0
        self.col = -1
        self.in_cell = False
        self.kind = "n"
        self.v: str | None = None
        self.f: str | None = None
        self.f_attrs: dict[str, str] = {}
        self.inline: str | None = None
        self.field: str | None = None
        self.buffer: list[str] = []
        self.local: dict[str, str] = {}
        self.seen_cells: set[int] = set()
        self.seen_rows: set[int] = set()
        self.shared: dict[str, Any] = {}  # si -> the Translator of the formula written in its first cell

    def _name(self, tag: str) -> str:
        name = self.local.get(tag)
        if name is None:
            name = self.local[tag] = _local(tag)
        return name

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = self._name(tag)
        if name == "c":
            ref = attrs.get("r")
            if ref:
                m = _CELL.fullmatch(ref)
                if m is None:
                    raise ValueError(f"a cell reference {ref!r}")
                self.col, self.row = col_index(m.group(1)), int(m.group(2))
            else:
                self.col += 1
            self._once()
            self.in_cell = True
            self.kind = attrs.get("t", "n")
            self.v = self.f = self.inline = None
        elif name == "row":
            r = attrs.get("r")
            self.row = int(r) if r else self.row + 1
            self.col = -1
            if self.row in self.seen_rows:
                raise Refused(f"is ambiguous: sheet {self.title} writes row {self.row} twice, and programs differ "
                              "on which one counts; save it again in Excel or LibreOffice")  # fmt: skip
            self.seen_rows.add(self.row)
        elif self.in_cell and (name == "v" or name == "f" or name == "t"):
            if name == "f":
                self.f_attrs = attrs
                self.f = ""
            self.field = name
            self.buffer = []

    def _once(self) -> None:
        """Refuse a cell far beyond any table (before the sheet's cells fill memory) and a cell
        written twice (Excel keeps one, another reader the other: katsheet does not guess)."""
        if self.row > MAX_ROWS or self.col >= MAX_COLUMNS:
            raise Refused(f"sheet {self.title} has a cell in row {self.row:,}: refusing (katsheet reads up to "
                          f"{MAX_ROWS:,} rows)")  # fmt: skip
        key = self.row * MAX_COLUMNS + self.col
        if key in self.seen_cells:
            raise Refused(f"is ambiguous: sheet {self.title} writes cell {col_letter(self.col)}{self.row} twice, "
                          "and programs differ on which one counts; save it again in Excel or LibreOffice")  # fmt: skip
        self.seen_cells.add(key)
        self.book.count += 1
        if self.book.count > MAX_CELLS:
            raise Refused(f"holds more than {MAX_CELLS:,} cells: refusing (a month of the largest size katsheet "
                          "reads has about half as many)")  # fmt: skip

    def fast(self, data: bytes) -> bool:
        """The sheet's cells read with one regular expression, as expat would give them, when its
        XML has the plain shape spreadsheet programs write (expat calling back three times per
        cell was most of a 10,000-row check's reading). False, with nothing kept, for anything
        else (an entity declaration or CDATA, inline rich text, prefixed tags, attributes in
        another order, another encoding): expat reads that sheet, and refuses what it refuses. A
        value the fast path cannot type (a text in a number cell) is left to expat too, which
        meets the sheet's problems in document order and so reports the first one."""
        count = self.book.count
        try:
            self._fast(data)
            return True
        except (_Slow, ValueError, IndexError, TypeError, KeyError):
            for cells in (self.book.formulas, self.book.cached):
                for key in [k for k in cells if k[0] == self.title]:
                    del cells[key]
            self.book.formula_keys -= {k for k in self.book.formula_keys if k[0] == self.title}
            self.book.count = count
            return False

    def _fast(self, data: bytes) -> None:
        text = _plain_text(data)
        start = text.find("<sheetData>")
        if start < 0:
            if text.count("<sheetData") == 1 and "<sheetData/>" in text:
                return  # a sheet without cells
            raise _Slow
        end = text.find("</sheetData>", start)
        if end < 0 or text.find("<sheetData", start + 1) >= 0:
            raise _Slow
        pos = start + len("<sheetData>")
        # The loop is written out (no method calls, locals only): 3 us per cell of the 335,000 of a
        # 10,000-row KAT month went into setting and reading attributes. Anything unusual (a cell
        # beyond the limits or written twice, a row written twice) goes to expat, which refuses it
        # in its words and at its cell (_once, start).
        book, title, strings, shared = self.book, self.title, self.strings, self.shared
        formulas, cached, formula_keys, positions = book.formulas, book.cached, book.formula_keys, book.positions
        columns: dict[str, int] = {}
        refs: set[str] = set()
        rows: set[str] = set()
        met = 0
        for m in _CELL_OR_ROW.finditer(text, pos, end):
            if m.start() != pos and text[pos : m.start()].strip():
                raise _Slow  # something the pattern does not know: an inline string, a prefixed tag
            pos = m.end()
            row, letters, number, kind, f_attrs, f_text, v_text, v_empty = m.groups()
            if letters is None:
                if row is not None:
                    if row in rows or row[0] == "0":
                        raise _Slow  # a row written twice (expat refuses it), or as 05
                    rows.add(row)
                continue
            col = columns.get(letters)
            if col is None:
                col = columns[letters] = col_index(letters)
                if col >= MAX_COLUMNS:
                    raise _Slow
            r = int(number)
            if r > MAX_ROWS:
                raise _Slow
            ref = letters + (number if number[0] != "0" else str(r))  # A01 is A1
            refs.add(ref)
            met += 1
            if v_text is not None:
                if "&" in v_text:
                    v_text = _unescape(v_text)
                if kind is None:
                    value = _number(v_text) if v_text.strip() else None
                elif kind == "s":
                    value = strings[int(v_text)]
                else:
                    value = _typed(kind, v_text, strings)
            else:
                value = _typed(kind or "n", "", strings) if v_empty else None
            key = (title, ref)
            if ref not in positions:
                positions[ref] = (col, r)
            if f_attrs is not None:
                formula = f_text or ""
                if "&" in formula:
                    formula = _unescape(formula)
                if f_attrs:
                    formula = _shared_formula(shared, ref, formula, _attrs(f_attrs))
                if formula:
                    formulas[key] = "=" + formula
                    formula_keys.add(key)
                    if value is not None:
                        cached[key] = value
                    continue
            if value is not None:
                formulas[key] = value
                cached[key] = value
        if text[pos:end].strip():
            raise _Slow
        book.count += met
        if len(refs) != met or book.count > MAX_CELLS:
            raise _Slow

    def text(self, data: str) -> None:
        if self.field is not None:
            self.buffer.append(data)

    def end(self, tag: str) -> None:
        name = self._name(tag)
        if self.field is not None and name == self.field:
            value = "".join(self.buffer)
            if name == "v":
                self.v = value
            elif name == "f":
                self.f = value
            else:
                self.inline = (self.inline or "") + value
            self.field = None
        elif name == "c" and self.in_cell:
            self._store()
            self.in_cell = False

    def _value(self) -> Any:
        if self.kind == "inlineStr":
            return self.inline
        return None if self.v is None else _typed(self.kind, self.v, self.strings)

    def _store(self) -> None:
        ref = f"{col_letter(self.col)}{self.row}"
        key = (self.title, ref)
        if ref not in self.book.positions:
            self.book.positions[ref] = (self.col, self.row)
        value = self._value()
        formula = self.f
        if formula is not None:
            formula = _shared_formula(self.shared, ref, formula, self.f_attrs)
        if formula:
            self.book.formulas[key] = "=" + formula
            self.book.formula_keys.add(key)
        elif value is not None:
            self.book.formulas[key] = value
        if value is not None:
            self.book.cached[key] = value


def _typed(kind: str, v: str, strings: list[str]) -> Any:
    """A cell's stored value (its <v> text) as openpyxl types it, by the cell's type attribute.
    An inline string's text is in its <is>, which expat reads (a <v> beside it is not the value)."""
    if kind == "inlineStr":
        return None
    if kind == "n":
        return _number(v) if v.strip() else None
    if kind == "s":
        return strings[int(v)]
    if kind in ("str", "e", "d"):
        return v or None  # an empty text result is no value, as openpyxl reads it
    if kind == "b":
        return v.strip() in ("1", "true")
    return _number(v) if v.strip() else None


def _shared_formula(shared: dict[str, Any], ref: str, formula: str, attrs: dict[str, str]) -> str:
    """A cell's formula when it is part of a shared one (Excel writes a column of one formula as
    its first cell's text and an empty <f> in the others): the master's, moved to ``ref``."""
    si = attrs.get("si")
    if attrs.get("t") != "shared" or si is None:
        return formula
    if formula:  # the master of a shared formula: its text, and where it was written
        from openpyxl.formula.translate import Translator

        shared[si] = Translator("=" + formula, origin=ref)
    elif si in shared:
        return shared[si].translate_formula(ref)[1:]
    return formula


class _Slow(Exception):
    """This sheet's XML is not of the plain shape the fast path reads: expat reads it."""


#: a row's start tag (its number first, as katsheet, LibreOffice and Excel write it), a row's end
#: tag, or a whole cell: reference, style and type in that order, then an optional formula and
#: value. Anything else between them stops the fast path (see _SheetReader.fast).
_CELL_OR_ROW = re.compile(
    r'<row r="(\d+)"(?: [\w:]+="[^"<>]*")*>|</row>'
    r'|<c r="([A-Z]{1,3})(\d+)"(?: s="\d+")?(?: t="(\w+)")?'
    r'(?:/>|>(?:<f((?: [\w:]+="[^"<>]*")*)(?:/>|>([^<]*)</f>))?(?:<v>([^<]*)</v>|(<v/>))?</c>)'
)
_SST_HEAD = re.compile(r'<sst(?: [\w:]+="[^"<>]*")*>')
#: one plain shared string (its text the group), and a run of them (the whole table, checked once)
_PLAIN_STRING = re.compile(r'<si><t(?: xml:space="preserve")?(?:/>|>([^<]*)</t>)</si>')
_PLAIN_STRINGS = re.compile(f"(?:{_PLAIN_STRING.pattern})*")
_ATTR = re.compile(r' ([\w:]+)="([^"<>]*)"')
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))
_NOT_AN_ENTITY = re.compile(r"&(?!lt;|gt;|quot;|apos;|amp;)")


def _attrs(text: str) -> dict[str, str]:
    out = {name: _unescape(value) for name, value in _ATTR.findall(text)}
    if len(out) != text.count("="):
        raise _Slow
    return out


def _unescape(text: str) -> str:
    """XML's five named entities (character references never reach here: see _fast). Another
    ``&`` is not XML: expat says so. ``&amp;`` last, so that ``&amp;lt;`` stays ``&lt;``."""
    if "&" not in text:
        return text
    if _NOT_AN_ENTITY.search(text):
        raise _Slow
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def read_xlsx(path: Path) -> RawBook:
    """The workbook's sheets (in order), defined names and cells, in one pass over its parts."""
    try:
        return _read(path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise Refused(f"is damaged or truncated ({type(e).__name__}: {str(e)[:80]})") from None


def _book(z: zipfile.ZipFile) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Each sheet as (title, its worksheet part or "" for a chart sheet), the workbook's names."""
    parts = set(z.namelist())
    sheets: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    rels: dict[str, str] = {}
    current: dict[str, Any] = {}

    def rel(tag: str, attrs: dict[str, str]) -> None:
        if _local(tag) == "Relationship":
            rels[attrs.get("Id", "")] = attrs.get("Target", "")

    if "xl/_rels/workbook.xml.rels" in parts:
        _parse(z.read("xl/_rels/workbook.xml.rels"), rel)

    def book_start(tag: str, attrs: dict[str, str]) -> None:
        name = _local(tag)
        if name == "sheet":
            sheets.append((attrs.get("name", ""), _attr(attrs, "id") or ""))
        elif name == "definedName":
            current.clear()
            current.update(name=attrs.get("name", ""), local=attrs.get("localSheetId"), text=[])

    def book_end(tag: str) -> None:
        if _local(tag) == "definedName" and current and current["local"] is None:
            names.setdefault(current["name"], "".join(current["text"]))
        if _local(tag) == "definedName":
            current.clear()

    def book_text(data: str) -> None:
        if current:
            current["text"].append(data)

    _parse(z.read("xl/workbook.xml"), book_start, book_end, book_text)
    out = []
    for title, rid in sheets:
        target = rels.get(rid, "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        out.append((title, part if target and part in parts and "worksheet" in part else ""))
    return out, names


def sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> its worksheet part (``xl/worksheets/sheet1.xml``), chart sheets left out."""
    return {title: part for title, part in _book(z)[0] if part}


def _read(path: Path) -> RawBook:
    with zipfile.ZipFile(path) as z:
        sheets, names = _book(z)
        parts = set(z.namelist())
        strings = _shared_strings(z.read("xl/sharedStrings.xml")) if "xl/sharedStrings.xml" in parts else []
        book = RawBook([title for title, _ in sheets], names)
        for title, part in sheets:
            if part:  # a chart sheet or a missing part has no cells
                data = z.read(part)
                if not _SheetReader(book, title, strings).fast(data):
                    reader = _SheetReader(book, title, strings)
                    _parse(data, reader.start, reader.end, reader.text)
        return book


def defined_names(path: Path) -> dict[str, str]:
    """Only the workbook's defined names (a few kilobytes read): which template, month and DAO a
    file holds, without reading its sheets."""
    try:
        with zipfile.ZipFile(path) as z:
            return _book(z)[1]
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError) as e:
        raise Refused(f"is damaged or truncated ({type(e).__name__})") from None
