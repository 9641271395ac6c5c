"""A workbook's structure as plain data, part by part, for golden-file comparison.

In the spirit of XlsxWriter's own tests (generated files compared with reference files piece by
piece), but at the level that matters to us: sheets, defined names, formulas (as row-relative
shapes, so a column of 100 identical formulas is one entry), input cell styles, validation,
conditional formats, protection, freeze panes, charts, and the document's custom properties.
"""

from __future__ import annotations

import re
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import openpyxl

PARTS = (
    "sheets",
    "names",
    "properties",
    "formulas",
    "constants",
    "styles",
    "validation",
    "conditional",
    "layout",
    "charts",
)

_REL_ROW = re.compile(r"(\$?[A-Z]{1,3})(\d+)(?![\d(])")


def _shape(formula: str, row: int) -> str:
    """Row-relative form: in row 16, ``$C16`` -> ``$C{r}``, ``$C15`` -> ``$C{r-1}``; ``$C$16`` stays."""

    def sub(m: re.Match) -> str:
        col, r = m.group(1), int(m.group(2))
        if m.string[m.start(2) - 1] == "$":
            return m.group(0)
        d = r - row
        return f"{col}{{r{d:+d}}}" if d else f"{col}{{r}}"

    return _REL_ROW.sub(sub, formula)


def _runs(cells: dict[int, str]) -> list[list[Any]]:
    """{row: shape} -> [[first_row, last_row, shape], ...] over consecutive rows with one shape."""
    out: list[list[Any]] = []
    for row in sorted(cells):
        if out and out[-1][2] == cells[row] and out[-1][1] == row - 1:
            out[-1][1] = row
        else:
            out.append([row, row, cells[row]])
    return out


def _color(fill: Any) -> str | None:
    """A cell fill's colour (fgColor), or a conditional format's (dxf fills keep it in bgColor)."""
    if fill is None:
        return None
    for color in (fill.fgColor, fill.bgColor):
        rgb = getattr(color, "rgb", None)
        if isinstance(rgb, str) and rgb not in ("00000000",):
            return rgb
    return None


def describe(path: Path) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {part: {} for part in PARTS}
    out["sheets"] = wb.sheetnames
    out["names"] = {name: dn.attr_text for name, dn in sorted(wb.defined_names.items())}
    out["properties"] = {p.name: str(p.value) for p in wb.custom_doc_props.props}
    for ws in wb.worksheets:
        formulas: dict[str, dict[int, str]] = defaultdict(dict)
        styles: dict[str, dict[int, str]] = defaultdict(dict)
        constants: dict[str, Any] = {}
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    formulas[c.column_letter][c.row] = _shape(c.value, c.row)
                elif c.value is not None:
                    value = c.value
                    constants[c.coordinate] = (
                        repr(value) if isinstance(value, float)
                        else value.isoformat() if hasattr(value, "isoformat") else value
                    )  # fmt: skip
                if not c.protection.locked:
                    styles[c.column_letter][c.row] = f"{_color(c.fill)}|{c.number_format}|unlocked"
        out["formulas"][ws.title] = {col: _runs(rows) for col, rows in sorted(formulas.items())}
        out["styles"][ws.title] = {col: _runs(rows) for col, rows in sorted(styles.items())}
        out["constants"][ws.title] = constants
        out["validation"][ws.title] = sorted(
            [str(dv.sqref), dv.type, dv.operator, dv.formula1, dv.formula2, bool(dv.allow_blank),
             bool(dv.showErrorMessage), dv.promptTitle, dv.prompt]
            for dv in ws.data_validations.dataValidation
        )  # fmt: skip
        out["conditional"][ws.title] = sorted(
            [str(cf.sqref), rule.type, list(rule.formula or []), _color(rule.dxf.fill) if rule.dxf else None]
            for cf in ws.conditional_formatting
            for rule in cf.rules
        )
        out["layout"][ws.title] = {
            "protected": bool(ws.protection.sheet),
            "insert_rows": not ws.protection.insertRows,
            "sort": not ws.protection.sort,
            "freeze": ws.freeze_panes,
            "landscape": ws.page_setup.orientation,
            "print_title_rows": ws.print_title_rows,
        }
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        out["charts"] = {n: re.findall(r"<c:f>([^<]+)</c:f>", z.read(n).decode()) for n in charts}
    return out
