"""The checker: do the numbers in this workbook follow the rules? (workbook.md, "Checking")

Findings, each with its sheet and cell:
- structure: the table was edited in a way the formulas cannot follow (a row inserted or deleted
  on the allocation sheet, a column header renamed): reported once, at the edited row;
- bad-input: from the reader (scores out of range, text in a number cell, missing budget, ...);
- formula-drift: a computed cell whose formula is not the layout's for that cell (overwritten with
  a number, cleared, or changed), even when the number it shows happens to be right;
- wrong-number: the engine's figure for the workbook's own inputs differs from what the
  workbook's formulas compute (evaluated by the `formulas` package) and from its cached value;
- stale-value: the formulas compute the right number but the stored (cached) value is another:
  the file was saved by something that did not recalculate (or never calculated at all).

A structure finding or an input the sheet cannot compute with stops the number check: every
figure would differ for that one reason, and the one finding says what to fix.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..layouts.model import split_cell
from .background import Background
from .columnwise import formula_results
from .columnwise.startup import import_formulas
from .evaluate import evaluate
from .expected import ExpectedRun, agrees, expected_runs, is_blank
from .reader import Finding, Workbook

KINDS = ("sealed", "structure", "bad-input", "formula-drift", "wrong-number", "stale-value")


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


def _broken(book: Workbook, sheet: str, cell: str) -> bool:
    col, row = split_cell(cell)
    return (sheet, row) in book.broken_rows or (sheet, col) in book.broken_columns


def drift(book: Workbook) -> list[Finding]:
    """Every computed cell whose formula is not the layout's (re-rendered in the file's geometry)."""
    out = []
    for fc in book.formula_cells():
        found = book.formulas.get((fc.sheet, fc.cell))
        if found == fc.formula or _broken(book, fc.sheet, fc.cell):  # as written (the common case)
            continue
        if (fc.sheet, fc.cell) in book.formula_keys:
            if normalise(str(found)) != normalise(fc.formula):
                out.append(Finding("formula-drift", fc.sheet, fc.cell, fc.formula, found, "the formula was changed"))
        else:
            what = "cleared" if is_blank(found) else "overwritten with a value"
            out.append(
                Finding("formula-drift", fc.sheet, fc.cell, fc.formula, _shown(found), f"the formula was {what}")
            )
    return out


def never_calculated(book: Workbook) -> Finding | None:
    """A workbook saved by a program that does not calculate (openpyxl, a script) stores no value
    for any formula: that is one finding, not one per cell."""
    first = None
    for fc in book.formula_cells():
        key = (fc.sheet, fc.cell)
        if key in book.formula_keys:
            if book.cached.get(key) is not None:
                return None  # calculated (the first formula cell says so, as a rule)
            first = first or fc
    if first is None:
        return None
    return Finding("stale-value", first.sheet, first.cell, "calculated values", "no value stored in any formula cell",
                   "the workbook was never calculated: open it in Excel or LibreOffice, save it, and check it again")  # fmt: skip


#: a cell the evaluator left out (its formula is not one it follows): compared by its stored value
_NOT_EVALUATED = object()

#: how readers and `formulas` give a number (bool aside)
_SPREADSHEET_NUMBERS = (int, float)


def _same(a: Any, b: Any) -> bool:
    """Values ``agrees`` cannot tell apart: equal and of one type, equal numbers (1 and 1.0: a
    reader stores whole numbers as int, `formulas` gives floats), or both blank (None and "")."""
    if type(a) is type(b) or (type(a) in _SPREADSHEET_NUMBERS and type(b) in _SPREADSHEET_NUMBERS):
        return a == b
    return is_blank(a) and is_blank(b)


def all_equal(values: list[Any], stored: list[Any] | None, computed: list[Any] | None) -> bool:
    """Does each cell of a column equal the engine's figure, as stored and as computed (either
    None: not compared)? Python's ``==``, list against list, with the empty text as None (a reader
    gives no value for a formula's ""). Equal values always agree (tests/test_expected.py), so such
    a column, most of a clean month, is not weighed cell by cell."""
    expected = _blank_as_none(values)
    return (stored is None or expected == _blank_as_none(stored)) and (
        computed is None or expected == _blank_as_none(computed)
    )


def _blank_as_none(values: list[Any]) -> list[Any]:
    return [None if type(v) is str and v == "" else v for v in values]


def numbers(
    book: Workbook,
    evaluated: dict[tuple[str, str], Any] | Callable[[], dict[tuple[str, str], Any] | None] | None,
    *,
    cached: bool = True,
) -> list[Finding]:
    """Engine vs the workbook's formulas (evaluated) and vs its cached values (unless ``cached``
    is False: a workbook never calculated has none). ``evaluated`` may be a function giving the
    evaluation: it is called once the engine's figures are ready (see ``check``)."""
    month = book.month
    if month is None:
        return []
    runs = []
    for run in expected_runs(book.layout, month, book.row_maps, book.formula_cells()):
        keys = [(run.sheet, fc.cell) for fc in run.cells]
        runs.append((run, keys, [book.cached.get(key) for key in keys]))
    if callable(evaluated):
        evaluated = evaluated()
    out = []
    for run, keys, stored_column in runs:
        fmt, decimals, budget = run.fmt, run.decimals, run.budget
        computed_column = None if evaluated is None else [evaluated.get(key, _NOT_EVALUATED) for key in keys]
        if all_equal(run.values, stored_column if cached else None, computed_column):
            continue  # every cell equals the engine's figure, and equal values agree: no cell to weigh
        computed_cells = computed_column or [_NOT_EVALUATED] * len(keys)
        for fc, value, stored, computed in zip(run.cells, run.values, stored_column, computed_cells, strict=True):
            cached_ok = not cached or agrees(value, stored, fmt, decimals, budget)
            # a cell the evaluator could not follow (a formula replaced by one it does not know) is
            # compared by its stored value alone; its drift finding says why
            evaluable = computed is not _NOT_EVALUATED
            if not evaluable:
                computed = None
                computed_ok = True
            elif cached and _same(computed, stored):
                computed_ok = cached_ok  # the formulas give what the file stores (the usual case): judged once
            else:
                computed_ok = agrees(value, computed, fmt, decimals, budget)
            if computed_ok and cached_ok:
                continue
            out.append(_number_finding(run, fc.cell, value, stored, computed, evaluable=evaluable,
                                       computed_ok=computed_ok, cached=cached))  # fmt: skip
    return out


def _number_finding(run: ExpectedRun, cell: str, value: Any, stored: Any, computed: Any, *, evaluable: bool,
                    computed_ok: bool, cached: bool) -> Finding:  # fmt: skip
    """What ``numbers`` says of a cell whose formulas or stored value differ from the rules."""
    expected = _shown(value)
    if computed_ok and evaluable:
        return Finding("stale-value", run.sheet, cell, expected, _shown(stored),
                       f"{run.label}: the stored value is stale; the formulas give the right number")  # fmt: skip
    if not evaluable:
        return Finding("wrong-number", run.sheet, cell, expected, _shown(stored),
                       f"{run.label}: the stored value differs from the rules")  # fmt: skip
    return Finding("wrong-number", run.sheet, cell, expected,
                   f"{_shown(computed)} (stored {_shown(stored)})" if cached else _shown(computed),
                   f"{run.label}: the workbook computes another number than the rules")  # fmt: skip


@dataclass
class Report:
    path: str
    template: str
    findings: list[Finding]
    #: False when the inputs could not be trusted (see the bad-input findings): no numbers checked
    numbers_checked: bool = True

    @property
    def clean(self) -> bool:
        return not self.findings

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.kind] = out.get(f.kind, 0) + 1
        return out


def layout_cells(book: Workbook) -> tuple[dict[tuple[str, str], Any], set[tuple[str, str]]]:
    """The cells as the evaluator takes them: the layout's formula cells by their formulas, every
    other cell by the value it shows (a formula in a notes cell, however exotic, is not ours to
    evaluate, and an input typed as a formula counts with its value, as the reader reads it)."""
    ours = book.formula_cell_keys()
    foreign = book.formula_keys - ours
    cells = book.formulas  # the cells as read, not a copy of them all (the evaluator only reads)
    if foreign:  # a formula that is not the layout's counts with its stored value
        cells = {**cells, **{key: book.cached.get(key) for key in foreign}}
    return cells, ours & book.formula_keys


def evaluate_book(book: Workbook, *, whole_model: bool = False) -> dict[tuple[str, str], Any]:
    """The workbook's formulas evaluated by `formulas`: column by column (columnwise/), or, when
    asked, by `formulas`' own ExcelModel, cell by cell (the same answers, minutes instead of a
    second at 1,000 rows). Cells the column evaluator cannot follow are left out (compared by
    their stored values), never a reason to fall back to minutes of the whole model."""
    if whole_model:
        return evaluate(book.path, [s.name for s in book.layout.sheets])
    return _given(book, formula_results(*layout_cells(book), book.names, book.positions))


def _given_of(book: Workbook, job: Background) -> dict[tuple[str, str], Any]:
    """The evaluation ``read_workbook(evaluate_early=True)`` began, finished as ``evaluate_book`` is."""
    return _given(book, job.result())


def _given(book: Workbook, results: dict[tuple[str, str], Any] | None) -> dict[tuple[str, str], Any]:
    """What ``numbers`` reads of an evaluation: the formula cells' results and each layout formula
    typed over with a constant, as that constant; nothing when the formulas could not be followed."""
    if results is None:
        return {}
    typed_over = book.formula_cell_keys() - book.formula_keys
    results.update((k, book.formulas[k]) for k in typed_over if k in book.formulas)
    return results


def check(
    book: Workbook,
    *,
    evaluate_formulas: bool = True,
    whole_model: bool = False,
    meanwhile: Callable[[list[Finding]], None] | None = None,
) -> Report:
    """Every finding in ``book``. The formulas are evaluated on the other core, when there is one
    (background.py), while this process checks the rest; ``meanwhile`` is called in that time with
    the findings so far, all but the numbers' (settle writes its files in memory then)."""
    job: Background | None = None
    evaluated: Callable[[], dict[tuple[str, str], Any]] | None = None
    early, book.early = book.early, None
    if evaluate_formulas and book.month is not None:
        if early is not None and not whole_model and book.formula_keys <= book.formula_cell_keys():
            job, early = early, None  # begun as the file was read: the same cells, finished here
            evaluated = functools.partial(_given_of, book, job)
        else:
            # what both processes need is made before the fork, once: the layout's formula cells
            # (a child's own copy would cost its 0.4 s again) and `formulas`' function table
            book.formula_cell_keys()
            import_formulas()
            job = Background(functools.partial(evaluate_book, book, whole_model=whole_model))
            evaluated = job.result
    if early is not None:
        early.close()  # not wanted: nothing to evaluate, or a formula of the file's own to leave out
    with job or contextlib.nullcontext():
        findings = _findings(book, evaluated, meanwhile)
    order = {k: i for i, k in enumerate(KINDS)}
    findings.sort(key=lambda f: (order.get(f.kind, 9), f.sheet, _cell_order(f.cell)))
    return Report(str(book.path), book.template, findings, numbers_checked=book.month is not None)


def _findings(
    book: Workbook,
    evaluated: Callable[[], dict[tuple[str, str], Any]] | None,
    meanwhile: Callable[[list[Finding]], None] | None,
) -> list[Finding]:
    from .seals import chain_findings, settlement_findings

    uncalculated = never_calculated(book)
    # a settled month's seal (readable even when the month is not), and a KAT ledger's chains
    chains = chain_findings(book.month) if book.template == "kat" and book.month is not None else []
    sealed = [*settlement_findings(book), *chains]
    findings = [*sealed, *book.findings, *drift(book), *([uncalculated] if uncalculated else [])]
    if meanwhile is not None:
        meanwhile(list(findings))
    return [*findings, *numbers(book, evaluated, cached=uncalculated is None)]


def _cell_order(cell: str) -> tuple[int, str]:
    m = re.match(r"([A-Z]+)(\d+)", cell)
    return (int(m.group(2)), m.group(1)) if m else (0, cell)
