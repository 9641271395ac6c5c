"""Teach the `formulas` package katsheet's Excel functions, so the checker can evaluate a
workbook whose cells call them (katsheet/functions.py lists them)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .. import udfs
from ..functions import FUNCTIONS

NAMES = FUNCTIONS
#: `formulas` passes an omitted argument (``=GRAPE_ALLOCATE(B3,G6:G18,,,TRUE)``) as 0, which a
#: function cannot tell from a typed 0; the checker writes KSOMITTED() in its place (see
#: ``mark_omitted``) and the function sees None, as Excel hands an omitted argument to xlwings.
OMITTED = "KSOMITTED"
_OMITTED_VALUE = "\u2400katsheet-omitted"
_CALL = re.compile(r'"(?:[^"]|"")*"|\b(' + "|".join(FUNCTIONS) + r")\s*\(", re.IGNORECASE)


def mark_omitted(formula: str) -> str:
    """The formula with every empty argument of a call of katsheet's functions written as KSOMITTED()."""
    from ..workbook.columnwise.outer import _split_call

    out, pos = [], 0
    for m in _CALL.finditer(formula):
        if m.group(1) is None or m.start() < pos:
            continue
        try:
            args, end = _split_call(formula, m.end() - 1)
        except ValueError:
            return formula
        filled = [a if a.strip() else f"{OMITTED}()" for a in args]
        if filled == [f"{OMITTED}()"]:  # GRAPE_X() has no arguments, not one omitted
            filled = []
        out.append(formula[pos : m.end() - 1] + "(" + ",".join(mark_omitted(a) for a in filled) + ")")
        pos = end
    return "".join(out) + formula[pos:]


def _plain(value: Any) -> Any:
    """A `formulas` argument (Ranges, numpy arrays, its empty sentinel) as Excel would pass it."""
    if hasattr(value, "value"):  # a Ranges object
        value = value.value
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return _plain(value.item())
        return [[_plain(v) for v in row] for row in value.tolist()]
    if type(value).__name__ in ("XlError",) or str(value) in ("empty", _OMITTED_VALUE):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _adapt(fn):
    def call(*args: Any) -> Any:
        out = fn(*[_plain(a) for a in args])
        return np.array(out, dtype=object) if isinstance(out, list) else out

    return call


def register() -> None:
    """Add the functions to `formulas`' function table (idempotent)."""
    import formulas

    table = formulas.get_functions()
    for name in NAMES:
        table[name] = _adapt(getattr(udfs, name))
    table[OMITTED] = lambda: _OMITTED_VALUE
