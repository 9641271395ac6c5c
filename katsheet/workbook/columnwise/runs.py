"""Evaluate a workbook's formulas with `formulas`, a column run at a time.

A run is a stretch of one column whose cells hold the same formula in R1C1 terms (what "fill
down" makes). Each distinct formula is compiled once by `formulas`; a run is evaluated in one
call, each row-relative reference given as the column of values it covers, when every function
the row values flow through works element by element (operators, IF, ROUND, INDEX by row, ...).
A run whose row values flow into an aggregate (SUMPRODUCT over the table keyed by this row) has
its aggregate calls computed by ``outer`` and the rest in one call; anything else is evaluated
row by row, still by `formulas`. The runs are evaluated in the order their references demand.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ...layouts.model import col_index, col_letter, split_cell
from . import outer
from .grid import EMPTY, Grid
from .refs import PLACEHOLDER, Ref, Shape, Unsupported, next_row_text, run_key, shape, target
from .startup import import_formulas

#: functions and operators that take arrays element by element (checked in tests against
#: row-by-row evaluation); INDEX, MATCH and VLOOKUP look each row's own key up in a fixed range
ELEMENTWISE = frozenset(
    [
        "+",
        "-",
        "*",
        "/",
        "^",
        "&",
        "=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "U-",
        "U+",
        "%",
        "IF",
        "IFERROR",
        "NOT",
        "ROUND",
        "ROUNDDOWN",
        "ROUNDUP",
        "ISNUMBER",
        "ISBLANK",
        "ISTEXT",
        "ISERROR",
        "ISERR",
        "ISNA",
        "LEN",
        "ABS",
        "INT",
        "SUBSTITUTE",
        "TRIM",
        "LOWER",
        "BYPASS",
    ]
)
#: MATCH and VLOOKUP look each row's key up in a fixed range (the positions a row key may take);
#: INDEX by row is done by outer.py's gather, as `formulas` returns references from it
KEYED = {"MATCH": (0,), "VLOOKUP": (0,)}

Rect = tuple[str, int, int, int, int]  # sheet (upper case), c1, r1, c2, r2


@dataclass
class Run:
    sheet: str
    col: int
    first: int
    last: int
    shape: Shape
    deps: list[Rect] = field(default_factory=list)
    #: the placeholder of a reference to this run's own column a row up (a running count)
    recurrence: str | None = None

    @property
    def rows(self) -> int:
        return self.last - self.first + 1


NAME_PLACEHOLDER = "_KSN"
#: a string literal, or an identifier that is not a function (not followed by "("), a sheet (!)
#: or part of a reference: what is left of a formula's shape once its references are placeholders
_NAME = re.compile(r'"(?:[^"]|"")*"|(?<![\w.$!#])([A-Za-z_\\][A-Za-z0-9_.]*)(?![\w(!.])')


class Compiled:
    """A formula text compiled by `formulas` once, with its inputs in call order."""

    _cache: ClassVar[dict[str, Compiled]] = {}

    def __init__(self, text: str) -> None:
        formulas = import_formulas()
        try:
            self.fn = formulas.Parser().ast(text)[1].compile()
        except Exception as e:  # `formulas` cannot parse it: the model evaluation reports what it can
            raise Unsupported(f"{text}: {e}") from None
        self.inputs = list(self.fn.inputs)
        #: the text compiled: the shape with _KSN placeholders for defined names, shared by renames
        self.canonical = text

    @classmethod
    def of(cls, text: str) -> Compiled:
        """``text`` compiled, once. Formulas that differ only in the defined names they read (a
        month's 60 pool parameters, each its own cell) share one compilation: compiling is most of
        the cost of a cell that is its own run."""
        hit = cls._cache.get(text)
        if hit is None:
            names: list[str] = []

            def placeholder(m: re.Match[str]) -> str:
                word = m.group(1)
                if word is None or word.upper() in ("TRUE", "FALSE") or word.upper().startswith("_KS"):
                    return m.group(0)
                if word.upper() not in names:
                    names.append(word.upper())
                return f"{NAME_PLACEHOLDER}{names.index(word.upper())}"

            canonical = _NAME.sub(placeholder, text)
            shared = cls._cache.get(canonical)
            if shared is None:
                shared = cls._cache[canonical] = cls(canonical)
            hit = cls._cache[text] = shared if not names else shared.renamed(names)
        return hit

    def renamed(self, names: list[str]) -> Compiled:
        """This compilation reading ``names`` where it reads _KSN0, _KSN1, ... (same call order)."""
        out = object.__new__(Compiled)
        out.fn, out.canonical = self.fn, self.canonical
        out.inputs = [names[int(i[len(NAME_PLACEHOLDER) :])] if i.startswith(NAME_PLACEHOLDER) else i
                      for i in self.inputs]  # fmt: skip
        return out

    def elementwise_in(self, tainted: set[str]) -> bool:
        """Whether values that differ per row only ever pass through element-wise functions."""
        tainted = {t.upper() for t in tainted}
        nodes = [(re.sub(r"<\d+>$", "", k), v) for k, v in self.fn.dsp.nodes.items() if v.get("type") == "function"]
        changed = True
        while changed:
            changed = False
            for name, node in nodes:
                ins = [x for x in node.get("inputs", []) if isinstance(x, str)]  # INDEX also gets its cell
                outs = node.get("outputs", [])
                hit = [i for i, x in enumerate(ins) if x in tainted]
                if not hit or all(o in tainted for o in outs):
                    continue
                if name.upper() not in ELEMENTWISE and not set(hit) <= set(KEYED.get(name.upper(), ())):
                    return False
                tainted.update(outs)
                changed = True
        return True


def _runs(formulas: dict[tuple[str, int, int], str], unknown: set[tuple[str, int, int]]) -> list[Run]:
    """Consecutive rows of a column with the same R1C1 formula, as runs. A formula this evaluator
    cannot follow (a whole-column or external reference) goes into ``unknown`` instead.

    A cell continues the run above it when its text is the one fill-down would have written there
    (``next_row_text``, a string comparison); otherwise ``run_key`` decides, as before."""
    columns: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for (sheet, col, row), text in formulas.items():  # sorted column by column: ints, not tuples
        columns[(sheet, col)].append((row, text))
    out: list[Run] = []
    for sheet, col in sorted(columns):
        cells = columns[(sheet, col)]
        cells.sort()  # rows are unique: only the numbers are compared (and a reader gives them in order)
        prev: Run | None = None
        prev_key = None
        expected: Callable[[int], str] | None = None
        for row, text in cells:
            continues = prev is not None and prev.last == row - 1
            if continues and expected is not None and expected(row) == text:
                prev.last = row  # type: ignore[union-attr]
                continue
            key = run_key(text, row)
            if continues and key == prev_key:
                prev.last = row  # type: ignore[union-attr]
                expected = next_row_text(text, row)
                continue
            try:
                prev = Run(sheet, col, row, row, shape(text, col, row))
                out.append(prev)
                expected = next_row_text(text, row)
            except Unsupported:
                unknown.add((sheet.upper(), col, row))
                prev, key, expected = None, None, None
            prev_key = key
    return out


class Evaluator:
    def __init__(
        self,
        cells: dict[tuple[str, str], Any],
        formula_keys: set[tuple[str, str]],
        names: dict[str, str],
        positions: dict[str, tuple[int, int]] | None = None,
    ):
        """``positions``: cell reference -> (0-based column, row) as the file reader met them
        (splitting 335,000 references again took a third of a second); any other is split here."""
        rows: dict[str, int] = defaultdict(int)
        formulas: dict[tuple[str, int, int], str] = {}
        inputs: dict[tuple[str, int], dict[int, Any]] = defaultdict(dict)  # by column: row -> value
        positions = positions or {}
        for key, value in cells.items():  # every cell of the book: kept lean
            sheet, cell = key
            where = positions.get(cell)
            if where is None:
                letters, row = split_cell(cell)
                col = col_index(letters)
            else:
                col, row = where
            if row > rows[sheet]:
                rows[sheet] = row
            if key in formula_keys:
                formulas[(sheet, col, row)] = value
            elif value is not None:
                inputs[(sheet, col)][row] = _excel_value(value)
        self.sheets = {s.upper() for s in rows}
        self.grid = Grid(rows)  # sized first: a column grown cell by cell would be copied each time
        for (sheet, col), values in inputs.items():
            self.grid.put_cells(sheet, col, values)
        self.names = {k.upper(): v for k, v in names.items()}
        self._resolved: dict[str, tuple[Rect | None, Any]] = {}
        #: cells that cannot be evaluated (an unknown function, a syntax error, ...) and every
        #: cell that depends on one: left out of the results, never guessed
        self.unknown: set[tuple[str, int, int]] = set()
        self.runs = _runs(formulas, self.unknown)
        self.rows_by_row = 0  # cells evaluated one by one (not column-wise): few, after hand edits
        self.runs_together = 0  # runs evaluated in one call with others of their shape

    # -- inputs ---------------------------------------------------------------------------------
    def _name(self, name: str) -> tuple[Rect | None, Any]:
        """What a defined name stands for: a rectangle, or a constant. Resolved once per name (a
        pools month reads its 200 names a few thousand times)."""
        hit = self._resolved.get(name)
        if hit is None:
            hit = self._resolved[name] = self._resolve(name)
        return hit

    def _resolve(self, name: str) -> tuple[Rect | None, Any]:
        text = self.names.get(name)
        if text is None:
            raise Unsupported(f"unknown name {name}")
        ref = target(text)
        if ref is not None:
            sheet, c1, r1, c2, r2 = ref
            return (sheet.upper(), c1, r1, c2, r2), None
        try:
            return None, _excel_value(float(text))
        except ValueError:
            pass
        if re.fullmatch(r'="?[^"]*"?|"[^"]*"', text):
            return None, text.lstrip("=").strip('"')
        raise Unsupported(f"name {name} = {text}")

    def _ref_rect(self, run: Run, ref: Ref, row: int) -> Rect:
        c1, r1, c2, r2 = ref.at(run.col, row)
        sheet = (ref.sheet or run.sheet).upper()
        if sheet not in self.sheets:
            raise Unsupported(f"sheet {ref.sheet}")
        return sheet, c1, r1, c2, r2

    def _deps(self, run: Run, compiled: Compiled) -> list[Rect]:
        deps = []
        for i, ref in enumerate(run.shape.refs):
            first, last = self._ref_rect(run, ref, run.first), self._ref_rect(run, ref, run.last)
            if self._recurrent(run, ref, first):
                # the cell above in the same column: within the run it is an earlier cell of it;
                # only the cell above the run's first row is a dependency on something else
                run.recurrence = f"{PLACEHOLDER}{i}"
                deps.append(first)
                continue
            deps.append((first[0], first[1], min(first[2], last[2]), first[3], max(first[4], last[4])))
        for name in compiled.inputs:
            if not name.startswith(PLACEHOLDER) and not name.startswith(outer.AGGREGATE):
                rect, _ = self._name(name)
                if rect:
                    deps.append(rect)
        return deps

    @staticmethod
    def _recurrent(run: Run, ref: Ref, at_first: Rect) -> bool:
        """A single cell of this run's own column, a fixed number of rows up (``{x.above}``)."""
        sheet, c1, r1, _, _ = at_first
        return (
            ref.single
            and ref.moves_with_row
            and sheet == run.sheet.upper()
            and c1 == run.col
            and r1 < run.first
            and run.rows > 1
        )

    # -- order ----------------------------------------------------------------------------------
    def _order(self) -> list[list[Run]]:
        """The runs in levels: a run comes in a level after every run it reads, so the runs of one
        level never read each other and may be evaluated together."""
        by_col: dict[tuple[str, int], list[int]] = defaultdict(list)
        for i, run in enumerate(self.runs):
            by_col[(run.sheet.upper(), run.col)].append(i)
        after: list[set[int]] = [set() for _ in self.runs]  # run i needs these runs first
        for i, run in enumerate(self.runs):
            for sheet, c1, r1, c2, r2 in run.deps:
                for c in range(c1, c2 + 1):
                    for j in by_col.get((sheet, c), ()):
                        other = self.runs[j]
                        if other.first <= r2 and r1 <= other.last and j != i:
                            after[i].add(j)
                        elif j == i and run.first <= r2 and r1 <= run.last:
                            self._give_up(run)  # a formula that reads its own column: circular
        order, done, state, level = [], set(), {}, {}
        for start in range(len(self.runs)):  # depth-first, iterative: tables may be long
            stack = [(start, iter(after[start]))]
            if start in done:
                continue
            state[start] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    stack.pop()
                    done.add(node)
                    level[node] = 1 + max((level[j] for j in after[node] if j in level), default=-1)
                    order.append(node)
                    continue
                if nxt in done:
                    continue
                if state.get(nxt) == 1:  # a circular reference: its runs are left out, not guessed
                    on_stack = [n for n, _ in stack]
                    for n in on_stack[on_stack.index(nxt) :]:
                        self._give_up(self.runs[n])
                    continue
                state[nxt] = 1
                stack.append((nxt, iter(after[nxt])))
        levels: list[list[Run]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
        for node in order:
            levels[level[node]].append(self.runs[node])
        return levels

    # -- evaluation -----------------------------------------------------------------------------
    def _value(self, rect: Rect) -> Any:
        """A fixed reference as `formulas`' ExcelModel passes it: a Ranges object."""
        sheet, c1, r1, c2, r2 = rect
        value = np.asarray(self.grid.rect(*rect), dtype=object).reshape(r2 - r1 + 1, c2 - c1 + 1)
        a1 = f"{col_letter(c1)}{r1}" + ("" if (c1, r1) == (c2, r2) else f":{col_letter(c2)}{r2}")
        return self._ranges().push(f"'[katsheet]{sheet.replace(chr(39), chr(39) * 2)}'!{a1}", value)

    @staticmethod
    def _ranges() -> Any:
        from formulas import Ranges

        return Ranges()

    def _args(self, compiled: Compiled, run: Run, row: int, given: dict[str, Any]) -> list[Any]:
        args = []
        for name in compiled.inputs:
            if name in given:
                args.append(given[name])
            else:
                args.append(self._args_for(name, run, row))
        return args

    def _args_for(self, name: str, run: Run, row: int | None = None) -> Any:
        """The value a reference (in ``row``, by default the run's first) or a name stands for."""
        if name.startswith(PLACEHOLDER):
            ref = run.shape.refs[int(name[len(PLACEHOLDER) :])]
            return self._value(self._ref_rect(run, ref, run.first if row is None else row))
        rect, constant = self._name(name)
        return self._value(rect) if rect else constant

    def _row_vectors(self, run: Run) -> dict[str, Any] | None:
        """Each row-relative single-cell reference as the (n, 1) column it covers; None if a
        row-relative range makes the run row-by-row work."""
        out = {}
        for i, ref in enumerate(run.shape.refs):
            if not ref.moves_with_row:
                continue
            if not ref.single:
                return None
            sheet, c1, r1, _, _ = self._ref_rect(run, ref, run.first)
            if r1 < 1:
                return None
            out[f"{PLACEHOLDER}{i}"] = self.grid.column(sheet, c1, r1, r1 + run.rows - 1)
        return out

    def _store(self, run: Run, values: np.ndarray) -> None:
        self.grid.put_column(run.sheet, run.col, run.first, values)

    def _by_rows(self, run: Run, compiled: Compiled) -> None:
        """`formulas` cell by cell, in order; each value is stored before the next row reads it."""
        for row in range(run.first, run.last + 1):
            self.grid.put(run.sheet, run.col, row, _top_left(compiled.fn(*self._args(compiled, run, row, {}))))

    def single_call(self, call: outer.Call, run: Run, row: int) -> Any:
        """One call of a run's formula (a kernel's irregular row) evaluated by `formulas` in ``row``."""
        compiled = Compiled.of(f"={call.func}({','.join(call.args)})")
        return _top_left(compiled.fn(*self._args(compiled, run, row, {})))

    def _batched(self, run: Run, compiled: Compiled, vectors: dict[str, Any]) -> np.ndarray | None:
        """The run's values from one call with whole columns, or None if the shape is not per row."""
        result = compiled.fn(*self._args(compiled, run, run.first, vectors))
        result = np.asarray(getattr(result, "value", result), dtype=object)
        if result.size == 1:
            values = np.empty(run.rows, dtype=object)
            values.fill(result.reshape(-1)[0])
            return values
        if result.shape == (run.rows, 1):
            return result.reshape(-1)
        return None

    def evaluate(self, *, row_by_row: bool = False) -> None:
        """Evaluate every run; ``row_by_row`` calls `formulas` once per cell (the reference the
        tests hold the column-wise evaluation to)."""
        runs = []
        for run in self.runs:
            try:
                run.deps = self._deps(run, Compiled.of(run.shape.text))
                runs.append(run)
            except Unsupported:
                self._give_up(run)
        self.runs = runs
        for level in self._order():
            ready = []
            for run in level:
                if (run.sheet.upper(), run.col, run.first) in self.unknown or self._reads_unknown(run):
                    self._give_up(run)
                else:
                    ready.append(run)
            for run in ready if row_by_row else self._together(ready):
                self._one(run, row_by_row)

    def _one(self, run: Run, row_by_row: bool) -> None:
        c = Compiled.of(run.shape.text)
        if row_by_row:
            self._by_rows(run, c)
            return
        try:
            values = self._running(run) if run.recurrence else self._column_wise(run, c)
        except Exception:  # a part the column-wise path cannot take (or `formulas` failed on it
            values = None  # as a whole): `formulas` row by row, which gives the cells up if it fails
        if values is not None:
            self._store(run, values)
            return
        self.rows_by_row += run.rows
        try:
            self._by_rows(run, c)
        except Exception:  # `formulas` itself failed on this formula: not evaluated, not guessed
            self._give_up(run)

    # -- runs of one shape evaluated together -------------------------------------------------
    def _together(self, runs: list[Run]) -> list[Run]:
        """Evaluate, one call per shape, the runs of one level that share a compiled formula (a
        month's 60 pool cells, each reading its own named cells; 20 task columns of one lookup):
        `formulas` costs about 2 ms a call whatever its size. Returns the runs left to do alone."""
        groups: dict[int, list[Run]] = defaultdict(list)
        for run in runs:
            if not run.recurrence:
                groups[id(Compiled.of(run.shape.text).fn)].append(run)
        done: set[int] = set()
        for members in groups.values():
            if len(members) < 2:
                continue
            try:
                values = self._group_values(members)
            except Exception:  # not a shape for one call (a range per run, an aggregate, ...)
                values = None
            if values is None:
                continue
            for run, column in zip(members, values, strict=True):
                self._store(run, column)
                done.add(id(run))
            self.runs_together += len(members)
        return [run for run in runs if id(run) not in done]

    def _group_values(self, members: list[Run]) -> list[np.ndarray] | None:
        """Each run's values from one call, every input that differs between the runs (or rows)
        given as the column of all their rows one after another; None when that is not the same
        as evaluating them one by one (a value that flows into something not element-wise)."""
        compiled = [Compiled.of(run.shape.text) for run in members]
        fn, sizes = compiled[0].fn, [run.rows for run in members]
        shared = []  # per input: the same for every run and row (passed once), or not
        for k in range(len(fn.inputs)):
            fixed = [self._fixed_input(run, c.inputs[k]) for run, c in zip(members, compiled, strict=True)]
            shared.append(fixed[0] is not None and all(f == fixed[0] for f in fixed))
        tainted = {name for name, same in zip(fn.inputs, shared, strict=True) if not same}
        if outer.plan(compiled[0].canonical, tainted) is not None or not compiled[0].elementwise_in(tainted):
            return None  # decided before any column is gathered
        args = [
            self._args_for(compiled[0].inputs[k], members[0])
            if same
            else np.concatenate(
                [self._input_column(run, c.inputs[k]) for run, c in zip(members, compiled, strict=True)]
            )
            for k, same in enumerate(shared)
        ]
        result = fn(*args)
        result = np.asarray(getattr(result, "value", result), dtype=object)
        total = sum(sizes)
        if result.size == 1:
            flat = np.empty(total, dtype=object)
            flat.fill(result.reshape(-1)[0])
        elif result.shape == (total, 1):
            flat = result.reshape(-1)
        else:
            return None
        bounds = np.cumsum([0, *sizes])
        return [flat[a:b] for a, b in itertools.pairwise(bounds)]

    def _fixed_input(self, run: Run, name: str) -> tuple[Any, ...] | None:
        """What a run's input reads when it is the same for every row (a range, a name or a cell
        above the table), as a key to compare runs by; None when it moves with the row."""
        if name.startswith(PLACEHOLDER):
            ref = run.shape.refs[int(name[len(PLACEHOLDER) :])]
            if ref.moves_with_row and run.rows > 1:
                return None
            return ("ref", self._ref_rect(run, ref, run.first))
        rect, constant = self._name(name)
        return ("ref", rect) if rect else ("constant", type(constant), constant)

    def _input_column(self, run: Run, name: str) -> np.ndarray:
        """A run's input as one value per row, shape (rows, 1); Unsupported for a range."""
        if name.startswith(PLACEHOLDER):
            ref = run.shape.refs[int(name[len(PLACEHOLDER) :])]
            sheet, c1, r1, c2, r2 = self._ref_rect(run, ref, run.first)
            if not ref.single:
                raise Unsupported("a range that differs between runs")
            if ref.moves_with_row:
                return self.grid.column(sheet, c1, r1, r1 + run.rows - 1)
            value = self.grid.get(sheet, c1, r1)
        else:
            rect, value = self._name(name)
            if rect:
                sheet, c1, r1, c2, r2 = rect
                if (c1, r1) != (c2, r2):
                    raise Unsupported("a range that differs between runs")
                value = self.grid.get(sheet, c1, r1)
        out = np.empty((run.rows, 1), dtype=object)
        out.fill(value)
        return out

    def _column_wise(self, run: Run, c: Compiled, text: str | None = None) -> np.ndarray | None:
        """The run's values in one call (its aggregates and lookups by row first, outer.py), or
        None when the run must be evaluated row by row. ``text``: a part of the run's formula."""
        vectors = self._row_vectors(run) if run.rows > 1 else {}
        if vectors is None:
            return None
        text = text or run.shape.text
        plan = outer.plan(text, set(vectors)) if vectors else None
        if plan is None:
            return self._batched(run, c, vectors) if c.elementwise_in(set(vectors)) else None
        blanked = self._blanked(run, text, vectors)
        computed = {k: outer.compute(call, self, run, vectors, blanked) for k, call in plan.calls.items()}
        if any(v is None for v in computed.values()):
            return None
        rest = Compiled.of(plan.text)
        given = {**vectors, **computed}
        return self._batched(run, rest, given) if rest.elementwise_in(set(given)) else None

    def _blanked(self, run: Run, text: str, vectors: dict[str, Any]) -> np.ndarray | None:
        """For ``=IF(cond,"",...)`` (a template's guard): the rows the IF blanks, whose lookups
        nobody reads. None when the formula has no such guard."""
        split = _if_call(text)
        if split is None:
            return None
        args, end = split
        if end != len(text) or len(args) != 3 or args[1] != '""':
            return None
        condition = Compiled.of("=" + args[0])
        if not condition.elementwise_in(set(vectors)):
            return None
        values = self._batched(run, condition, vectors)
        if values is None:
            return None
        return np.array([isinstance(v, (bool, np.bool_)) and bool(v) for v in values])

    def _running(self, run: Run) -> np.ndarray | None:
        """A running count, ``IF(ISNUMBER(above),above,start)+step``: the steps column-wise, then
        a cumulative sum, as `formulas` would add them row after row. None: evaluate in order."""
        above = run.recurrence
        text = run.shape.text
        split = _if_call(text)
        if split is None:
            return None
        args, end = split
        step = text[end:]
        if (
            len(args) != 3
            or re.sub(r"\s", "", args[0]).upper() != f"ISNUMBER({above})"
            or args[1] != above
            or not step.startswith("+")
            or re.search(rf"\b{above}\b", args[2] + step)
        ):
            return None
        start = Compiled.of("=" + args[2])
        if set(start.inputs) & set(self._row_vectors(run) or {}):
            return None  # the start value varies by row: not a running count
        steps = self._column_wise(run, Compiled.of("=" + step[1:]), "=" + step[1:])
        if steps is None or not all(_number(v) for v in steps):
            return None
        previous = self.grid.get(run.sheet, run.col, run.first - 1)
        if _number(previous):
            value = previous
        else:
            value = _top_left(start.fn(*self._args(start, run, run.first, {})))
            if not _number(value):
                return None
        out = np.empty(run.rows, dtype=object)
        for i, v in enumerate(steps):
            value = value + v
            out[i] = value
        return out

    def _give_up(self, run: Run) -> None:
        self.unknown.update((run.sheet.upper(), run.col, row) for row in range(run.first, run.last + 1))

    def _reads_unknown(self, run: Run) -> bool:
        return any(
            sheet == s and c1 <= c <= c2 and r1 <= r <= r2
            for s, c, r in self.unknown
            for sheet, c1, r1, c2, r2 in run.deps
        )

    def results(self) -> dict[tuple[str, str], Any]:
        out = {}
        for run in self.runs:
            sheet, letter, unknown = run.sheet.upper(), col_letter(run.col), self.unknown
            values = self.grid.column(run.sheet, run.col, run.first, run.last).reshape(-1).tolist()
            for row, value in enumerate(values, start=run.first):
                if not unknown or (sheet, run.col, row) not in unknown:
                    out[(run.sheet, f"{letter}{row}")] = plain(value)
        return out


def _if_call(text: str) -> tuple[list[str], int] | None:
    """A formula that starts with IF: its arguments and where the call ends (None otherwise)."""
    if not re.match(r"=IF\(", text, re.IGNORECASE):
        return None
    try:
        return outer._split_call(text, 3)
    except ValueError:
        return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _excel_value(value: Any) -> Any:
    """A cell value as `formulas` holds it: numbers as float, error texts as its error values."""
    if isinstance(value, (bool, str)):
        if isinstance(value, str) and value.startswith("#"):
            from formulas.functions import Error

            return Error.errors.get(value.upper(), value)
        return value
    if hasattr(value, "isoformat"):
        raise Unsupported("a date in a cell")
    return value


def _top_left(value: Any) -> Any:
    value = getattr(value, "value", value)
    if isinstance(value, np.ndarray):
        return value.reshape(-1)[0] if value.size else EMPTY
    return value


_PLAIN = frozenset([float, int, str, bool])


def plain(value: Any) -> Any:
    """A computed value as the checker compares it: Python numbers, text, error text, None."""
    if type(value) in _PLAIN:  # most values (exact types: an XlError or a numpy scalar is not)
        return value
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else None
    if hasattr(value, "item"):
        value = value.item()
    if value is EMPTY:
        return None
    if type(value).__name__ == "XlError":
        return str(value)
    return value


def evaluate_cells(
    cells: dict[tuple[str, str], Any],
    formula_keys: set[tuple[str, str]],
    names: dict[str, str],
    positions: dict[str, tuple[int, int]] | None = None,
    *,
    formulas_only: bool = False,
) -> dict[tuple[str, str], Any]:
    """Every cell's value as `formulas` computes it, keyed by (sheet, cell): the formula cells'
    results and, as `formulas`' model gives them too, the values of the others. With
    ``formulas_only``, the formula cells' results alone (``formula_results``)."""
    ev = Evaluator(cells, formula_keys, names, positions)
    ev.evaluate()
    if formulas_only:
        return ev.results()
    values = {k: v for k, v in cells.items() if k not in formula_keys}
    return {**values, **ev.results()}


def formula_results(
    cells: dict[tuple[str, str], Any],
    formula_keys: set[tuple[str, str]],
    names: dict[str, str],
    positions: dict[str, tuple[int, int]] | None = None,
) -> dict[tuple[str, str], Any] | None:
    """The formula cells' results, what the checker reads (a copy of the 140,000 other cells of a
    10,000-row month took 0.2 s); None when the formulas cannot be followed at all (a circular
    reference put in by hand: its drift is reported)."""
    try:
        return evaluate_cells(cells, formula_keys, names, positions, formulas_only=True)
    except Unsupported:
        return None
