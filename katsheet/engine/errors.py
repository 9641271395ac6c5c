"""The one error type the engine raises for bad input.

Every shell (CLI, workbook reader, Excel functions) turns it into one line that names where the
bad value sits (a CSV row and column, or a sheet cell) and the value itself.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input, located: ``where`` is e.g. ``row 4, column grape_weight`` or ``Sheet!C5``."""

    def __init__(self, problem: str, *, where: str = "", value: object = None) -> None:
        self.problem = problem
        self.where = where
        self.value = value
        super().__init__(self.line())

    def line(self) -> str:
        parts = []
        if self.where:
            parts.append(self.where)
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        prefix = ", ".join(parts)
        text = f"{prefix}: {self.problem}" if prefix else self.problem
        return " ".join(text.split())  # one line, whatever a library's message looked like
