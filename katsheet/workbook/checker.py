"""The checker: do the numbers in this workbook follow the rules? (workbook.md, "Checking")

Findings, each with its sheet and cell:
- formula-drift: a computed cell whose formula is not the layout's for that cell (overwritten with
  a number, cleared, or changed), even when the number it shows happens to be right;
- bad-input: from the reader (scores out of range, text in a number cell, missing budget, ...);
- wrong-number: the engine's figure for the workbook's own inputs differs from what the
  workbook's formulas compute (evaluated by the `formulas` package) and from its cached value;
- stale-value: the formulas compute the right number but the stored (cached) value is another:
  the file was saved by something that did not recalculate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .columnwise import Unsupported, evaluate_cells
from .evaluate import evaluate
from .expected import agrees, expected_cells, formula_cells, is_blank
from .reader import Finding, Workbook

KINDS = ("formula-drift", "bad-input", "wrong-number", "stale-value", "structure")


def normalise(formula: str) -> str:
    """Compare formulas as Excel means them: no spaces, case-blind, outside string literals.

    LibreOffice saves FALSE as FALSE() and TRUE as TRUE(); Excel may add _xlfn. prefixes.
    """
    parts = re.split(r'("(?:[^"]|"")*")', formula.lstrip("="))
    return "".join(p if p.startswith('"') else _bare(p) for p in parts)


def _bare(text: str) -> str:
    text = re.sub(r"\s+", "", text).upper().replace("_XLFN.", "")
    return text.replace("TRUE()", "TRUE").replace("FALSE()", "FALSE")


def _shown(value: Any) -> str:
    if is_blank(value):
        return "(blank)"
    return repr(value) if isinstance(value, str) else f"{value}"


def drift(book: Workbook) -> list[Finding]:
    """Every computed cell whose formula is not the layout's (re-rendered in the file's geometry)."""
    out = []
    for fc in formula_cells(book.layout):
        found = book.formulas.get((fc.sheet, fc.cell))
        if found == fc.formula:  # as written (the common case): no need to normalise
            continue
        if isinstance(found, str) and found.startswith("="):
            if normalise(found) != normalise(fc.formula):
                out.append(Finding("formula-drift", fc.sheet, fc.cell, fc.formula, found, "the formula was changed"))
        else:
            what = "cleared" if is_blank(found) else "overwritten with a value"
            out.append(
                Finding("formula-drift", fc.sheet, fc.cell, fc.formula, _shown(found), f"the formula was {what}")
            )
    return out


def numbers(book: Workbook, evaluated: dict[tuple[str, str], Any] | None) -> list[Finding]:
    """Engine vs the workbook's formulas (evaluated) and vs its cached values."""
    month = book.month
    if month is None:
        return []
    out = []
    budget = float(month.budget or 0)
    d = month.options.decimals
    for e in expected_cells(book.layout, month, book.row_maps):
        key = (e.sheet, e.cell)
        cached = book.cached.get(key)
        cached_ok = agrees(e.value, cached, e.fmt, d, budget, e.units)
        computed = evaluated.get(key) if evaluated is not None else None
        computed_ok = evaluated is None or agrees(e.value, computed, e.fmt, d, budget, e.units)
        if computed_ok and cached_ok:
            continue
        expected = _shown(e.value)
        if computed_ok and evaluated is not None:
            out.append(Finding("stale-value", e.sheet, e.cell, expected, _shown(cached),
                               f"{e.label}: the stored value is stale; the formulas give the right number"))  # fmt: skip
        elif evaluated is None:
            out.append(Finding("wrong-number", e.sheet, e.cell, expected, _shown(cached),
                               f"{e.label}: the stored value differs from the rules"))  # fmt: skip
        else:
            out.append(Finding("wrong-number", e.sheet, e.cell, expected,
                               f"{_shown(computed)} (stored {_shown(cached)})",
                               f"{e.label}: the workbook computes another number than the rules"))  # fmt: skip
    return out


@dataclass
class Report:
    path: str
    template: str
    findings: list[Finding]
    #: False when the inputs could not be allocated (see the bad-input findings): no numbers checked
    numbers_checked: bool = True

    @property
    def clean(self) -> bool:
        return not self.findings

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.kind] = out.get(f.kind, 0) + 1
        return out


def evaluate_book(book: Workbook, *, whole_model: bool = False) -> dict[tuple[str, str], Any]:
    """The workbook's formulas evaluated by `formulas`: column by column (columnwise/), or, when
    asked or when the workbook holds something that evaluator does not follow, by `formulas`'
    own ExcelModel, cell by cell (the same answers, minutes instead of a second at 1,000 rows)."""
    if not whole_model:
        try:
            return evaluate_cells(book.formulas, book.formula_keys, book.names)
        except Unsupported:
            pass
    return evaluate(book.path, [s.name for s in book.layout.sheets] + ["Guide"])


def check(book: Workbook, *, evaluate_formulas: bool = True, whole_model: bool = False) -> Report:
    evaluated = None
    if evaluate_formulas and book.month is not None:
        evaluated = evaluate_book(book, whole_model=whole_model)
    findings = [*book.findings, *drift(book), *numbers(book, evaluated)]
    order = {k: i for i, k in enumerate(KINDS)}
    findings.sort(key=lambda f: (order.get(f.kind, 9), f.sheet, _cell_order(f.cell)))
    return Report(str(book.path), book.template, findings, numbers_checked=book.month is not None)


def _cell_order(cell: str) -> tuple[int, str]:
    m = re.match(r"([A-Z]+)(\d+)", cell)
    return (int(m.group(2)), m.group(1)) if m else (0, cell)
