"""An annotated copy of a checked workbook: every failing cell filled red and commented.

The copy is the original file with a few parts changed, not a re-save: openpyxl's load and save
took longer than the check itself at 10,000 members and dropped the charts. Here, per sheet with
findings, the sheet's XML gets a conditional format that fills the cells red (first in the file
and first in priority, stopping the others, so an eligible row's green cannot paint over it), and
a comment per cell (a comments part and its VML shapes, made by openpyxl's own serialisers); the
styles part gets the red as a differential format. Every other part is copied byte for byte.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from xml.sax.saxutils import quoteattr

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments.comment_sheet import CommentRecord, CommentSheet
from openpyxl.comments.shape_writer import ShapeWriter
from openpyxl.xml.functions import fromstring, tostring

from ..engine import InputError
from ..io.atomic import write_atomic
from .checker import Report
from .xlsx import sheet_parts

RED = "FFFF7C80"
MAX_COMMENT = 2000
AUTHOR = "katsheet check"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_COMMENTS = f"{_R}/comments"
_VML = f"{_R}/vmlDrawing"
_COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
#: a worksheet's children from conditionalFormatting on, in the order the schema fixes
#: (ECMA-376 CT_Worksheet): an element is inserted before the first of its followers present
_ORDER = [
    "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup",
    "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
    "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst",
]  # fmt: skip
_AFTER_CF = _ORDER
_AFTER_LEGACY = _ORDER[_ORDER.index("legacyDrawing") + 1 :]


class _Unexpected(ValueError):
    """A part is not as every spreadsheet program writes it."""


def annotate(source: Path, report: Report, out: Path, *, force: bool = False) -> int:
    """Write ``out``: a copy of ``source`` with the report's cells marked. Returns cells marked."""
    try:
        data, marked = _annotated(source, report)
    except (_Unexpected, KeyError, UnicodeDecodeError, zipfile.BadZipFile, SyntaxError) as e:  # XML ParseError too
        raise InputError(f"cannot be annotated ({e}); the findings above stand", where=str(source)) from None
    write_atomic(out, data, force=force)
    return marked


def _annotated(source: Path, report: Report) -> tuple[bytes, int]:
    notes: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for f in report.findings:
        notes[f.sheet][f.cell].append(f"{f.kind}: {f.message}\nexpected: {f.expected}\nfound: {f.found}")
    with zipfile.ZipFile(source) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i) for i in infos}
        where = sheet_parts(z)
    marked = 0
    changed: dict[str, bytes] = {}
    sheets = [(title, cells) for title, cells in notes.items() if title in where]
    if sheets:
        changed["xl/styles.xml"], dxf = _with_red(parts.get("xl/styles.xml"))
    for n, (title, cells) in enumerate(sheets, start=1):
        part = where[title]
        xml = parts[part].decode("utf-8")
        xml = _red_first(xml, list(cells), dxf)
        xml = _commented(xml, part, {c: "\n\n".join(t) for c, t in cells.items()}, parts, changed, n)
        changed[part] = xml.encode("utf-8")
        marked += len(cells)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in infos:
            dst.writestr(info.filename, changed.pop(info.filename, parts[info.filename]))
        for name, data in changed.items():  # the new parts
            dst.writestr(name, data)
    return buffer.getvalue(), marked


# -- the XML, edited as text where it is one element inserted --------------------------------------


def _prefix(xml: str, root: str) -> str:
    """The root element's namespace prefix with its colon ("" for the default namespace)."""
    m = re.search(rf"<(\w+:)?{root}[\s>]", xml)
    if m is None:
        raise _Unexpected(f"no <{root}> element")
    return m.group(1) or ""


def _insert_before(xml: str, p: str, followers: list[str], element: str, start: int = 0) -> str:
    """``element`` placed before the first of ``followers`` (or before the root's end tag)."""
    found = [m.start() for name in followers if (m := re.compile(rf"<{p}{name}[\s/>]").search(xml, start))]
    at = min(found) if found else xml.rindex("</")
    return xml[:at] + element + xml[at:]


def _with_red(styles: bytes | None) -> tuple[bytes, int]:
    """The styles part with the red added as a differential format, and that format's index."""
    if styles is None:
        raise _Unexpected("no styles part")
    xml = styles.decode("utf-8")
    p = _prefix(xml, "styleSheet")
    dxf = (f'<{p}dxf><{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{RED}"/>'
           f'<{p}bgColor rgb="{RED}"/></{p}patternFill></{p}fill></{p}dxf>')  # fmt: skip
    block = re.search(rf"<{p}dxfs\b[^>]*?(/>|>(.*?)</{p}dxfs>)", xml, re.S)
    if block is None:
        after = re.search(rf"</{p}cellStyles>|</{p}cellXfs>", xml)
        xml = _insert_before(xml, p, ["tableStyles", "colors", "extLst"], f'<{p}dxfs count="1">{dxf}</{p}dxfs>',
                             after.end() if after else 0)  # fmt: skip
        return xml.encode("utf-8"), 0
    index = len(re.findall(rf"<{p}dxf[\s/>]", block.group(2) or ""))
    xml = (
        xml[: block.start()]
        + f'<{p}dxfs count="{index + 1}">{block.group(2) or ""}{dxf}</{p}dxfs>'
        + xml[block.end() :]
    )
    return xml.encode("utf-8"), index


def _red_first(xml: str, cells: list[str], dxf: int) -> str:
    """A conditional format filling ``cells`` red, first in the file and in priority."""
    p = _prefix(xml, "worksheet")
    xml = re.sub(  # the sheet's own rules (also Excel 2010's, in extLst) move down one place
        r'(<(?:\w+:)?cfRule\b[^>]*?\bpriority=")(\d+)"', lambda m: f'{m.group(1)}{int(m.group(2)) + 1}"', xml
    )
    block = (f"<{p}conditionalFormatting sqref={quoteattr(' '.join(cells))}>"
             f'<{p}cfRule type="expression" dxfId="{dxf}" priority="1" stopIfTrue="1"><{p}formula>TRUE</{p}formula>'
             f"</{p}cfRule></{p}conditionalFormatting>")  # fmt: skip
    return _insert_before(xml, p, _AFTER_CF, block, _end_of_data(xml, p))


def _end_of_data(xml: str, p: str) -> int:
    m = re.search(rf"</{p}sheetData>|<{p}sheetData\s*/>", xml)
    return m.end() if m else 0


def _rels_part(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _resolve(part: str, target: str) -> str:
    return (
        target.lstrip("/")
        if target.startswith("/")
        else posixpath.normpath(posixpath.join(posixpath.dirname(part), target))
    )


def _commented(
    xml: str, part: str, texts: dict[str, str], parts: dict[str, bytes], changed: dict[str, bytes], n: int
) -> str:
    """A comment on each cell: added to the sheet's comments if it has some, else a new part."""
    p = _prefix(xml, "worksheet")
    rels_name = _rels_part(part)
    rels = (
        changed.get(rels_name) or parts.get(rels_name) or f'<Relationships xmlns="{_PKG}"></Relationships>'.encode()
    ).decode("utf-8")
    links = {m.group("type"): (m.group("id"), m.group("target")) for m in re.finditer(
        r'<Relationship\b(?=[^>]*\bId="(?P<id>[^"]*)")(?=[^>]*\bType="(?P<type>[^"]*)")(?=[^>]*\bTarget="(?P<target>[^"]*)")[^>]*>', rels)}  # fmt: skip
    records: dict[str, CommentRecord] = {}
    if _COMMENTS in links:  # comments someone wrote stay; ours are added (and win on the same cell)
        comments_part = _resolve(part, links[_COMMENTS][1])
        old = CommentSheet.from_tree(fromstring(parts[comments_part]))
        for ref, comment in old.comments:
            records[ref] = _record(ref, comment.text, comment.author, comment.height, comment.width)
    else:
        comments_part = _free(parts, changed, f"xl/comments/katsheet{n}.xml")
    for ref, text in texts.items():
        records[ref] = _record(ref, text[:MAX_COMMENT], AUTHOR, 160, 400)
    sheet = CommentSheet.from_comments(list(records.values()))
    changed[comments_part] = tostring(sheet.to_tree())
    if _VML in links:
        vml_part = _resolve(part, links[_VML][1])
        vml = fromstring(changed.get(vml_part) or parts[vml_part])
    else:
        vml_part, vml = _free(parts, changed, f"xl/drawings/katsheetComments{n}.vml"), None
    changed[vml_part] = ShapeWriter(sheet.comments).write(vml)
    added = []
    comments_id, vml_id = _free_ids(rels)
    if _COMMENTS not in links:
        added.append(f'<Relationship Id="{comments_id}" Type="{_COMMENTS}" Target="/{comments_part}"/>')
    if _VML not in links:
        added.append(f'<Relationship Id="{vml_id}" Type="{_VML}" Target="/{vml_part}"/>')
        r = _namespace(xml, _R)
        if r is None:
            xml = re.sub(rf"<{p}worksheet\b", f'<{p}worksheet xmlns:ksr="{_R}"', xml, count=1)
            r = "ksr"
        xml = _insert_before(xml, p, _AFTER_LEGACY, f'<{p}legacyDrawing {r}:id="{vml_id}"/>', _end_of_data(xml, p))
    if added:
        changed[rels_name] = rels.replace("</Relationships>", "".join(added) + "</Relationships>").encode("utf-8")
        _declare(parts, changed, comments_part, vml_part)
    return xml


def _record(ref: str, text: str, author: str | None, height: int, width: int) -> CommentRecord:
    record = CommentRecord(ref=ref, author=author or AUTHOR, height=height, width=width)
    record.text.t = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)  # text is data: never invalid XML
    return record


def _free(parts: dict[str, bytes], changed: dict[str, bytes], name: str) -> str:
    stem, ext = posixpath.splitext(name)
    i = 0
    while name in parts or name in changed:
        i += 1
        name = f"{stem}_{i}{ext}"
    return name


def _free_ids(rels: str) -> tuple[str, str]:
    """Two relationship ids the sheet does not use yet."""
    taken = set(re.findall(r'\bId="([^"]*)"', rels))
    free = (f"rIdKatsheet{i}" for i in range(1, len(taken) + 3) if f"rIdKatsheet{i}" not in taken)
    return next(free), next(free)


def _namespace(xml: str, uri: str) -> str | None:
    root = re.search(r"<(?:\w+:)?worksheet\b[^>]*>", xml)
    m = re.search(rf'xmlns:(\w+)="{re.escape(uri)}"', root.group(0)) if root else None
    return m.group(1) if m else None


def _declare(parts: dict[str, bytes], changed: dict[str, bytes], comments_part: str, vml_part: str) -> None:
    """The new parts' content types."""
    name = "[Content_Types].xml"
    xml = (changed.get(name) or parts[name]).decode("utf-8")
    add = []
    if f'PartName="/{comments_part}"' not in xml:
        add.append(f'<Override PartName="/{comments_part}" ContentType="{_COMMENTS_TYPE}"/>')
    if not re.search(r'<Default\b[^>]*Extension="vml"', xml, re.IGNORECASE):
        add.append(f'<Default Extension="vml" ContentType="{_VML_TYPE}"/>')
    changed[name] = xml.replace("</Types>", "".join(add) + "</Types>").encode("utf-8")
