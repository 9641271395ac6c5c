"""The column-wise evaluator (katsheet/workbook/columnwise) against `formulas` itself.

The checker evaluates a workbook's formulas a column at a time; these tests hold that to the
same formulas evaluated by `formulas` cell by cell: its ExcelModel on generated workbooks
(tests/test_workbook_engines.py does so on every random month), and row-by-row calls on random
tables for the aggregate kernels, whose semantics (types, blanks, case, text numbers) are the
delicate part.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workbooks import random_month, write

from katsheet.layouts.model import col_letter
from katsheet.workbook.columnwise import evaluate_cells
from katsheet.workbook.columnwise.refs import next_row_text, run_key, shape
from katsheet.workbook.columnwise.runs import Evaluator
from katsheet.workbook.evaluate import evaluate
from katsheet.workbook.reader import read_workbook


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return not isinstance(b, bool) and float(a) == float(b)
    return (a == b and type(a) is type(b)) or (a is None and b is None)


def _differences(fast: dict, reference: dict) -> list:
    return [(k, v, reference.get(k)) for k, v in fast.items() if not _same(v, reference.get(k))]


@pytest.mark.parametrize("seed", [3, 8, 21])
def test_equals_formulas_excel_model_on_generated_workbooks(seed, tmp_path) -> None:
    path = write(random_month(seed), tmp_path / "m.xlsx")
    book = read_workbook(path)
    fast = evaluate_cells(book.formulas, book.formula_keys, book.names)
    model = evaluate(path, [s.name for s in book.layout.sheets] + ["Guide"])
    assert len(book.formula_keys) > 100
    diffs = _differences({k: fast[k] for k in book.formula_keys}, model)
    assert not diffs, diffs[:10]


def test_a_hand_edited_column_is_still_evaluated_as_formulas_would(tmp_path) -> None:
    """A drifted cell splits its column's run; a changed formula in the middle of a column, a
    number typed over a formula and an AND over row values (not element-wise) all evaluate as
    the ExcelModel does."""
    import openpyxl

    path = write(random_month(5, template="expanded"), tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Expanded"]
    ws["H18"] = "=$D18*BaseAllotted*2"
    ws["I19"] = 123.0
    ws["F17"] = '=IF($B17="","",AND($D17>0,$D17>Threshold))'
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    book = read_workbook(edited)
    ev = Evaluator(book.formulas, book.formula_keys, book.names)
    ev.evaluate()
    fast = ev.results()
    model = evaluate(edited, [s.name for s in book.layout.sheets] + ["Guide"])
    # openpyxl drops cached values, so compare only what both computed
    diffs = _differences(fast, model)
    assert not diffs, diffs[:10]
    assert fast[("Expanded", "H18")] == pytest.approx(2 * fast[("Expanded", "D18")] * fast[("Expanded", "H4")])
    assert ("Expanded", "I19") not in fast  # a typed number is an input now, not a formula


def test_what_cannot_be_followed_is_left_out_not_guessed() -> None:
    """A whole-column reference, an unknown function, a syntax error: those cells, and the cells
    that read them, are not in the results (the checker compares their stored values only)."""
    cells = {
        ("S", "A1"): 1.0,
        ("S", "B1"): "=SUM(A:A)",
        ("S", "C1"): '=INDIRECT("A1")+HYPERLINK("x")',
        ("S", "D1"): "=SUM(A1,",
        ("S", "E1"): "=B1+1",
        ("S", "F1"): "=A1*2",
    }
    out = evaluate_cells(cells, {("S", c) for c in ("B1", "C1", "D1", "E1", "F1")}, {})
    assert out[("S", "F1")] == 2
    assert not {("S", "B1"), ("S", "C1"), ("S", "D1"), ("S", "E1")} & set(out)


def test_text_that_looks_like_a_formula_is_not_evaluated() -> None:
    cells = {("S", "A1"): '=HYPERLINK("x")', ("S", "B1"): "=LEN(A1)"}
    out = evaluate_cells(cells, {("S", "B1")}, {})
    assert out == {("S", "A1"): '=HYPERLINK("x")', ("S", "B1"): len('=HYPERLINK("x")')}


# -- the aggregate kernels, on random tables ----------------------------------------------------
# no "~" among them: `formulas` 1.3 mishandles a key escaped with "~" (katsheet follows Excel and
# LibreOffice there; tests/test_portable_functions.py holds that to LibreOffice)
TEXTS = ["Ann", "ann", "ANN ", "Bob", "b*b", "B?b", "", "3", "x", ">", "<="]
values = st.one_of(
    st.none(),
    st.sampled_from(TEXTS),
    st.booleans(),
    st.integers(-3, 3).map(float),
    st.sampled_from([0.5, 1e-9, 2.25]),
)


def _table(names, numbers, keys, cuts) -> tuple[dict, set]:
    m = len(names)
    cells: dict = {}
    formulas = {
        "F": "=SUMPRODUCT(1*($A$1:$A${m}=$C{r})*($B$1:$B${m}<$E{r}))",
        "G": "=SUMPRODUCT(1*($A$1:$A${m}=$C{r}),$B$1:$B${m})",
        "H": '=COUNTIF($B$1:$B${m},">"&$E{r})+1',
        "I": '=IF($C{r}="","",SUMPRODUCT(1*($A$1:$A${m}=$C{r})*($D$1:$D${m}<=$E{r}))=0)',
        "J": '=COUNTIF($B$1:$B${m},"<="&$E{r})',
        "K": "=SUMPRODUCT(($A$1:$A${m}>=$C{r})*1,($B$1:$B${m}-$E{r}))",
        # the layout version 3 shapes: a name's first row, sums and counts by a key, a gather
        "L": '=IF($C{r}="","",MATCH(SUBSTITUTE(SUBSTITUTE(SUBSTITUTE($C{r},"~","~~"),"*","~*"),"?","~?"),$A$1:$A${m},0))',
        "M": "=SUMIF($D$1:$D${m},$E{r},$B$1:$B${m})",
        "N": "=COUNTIF($B$1:$B${m},$C{r})",  # B: no TRUE/FALSE (see below)
        "P": "=INDEX($B$1:$B${m},$E{r})",
        "Q": "=IFERROR(INDEX($A$1:$A${m},$L{r}),-1)",
        "R": "=IF(ISNUMBER($R{p}),$R{p},0)+IF($C{r}=TRUE,1,0)",
        "T": "=MATCH($E{r},$D$1:$D${m},0)",
        # the KAT template's Members sheet: sums, counts, latest and earliest by a member's number
        # (E repeats its numbers, so a row's number D matches several rows)
        "U": "=SUMIFS($B$1:$B${m},$E$1:$E${m},$D{r},$A$1:$A${m},TRUE)",
        "V": "=COUNTIFS($E$1:$E${m},$D{r},$B$1:$B${m},1)",
        "W": "=MAXIFS($B$1:$B${m},$E$1:$E${m},$D{r})",
        "X": "=MINIFS($B$1:$B${m},$E$1:$E${m},$D{r},$A$1:$A${m},FALSE)",
        # the KAT template's tier: a threshold found with MATCH(..., 1), in a random column (B,
        # unsorted, mixed kinds) and in a sorted one (D)
        "Y": "=MATCH($E{r},$B$1:$B${m},1)",
        "Z": '=IF($C{r}="","",INDEX($A$1:$A${m},MATCH($E{r},$D$1:$D${m},1)))',
        # any key, blank and "" among them (the ledger's blank ids), over a column with "" in it
        "AA": "=MATCH($C{r},$A$1:$A${m},0)",
    }
    keys_ = set()
    for r in range(1, m + 1):
        for col, value in zip("ABCDE", (names[r - 1], numbers[r - 1], keys[r - 1], float(r), cuts[r - 1]), strict=True):
            if value is not None:
                cells[("S", f"{col}{r}")] = value
        for col, text in formulas.items():
            # the running count (R) refers to the row above: row 1 starts it
            text = "=IF($C1=TRUE,1,0)" if col == "R" and r == 1 else text
            cells[("S", f"{col}{r}")] = text.format(m=m, r=r, p=r - 1)
            keys_.add(("S", f"{col}{r}"))
    return cells, keys_


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_aggregate_kernels_equal_formulas_row_by_row(data) -> None:
    m = data.draw(st.integers(2, 12))
    # no number 0 or 1 beside the TRUE/FALSE that SUMIFS and MINIFS test column A for: Excel tells
    # TRUE from 1 (the kernel does), `formulas` does not (1 == True in Python), so the reference
    # would be wrong there (found by hypothesis on 2026-11-22: SUMIFS(..., A, TRUE) with A = 1.0)
    names = data.draw(st.lists(values.filter(lambda v: isinstance(v, bool) or v not in (0, 1)), min_size=m, max_size=m))
    # no TRUE/FALSE among the counted numbers: formulas' COUNTIF caches its test per value, and
    # FALSE == 0 in Python, so it counts a 0 after a FALSE wrongly (the kernel counts as Excel does)
    numbers = data.draw(st.lists(values.filter(lambda v: not isinstance(v, bool)), min_size=m, max_size=m))
    keys = data.draw(st.lists(values, min_size=m, max_size=m))
    cuts = data.draw(st.lists(st.integers(-3, 3).map(float), min_size=m, max_size=m))
    cells, formula_keys = _table(names, numbers, keys, cuts)
    fast, reference = Evaluator(cells, formula_keys, {}), Evaluator(cells, formula_keys, {})
    fast.evaluate()
    reference.evaluate(row_by_row=True)
    diffs = _differences(fast.results(), reference.results())
    assert not diffs, diffs[:6]


def test_the_kernels_take_the_template_shapes_whole() -> None:
    """On a plain table the aggregate columns are computed column-wise, not one row at a time."""
    m = 50
    names = [f"m{i % 7}" for i in range(m)]
    cells, keys = _table(names, [float(i) for i in range(m)], names, [float(i % 5 + 1) for i in range(m)])
    ev = Evaluator(cells, keys, {})
    ev.evaluate()
    assert ev.rows_by_row == 0


# -- run detection ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "row", "at", "filled"),
    [
        ("=A5+B4+C5+$D$2", 5, 9, "=A9+B8+C9+$D$2"),  # offsets 0, -1 and 0 again; an absolute row stays
        ('=IF(A5="","",SUM(B5:K5)*Rate_1)', 5, 1005, '=IF(A1005="","",SUM(B1005:K1005)*Rate_1)'),
        ("=B$3*C7-C6", 7, 8, "=B$3*C8-C7"),
        ("=Budget*2", 4, 40, "=Budget*2"),  # nothing moves
        ("=A5+$B$2*C5+D$1-Tier_2", 5, 12, "=A12+$B$2*C12+D$1-Tier_2"),  # one offset, fixed rows between
    ],
)
def test_fill_down_text_moves_each_relative_row_by_its_own_offset(text, row, at, filled) -> None:
    assert next_row_text(text, row)(at) == filled


def test_run_key_agrees_with_the_relative_shape(tmp_path) -> None:
    path = write(random_month(11), tmp_path / "m.xlsx")
    book = read_workbook(path)
    by_col: dict = {}
    for sheet, cell in book.formula_keys:
        col = "".join(ch for ch in cell if ch.isalpha())
        by_col.setdefault((sheet, col), []).append(int(cell[len(col) :]))
    checked = hits = same = 0
    for (sheet, col), rows in by_col.items():
        rows.sort()
        for a, b in itertools.pairwise(rows):
            fa, fb = book.formulas[(sheet, f"{col}{a}")], book.formulas[(sheet, f"{col}{b}")]
            ci = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(col))) - 1
            assert col_letter(ci) == col
            same_shape = shape(fa, ci, a).key == shape(fb, ci, b).key
            assert (run_key(fa, a) == run_key(fb, b)) == same_shape, (fa, fb)
            # the quick test (the text fill-down writes) never joins cells of different shapes,
            # and joins every neighbour of the same shape the writer filled down
            filled = (next_row_text(fa, a) or (lambda _: None))(b) == fb
            assert not filled or same_shape, (fa, fb)
            hits += filled
            same += same_shape and b == a + 1
            checked += 1
    assert checked > 100 and hits == same > 100


def test_scipy_is_imported_only_when_a_formula_needs_it() -> None:
    code = (
        "import sys; from katsheet.workbook.columnwise.startup import import_formulas; f = import_formulas();"
        "assert 'scipy.stats' not in sys.modules and 'scipy.interpolate' not in sys.modules;"
        "k = f.Parser().ast('=KURT(1,2,3,4,9)')[1].compile()();"
        "import scipy.stats; e = scipy.stats.kurtosis([1,2,3,4,9], fisher=True, bias=False);"
        "assert abs(float(k) - e) < 1e-12, (k, e); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_a_check_loads_neither_openpyxl_nor_pycryptodome() -> None:
    """`katsheet check` of a month starts without openpyxl (a quarter of a second) or pycryptodome
    (cffi): its reader is its own, and EIP-55 checksums are worked out only for mixed-case wallets."""
    sample = Path(__file__).resolve().parents[1] / "sample_workbooks" / "2026-11-pools.xlsx"
    code = (
        "import sys; from katsheet.cli.main import main; sys.argv = ['katsheet', 'check', sys.argv[1]];"
        "code = 0\ntry:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print(code, sorted(m for m in ('openpyxl', 'Crypto', 'cffi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(sample)], capture_output=True, text=True, check=False)
    assert out.stdout.strip().splitlines()[-1] == "0 []", out.stdout[-2000:] + out.stderr[-2000:]


# -- runs of one shape evaluated together -----------------------------------------------------
def _shapes(values_, picks) -> tuple[dict, set, dict]:
    """A sheet S of random values and a sheet T of formulas that share shapes: single cells that
    differ only in the names they read (the pools template's per-task cells), columns that differ
    only in the column they read (its per-task lookups), and a chain of names between T's cells,
    so that runs of one shape sit in different levels."""
    m = len(values_) // 3
    cells: dict = {}
    for i, v in enumerate(values_):
        if v is not None:
            cells[("S", f"{'ABC'[i // m]}{i % m + 1}")] = v
    names = {f"Val_{i + 1}": f"S!${'ABC'[i // m]}${i % m + 1}" for i in range(3 * m)}
    names |= {"Table": f"S!$A$1:$B${m}", "Whole": f"S!$A$1:$C${m}", "Two": "2", "Word": '"x"'}
    keys: set = set()

    def put(cell: str, text: str) -> None:
        cells[("T", cell)] = text
        keys.add(("T", cell))

    for i, (a, b) in enumerate(picks, start=1):
        put(f"A{i}", f'=IF(Val_{a}="","",IF(ISNUMBER(Val_{b}),Val_{b}*Val_{a}+Two,LEN(Val_{a})&Val_{b}&Word))')
        put(f"B{i}", f"=IFERROR(ROUND(Val_{a}/Val_{b},2),-1)")
        put(f"C{i}", f"=Val_{a}+COUNT(Whole)")  # a range every cell shares
        names[f"Mid_{i}"] = f"T!$B${i}"
        put(f"D{i}", f"=IF(Mid_{i}>Val_{b},Mid_{i},Val_{b})")  # reads T!B: a later level, same shape as below
        put(f"E{i}", f"=IF(Val_{a}>Val_{b},Val_{a},Val_{b})")
        put(f"I{i}", f"=SUM(Val_{a},Val_{b})")  # not element-wise: each cell alone
    for r in range(1, m + 1):
        for col, src in (("F", "A"), ("G", "B"), ("H", "C")):
            put(f"{col}{r}", f'=IF(S!{src}{r}="","",IFERROR(VLOOKUP(S!{src}{r},Table,2,FALSE),S!{src}{r}&"?"))')
    return cells, keys, names


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_runs_of_one_shape_together_equal_formulas_row_by_row(data) -> None:
    m = data.draw(st.integers(2, 8))
    values_ = data.draw(st.lists(values, min_size=3 * m, max_size=3 * m))
    picks = data.draw(st.lists(st.tuples(st.integers(1, 3 * m), st.integers(1, 3 * m)), min_size=2, max_size=6))
    cells, keys, names = _shapes(values_, picks)
    fast, reference = Evaluator(cells, keys, names), Evaluator(cells, keys, names)
    fast.evaluate()
    reference.evaluate(row_by_row=True)
    diffs = _differences(fast.results(), reference.results())
    assert not diffs, diffs[:6]
    assert set(fast.results()) == set(reference.results())


def test_cells_of_one_shape_are_evaluated_in_one_call() -> None:
    values_ = ["Ann", 1.0, None, 2.5, "Bob", 3.0, 0.0, "", True]
    cells, keys, names = _shapes(values_, [(1, 2), (3, 4), (5, 6), (7, 8)])
    ev = Evaluator(cells, keys, names)
    ev.evaluate()
    # the five single-cell shapes (4 cells each) and the three lookup columns
    assert ev.runs_together == 5 * 4 + 3
    assert ev.rows_by_row == 0
