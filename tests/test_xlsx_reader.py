"""katsheet's one-pass reader (workbook/xlsx.py) reads every cell as openpyxl reads it: formulas
(shared ones expanded), stored values, defined names, sheet order, from files written by
katsheet, by LibreOffice and as Excel writes them."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path
from xml.parsers import expat

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workbooks import as_excel_saves_it

from katsheet.layouts.model import col_index, split_cell
from katsheet.workbook import xlsx
from katsheet.workbook.shipped import sample_months, write_month
from katsheet.workbook.xlsx import read_xlsx

SAMPLES = Path(__file__).resolve().parents[1] / "sample_workbooks"


def _openpyxl(path: Path) -> tuple[dict, dict, dict, list[str], set]:
    """What openpyxl reads: (formulas view, stored values view, names, sheet names, formula cells)."""
    views = []
    keys = set()
    for data_only in (False, True):
        wb = openpyxl.load_workbook(path, read_only=True, data_only=data_only)
        cells = {}
        for ws in wb.worksheets:
            ws.reset_dimensions()
            for row in ws.iter_rows():
                for c in row:
                    if c.value is None or not hasattr(c, "column_letter"):
                        continue
                    value = c.value
                    if type(value).__name__ == "ArrayFormula":
                        value = value.text
                    if isinstance(value, datetime.datetime):  # a date-formatted number
                        value = (value - datetime.datetime(1899, 12, 30)).days
                    cells[(ws.title, f"{c.column_letter}{c.row}")] = value
                    if c.data_type == "f" and not data_only:
                        keys.add((ws.title, f"{c.column_letter}{c.row}"))
        names = {n: str(d.attr_text) for n, d in wb.defined_names.items()}
        views.append((cells, names, list(wb.sheetnames)))
        wb.close()
    (formulas, names, sheets), (cached, _, _) = views
    return formulas, cached, names, sheets, keys


def _files(tmp_path: Path) -> list[Path]:
    fresh = write_month(sample_months()["2026-11-expanded.xlsx"], tmp_path / "fresh.xlsx")
    return [
        fresh,
        as_excel_saves_it(fresh, tmp_path / "excel.xlsx"),
        SAMPLES / "2026-11-hand-edited.xlsx",  # saved by LibreOffice after real edits
        SAMPLES / "2026-11-subdaos.xlsx",
    ]


@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_reads_what_openpyxl_reads(tmp_path, which) -> None:
    path = _files(tmp_path)[which]
    formulas, cached, names, sheets, keys = _openpyxl(path)
    raw = read_xlsx(path)
    assert raw.sheetnames == sheets
    assert raw.names == names
    assert raw.formulas == formulas
    assert raw.cached == cached
    assert raw.formula_keys == keys and len(keys) > 100
    if which == 1:
        assert any(b't="shared"' in zipfile.ZipFile(path).read(n) for n in zipfile.ZipFile(path).namelist())


def test_strings_booleans_errors_and_inline_text(tmp_path) -> None:
    """Cell kinds a template never writes but a person's program may: each read as openpyxl does."""
    path = tmp_path / "kinds.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Odd 'sheet'"
    ws["A1"], ws["B1"], ws["C1"], ws["D1"] = "text", True, 1.5, 7
    ws["A2"], ws["B2"] = "=1/0", '=A1&"x"'
    wb.save(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "inline.xlsx", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="5"><c r="A5" t="inlineStr"><is><r><t>in</t></r><r><rPr><b/></rPr><t>line</t></r></is></c>'
                                    b'<c r="B5" t="e"><v>#N/A</v></c><c r="C5" t="b"><v>0</v></c></row></sheetData>')  # fmt: skip
            dst.writestr(info, data)
    for p in (path, tmp_path / "inline.xlsx"):
        formulas, cached, _, sheets, keys = _openpyxl(p)
        raw = read_xlsx(p)
        assert (raw.formulas, raw.cached, raw.sheetnames, raw.formula_keys) == (formulas, cached, sheets, keys)
    assert read_xlsx(tmp_path / "inline.xlsx").formulas[("Odd 'sheet'", "A5")] == "inline"


def _expat_only(path: Path, monkeypatch) -> object:
    def slow(data: bytes) -> list[str]:
        raise xlsx._Slow

    with monkeypatch.context() as m:
        m.setattr(xlsx._SheetReader, "fast", lambda self, data: False)
        m.setattr(xlsx, "_plain_strings", slow)
        return read_xlsx(path)


def _same_reading(a, b) -> bool:
    return (a.sheetnames, a.names, a.formulas, a.cached, a.formula_keys, a.count) == (
        b.sheetnames, b.names, b.formulas, b.cached, b.formula_keys, b.count)  # fmt: skip


def test_the_fast_path_reads_what_expat_reads(tmp_path, monkeypatch) -> None:
    """Every file kind katsheet meets (its own, LibreOffice's, Excel's shared formulas, each
    template) is read by the fast path, and read exactly as expat reads it."""
    taken, strings = [], []
    original, plain = xlsx._SheetReader.fast, xlsx._plain_strings
    monkeypatch.setattr(xlsx._SheetReader, "fast", lambda self, data: taken.append(original(self, data)) or taken[-1])
    monkeypatch.setattr(xlsx, "_plain_strings", lambda data: strings.append(plain(data)) or strings[-1])
    paths = [*_files(tmp_path), *sorted(SAMPLES.glob("*.xlsx"))]
    for path in paths:
        taken.clear()
        strings.clear()
        fast = read_xlsx(path)
        assert taken and all(taken), path  # no sheet fell back to expat
        assert len(strings) == 1, path  # nor the shared strings (_Slow would have raised past the append)
        slow = _expat_only(path, monkeypatch)
        assert _same_reading(fast, slow), path
        for raw in (fast, slow):  # where each cell is, for the evaluator: as its reference says
            assert {ref for _, ref in raw.cached} <= set(raw.positions), path
            assert all(where == (col_index(split_cell(ref)[0]), split_cell(ref)[1])
                       for ref, where in raw.positions.items()), path  # fmt: skip


@pytest.mark.parametrize(
    "edit",
    [
        (b'<c r="A1" s="1" t="s"><v>0</v></c>', b'<c r="A1" t="inlineStr"><is><t>in&amp;line</t></is></c>'),
        (b"<sheetData>", b"<sheetData><!-- a comment -->"),
        (b'<c r="A1" s="1" t="s">', b'<c s="1" r="A1" t="s">'),  # attributes in another order
        (b"<v>0</v>", b"<v>&#48;</v>"),  # a character reference
        (b'<c r="A1"', b'<c\r\n r="A1"'),
    ],
)
def test_the_fast_path_leaves_other_shapes_to_expat(tmp_path, monkeypatch, edit) -> None:
    """XML of another shape falls back, whole sheet, to expat: the same reading either way."""
    path = _edited(tmp_path, edit, fast=False)
    assert _same_reading(read_xlsx(path), _expat_only(path, monkeypatch))


@pytest.mark.parametrize(
    "edit",
    [
        (b'<c r="A3" s="2" t="s"><v>1</v></c>', b'<c r="A3" s="2" t="b"><v/></c>'),  # an empty value
        (b'<c r="A3" s="2" t="s"><v>1</v></c>', b'<c r="A3" s="2" t="str"><f/><v></v></c>'),
        (
            b'<c r="A3" s="2" t="s"><v>1</v></c>',
            b'<c r="A3" s="2" t="str"><f>"a&amp;lt;&quot;"&amp;"b"</f><v>a&amp;lt;"b</v></c>',
        ),
        (b'<c r="A3" s="2" t="s"><v>1</v></c>', b'<c r="A3" s="2"/>'),
        (b'<c r="A3" s="2" t="s"><v>1</v></c>', b'<c r="A03" s="2"><v>7</v></c>'),  # A03 is A3
        (b'<c r="A3" s="2" t="s"><v>1</v></c>', b'<c r="A3" s="2" t="inlineStr"><v>x</v></c>'),  # no <is>: no text
        (b'<c r="A3" s="2" t="s"><v>1</v></c>', b'<c r="A3" s="2" t="e"><f>1/0</f><v>#DIV/0!</v></c>'),
    ],
)
def test_the_fast_path_reads_edge_cells_as_expat_does(tmp_path, monkeypatch, edit) -> None:
    path = _edited(tmp_path, edit, fast=True)
    assert _same_reading(read_xlsx(path), _expat_only(path, monkeypatch))


_PIECES = ["&lt;", "&gt;", "&quot;", "&apos;", "&amp;", "&", ";", "lt;", "amp;", "&lt", "a", " ", ">", '"', "'"]


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_the_fast_path_unescapes_a_text_as_expat_does(text) -> None:
    """An element's text (no '<': the pattern stops there; no character references: the fast path
    leaves them to expat) as expat reads it, or refused (then expat reads the sheet and says why)."""
    parser, parts = expat.ParserCreate(), []
    parser.CharacterDataHandler = parts.append
    try:
        parser.Parse(f"<v>{text}</v>".encode(), True)
        expected = "".join(parts)
    except expat.ExpatError:
        expected = None
    try:
        found = xlsx._unescape(text)
    except xlsx._Slow:
        found = None
    assert found == expected


def _or_none(read, data: bytes):
    """What ``read`` makes of ``data``, or None when expat refuses it."""
    try:
        return read(data)
    except expat.ExpatError:
        return None


_STRING_PIECES = ["<si><t>", "<si><t/></si>", '<si><t xml:space="preserve">', "</t></si>", "a", " ", "&amp;", "&lt;",
                  "&#65;", "&", "\n", "\r\n", "\t", "<r><t>", "</t></r>", "<rPh><t>x</t></rPh>", "<!-- c -->", "<si>",
                  "</si>", "<t>", "</t>", "\u00e9"]  # fmt: skip


@given(st.lists(st.sampled_from(_STRING_PIECES), max_size=14).map("".join), st.booleans())
def test_the_plain_strings_are_read_as_expat_reads_them(body, well_formed) -> None:
    """A shared strings table of any mix of plain, rich and phonetic strings, comments, entities
    and line ends: read by the fast path as expat reads it, or left to expat (which then reads it
    or refuses it). Half the tables are the plain shape, so that the fast path is taken."""
    if well_formed:
        body = "".join(f"<si><t>{t}</t></si>" for t in body.split("<"))
    data = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org'
            f'/spreadsheetml/2006/main" count="1">{body}</sst>').encode()  # fmt: skip
    expected, found = (_or_none(read, data) for read in (xlsx._strings_by_expat, xlsx._shared_strings))
    assert found == expected
    if well_formed and "&" not in body and "\r" not in body:
        assert xlsx._plain_strings(data) == expected  # the fast path was taken


def _edited(tmp_path: Path, edit: tuple[bytes, bytes], *, fast: bool) -> Path:
    """The expanded sample with one edit in its Guide sheet's XML, which the fast path does (or
    does not) read."""
    fresh = write_month(sample_months()["2026-11-expanded.xlsx"], tmp_path / "fresh.xlsx")
    path = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(fresh) as src, zipfile.ZipFile(path, "w") as dst:
        strings = xlsx._shared_strings(src.read("xl/sharedStrings.xml"))
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert edit[0] in data
                data = data.replace(edit[0], edit[1], 1)
                assert xlsx._SheetReader(xlsx.RawBook([], {}), "Guide", strings).fast(data) is fast
            dst.writestr(info, data)
    return path


_FORMULA_PIECES = ["=", "IF(", ")", "()", "( )", "(\t)", "TRUE", "FALSE()", "true( )", "_xlfn.", "_XLFN.", "_xLws.",
                   "_xludf.", "_x", "l", '"()"', '"_xlfn."', '"a""b"', ",", "A1", "MAXIFS("]  # fmt: skip


@given(st.lists(st.sampled_from(_FORMULA_PIECES), max_size=14).map("".join))
def test_formulas_are_normalised_outside_strings(text) -> None:
    """normalise_formula against its rule written out: outside string literals, the _xlfn./_xlws./
    _xludf. prefixes go and TRUE()/FALSE() are TRUE/FALSE; a formula without either is itself."""
    import re

    from katsheet.workbook.reader import normalise_formula

    parts = re.split(r'("(?:[^"]|"")*")', text)
    for i in range(0, len(parts), 2):
        bare = re.sub(r"_xl(?:fn|ws|udf)\.", "", parts[i], flags=re.IGNORECASE)
        parts[i] = re.sub(r"\b(TRUE|FALSE)\(\)", lambda m: m.group(1).upper(), bare, flags=re.IGNORECASE)
    assert normalise_formula(text) == "".join(parts)


_COLUMNS = ["A", "B", "Z", "AA", "XFD", "XFE"]
_ROWS = ["1", "2", "3", "05", "20000", "20001"]
_KINDS = [None, "n", "s", "str", "b", "e", "d", "inlineStr"]
_V = [None, "<v/>", "<v></v>", "<v>0</v>", "<v>1</v>", "<v>2.5</v>", "<v> 7 </v>", "<v>1e3</v>", "<v>x</v>",
      "<v>a&amp;b&lt;</v>", "<v>#N/A</v>", "<v>true</v>", "<v>5</v>"]  # fmt: skip
_F = [None, "<f/>", "<f></f>", "<f>1+1</f>", '<f>A1&amp;"&lt;x&gt;"</f>', '<f t="shared" ref="A1:A3" si="0">B1*2</f>',
      '<f t="shared" si="0"/>', '<f t="array" ref="A1">{1}</f>']  # fmt: skip
_cells = st.tuples(st.sampled_from(_COLUMNS), st.sampled_from(_KINDS), st.sampled_from(_F), st.sampled_from(_V))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_ROWS), st.lists(_cells, max_size=4)), max_size=5))
def test_the_fast_path_reads_any_plain_sheet_as_expat_does(rows) -> None:
    """Sheets of the plain shape with cells of every type, value and formula kind (shared ones
    too), numbers like 05, cells and rows beyond the limits or written twice: the fast path gives
    what expat's path gives, cells, positions and counts, or the same refusal or error."""
    xml = []
    for number, cells in rows:
        row = [f'<row r="{number}">']
        for letters, kind, f, v in cells:
            kind_attr = f' t="{kind}"' if kind else ""
            inner = (f or "") + (v or "")
            row.append(f'<c r="{letters}{number}" s="1"{kind_attr}>{inner}</c>' if inner else
                       f'<c r="{letters}{number}" s="1"{kind_attr}/>')  # fmt: skip
        xml.append("".join(row) + "</row>")
    data = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxml'
            f'formats.org/spreadsheetml/2006/main"><sheetData>{"".join(xml)}</sheetData></worksheet>').encode()  # fmt: skip

    def reading(fast: bool) -> tuple:
        book = xlsx.RawBook(["S"], {})
        reader = xlsx._SheetReader(book, "S", ["zero", "one", "two"])
        try:
            if not (fast and reader.fast(data)):
                reader = xlsx._SheetReader(book, "S", ["zero", "one", "two"])
                xlsx._parse(data, reader.start, reader.end, reader.text)
        except Exception as e:  # a refusal, or a value no reader can type
            return type(e).__name__, str(e)
        return book.formulas, list(book.formulas), book.cached, book.formula_keys, book.count, book.positions

    assert reading(True) == reading(False)
