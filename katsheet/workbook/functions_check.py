"""Checking a sheet a treasurer built from katsheet's Excel functions (no katsheet template).

Every cell whose formula calls one of katsheet's functions (katsheet/functions.py) must
hold what the engine answers for that call's arguments: the workbook is evaluated by the
`formulas` package with the functions registered (so each call runs the engine), and the value
Excel stored is held against it. A value typed over a call, or a file saved without
recalculating, is a finding; everything else in the sheet is the treasurer's own business.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..engine import InputError
from ..functions import FUNCTIONS
from .checker import Report, normalise
from .evaluate import _letters, _split, evaluate_with_ranges
from .expected import FLOAT_NOISE, is_blank
from .reader import Cells, Finding

CALL = re.compile(r"\b(" + "|".join(FUNCTIONS) + r")\s*\(", re.IGNORECASE)


def calls_functions(formulas: Cells) -> bool:
    return any(isinstance(v, str) and v.startswith("=") and CALL.search(v) for v in formulas.values())


def _same(a: Any, b: Any) -> bool:
    if is_blank(a) or is_blank(b):
        return is_blank(a) and is_blank(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and {type(a), type(b)} <= {bool, int, float}
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= FLOAT_NOISE * max(1.0, abs(a))
    return str(a) == str(b)


#: `formulas`' whole model evaluates these sheets cell by cell; a sheet of katsheet's functions is
#: a worksheet a person builds, not a 10,000-row table: beyond this it is refused, not ground through.
MAX_CALL_SHEET_FORMULAS = 5_000


def check_functions(path: Path, formulas: Cells, cached: Cells, sheetnames: list[str]) -> Report:
    """Findings for the cells of katsheet's function calls (and the cells their arrays spill into)."""
    targets = {k for k, v in formulas.items() if isinstance(v, str) and v.startswith("=") and CALL.search(v)}
    count = sum(1 for v in formulas.values() if isinstance(v, str) and v.startswith("="))
    if count > MAX_CALL_SHEET_FORMULAS:
        raise InputError(
            f"holds {count:,} formulas around katsheet's functions; katsheet checks such sheets up to "
            f"{MAX_CALL_SHEET_FORMULAS:,} (a monthly template is checked at any size)",
            where=str(path),
        )
    if targets and all(cached.get(k) is None for k in targets):
        sheet, cell = min(targets, key=lambda k: (k[0], _split(k[1])[1], _split(k[1])[0]))
        return Report(str(path), "katsheet functions", [Finding(
            "stale-value", sheet, cell, "calculated values", "no value stored in any formula cell",
            "the workbook was never calculated: open it in Excel (with the add-in) and save it; then check it again",
        )])  # fmt: skip
    evaluated, ranges = evaluate_with_ranges(path, sheetnames)
    findings = []
    spill: set[tuple[str, str]] = set()  # the cells an array call fills beside its own cell
    for sheet, first, last in ranges:
        if (sheet, first) in targets:
            (c1, r1), (c2, r2) = _split(first), _split(last)
            spill |= {(sheet, f"{_letters(c)}{r}") for c in range(c1, c2 + 1) for r in range(r1, r2 + 1)}
    for key in sorted(targets | spill, key=lambda k: (k[0], _split(k[1])[1], _split(k[1])[0])):
        computed, stored = evaluated.get(key), cached.get(key)
        if _same(computed, stored):
            continue
        sheet, cell = key
        text = formulas.get(key)
        findings.append(
            Finding("wrong-number", sheet, cell, f"{computed!r}", f"{stored!r}",
                    "the stored value is not what the katsheet function answers for its arguments"
                    + (f" ({normalise(text)[:60]})" if isinstance(text, str) else ""))
        )  # fmt: skip
    return Report(str(path), "katsheet functions", findings)
