"""The vector paths in front of `formulas`' element-wise functions (columnwise/fast.py) give
exactly `formulas`' own answer, element by element, whatever the columns hold."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from katsheet.workbook.columnwise import fast
from katsheet.workbook.columnwise.startup import import_formulas

formulas = import_formulas()
from formulas.functions import Error, get_functions  # noqa: E402
from formulas.functions.operators import OPERATORS  # noqa: E402
from schedula import EMPTY  # noqa: E402

ERRORS = [Error.errors["#VALUE!"], Error.errors["#N/A"], Error.errors["#DIV/0!"]]
numbers = st.one_of(
    st.integers(-(10**6), 10**6),
    st.integers(-(2**70), 2**70),  # beyond a double's exact integers: formulas turns them into floats
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.sampled_from([0, 0.0, -0.0, 1e308, -1e308, 5e-324]),
)
texts = st.one_of(
    st.sampled_from(["", "a", "A", "b", "Ab", "aB", "scale", "SCALE", "ß", "SS", " a  b ", "~", "*", "?", "a~*"]),
    st.text(max_size=3),
)
elements = st.one_of(
    numbers,
    texts,
    st.booleans(),
    st.sampled_from(ERRORS),
    st.just(EMPTY),
    st.sampled_from([np.float64(2.5), np.bool_(True)]),
)
# columns that are mostly one kind, as real columns are (spare rows' blanks among numbers)
columns = st.one_of(
    st.lists(elements, min_size=fast.MIN_SIZE, max_size=40),
    st.lists(st.one_of(numbers, st.just("")), min_size=fast.MIN_SIZE, max_size=40),
    st.lists(texts, min_size=fast.MIN_SIZE, max_size=40),
    st.lists(st.booleans(), min_size=fast.MIN_SIZE, max_size=40),
    # blank cells among texts and numbers (a ledger's optional columns)
    st.lists(st.one_of(texts, st.just(EMPTY)), min_size=fast.MIN_SIZE, max_size=40),
    st.lists(st.one_of(numbers, st.just(EMPTY), st.booleans()), min_size=fast.MIN_SIZE, max_size=40),
)


def _column(values: list) -> np.ndarray:
    out = np.empty((len(values), 1), dtype=object)
    out[:, 0] = values
    return out


def _fit(v, n: int):
    """A column of ``n`` rows (a list cycled to length), or a scalar as it is."""
    return _column([v[i % len(v)] for i in range(n)]) if isinstance(v, list) else v


def _same(a, b) -> bool:
    """One cell's value as a sheet shows it: same kind, same value (NaN nowhere here)."""
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)):
        return isinstance(a, (bool, np.bool_)) and isinstance(b, (bool, np.bool_)) and bool(a) == bool(b)
    if isinstance(a, (int, float, np.floating)) and isinstance(b, (int, float, np.floating)):
        return float(a) == float(b) and math.copysign(1, float(a)) == math.copysign(1, float(b))
    return type(a) is type(b) and a == b


def _agree(wrapped, args) -> None:
    original = wrapped.katsheet_original
    got = np.asarray(wrapped(*args), dtype=object)
    want = np.asarray(original(*args), dtype=object)
    assert got.shape == want.shape
    for g, w in zip(got.ravel().tolist(), want.ravel().tolist(), strict=True):
        assert _same(g, w), (g, w)


@settings(max_examples=300, deadline=None)
@given(x=columns, y=st.one_of(columns, elements), symbol=st.sampled_from(["+", "-", "*", "/"]))
def test_arithmetic_is_formulas_own(x, y, symbol) -> None:
    _agree(OPERATORS[symbol], (_column(x), _fit(y, len(x))))


@settings(max_examples=300, deadline=None)
@given(x=columns, y=st.one_of(columns, elements), symbol=st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
def test_comparisons_are_formulas_own(x, y, symbol) -> None:
    _agree(OPERATORS[symbol], (_column(x), _fit(y, len(x))))


@settings(max_examples=300, deadline=None)
@given(condition=columns, a=st.one_of(columns, elements), b=st.one_of(columns, elements), two=st.booleans())
def test_if_is_formulas_own(condition, a, b, two) -> None:
    n = len(condition)
    args = (_column(condition), _fit(a, n)) if two else (_column(condition), _fit(a, n), _fit(b, n))
    _agree(get_functions()["IF"]["function"], args)


@settings(max_examples=300, deadline=None)
@given(value=columns, alternative=st.one_of(columns, elements))
def test_iferror_is_formulas_own(value, alternative) -> None:
    _agree(get_functions()["IFERROR"]["function"], (_column(value), _fit(alternative, len(value))))


def test_iferror_path_is_taken() -> None:
    calls = []
    original = get_functions()["IFERROR"]["function"].katsheet_original
    wrapped = fast._vector(lambda *a: calls.append(a) or original(*a), fast.iferror_path)
    out = wrapped(_column([f"m{i}" for i in range(40)] + [ERRORS[1]]), "")
    assert [len(np.ravel(a[0])) for a in calls] == [1]  # only the error went to `formulas`
    assert out[7, 0] == "m7" and out[40, 0] == ""


@settings(max_examples=100, deadline=None)
@given(keys=columns)
def test_lookups_are_formulas_own(keys) -> None:
    table = np.array([[0, "Zero"], [1, "One"], ["a", "Text"], [True, "Yes"], [2.5, "Half"]], dtype=object)
    _agree(get_functions()["VLOOKUP"], (_column(keys), table, 2, False))
    _agree(get_functions()["MATCH"], (_column(keys), table[:, :1], 0))


def test_the_vector_paths_are_taken() -> None:
    """A column of numbers does not reach `formulas`' per-element loop (the point of it all)."""
    calls = []
    original = OPERATORS["*"].katsheet_original
    wrapped = fast._vector(lambda *a: calls.append(a) or original(*a), fast.arithmetic("*"))
    column = _column([float(i) for i in range(100)] + [""])
    out = wrapped(column, 3)
    assert [len(np.ravel(a[0])) for a in calls] == [1]  # only the blank went to `formulas`
    assert out[5, 0] == 15.0 and str(out[100, 0]) == "#VALUE!"


def test_kinds_compared_with_each_other_do_not_reach_formulas() -> None:
    """A column of numbers against a text (``X<>""``) is decided by the kinds' order, in C."""
    calls = []
    original = OPERATORS["<"].katsheet_original
    wrapped = fast._vector(lambda *a: calls.append(a) or original(*a), fast.comparison("<"))
    column = _column([float(i) for i in range(50)] + ["b", "A", True, ERRORS[0]])
    out = wrapped(column, "a")
    assert [len(np.ravel(a[0])) for a in calls] == [1]  # only the error went to `formulas`
    assert out[3, 0] is True and out[50, 0] is False and out[51, 0] is False and out[52, 0] is False
    assert str(out[53, 0]) == "#VALUE!"


@settings(max_examples=300, deadline=None)
@given(
    x=columns,
    y=st.one_of(columns, elements),
    z=st.one_of(columns, elements),
    name=st.sampled_from(["&", "TRIM", "LOWER", "UPPER", "LEN", "SUBSTITUTE"]),
)
def test_text_functions_are_formulas_own(x, y, z, name) -> None:
    """Texts with spaces, wildcards and case among numbers, booleans, errors and blanks."""
    n = len(x)
    if name == "&":
        _agree(OPERATORS["&"], (_column(x), _fit(y, n)))
    elif name == "SUBSTITUTE":
        _agree(get_functions()["SUBSTITUTE"], (_column(x), _fit(y, n), _fit(z, n)))
    else:
        _agree(get_functions()[name], (_column(x),))


def test_text_paths_are_taken() -> None:
    calls = []
    original = get_functions()["TRIM"].katsheet_original
    columns, arity = fast._text_functions()["TRIM"]
    wrapped = fast._vector(lambda *a: calls.append(a) or original(*a), fast.textwise(columns, arity))
    out = wrapped(_column([f" name  {i} " for i in range(50)] + [EMPTY, 2.0, ERRORS[1]]))
    assert [len(np.ravel(a[0])) for a in calls] == [1]  # only the error went to `formulas`
    assert out[3, 0] == "name 3" and out[50, 0] == "" and out[51, 0] == "2"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(elements, st.sampled_from([np.int64(3), np.float32(1.5), np.str_("x")])), min_size=1,
                max_size=30))  # fmt: skip
def test_typed_values_are_classified_as_formulas_compares_them(values) -> None:
    """The criteria ranges of SUMIFS/COUNTIFS split by kind (columnwise/outer.py): blank, boolean,
    number, text (upper-cased), else an error; each element judged as the rules say."""
    from katsheet.workbook.columnwise.outer import BLANK, BOOL, ERROR, NUMBER, TEXT, Typed

    typed = Typed.of(_column(values))
    for v, kind, num, txt in zip(values, typed.kind.ravel(), typed.num.ravel(), typed.txt.ravel(), strict=True):
        if v is EMPTY:
            assert (kind, num, txt) == (BLANK, 0, "")
        elif isinstance(v, (bool, np.bool_)):
            assert (kind, num, txt) == (BOOL, float(v), "")
        elif isinstance(v, (int, float, np.integer, np.floating)):
            assert kind == NUMBER and txt == "" and (num == float(v) or (math.isnan(num) and math.isnan(float(v))))
        elif isinstance(v, str):
            assert (kind, num, txt) == (TEXT, 0, v.upper())
        else:
            assert (kind, num, txt) == (ERROR, 0, "")
