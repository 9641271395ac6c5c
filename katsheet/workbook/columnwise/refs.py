"""Cell references inside a formula's text, and the formula's shape relative to its own cell.

A template repeats one formula down a column: in R1C1 terms every cell of the column holds the
same text. ``shape`` turns a formula into that relative form (the runs of one column share it)
and into a text where each reference is a placeholder name, so `formulas` compiles it once and
the evaluator feeds a placeholder a whole column of values at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...layouts.model import col_index

_REF = re.compile(
    r"""
    (?P<string>"(?:[^"]|"")*")
    | (?<![\w.$'!:])
      (?P<ref>
        (?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?
        (?P<c1d>\$?)(?P<c1>[A-Za-z]{1,3})(?P<r1d>\$?)(?P<r1>[0-9]+)
        (?::(?P<c2d>\$?)(?P<c2>[A-Za-z]{1,3})(?P<r2d>\$?)(?P<r2>[0-9]+))?
      )(?![\w(.!:\[])
    """,
    re.VERBOSE,
)
#: what this evaluator does not follow: whole rows/columns, other workbooks, tables, R1C1
_UNSUPPORTED = re.compile(
    r"""(?<![\w.])\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![\w(])|\[|(?<![\w.])\$?\d+:\$?\d+(?![\w.])"""
)
PLACEHOLDER = "_KSR"


class Unsupported(Exception):
    """A formula or name this evaluator does not handle: the caller evaluates the whole model."""


@dataclass(frozen=True)
class Ref:
    """A reference as written in a formula at (``col``, ``row``); 0-based columns, 1-based rows.

    Relative parts are kept as offsets from the formula's cell, so the refs of cells in one run
    compare equal.
    """

    sheet: str | None  # None: the formula's own sheet
    c1: int
    r1: int
    c2: int
    r2: int
    col_abs: tuple[bool, bool]
    row_abs: tuple[bool, bool]

    def at(self, col: int, row: int) -> tuple[int, int, int, int]:
        """The rectangle (c1, r1, c2, r2) this reference means in the cell (col, row)."""
        c1 = self.c1 if self.col_abs[0] else col + self.c1
        c2 = self.c2 if self.col_abs[1] else col + self.c2
        r1 = self.r1 if self.row_abs[0] else row + self.r1
        r2 = self.r2 if self.row_abs[1] else row + self.r2
        return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)

    @property
    def moves_with_row(self) -> bool:
        return not all(self.row_abs)

    @property
    def single(self) -> bool:
        return (
            self.c1 == self.c2
            and self.r1 == self.r2
            and self.col_abs[0] == self.col_abs[1]
            and (self.row_abs[0] == self.row_abs[1])
        )


@dataclass(frozen=True)
class Shape:
    """A formula with its references replaced by placeholders ``_KSR0``, ``_KSR1``, ...

    ``key`` is equal for two cells exactly when their formulas are the same in R1C1 terms.
    """

    text: str
    refs: tuple[Ref, ...]

    @property
    def key(self) -> tuple[str, tuple[Ref, ...]]:
        return self.text, self.refs


def _sheet(raw: str | None) -> str | None:
    if raw is None:
        return None
    return raw[1:-1].replace("''", "'") if raw.startswith("'") else raw


def shape(formula: str, col: int, row: int) -> Shape:
    """The relative shape of ``formula`` written in the cell at (``col``, ``row``)."""
    if _UNSUPPORTED.search(_strip_strings(formula)):
        raise Unsupported(formula)
    refs: list[Ref] = []
    index: dict[Ref, int] = {}

    def replace(m: re.Match[str]) -> str:
        if m.group("string") is not None:
            return m.group("string")
        c1, r1 = col_index(m.group("c1").upper()), int(m.group("r1"))
        c2, r2 = (col_index(m.group("c2").upper()), int(m.group("r2"))) if m.group("c2") else (c1, r1)
        ca = (m.group("c1d") == "$", (m.group("c2d") if m.group("c2") else m.group("c1d")) == "$")
        ra = (m.group("r1d") == "$", (m.group("r2d") if m.group("c2") else m.group("r1d")) == "$")
        ref = Ref(
            _sheet(m.group("sheet")),
            c1 if ca[0] else c1 - col,
            r1 if ra[0] else r1 - row,
            c2 if ca[1] else c2 - col,
            r2 if ra[1] else r2 - row,
            ca,
            ra,
        )
        if ref not in index:
            index[ref] = len(refs)
            refs.append(ref)
        return f"{PLACEHOLDER}{index[ref]}"

    return Shape(_REF.sub(replace, formula), tuple(refs))


_NUMBER = re.compile(r"[0-9]+")
_ROW_DIGITS: dict[tuple[str, ...], tuple[bool, ...]] = {}


def run_key(formula: str, row: int) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """Equal for two cells of one column exactly when ``shape`` would give them equal keys, at a
    fraction of its cost (a table has tens of thousands of formula cells).

    The text is split at its digit groups; which groups are row numbers of relative references
    depends only on the text around them, so it is worked out once per skeleton.
    """
    parts = tuple(_NUMBER.split(formula))
    numbers = _NUMBER.findall(formula)
    relative = _ROW_DIGITS.get(parts)
    if relative is None:
        relative = _ROW_DIGITS[parts] = _relative_rows(formula)
    return parts, tuple(int(n) - row if r else n for n, r in zip(numbers, relative, strict=True))


def next_row_text(formula: str, row: int) -> Callable[[int], str] | None:
    """For a formula written in ``row``: a function giving the text the same formula has, in R1C1
    terms, in another row of its column (what fill-down writes there). One string format per cell
    instead of ``run_key``'s splitting: comparing a cell's text with it finds a column's run in a
    fraction of the time. None when the text holds braces (array constants), left to run_key."""
    if "{" in formula or "}" in formula:
        return None
    parts = _NUMBER.split(formula)
    numbers = _NUMBER.findall(formula)
    relative = _ROW_DIGITS.get(tuple(parts))
    if relative is None:
        relative = _ROW_DIGITS[tuple(parts)] = _relative_rows(formula)
    offsets: list[int] = []  # each distinct offset once: a row's own cells are all offset 0
    pieces = [parts[0]]
    texts = [parts[0]]  # the literal texts between the row numbers (when there is one offset)
    for digits, moves, after in zip(numbers, relative, parts[1:], strict=True):
        if moves and not digits.startswith("0"):
            offset = int(digits) - row
            if offset not in offsets:
                offsets.append(offset)
            pieces.append(f"{{{offsets.index(offset)}}}")
            texts.append(after)
        else:
            pieces.append(digits)
            texts[-1] += digits + after
        pieces.append(after)
    if len(offsets) == 1:  # the common case: the texts joined by the one row number
        (only,) = offsets
        return lambda at: str(at + only).join(texts)
    template = "".join(pieces)
    return lambda at: template.format(*[at + o for o in offsets])


def _relative_rows(formula: str) -> tuple[bool, ...]:
    """For each digit group of ``formula``: is it the row of a reference without a $ on it?"""
    starts = set()
    for m in _REF.finditer(formula):
        if m.group("ref") is None:
            continue
        for digits, dollar in (("r1", "r1d"), ("r2", "r2d")):
            if m.group(digits) is not None and m.group(dollar) != "$":
                starts.add(m.start(digits))
    return tuple(m.start() in starts for m in _NUMBER.finditer(formula))


def _strip_strings(formula: str) -> str:
    return re.sub(r'"(?:[^"]|"")*"', '""', formula)


def target(text: str) -> tuple[str, int, int, int, int] | None:
    """A defined name's reference ('Sheet'!$A$1:$B$2) as (sheet, c1, r1, c2, r2); None if it is
    not a plain reference."""
    m = _REF.fullmatch(text.strip().lstrip("="))
    if not m or m.group("ref") is None or m.group("sheet") is None:
        return None
    ref = shape(text.strip().lstrip("="), 0, 0).refs[0]
    c1, r1, c2, r2 = ref.at(0, 0)
    return _sheet(m.group("sheet")) or "", c1, r1, c2, r2
