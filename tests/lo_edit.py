"""Edit a workbook inside LibreOffice, as a person in a spreadsheet program would (UNO).

Run with the system Python that has LibreOffice's `uno` module (Debian: python3-uno):

    /usr/bin/python3 tests/lo_edit.py IN.xlsx OUT.xlsx '[["insert_rows", "Scoring", 20, 1], ...]'
    /usr/bin/python3 tests/lo_edit.py --worker     # one LibreOffice for many edits: JSON lines on
                                                   # stdin ({"src", "dst", "ops"}), "ok" or "error: ..."
                                                   # on stdout (the tests' session fixture uses this)

Operations (rows and columns 1-based, as a person counts them):
  ["insert_rows", sheet, row, count]         rows inserted above `row`
  ["delete_rows", sheet, row, count]
  ["insert_columns", sheet, column_letter, count]
  ["fill_down", sheet, "G19:H19", count]      copy a row's cells into the rows below (formulas adjust)
  ["set", sheet, cell, value]                 a number, or text as typed (a leading = makes a formula)
  ["set_text", sheet, cell, text]             always literal text
  ["clear", sheet, cell]
  ["sort", sheet, "A16:F28", column_index, descending]   column_index 0-based within the range
LibreOffice adjusts references and defined names exactly as it does for a person, recalculates,
and saves as .xlsx (cached values included).
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.table import CellAddress


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def connect(pipe):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(200):
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("LibreOffice did not start")


def col_index(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def apply(doc, op):
    kind, sheet_name, *args = op
    sheet = doc.Sheets.getByName(sheet_name)
    if kind == "insert_rows":
        sheet.Rows.insertByIndex(args[0] - 1, args[1])
    elif kind == "delete_rows":
        sheet.Rows.removeByIndex(args[0] - 1, args[1])
    elif kind == "insert_columns":
        sheet.Columns.insertByIndex(col_index(args[0]), args[1])
    elif kind == "fill_down":
        source = sheet.getCellRangeByName(args[0]).RangeAddress
        for k in range(1, args[1] + 1):
            target = CellAddress(source.Sheet, source.StartColumn, source.StartRow + k)
            sheet.copyRange(target, source)
    elif kind == "set":
        cell = sheet.getCellRangeByName(args[0])
        value = args[1]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cell.setValue(value)
        else:
            cell.setFormula(str(value)) if str(value).startswith("=") else cell.setString(str(value))
    elif kind == "set_text":
        sheet.getCellRangeByName(args[0]).setString(args[1])
    elif kind == "clear":
        sheet.getCellRangeByName(args[0]).clearContents(1 | 2 | 4 | 16)  # values, dates, strings, formulas
    elif kind == "sort":
        rng = sheet.getCellRangeByName(args[0])
        field = uno.createUnoStruct("com.sun.star.table.TableSortField")
        field.Field, field.IsAscending = args[1], not args[2]
        desc = rng.createSortDescriptor()
        for p in desc:
            if p.Name == "SortFields":
                p.Value = uno.Any("[]com.sun.star.table.TableSortField", (field,))
        rng.sort(desc)
    else:
        raise ValueError(f"unknown operation {kind}")


def start_office():
    """A headless LibreOffice listening on a private pipe, with a fresh profile; (process, desktop)."""
    profile = tempfile.mkdtemp(prefix="katsheet-uno-")
    pipe = f"katsheet{os.getpid()}"
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"-env:UserInstallation=file://{profile}",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        ctx = connect(pipe)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    except BaseException:
        office.kill()
        office.wait()
        shutil.rmtree(profile, ignore_errors=True)
        raise
    office.profile = profile  # removed by stop_office
    return office, desktop


def stop_office(office, desktop):
    with contextlib.suppress(Exception):
        if desktop is not None:
            desktop.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        office.wait(timeout=30)
    if office.poll() is None:
        office.kill()
        office.wait()
    shutil.rmtree(office.profile, ignore_errors=True)  # a fresh profile each start: leave none behind


def edit_file(desktop, src, dst, ops):
    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(os.path.abspath(src)), "_blank", 0, (prop("Hidden", True),)
    )
    try:
        doc.calculateAll()
        for sheet in doc.Sheets:  # protection guards against slips; a person unprotects to edit
            sheet.unprotect("")
        for op in ops:
            apply(doc, op)
        # One hard recalculation can leave cells that read a formula-group range stale (LibreOffice
        # 7.4 recomputed the bases after an inserted row but kept Budget-SUM(Bases)); a person would
        # see it settle on the next recalculation, so recalculate three times, as pressing F9 would.
        for _ in range(3):
            doc.calculateAll()
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(dst)), (prop("FilterName", "Calc MS Excel 2007 XML"),))
    finally:
        doc.close(True)


def worker():
    office, desktop = start_office()
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            try:
                edit_file(desktop, request["src"], request["dst"], request["ops"])
                print("ok", flush=True)
            except Exception as e:  # the test that asked fails with this message
                print(f"error: {type(e).__name__}: {e}".replace("\n", " "), flush=True)
    finally:
        stop_office(office, desktop)


def main():
    if sys.argv[1:] == ["--worker"]:
        worker()
        return
    src, dst, ops = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    office, desktop = start_office()
    try:
        edit_file(desktop, src, dst, ops)
    finally:
        stop_office(office, desktop)


if __name__ == "__main__":
    main()
