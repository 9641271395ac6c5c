"""Teach the `formulas` package katsheet's Excel functions, so the checker can evaluate a
workbook whose cells call GRAPE_WEIGHT, GRAPE_LEVEL, GRAPE_ALLOCATE or GRAPE_SUMMARY."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import udfs

NAMES = ("GRAPE_WEIGHT", "GRAPE_LEVEL", "GRAPE_ALLOCATE", "GRAPE_SUMMARY")


def _plain(value: Any) -> Any:
    """A `formulas` argument (Ranges, numpy arrays, its empty sentinel) as Excel would pass it."""
    if hasattr(value, "value"):  # a Ranges object
        value = value.value
    if isinstance(value, np.ndarray):
        if value.size == 1:
            return _plain(value.item())
        return [[_plain(v) for v in row] for row in value.tolist()]
    if type(value).__name__ in ("XlError",) or str(value) == "empty":
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
