"""Opening a workbook someone else touched: refuse what is not a plain .xlsx before parsing it.

Every check here runs on the zip's directory and a few bytes, before openpyxl parses any XML, so
a hostile file is refused quickly with one line and never hangs the checker:

- not a zip, a truncated zip, a legacy .xls or an encrypted (password-protected) workbook, both of
  which are OLE compound files;
- a zip bomb: declared uncompressed sizes (total and per member) and compression ratios;
- a sheet with cells a million rows down (the cells are scanned; a declared size is ignored);
- XML entity tricks: openpyxl parses through defusedxml, which we require;
- macros: an .xlsm is read as data (openpyxl without keep_vba); nothing in it is ever run.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from openpyxl.xml import DEFUSEDXML

from ..engine import InputError
from ..layouts.model import col_index

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Far above any monthly workbook (a 10,000-member month unpacks to about 30 MB).
MAX_UNPACKED = 500 * 2**20
MAX_MEMBER = 200 * 2**20
#: Text XML compresses well, but not a thousandfold.
MAX_RATIO = 200
MAX_MEMBERS = 2_000
#: Rows a sheet may declare: room for 100,000 members with headroom.
MAX_ROWS = 200_000
MAX_COLUMNS = 16_384

_CELL = re.compile(rb'<(?:\w+:)?c\s+r="([A-Z]{1,4})(\d+)"')


def check_file(path: Path) -> None:
    """Raise InputError (one line, naming the file) unless ``path`` is a plausible .xlsx."""
    where = str(path)
    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise InputError("defusedxml is not installed: refusing to parse untrusted XML", where=where)
    if path.is_dir():
        raise InputError("is a folder, not a workbook", where=where)
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise InputError("no such file", where=where) from None
    except OSError as e:
        raise InputError(f"cannot be read: {e.strerror or e}", where=where) from None
    if head.startswith(OLE_MAGIC):
        raise InputError(
            "is a legacy .xls or a password-protected workbook: save it as an unprotected .xlsx", where=where
        )
    if not head.startswith(b"PK"):
        raise InputError("is not an .xlsx workbook (not a zip file)", where=where)
    try:
        with zipfile.ZipFile(path) as z:
            _check_members(z, where)
            _check_dimensions(z, where)
    except zipfile.BadZipFile as e:
        raise InputError(f"is damaged or truncated ({e})", where=where) from None
    except (OSError, EOFError, zipfile.LargeZipFile) as e:
        raise InputError(f"is damaged or truncated ({e})", where=where) from None


def _check_members(z: zipfile.ZipFile, where: str) -> None:
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InputError(f"holds {len(infos):,} parts: not a workbook katsheet will open", where=where)
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise InputError("is a zip file but not an .xlsx workbook", where=where)
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_MEMBER:
            raise InputError(
                f"part {info.filename} unpacks to {info.file_size / 2**20:,.0f} MB: refusing (zip bomb?)", where=where
            )
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 2**20:
            raise InputError(
                f"part {info.filename} is compressed {info.file_size // info.compress_size:,}:1: refusing (zip bomb?)",
                where=where,
            )
    if total > MAX_UNPACKED:
        raise InputError(f"unpacks to {total / 2**20:,.0f} MB: refusing (zip bomb?)", where=where)


def _check_dimensions(z: zipfile.ZipFile, where: str) -> None:
    """Refuse a sheet whose cells reach beyond MAX_ROWS rows or MAX_COLUMNS columns.

    The cells themselves are scanned (a sheet's <dimension> is only a claim: LibreOffice writes
    A1:AMJ1048576 after an ordinary row deletion), and the reader ignores the claim too, so a
    sheet that merely declares a million rows costs nothing.
    """
    for info in z.infolist():
        if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", info.filename):
            continue
        tail = b""
        with z.open(info) as f:
            while chunk := f.read(2**20):
                data = tail + chunk
                for m in _CELL.finditer(data):
                    col, row = m.group(1), int(m.group(2))
                    if row > MAX_ROWS or col_index(col.decode()) + 1 > MAX_COLUMNS:
                        raise InputError(
                            f"sheet part {info.filename} has a cell in row {row:,}: refusing "
                            f"(katsheet reads up to {MAX_ROWS:,} rows)",
                            where=where,
                        )
                tail = data[-64:]
