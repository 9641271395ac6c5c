"""Evaluate a workbook's formulas with the `formulas` package (an engine we did not write)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

_KEY = re.compile(r"^'\[[^\]]+\](.+)'!([A-Z]+\d+)$")


def evaluate(path: Path, sheetnames: list[str]) -> dict[tuple[str, str], Any]:
    """Every cell's value as `formulas` computes it, keyed by (sheet as in the file, cell)."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # `formulas` draws progress bars of its own otherwise
    import formulas  # imported here: slow to import, and only the checker needs it

    titles = {name.upper(): name for name in sheetnames}
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    out: dict[tuple[str, str], Any] = {}
    for key, ranges in solution.items():
        m = _KEY.match(key)
        if not m:
            continue
        value = ranges.value[0][0] if hasattr(ranges, "value") else ranges
        if hasattr(value, "item"):
            value = value.item()
        if type(value).__name__ == "XlError" or str(value).startswith("#"):
            value = str(value)
        elif str(value) == "empty":
            value = None
        out[(titles.get(m.group(1), m.group(1)), m.group(2))] = value
    return out
