"""Opening a workbook someone else touched: refuse what is not a plain .xlsx before parsing it.

Every check here runs on the zip's directory and a few bytes, before any XML is parsed, so a
hostile file is refused quickly with one line and never hangs the checker:

- not a zip, a truncated zip, a legacy .xls or an encrypted (password-protected) workbook, both of
  which are OLE compound files;
- a zip bomb: declared uncompressed sizes (total and per member) and compression ratios;
- a defined name defined twice (Excel keeps one, openpyxl another: katsheet does not guess);
- macros: an .xlsm is read as data; nothing in it is ever run.

The reader (xlsx.py) refuses, as it streams the sheets: a cell a million rows down or more cells
than any month has (a declared size is ignored), a cell or a row written twice, XML that declares
entities, damaged compressed data. Elsewhere openpyxl parses through defusedxml, which we require.
"""

from __future__ import annotations

import importlib.util
import os
import re
import zipfile
import zlib
from pathlib import Path

from ..engine import InputError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Far above any monthly workbook (a 10,000-member month unpacks to about 30 MB).
MAX_UNPACKED = 500 * 2**20
MAX_MEMBER = 200 * 2**20
#: Text XML compresses well, but not a thousandfold.
MAX_RATIO = 200
MAX_MEMBERS = 2_000
#: Rows a sheet may reach: a table of the largest size katsheet reads (MAX_ROLE_ROWS) with room
#: around it. The reader (xlsx.py) refuses a cell further down as it meets it, before storing it.
MAX_ROWS = 20_000
MAX_COLUMNS = 16_384
#: Cells a workbook may hold, all sheets together: a 12,000-row month with 40 criteria has about
#: 800,000; this bounds what a file full of cells can make `check` hold in memory (under 1 GB).
MAX_CELLS = 1_500_000

_NAME = re.compile(rb"<(?:\w+:)?definedName\s([^>]*)>")
_NAME_ATTR = re.compile(rb'\bname="([^"]*)"')
_LOCAL = re.compile(rb'\blocalSheetId="(\d+)"')


def defusedxml_on() -> bool:
    """openpyxl.xml.DEFUSEDXML (openpyxl parses through defusedxml), read without importing
    openpyxl: that import was a quarter of a second of every `katsheet check`."""
    return (
        importlib.util.find_spec("defusedxml") is not None and os.environ.get("OPENPYXL_DEFUSEDXML", "True") == "True"
    )


def check_file(path: Path) -> None:
    """Raise InputError (one line, naming the file) unless ``path`` is a plausible .xlsx."""
    where = str(path)
    if not defusedxml_on():  # pragma: no cover - defusedxml is a dependency
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
            _check_names(z, where)
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, zipfile.LargeZipFile, ValueError, RuntimeError) as e:
        raise InputError(f"is damaged or truncated ({type(e).__name__}: {str(e)[:80]})", where=where) from None


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


def _check_names(z: zipfile.ZipFile, where: str) -> None:
    """A defined name defined twice in one scope: which one counts is the reader's guess."""
    data = z.read("xl/workbook.xml")
    seen: set[tuple[bytes, bytes]] = set()
    for m in _NAME.finditer(data):
        name, local = _NAME_ATTR.search(m.group(1)), _LOCAL.search(m.group(1))
        if name is None:
            continue
        key = (name.group(1).upper(), local.group(1) if local else b"")
        if key in seen:
            raise InputError(
                f"is ambiguous: the defined name {name.group(1).decode(errors='replace')} is defined twice, and "
                "programs differ on which one counts; save the workbook again in Excel or LibreOffice",
                where=where,
            )
        seen.add(key)
