"""Whole columns through `formulas`' element-wise functions without a Python call per cell.

`formulas` evaluates an operator or IF on arrays with ``np.vectorize``: one Python call per
element, with its error and NaN checks, about 100 per member row of a template. At 10,000
members that was 1.1 million calls and most of a check's time. Here the functions a template
runs on whole columns get a vector path that numpy does in C, taken only when every element is of
a kind for which the result is provably `formulas`' own:

- ``+ - * /`` on numbers (int or float, not bool): `formulas` turns each operand into a float and
  applies the IEEE operation; so does numpy. A result that is not finite, or a division by zero,
  is left to `formulas` (it gives ``#NUM!`` / ``#DIV/0!``).
- comparisons of numbers with numbers, texts with texts (case-blind, as `formulas` upper-cases
  both), booleans with booleans: the same Python comparison, element by element in C. Of two
  kinds, `formulas` compares (kind, value) pairs, so the kinds alone decide: a number is below a
  text, a text below a boolean (``=0`` on a column of texts, ``=""`` on one of numbers). An empty
  cell is compared as `formulas` compares it: as the empty text beside a text or another empty
  cell, as 0 beside a number (beside a boolean it goes to `formulas`).
- ``IF(condition, a, b)`` whose condition is all booleans or numbers: `formulas` picks ``a`` or ``b``
  element by element; ``np.where`` picks the same objects.
- ``IFERROR(value, alternative)`` on numbers, texts and booleans: they are no error, so `formulas`
  gives each value unchanged; so does the vector path.
- ``&``, ``TRIM``, ``LOWER``, ``UPPER``, ``LEN`` and ``SUBSTITUTE`` on texts and numbers: what the
  function `formulas` wraps computes, over the whole column (numbers made text by `formulas`' own
  ``_str``, a text taken as itself, an empty cell as the empty text), without its per-element
  wrapper; errors and booleans go to `formulas`.
- ``VLOOKUP``/``HLOOKUP``/``MATCH`` with one key per row and a fixed range: each distinct key is
  looked up once by `formulas` (a score column has a handful of distinct levels).

Anything else (errors, empty cells, mixed kinds, scalars) goes to `formulas` unchanged.
tests/test_fast_paths.py holds every path to `formulas`' own result on random columns.
"""

from __future__ import annotations

import collections
import functools
import itertools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

#: below this many elements `formulas`' own path is as quick; scalars never take a vector path
MIN_SIZE = 16
#: element kinds by exact type (a bool is not a number here; errors and blanks are "other"), the
#: known ones in `formulas`' order of kinds (its _get_type_id: number 0, text 1, boolean 2)
OTHER, NUMBER, TEXT, BOOL = 0, 1, 2, 3
_KIND = {int: NUMBER, float: NUMBER, np.float64: NUMBER, str: TEXT, bool: BOOL, np.bool_: BOOL}
_ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}
_COMPARE = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
#: each type's kind; a type met for the first time is OTHER (a defaultdict: looked up in C)
_KIND_OF = collections.defaultdict(lambda: OTHER, _KIND)


class _Fallback(Exception):
    """The vector path does not apply: `formulas` evaluates as it always does."""


def _values(args: tuple[Any, ...]) -> list[np.ndarray]:
    """The arguments as `formulas`' wrappers see them (a Ranges by its value), as arrays."""
    from formulas import Ranges

    return [np.asarray(a.value if isinstance(a, Ranges) else a, dtype=object) for a in args]


def _broadcast(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The arrays at their common shape (as np.vectorize pairs them); small ones fall back."""
    out = np.broadcast_arrays(*arrays)
    if out[0].size < MIN_SIZE:
        raise _Fallback
    return out


def _kinds(a: np.ndarray) -> np.ndarray:
    """Each element's kind (NUMBER, TEXT, BOOL or OTHER), as small integers."""
    flat = a.ravel().tolist()
    return np.fromiter(map(_KIND_OF.__getitem__, map(type, flat)), dtype=np.int8, count=len(flat)).reshape(a.shape)


def _array(values: np.ndarray) -> Any:
    from formulas.functions import Array

    return np.asarray(values, dtype=object).view(Array)


def _merge(original: Callable[..., Any], given: list[np.ndarray], good: np.ndarray, fast: Callable[[], Any]) -> Any:
    """``fast()`` gives the elements where ``good``; `formulas` (``original``) the others (spare
    rows' blanks, errors) in one call on them, element-wise functions being element-wise."""
    out = np.empty(given[0].shape, dtype=object)
    if good.any():
        out[good] = fast()
    rest = ~good
    if rest.any():
        found = np.asarray(original(*(a[rest].reshape(-1, 1) for a in given)), dtype=object)
        if found.size != int(rest.sum()):
            raise _Fallback
        out[rest] = found.reshape(-1)
    return _array(out)


def _vector(original: Callable[..., Any], path: Callable[..., Any]) -> Callable[..., Any]:
    """``original`` with ``path`` tried first; ``path`` raises _Fallback when it does not apply."""

    @functools.wraps(original)
    def call(*args: Any, **kwargs: Any) -> Any:
        if not kwargs:
            try:
                return path(original, *args)
            except Exception:  # _Fallback, or anything unforeseen: `formulas` decides, as it would have
                pass
        return original(*args, **kwargs)

    call.katsheet_original = original  # type: ignore[attr-defined]
    return call


def arithmetic(symbol: str) -> Callable[..., Any]:
    ufunc = _ARITHMETIC[symbol]

    def path(original: Callable[..., Any], *args: Any) -> Any:
        if len(args) != 2:
            raise _Fallback
        x, y = _broadcast(_values(args))
        good = (_kinds(x) == NUMBER) & (_kinds(y) == NUMBER)
        if not good.any():
            raise _Fallback
        a, b = np.zeros(x.shape), np.ones(y.shape)
        a[good], b[good] = x[good].astype(float), y[good].astype(float)  # float(int), as `formulas` parses
        with np.errstate(all="ignore"):
            result = ufunc(a, b)
        good &= np.isfinite(result)  # #NUM! and #DIV/0! are `formulas`' to word
        if symbol == "/":
            good &= b != 0
        return _merge(original, [x, y], good, lambda: result[good].astype(object))

    return path


def comparison(symbol: str) -> Callable[..., Any]:
    compare = _COMPARE[symbol]

    def path(original: Callable[..., Any], *args: Any) -> Any:
        if len(args) != 2:
            raise _Fallback
        given = _broadcast(_values(args))  # as given: what `formulas` gets for the other elements
        kx, ky = _kinds(given[0]), _kinds(given[1])
        x, kx = _empty_compared(given[0], kx, ky)
        y, ky = _empty_compared(given[1], ky, kx)
        good = (kx != OTHER) & (ky != OTHER)
        if not good.any():
            raise _Fallback
        same = good & (kx == ky)  # numbers with numbers, texts with texts, bools with bools
        text = same & (kx == TEXT)
        a, b = x[same], y[same]
        upper = text[same]
        if upper.any():  # `formulas` compares texts upper-cased
            a[upper] = [t.upper() for t in a[upper].tolist()]
            b[upper] = [t.upper() for t in b[upper].tolist()]

        def result() -> np.ndarray:
            out = np.empty(x.shape, dtype=object)
            out[same] = np.asarray(compare(a, b), dtype=object)
            mixed = good & ~same  # a number against a text, say: only the kinds' order counts
            out[mixed] = compare(kx[mixed], ky[mixed]).astype(object)
            return out[good]

        return _merge(original, given, good, result)

    return path


def _empty(a: np.ndarray) -> np.ndarray:
    """Which elements are an empty cell (schedula's EMPTY, found by ``is``: it equals only itself)."""
    from schedula import EMPTY

    flat = a.ravel().tolist()
    return np.fromiter(map(operator.is_, flat, itertools.repeat(EMPTY)), dtype=bool, count=len(flat)).reshape(a.shape)


def _filled(a: np.ndarray, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """``a`` with its empty cells made ``value`` (a copy, only when it has one), and where they
    were: ``replace_empty`` without its ``==`` per element, a Python call each."""
    empty = _empty(a)
    if not empty.any():
        return a, empty
    out = a.copy()
    out[empty] = value
    return out, empty


def _empty_compared(a: np.ndarray, kinds: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a`` with its empty cells as `formulas` compares them: the empty text beside a text or
    another empty cell, 0 beside a number (beside a boolean: `formulas`' to decide)."""
    if not (kinds == OTHER).any():
        return a, kinds
    empty = _empty(a)
    as_text = empty & ((other == TEXT) | ((other == OTHER) & (kinds == OTHER)))
    as_zero = empty & (other == NUMBER)
    if not (as_text.any() or as_zero.any()):
        return a, kinds
    a, kinds = a.copy(), kinds.copy()
    a[as_text], kinds[as_text] = "", TEXT
    a[as_zero], kinds[as_zero] = 0, NUMBER
    return a, kinds


def if_path(original: Callable[..., Any], *args: Any) -> Any:
    if len(args) not in (2, 3):
        raise _Fallback
    given = _broadcast(_values(args))
    values = [_filled(v, 0)[0] for v in given]  # IF's own parsing: an empty cell is 0
    condition, a = values[0], values[1]
    b = values[2] if len(values) == 3 else np.full(condition.shape, False, dtype=object)
    kinds = _kinds(condition)
    good = (kinds == BOOL) | (kinds == NUMBER)  # `x if condition else y`: truth as Python's
    if not good.any():
        raise _Fallback
    return _merge(original, given, good, lambda: np.where(condition[good].astype(bool), a[good], b[good]))


def iferror_path(original: Callable[..., Any], *args: Any) -> Any:
    """``IFERROR(value, alternative)`` where the value is a number, a text or a boolean: `formulas`
    gives the value itself (an error or a blank goes to `formulas`)."""
    if len(args) != 2:
        raise _Fallback
    given = _broadcast(_values(args))
    good = _kinds(given[0]) != OTHER
    if not good.any():
        raise _Fallback
    return _merge(original, given, good, lambda: given[0][good])


def textwise(columns: Callable[..., list[Any]], arity: tuple[int, ...]) -> Callable[..., Any]:
    """``columns`` (what `formulas` computes per element, over whole lists) where every argument
    is a text, a number or an empty cell: `formulas`' wrapper would add only its error handling,
    which those never need. The arguments are made text first, as `formulas` does for these: an
    empty cell is the empty text (its ``replace_empty``: a ledger row's blank notes, joined to
    test the row is typed), a number goes through its ``_str``, a text is itself. ``arity``: the
    argument counts this path takes (SUBSTITUTE's instance is `formulas`')."""
    from formulas.functions.text import _str

    def path(original: Callable[..., Any], *args: Any) -> Any:
        if len(args) not in arity:
            raise _Fallback
        given = _broadcast(_values(args))
        good = np.ones(given[0].shape, dtype=bool)
        texts = []
        for a in given:
            kinds = _kinds(a)
            if (kinds == OTHER).any():
                a, empty = _filled(a, "")
                kinds = np.where(empty, TEXT, kinds)
            texts.append(a)
            good &= (kinds == TEXT) | (kinds == NUMBER)
        if not good.any():
            raise _Fallback
        picked = [[x if type(x) is str else _str(x) for x in a[good].tolist()] for a in texts]
        return _merge(original, given, good, lambda: _objects(columns(*picked)))

    return path


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _text_functions() -> dict[str, tuple[Callable[..., list[Any]], tuple[int, ...]]]:
    """What `formulas` computes for these names, over columns of texts: (the computation, the
    argument counts). SUBSTITUTE without an instance is xsubstitute's replace."""
    from ...engine.names import excel_trim

    return {
        "&": (lambda x, y: [a + b for a, b in zip(x, y, strict=True)], (2,)),
        "TRIM": (lambda t: [excel_trim(s) for s in t], (1,)),  # Excel's TRIM, as startup.py installs it
        "LOWER": (lambda t: [s.lower() for s in t], (1,)),
        "UPPER": (lambda t: [s.upper() for s in t], (1,)),
        "LEN": (lambda t: [len(s) for s in t], (1,)),
        "SUBSTITUTE": (lambda t, o, n: [a.replace(b, c) for a, b, c in zip(t, o, n, strict=True)], (3,)),
    }


def lookup(original: Callable[..., Any]) -> Callable[..., Any]:
    """Each distinct key looked up once; the answers spread back over the rows."""

    def path(_: Callable[..., Any], *args: Any) -> Any:
        if len(args) < 2:
            raise _Fallback
        key, *rest = _values((args[0], *args[2:]))
        if key.ndim != 2 or key.shape[1] != 1 or key.size < MIN_SIZE or any(r.size != 1 for r in rest):
            raise _Fallback
        seen: dict[tuple[type, Any], int] = {}
        distinct: list[Any] = []
        where = []
        for v in key.ravel().tolist():
            slot = seen.setdefault((type(v), v), len(distinct))
            if slot == len(distinct):
                distinct.append(v)
            where.append(slot)
        keys = np.empty((len(distinct), 1), dtype=object)
        keys[:, 0] = distinct
        found = np.asarray(original(keys, *args[1:]), dtype=object)
        if found.shape != keys.shape:
            raise _Fallback
        return _array(found[np.asarray(where, dtype=np.intp)])

    return path


def install(functions: dict[str, Any]) -> None:
    """Put the vector paths in front of `formulas`' operators and functions (once)."""
    from formulas.functions.operators import OPERATORS

    for symbol in _ARITHMETIC:
        if not hasattr(OPERATORS[symbol], "katsheet_original"):
            OPERATORS[symbol] = _vector(OPERATORS[symbol], arithmetic(symbol))
    for symbol in _COMPARE:
        if not hasattr(OPERATORS[symbol], "katsheet_original"):
            OPERATORS[symbol] = _vector(OPERATORS[symbol], comparison(symbol))
    for name, (columns, arity) in _text_functions().items():
        table = OPERATORS if name == "&" else functions
        if not hasattr(table[name], "katsheet_original"):
            table[name] = _vector(table[name], textwise(columns, arity))
    for name, path in (("IF", if_path), ("IFERROR", iferror_path)):
        entry = functions[name]
        if not hasattr(entry["function"], "katsheet_original"):
            functions[name] = {**entry, "function": _vector(entry["function"], path)}
    for name in ("VLOOKUP", "HLOOKUP", "MATCH"):
        fn = functions[name]
        if not hasattr(fn, "katsheet_original"):
            functions[name] = _vector(fn, lookup(fn))
