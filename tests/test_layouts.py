"""The layouts obey workbook.md's conventions by construction."""

from __future__ import annotations

import re

import pytest

from katsheet.engine import FOUR_CRITERIA, SINGLE_CRITERION, Criteria, Criterion
from katsheet.layouts.grape import Month, grape_layout
from katsheet.layouts.model import col_index, col_letter, compile_row_formula, split_cell
from katsheet.workbook.expected import formula_cells

ALLOWED = {
    "SUM", "SUMPRODUCT", "SUMIF", "COUNTIF", "COUNTIFS", "AVERAGEIF", "IF", "IFERROR", "AND", "OR", "NOT",
    "MAX", "MIN", "ROUND", "ROUNDDOWN", "VLOOKUP", "INDEX", "MATCH", "ISBLANK", "ISNUMBER", "LEN",
    # beyond workbook.md's list, proved alike in tests/test_portable_functions.py
    "SUBSTITUTE", "TRIM",
}  # fmt: skip
SEVEN = Criteria(tuple(Criterion(f"C{i}", __import__("decimal").Decimal(i)) for i in range(1, 8)))
LAYOUTS = [
    grape_layout(Month(template=t, criteria=c, capacity=5))
    for t in ("compact", "expanded")
    for c in (FOUR_CRITERIA, SINGLE_CRITERION, SEVEN)
]


def _formulas(layout):
    for fc in formula_cells(layout):
        yield fc.sheet, fc.cell, fc.formula
    for sheet in layout.sheets:
        for cond in sheet.conditionals:
            yield sheet.name, "conditional", compile_row_formula(cond.formula, sheet, layout)(0)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: f"{lay.template}-{len(lay.sheets[1].table.columns)}")
def test_only_functions_every_engine_evaluates(layout) -> None:
    for sheet, cell, formula in _formulas(layout):
        text = re.sub(r'"[^"]*"', '""', formula)
        used = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", text))
        assert used <= ALLOWED, (sheet, cell, formula, used - ALLOWED)
        assert "[" not in text and "#" not in text, (sheet, cell, formula)  # no structured references, no spills


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: f"{lay.template}-{len(lay.sheets[1].table.columns)}")
def test_every_name_used_is_defined(layout) -> None:
    names = set(layout.defined_names())
    for sheet, cell, formula in _formulas(layout):
        text = re.sub(r'"[^"]*"', '""', formula)
        text = re.sub(r"(?:'[^']+'|[A-Za-z_]+)!\$?[A-Z]+\$?\d+", "", text)  # cross-sheet references
        words = set(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\b(?!\()", text))
        words -= {"TRUE", "FALSE"}
        words = {w for w in words if not re.fullmatch(r"\$?[A-Z]{1,3}\$?\d+", w) and not re.fullmatch(r"[A-Z]{1,3}", w)}
        assert words <= names, (sheet, cell, words - names)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: f"{lay.template}-{len(lay.sheets[1].table.columns)}")
def test_no_cell_is_claimed_twice(layout) -> None:
    for sheet in layout.sheets:
        cells: dict[str, str] = {}
        for p in sheet.params:
            col, row = split_cell(p.cell)
            label = f"{col_letter(col_index(col) - 1)}{row}"
            for cell, what in ((p.cell, p.name), (label, f"label of {p.name}")):
                assert cell not in cells, (sheet.name, cell, what, cells.get(cell))
                cells[cell] = what
        for note in sheet.notes:
            assert note.cell not in cells, (sheet.name, note.cell, note.text, cells[note.cell])
            cells[note.cell] = note.text
        if sheet.table:
            for cell in cells:
                assert split_cell(cell)[1] < sheet.table.header_row, (sheet.name, cell, "inside the table")


def test_threshold_override_and_average_sit_where_the_original_has_them() -> None:
    for template in ("compact", "expanded"):
        names = grape_layout(Month(template=template)).defined_names()
        assert names["ThresholdOverride"].endswith("!$E$3")
        assert names["AverageWeight"].endswith("!$E$7")


def test_no_volatile_functions() -> None:
    for layout in LAYOUTS:
        for _, _, formula in _formulas(layout):
            assert not re.search(r"\b(NOW|TODAY|OFFSET|INDIRECT|RAND)\(", formula)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: f"{lay.template}-{len(lay.sheets[1].table.columns)}")
def test_every_table_has_a_named_column(layout) -> None:
    """The reader learns where a table now is (after inserts and deletes) from a named column."""
    for sheet in layout.sheets:
        if sheet.table:
            assert any(c.name for c in sheet.table.columns), sheet.name


def test_row_formulas_joined_by_the_row_number_are_the_format_patterns() -> None:
    """compile_row_formula joins a formula's texts by the row's number when every field is that
    number: for every row formula and conditional of every shipped template and sample month
    (GRAPE, SubDAOs, pools, KAT, settled ones included), at the first, a middle and the last row,
    the same text as its ``str.format`` pattern; the other formulas keep the pattern."""
    from katsheet.layouts.model import row_formula_parts
    from katsheet.workbook.shipped import layout_of, sample_months, shipped_templates

    joined = patterned = 0
    for month in {**shipped_templates(), **sample_months()}.values():
        layout = layout_of(month)
        for sheet in layout.sheets:
            table = sheet.table
            if table is None:
                continue
            templates = [c.formula for c in table.columns if c.formula] + [c.formula for c in sheet.conditionals]
            for template in templates:
                first, _, pattern, offsets = row_formula_parts(template, sheet, layout)
                render = compile_row_formula(template, sheet, layout)
                for i in {0, table.rows // 2, max(table.rows - 1, 0)}:
                    expected = pattern.format(r=first + i, **{k: base + i for k, base in offsets.items()})
                    assert render(i) == expected, (sheet.name, template)
                joined += not offsets
                patterned += bool(offsets)
    assert joined > 300 and patterned > 0, (joined, patterned)


def test_a_row_formula_keeps_its_braces_and_its_other_rows() -> None:
    layout = LAYOUTS[1]
    sheet = next(s for s in layout.sheets if s.table is not None)
    key = sheet.table.columns[0].key
    letter = sheet.table.letter(key)
    first = sheet.table.first_row
    render = compile_row_formula("=IF({" + key + '}="{X}","}{",{' + key + ".above})", sheet, layout)
    assert render(2) == f'=IF(${letter}{first + 2}="{{X}}","}}{{",${letter}{first + 1})'  # a pattern
    render = compile_row_formula("=IF({" + key + '}="{X}","}{",1)', sheet, layout)
    assert render(2) == f'=IF(${letter}{first + 2}="{{X}}","}}{{",1)'  # joined
