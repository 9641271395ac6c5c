"""Lookups and aggregates over a whole table, keyed by each row, for a whole column at once.

The templates need a few formulas of this kind: rank (``COUNTIF(TotalUnits,">"&$N16)``), the
first row of a member (``MATCH(name,MemberNames,0)``), ``INDEX(column,row)`` mirrors, and the
Members sheet (``SUMIF(MemberNos,$A5,TotalUnits)``, ``COUNTIF(MemberNos,$A5)``). Evaluated row by
row, `formulas` compares every row with every other in Python: minutes for 1,000 members. Here the
same semantics - `formulas`' own, which the tests hold these kernels to on random data - come from
a sort, a hash or a gather: near-linear in the table's size. (SUMPRODUCT of comparisons, which
older templates used, is a block-wise matrix.)

Each kernel answers the rows it understands; a row it does not (an error value, a criterion with a
wildcard, a fraction as a row number) is evaluated by `formulas` itself, for that row alone. One
deliberate difference: MATCH follows Excel and LibreOffice where a key escapes a wildcard with
``~``, which `formulas` 1.3 gets wrong (docs/workbooks.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .grid import EMPTY

if TYPE_CHECKING:
    from .runs import Evaluator, Run

AGGREGATE = "_KSAGG"
_CALL = re.compile(
    r'"(?:[^"]|"")*"|(?<![\w.])(SUMPRODUCT|COUNTIFS|COUNTIF|SUMIFS|SUMIF|MAXIFS|MINIFS|MATCH|INDEX)\s*\(',
    re.IGNORECASE,
)
_NAME = re.compile(r"[A-Za-z_][\w.]*")
BLOCK = 2_000_000  # matrix cells per block: bounds memory at ~50 MB whatever the table size

NUMBER, TEXT, BOOL, BLANK, ERROR = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    text: str  # the formula with each aggregate call replaced by a name _KSAGG<i>
    calls: dict[str, Call]


def _split_call(text: str, start: int) -> tuple[list[str], int]:
    """The top-level arguments of the call whose "(" is at ``start``, and the index after ")"."""
    depth, args, cur, i = 0, [], start + 1, start
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = text.index('"', i + 1)
            while i + 1 < len(text) and text[i + 1] == '"':
                i = text.index('"', i + 2)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(text[cur:i])
                return [a.strip() for a in args], i + 1
        elif ch == "," and depth == 1:
            args.append(text[cur:i])
            cur = i + 1
        i += 1
    raise ValueError(text)


def plan(text: str, tainted: set[str]) -> Plan | None:
    """Replace each SUMPRODUCT/COUNTIF call that reads a row's own value by a name to be given."""
    calls: dict[str, Call] = {}
    out, pos = [], 0
    for m in _CALL.finditer(text):
        if m.group(1) is None or m.start() < pos:
            continue
        try:
            args, end = _split_call(text, m.end() - 1)
        except ValueError:
            return None
        body = text[m.start() : end]
        if not any(re.search(rf"\b{t}\b", body) for t in tainted):
            continue
        name = f"{AGGREGATE}{len(calls)}"
        calls[name] = Call(m.group(1).upper(), tuple(args))
        out.append(text[pos : m.start()] + name)
        pos = end
    if not calls:
        return None
    return Plan("".join(out) + text[pos:], calls)


# -- typed values ----------------------------------------------------------------------------
@dataclass
class Typed:
    """Cell values split by type, as `formulas` compares them: kind, number, upper-cased text."""

    kind: np.ndarray  # int8
    num: np.ndarray  # float64 (numbers; bools as 0/1)
    txt: np.ndarray  # str (texts upper-cased; "" elsewhere)

    @classmethod
    def of(cls, values: Any) -> Typed:
        arr = np.asarray(values, dtype=object)
        if arr.ndim == 0:
            arr = arr.reshape(1, 1)
        items = arr.reshape(-1).tolist()
        # a kind per exact type, looked up in C; blanks, errors and subclasses go through _kind_of
        kinds = [_KIND_OF_TYPE.get(type(v), _UNKNOWN) for v in items]
        for i in [i for i, k in enumerate(kinds) if k == _UNKNOWN]:
            kinds[i] = _kind_of(items[i])
        kind = np.array(kinds, dtype=np.int8)
        num = np.zeros(len(items))
        numeric = np.flatnonzero((kind == NUMBER) | (kind == BOOL))
        num[numeric] = [float(items[i]) for i in numeric.tolist()]
        txt = [v.upper() if k == TEXT else "" for v, k in zip(items, kinds, strict=True)]
        return cls(kind.reshape(arr.shape), num.reshape(arr.shape), np.array(txt, dtype=str).reshape(arr.shape))


_UNKNOWN = -1
_KIND_OF_TYPE = {bool: BOOL, np.bool_: BOOL, int: NUMBER, float: NUMBER, np.float64: NUMBER, np.int64: NUMBER,
                 str: TEXT}  # fmt: skip


def _kind_of(v: Any) -> int:
    """A value's kind as `formulas` compares it: blank, boolean, number, text, else an error."""
    if v is EMPTY:
        return BLANK
    if isinstance(v, (bool, np.bool_)):
        return BOOL
    if isinstance(v, (int, float, np.integer, np.floating)):
        return NUMBER
    if isinstance(v, str):
        return TEXT
    return ERROR


_COMPARE = {
    "=": np.equal,
    "<>": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def _compare(op: str, a: Typed, b: Typed) -> Typed | None:
    if (a.kind == ERROR).any() or (b.kind == ERROR).any():
        return None
    # a blank compares as "" against text and as 0 against anything else (formulas' logic_input_parser)
    ka = np.where(a.kind == BLANK, np.where(b.kind == TEXT, TEXT, NUMBER), a.kind)
    kb = np.where(b.kind == BLANK, np.where(ka == TEXT, TEXT, NUMBER), b.kind)
    f = _COMPARE[op]
    same = ka == kb
    by_value = np.where(ka == TEXT, f(a.txt, b.txt), f(a.num, b.num))
    result = np.where(same, by_value, f(ka, kb))
    return Typed(np.full(result.shape, BOOL, dtype=np.int8), result.astype(float), np.zeros(result.shape, dtype="<U1"))


def _arith(op: str, a: Typed, b: Typed) -> Typed | None:
    for t in (a, b):
        if ((t.kind == ERROR) | (t.kind == TEXT)).any():
            return None
    x, y = a.num, b.num  # blanks are 0 (num holds 0 there), bools 0/1
    if op == "/":
        if (y == 0).any():
            return None
        r = x / y
    else:
        r = {"+": np.add, "-": np.subtract, "*": np.multiply}[op](x, y)
    return Typed(np.full(r.shape, NUMBER, dtype=np.int8), r, np.zeros(r.shape, dtype="<U1"))


# -- a small parser for the arguments ----------------------------------------------------------
_TOKEN = re.compile(
    r'\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)|(?P<str>"(?:[^"]|"")*")|(?P<op><>|<=|>=|[-+*/=<>()&,^%])'
    r"|(?P<name>[A-Za-z_][\w.]*))"
)


def _tokens(text: str) -> list[tuple[str, str]] | None:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            return None
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """Excel precedence for what the kernels take: comparison < & < +- < */ < unary minus."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.t, self.i = tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> tuple[str, str]:
        self.i += 1
        return self.t[self.i - 1]

    def parse(self) -> Any:
        node = self.compare()
        if self.peek() is not None:
            raise ValueError("trailing")
        return node

    def compare(self) -> Any:
        left = self.additive()
        while (p := self.peek()) and p[1] in _COMPARE:
            left = ("cmp", self.take()[1], left, self.additive())
        return left

    def additive(self) -> Any:
        left = self.term()
        while (p := self.peek()) and p[1] in "+-" and p[0] == "op":
            left = ("arith", self.take()[1], left, self.term())
        return left

    def term(self) -> Any:
        left = self.unary()
        while (p := self.peek()) and p[1] in ("*", "/"):
            left = ("arith", self.take()[1], left, self.unary())
        return left

    def unary(self) -> Any:
        p = self.peek()
        if p and p[1] == "-":
            self.take()
            return ("arith", "-", ("num", 0.0), self.unary())
        if p and p[1] == "+":
            self.take()
            return self.unary()
        return self.primary()

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "num":
            return ("num", float(value))
        if kind == "str":
            return ("str", value[1:-1].replace('""', '"'))
        if kind == "name":
            if value.upper() in ("TRUE", "FALSE") and (self.peek() is None or self.peek()[1] != "("):
                return ("bool", value.upper() == "TRUE")
            if self.peek() and self.peek()[1] == "(":
                raise ValueError("a function call")
            return ("ref", value)
        if value == "(":
            node = self.compare()
            if self.take()[1] != ")":
                raise ValueError(")")
            return node
        raise ValueError(value)


def _parse(text: str) -> Any | None:
    tokens = _tokens(text)
    if tokens is None or any(v in ("&", "^", "%", ",") for _, v in tokens):
        return None
    try:
        return _Parser(tokens).parse()
    except (ValueError, IndexError, TypeError):
        return None


# -- the kernels -------------------------------------------------------------------------------
class _Leaves:
    """The values references and names stand for: fixed ranges (table, 1) and row keys (1, n)."""

    def __init__(self, ev: Evaluator, run: Run, vectors: dict[str, Any]) -> None:
        self.ev, self.run, self.vectors = ev, run, vectors
        self.cache: dict[str, tuple[Typed, Any, bool]] = {}
        self._raw: dict[str, tuple[np.ndarray, bool]] = {}

    def raw(self, name: str) -> tuple[np.ndarray, bool]:
        """(raw value, whether it varies by row): what the *IFS kernels read, without the typed
        split (a 10,000-row range split for each of a month's ten SUMIFS columns was most of them)."""
        key = name.upper()
        if key not in self._raw:
            if key in self.vectors:
                self._raw[key] = (np.asarray(self.vectors[key], dtype=object).reshape(1, -1), True)
            else:
                value = self.ev._args_for(key, self.run)
                arr = np.asarray(getattr(value, "value", value), dtype=object)
                if arr.ndim == 2 and arr.shape[1] != 1:
                    raise ValueError("a range wider than one column")
                self._raw[key] = (arr.reshape(-1, 1), False)
        return self._raw[key]

    def get(self, name: str) -> tuple[Typed, Any, bool]:
        """(typed value, raw value, whether it varies by row)."""
        key = name.upper()
        if key not in self.cache:
            arr, rows = self.raw(key)
            self.cache[key] = (Typed.of(arr), arr, rows)
        return self.cache[key]


def _slice(t: Typed, rows: bool, lo: int, hi: int) -> Typed:
    if not rows:
        return t
    return Typed(t.kind[:, lo:hi], t.num[:, lo:hi], t.txt[:, lo:hi])


def _eval(node: Any, leaves: _Leaves, lo: int, hi: int) -> Typed | None:
    kind = node[0]
    if kind == "num":
        return Typed(np.array([[NUMBER]], dtype=np.int8), np.array([[node[1]]]), np.array([[""]]))
    if kind == "bool":
        return Typed(np.array([[BOOL]], dtype=np.int8), np.array([[float(node[1])]]), np.array([[""]]))
    if kind == "str":
        return Typed(np.array([[TEXT]], dtype=np.int8), np.array([[0.0]]), np.array([[node[1].upper()]]))
    if kind == "ref":
        typed, _, rows = leaves.get(node[1])
        return _slice(typed, rows, lo, hi)
    a, b = _eval(node[2], leaves, lo, hi), _eval(node[3], leaves, lo, hi)
    if a is None or b is None:
        return None
    return _compare(node[1], a, b) if kind == "cmp" else _arith(node[1], a, b)


def _sumproduct(args: tuple[str, ...], leaves: _Leaves, n: int) -> np.ndarray | None:
    trees = [_parse(a) for a in args]
    if any(t is None for t in trees):
        return None
    out = np.empty(n, dtype=object)
    fixed = [leaves.get(r) for t in trees for r in _refs(t)]
    height = max([raw.shape[0] for _, raw, rows in fixed if not rows], default=1)
    step = max(1, BLOCK // height)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        product = None
        sizes = set()
        for tree in trees:
            t = _eval(tree, leaves, lo, hi)
            if t is None:
                return None
            if (t.kind == ERROR).any():
                return None
            sizes.add(t.kind.shape[0])
            # formulas' SUMPRODUCT: TRUE counts as nothing (nan -> 0), FALSE and blanks as 0,
            # text as float(text) when Python reads it as a number
            value = np.where(t.kind == NUMBER, t.num, 0.0)
            if (t.kind == TEXT).any():
                value = np.where(t.kind == TEXT, _text_numbers(t.txt), value)
            value = np.nan_to_num(value)
            product = value if product is None else product * value
        if len(sizes) > 1:
            return None  # arrays of different sizes: #VALUE! in formulas, left to it
        out[lo:hi] = np.broadcast_to(product.sum(axis=0), (hi - lo,))
    return out


def _text_numbers(txt: np.ndarray) -> np.ndarray:
    """float(text) for each text (nan where Python does not read a number), as formulas' to_number."""
    uniq, inverse = np.unique(txt, return_inverse=True)
    return np.array([_float(u) for u in uniq])[inverse].reshape(txt.shape)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _refs(tree: Any) -> list[str]:
    if tree[0] == "ref":
        return [tree[1]]
    if tree[0] in ("cmp", "arith"):
        return _refs(tree[2]) + _refs(tree[3])
    return []


_CRITERION = re.compile(r"(>=|<=|<>|<|>|=)?\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_OPERATORS = (">=", "<=", "<>", "<", ">", "=")
#: a row the kernel leaves to `formulas` (see ``compute``)
IRREGULAR = object()


def _by_row(expr: str, leaves: _Leaves, ev: Evaluator, run: Run, n: int) -> np.ndarray | None:
    """An element-wise argument (a criterion, a row number, a key) for every row, by `formulas`."""
    from .runs import Compiled

    nested = re.fullmatch(r"(COUNTIF|SUMIF|MATCH|INDEX)\s*\((.*)\)", expr.strip(), re.IGNORECASE | re.DOTALL)
    if nested:  # a kernel's argument that is itself a kernel's call (INDEX(names, MATCH(no, nos, 0)))
        try:
            args, end = _split_call(expr.strip(), nested.start(2) - 1)
        except ValueError:
            args, end = [], -1
        if end == len(expr.strip()):
            out = compute(Call(nested.group(1).upper(), tuple(args)), ev, run, leaves.vectors)
            return None if out is None else out.reshape(-1)
    compiled = Compiled.of("=" + expr)
    if not compiled.elementwise_in(set(leaves.vectors)):
        return None
    value = compiled.fn(*ev._args(compiled, run, run.first, leaves.vectors))
    value = np.asarray(getattr(value, "value", value), dtype=object)
    return np.broadcast_to(value.reshape(-1), (n,)) if value.size in (1, n) else None


def _fixed(name: str, leaves: _Leaves) -> np.ndarray | None:
    """A fixed range argument (a defined name or an absolute reference) as a flat array."""
    if not _NAME.fullmatch(name) or name.upper() in leaves.vectors:
        return None
    return np.asarray(leaves.raw(name)[0], dtype=object).reshape(-1)


def _is_number(v: Any) -> bool:
    if type(v) is float or type(v) is int:  # most elements: two identity tests
        return True
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _is_error(v: Any) -> bool:
    return type(v).__name__ == "XlError"


def _index(args: tuple[str, ...], leaves: _Leaves, ev: Evaluator, run: Run, n: int) -> np.ndarray | None:
    """INDEX(column, row) for each row's own row number: the cell's value, blank kept blank (as
    `formulas` gives it through the reference INDEX returns in a cell)."""
    if len(args) != 2:
        return None
    column = _fixed(args[0], leaves)
    rows = _by_row(args[1], leaves, ev, run, n)
    if column is None or rows is None:
        return None
    out = np.empty(n, dtype=object)
    for i, r in enumerate(rows):
        if _is_error(r):
            out[i] = r  # INDEX passes an error in its row number on
        elif _is_number(r) and 1 <= r <= len(column) and r == int(r):  # bounds first: int(inf) raises
            out[i] = column[int(r) - 1]
        else:
            out[i] = IRREGULAR  # row 0, out of range, text, fractions: `formulas` answers
    return out


def _count_criterion(c: Any) -> tuple[str, Any] | None:
    """A COUNTIF/SUMIF criterion as (kind, value): ("num", op, x) or ("text", casefolded text)."""
    if _is_number(c):
        return ("num", ("=", float(c)))
    if isinstance(c, str) and c is not EMPTY:
        if m := _CRITERION.fullmatch(c.strip()):
            return ("num", (m.group(1) or "=", float(m.group(2))))
        # plain text (no operator, no wildcard) counts the cells equal to it, case-blind; what
        # `formulas` makes of an operator with text after it is left to `formulas`
        if not (c.startswith(_OPERATORS) or any(w in c for w in "*?~")):
            return ("text", c.casefold())
    return None


class _CountIndex:
    """A fixed range prepared for COUNTIF: its numbers sorted, its texts counted (case-blind)."""

    def __init__(self, raw: np.ndarray) -> None:
        from formulas.functions import replace_empty, text2num

        numbers = np.asarray(text2num(replace_empty(raw.reshape(-1, 1), "")), dtype=object).reshape(-1)
        self.values = np.sort(np.array([float(v) for v in numbers if _is_number(v)]))
        self.texts: dict[str, int] = {}
        for v in raw:
            if isinstance(v, str):  # a blank cell (EMPTY, a str) reads as "", as `formulas` has it
                key = "" if v is EMPTY else v.casefold()
                self.texts[key] = self.texts.get(key, 0) + 1

    def count(self, kind: str, spec: Any) -> int:
        if kind == "text":
            return self.texts.get(spec, 0)
        op, x = spec
        values = self.values
        left, right = np.searchsorted(values, x, "left"), np.searchsorted(values, x, "right")
        return int(
            {
                "=": right - left,
                "<>": len(values) - (right - left),
                "<": left,
                "<=": right,
                ">": len(values) - right,
                ">=": len(values) - left,
            }[op]
        )


def _countif(args: tuple[str, ...], leaves: _Leaves, ev: Evaluator, run: Run, n: int) -> np.ndarray | None:
    if len(args) != 2:
        return None
    raw = _fixed(args[0], leaves)
    criteria = _by_row(args[1], leaves, ev, run, n)
    if raw is None or criteria is None:
        return None
    index = _CountIndex(raw)
    out = np.empty(n, dtype=object)
    for i, c in enumerate(criteria):
        spec = _count_criterion(c)
        out[i] = IRREGULAR if spec is None else index.count(*spec)
    return out


def _sumif(args: tuple[str, ...], leaves: _Leaves, ev: Evaluator, run: Run, n: int) -> np.ndarray | None:
    """SUMIF(range, key, sum range) with a number key per row: a sum per distinct key (hash)."""
    from formulas.functions import replace_empty, text2num

    if len(args) != 3:
        return None
    raw, values = _fixed(args[0], leaves), _fixed(args[2], leaves)
    criteria = _by_row(args[1], leaves, ev, run, n)
    if raw is None or values is None or criteria is None or len(raw) != len(values):
        return None
    tests = np.asarray(text2num(replace_empty(raw.reshape(-1, 1), "")), dtype=object).reshape(-1)
    sums: dict[float, Any] = {}
    for t, v in zip(tests, values, strict=True):
        if not _is_number(t):
            continue
        key = float(t)
        if sums.get(key) is IRREGULAR:
            continue
        if _is_number(v):
            sums[key] = sums.get(key, 0.0) + float(v)
        elif v is not EMPTY:
            sums[key] = IRREGULAR  # text, TRUE/FALSE or an error summed: `formulas` decides that sum
    out = np.empty(n, dtype=object)
    for i, c in enumerate(criteria):
        spec = _count_criterion(c)
        if spec is None or spec[0] != "num" or spec[1][0] != "=":
            out[i] = IRREGULAR
        else:
            out[i] = sums.get(spec[1][1], 0.0)
    return out


_WILDCARD = re.compile(r"~(.)|([*?])", re.DOTALL)


def _excel_pattern(key: str) -> tuple[str, re.Pattern[str] | None]:
    """A MATCH key as Excel reads it: ``~`` escapes the next character, ``*`` and ``?`` are
    wildcards. Returns the key without escapes, and a pattern when a wildcard remains."""
    if "~" not in key and "*" not in key and "?" not in key:
        return key, None  # most keys (a member's name, an entry id): 40,000 a KAT check
    parts: list[str] = []
    plain: list[str] = []
    wild, pos = False, 0
    for m in _WILDCARD.finditer(key):
        parts.append(re.escape(key[pos : m.start()]))
        plain.append(key[pos : m.start()])
        if m.group(1) is not None:
            parts.append(re.escape(m.group(1)))
            plain.append(m.group(1))
        else:
            wild = True
            parts.append(".*" if m.group(2) == "*" else ".")
        pos = m.end()
    parts.append(re.escape(key[pos:]))
    plain.append(key[pos:])
    text = "".join(plain)
    return text, re.compile("".join(parts), re.IGNORECASE | re.DOTALL) if wild else None


def _match(args: tuple[str, ...], leaves: _Leaves, ev: Evaluator, run: Run, n: int) -> np.ndarray | None:
    """MATCH(key, range, 0) for each row's key: a hash of the range's first positions.
    MATCH(key, range, 1) (a tier's threshold) for each number key, as `formulas` scans."""
    from formulas.functions import Error

    if len(args) != 3 or args[2].strip() not in ("0", "1"):
        return None
    raw = _fixed(args[1], leaves)
    keys = _by_row(args[0], leaves, ev, run, n)
    if raw is None or keys is None:
        return None
    if args[2].strip() == "1":
        return _match_below(raw, keys, n)
    numbers: dict[float, int] = {}
    texts: dict[str, int] = {}
    bools: dict[bool, int] = {}
    for position, v in enumerate(raw, start=1):
        if isinstance(v, (bool, np.bool_)):
            bools.setdefault(bool(v), position)
        elif _is_number(v):
            numbers.setdefault(float(v), position)
        elif isinstance(v, str) and v is not EMPTY:
            texts.setdefault(v.casefold(), position)
    missing = Error.errors["#N/A"]
    out = np.empty(n, dtype=object)
    irregular: dict[tuple[type, Any], Any] = {}
    for i, k in enumerate(keys):
        if isinstance(k, (bool, np.bool_)):
            found = bools.get(bool(k))
        elif _is_number(k):
            found = numbers.get(float(k))
        elif isinstance(k, str) and k and k is not EMPTY:
            text, pattern = _excel_pattern(k)
            if pattern is None:
                found = texts.get(text.casefold())
            else:
                found = next(
                    (p for p, v in enumerate(raw, start=1) if isinstance(v, str) and v is not EMPTY
                     and pattern.fullmatch(v)), None,
                )  # fmt: skip
        else:
            out[i] = _irregular_key(k, raw, irregular)  # an error, a blank or "" key: `formulas` answers
            continue
        out[i] = missing if found is None else found
    return out


def _irregular_key(key: Any, raw: np.ndarray, seen: dict[tuple[type, Any], Any]) -> Any:
    """MATCH(key, range, 0) by `formulas` itself, once per distinct key: a ledger's blank ids
    (hundreds of rows) each cost a look through the whole range otherwise. The row's call would
    give the same: its key is this key, its range this range."""
    from formulas.functions import get_functions

    slot = (type(key), str(key))
    if slot not in seen:
        match = get_functions()["MATCH"]
        match = getattr(match, "katsheet_original", match)
        keys = np.empty((1, 1), dtype=object)
        keys[0, 0] = key
        found = np.asarray(match(keys, raw.reshape(-1, 1), 0), dtype=object)
        seen[slot] = found.reshape(-1)[0] if found.size == 1 else IRREGULAR
    return seen[slot]


def _match_below(raw: np.ndarray, keys: np.ndarray, n: int) -> np.ndarray:
    """MATCH(key, range, 1) for number keys, as `formulas` has it: over the range's numbers in
    order, the last position whose number is <= the key, the scan stopping at the first larger
    number after the first position, or at an equal one. Other keys (text, TRUE, blanks,
    errors) are left to `formulas`."""
    from formulas.functions import Error

    numbers = [(p, v) for p, v in enumerate(raw, start=1) if _is_number(v)]
    missing = Error.errors["#N/A"]
    out = np.empty(n, dtype=object)
    for i, k in enumerate(keys):
        if not _is_number(k):
            out[i] = IRREGULAR
            continue
        found: Any = missing
        for p, v in numbers:
            if v <= k:
                found = p
                if v == k and p > 1:
                    break
            elif p > 1:
                break
        out[i] = found
    return out


_LITERAL_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _constant_test(criterion: str, cells: np.ndarray) -> np.ndarray | None:
    """Which cells a literal criterion (TRUE, FALSE or a number) matches, as Excel has it: a
    boolean matches booleans, a number matches numbers. Anything else: None (`formulas` decides)."""
    text = criterion.strip().upper()
    if text in ("TRUE", "FALSE"):
        wanted = text == "TRUE"
        return np.array([isinstance(v, (bool, np.bool_)) and bool(v) == wanted for v in cells])
    if _LITERAL_NUMBER.fullmatch(text):
        x = float(text)
        return np.array([_is_number(v) and float(v) == x for v in cells])
    return None


def _ifs(func: str):
    """SUMIFS, COUNTIFS, MAXIFS and MINIFS keyed by a number per row (a member's number) with
    literal criteria beside it (TRUE, a rule's number): one pass over the table, a hash per key.
    The KAT template's Members sheet is made of these; row by row they compare every member with
    every ledger row."""

    def kernel(args: tuple[str, ...], leaves: _Leaves, ev: Evaluator, run: Run, n: int) -> np.ndarray | None:
        values = None if func == "COUNTIFS" else _fixed(args[0], leaves)
        pairs = args if func == "COUNTIFS" else args[1:]
        if (func != "COUNTIFS" and values is None) or not pairs or len(pairs) % 2:
            return None
        mask: np.ndarray | None = None
        keyed: tuple[np.ndarray, np.ndarray] | None = None
        for range_name, criterion in zip(pairs[::2], pairs[1::2], strict=True):
            cells = _fixed(range_name, leaves)
            if cells is None or (values is not None and len(cells) != len(values)):
                return None
            test = _constant_test(criterion, cells)
            if test is not None:
                mask = test if mask is None else mask & test
                continue
            if keyed is not None:
                return None  # two criteria that vary by row: `formulas` row by row
            keys = _by_row(criterion, leaves, ev, run, n)
            if keys is None:
                return None
            keyed = (cells, keys)
        if keyed is None:
            return None
        cells, keys = keyed
        if any((isinstance(v, str) and v is not EMPTY and v != "") or isinstance(v, (bool, np.bool_)) for v in cells):
            return None  # text or TRUE/FALSE among the keys: how they match a number is `formulas`' to say
        groups: dict[float, list[float]] = {}
        for i, key in enumerate(cells):
            if (mask is not None and not mask[i]) or not _is_number(key):
                continue
            if values is None:
                groups.setdefault(float(key), []).append(1.0)
            elif _is_number(values[i]):
                groups.setdefault(float(key), []).append(float(values[i]))
            elif values[i] is not EMPTY:
                # text, TRUE/FALSE or an error among the values: Excel skips text in MAXIFS where
                # `formulas` 1.3 returns it; the run is `formulas`' to evaluate, row by row
                return None
        out = np.empty(n, dtype=object)
        for i, key in enumerate(keys):
            if not _is_number(key):
                out[i] = IRREGULAR
                continue
            found = groups.get(float(key), [])
            if func in ("SUMIFS", "COUNTIFS"):
                total = sum(found)
                out[i] = int(total) if func == "COUNTIFS" else total
            else:
                out[i] = (max(found) if func == "MAXIFS" else min(found)) if found else 0.0
        return out

    return kernel


_KERNELS = {
    "SUMPRODUCT": None, "INDEX": _index, "COUNTIF": _countif, "SUMIF": _sumif, "MATCH": _match,
    "SUMIFS": _ifs("SUMIFS"), "COUNTIFS": _ifs("COUNTIFS"), "MAXIFS": _ifs("MAXIFS"), "MINIFS": _ifs("MINIFS"),
}  # fmt: skip


def compute(
    call: Call, ev: Evaluator, run: Run, vectors: dict[str, Any], blanked: np.ndarray | None = None
) -> np.ndarray | None:
    """The call's value for every row of the run, shape (n, 1); None when not for a kernel.

    Rows a kernel marks IRREGULAR are evaluated by `formulas` one by one, with that row's values,
    unless ``blanked`` says the formula's own IF discards them (spare rows): those stay blank.
    """
    leaves = _Leaves(ev, run, {k.upper(): v for k, v in vectors.items()})
    try:
        if call.func == "SUMPRODUCT":
            out = _sumproduct(call.args, leaves, run.rows)
        else:
            out = _KERNELS[call.func](call.args, leaves, ev, run, run.rows)  # type: ignore[misc]
    except ValueError:
        return None
    if out is None:
        return None
    irregular = [i for i, v in enumerate(out) if v is IRREGULAR]
    if blanked is not None:
        for i in irregular:
            if blanked[i]:
                out[i] = EMPTY
        irregular = [i for i in irregular if not blanked[i]]
    if irregular:
        ev.rows_by_row += len(irregular)
        for i in irregular:
            out[i] = ev.single_call(call, run, run.first + i)
    return out.reshape(-1, 1)
