"""The values of a workbook's cells, column by column, as the `formulas` functions take them."""

from __future__ import annotations

from typing import Any

import numpy as np
import schedula as sh

EMPTY = sh.EMPTY  # `formulas`' blank cell


class Grid:
    """Each sheet's columns as object arrays indexed by row (1-based), blank = ``EMPTY``."""

    def __init__(self, rows: dict[str, int]) -> None:
        """``rows``: each sheet's last row, so that its columns are made at their full size once."""
        self._rows = {s.upper(): n + 2 for s, n in rows.items()}
        self._cols: dict[tuple[str, int], np.ndarray] = {}

    def _column(self, sheet: str, col: int, upto: int) -> np.ndarray:
        key = (sheet.upper(), col)
        arr = self._cols.get(key)
        if arr is None or len(arr) <= upto:
            size = max(upto + 1, self._rows.get(key[0], 0))
            grown = np.empty(size, dtype=object)
            grown.fill(EMPTY)  # not np.full: it would turn the str-like sentinel into a plain str
            if arr is not None:
                grown[: len(arr)] = arr
            self._cols[key] = arr = grown
        return arr

    def put(self, sheet: str, col: int, row: int, value: Any) -> None:
        self._column(sheet, col, row)[row] = value

    def put_cells(self, sheet: str, col: int, values: dict[int, Any]) -> None:
        """Scattered cells of one column, by row: the column looked up once, not once per cell."""
        arr = self._column(sheet, col, max(values))
        for row, value in values.items():
            arr[row] = value

    def put_column(self, sheet: str, col: int, first: int, values: np.ndarray) -> None:
        self._column(sheet, col, first + len(values))[first : first + len(values)] = values

    def column(self, sheet: str, col: int, first: int, last: int) -> np.ndarray:
        """Rows first..last of one column, shape (n, 1)."""
        if first < 1:
            raise IndexError(first)
        return self._column(sheet, col, last)[first : last + 1].reshape(-1, 1)

    def rect(self, sheet: str, c1: int, r1: int, c2: int, r2: int) -> Any:
        """A rectangle as an (h, w) object array, or the bare value of a single cell."""
        if c1 == c2 and r1 == r2:
            return self._column(sheet, c1, r1)[r1]
        return np.hstack([self.column(sheet, c, r1, r2) for c in range(c1, c2 + 1)])

    def get(self, sheet: str, col: int, row: int) -> Any:
        arr = self._cols.get((sheet.upper(), col))
        return arr[row] if arr is not None and row < len(arr) else EMPTY
