"""Helpers for the workbook tests: random months, engines we did not write, cell-by-cell comparison."""

from __future__ import annotations

import os
import random
import re
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from libreoffice import recalculate
from reference import fit_budget

from katsheet.engine import FOUR_CRITERIA, SINGLE_CRITERION, Options, grape_weight
from katsheet.engine.grape.criteria import DEFAULT_LEVELS
from katsheet.engine.grape.roster import ScoredRow
from katsheet.layouts.grape import Book, Month
from katsheet.workbook.columnwise import evaluate_cells
from katsheet.workbook.evaluate import evaluate
from katsheet.workbook.expected import agrees, expected_cells
from katsheet.workbook.shipped import layout_of, write_month
from katsheet.workbook.xlsx import read_xlsx, sheet_parts

ROLES = ["Developer", "Designer", "Reviewer", "Ops", "Community Manager", "Researcher", ""]
LEVELS = list(DEFAULT_LEVELS)


def month_from_weights(
    budget: str, weights: list[str], options: Options | None = None, template: str = "expanded", **kw: Any
) -> Month:
    """A one-criterion month whose scores are the given GRAPE weights (the spec's vectors)."""
    options = options or Options()
    rows = tuple(
        ScoredRow(f"member {i + 1}", "Contributor", (Decimal(w),), Decimal(w), where=f"row {i + 2}")
        for i, w in enumerate(weights)
    )
    return Month(template=template, month="2026-12", criteria=SINGLE_CRITERION, budget=Decimal(budget),
                 options=options, rows=rows, **kw)  # fmt: skip


def _micro(rng: random.Random) -> int:
    kind = rng.random()
    if kind < 0.2:
        return 0
    if kind < 0.3:
        return 10**6
    if kind < 0.5:
        return rng.choice([100000, 200000, 300000, 500000, 660000, 330000, 790000])
    return rng.randint(1, 10**6)


def random_month(seed: int, template: str | None = None) -> Month:
    """Random size up to 100, zeros, exact-average ties, both grids, random options."""
    rng = random.Random(seed)
    n = rng.randint(1, 100)
    four = rng.random() < 0.4
    criteria = FOUR_CRITERIA if four else SINGLE_CRITERION
    rows: list[ScoredRow] = []
    names = [f"Member {i}" for i in range(n)]
    for i in range(n):
        name = names[i] if i < 3 or rng.random() < 0.85 else rng.choice(names[:i])  # some hold two roles
        role = ROLES[i % len(ROLES)] if name == names[i] else f"Second role {i}"
        if four:
            raw = tuple(rng.choice(LEVELS) if rng.random() < 0.2 else Decimal(_micro(rng)).scaleb(-6) for _ in range(4))
            parsed = [DEFAULT_LEVELS[s] if isinstance(s, str) else s for s in raw]
            weight = grape_weight(parsed, criteria)
            rows.append(ScoredRow(name, role, raw, weight))
        else:
            w = Decimal(_micro(rng)).scaleb(-6)
            rows.append(ScoredRow(name, role, (w,), w))
    if not four and n > 1 and rng.random() < 0.5:  # one member exactly on the average
        performers = [int(r.weight.scaleb(6)) for r in rows[:-1] if r.weight > 0] or [500000]
        k = len(performers)
        fix = sum(performers) % k
        first = next((j for j, r in enumerate(rows[:-1]) if int(r.weight.scaleb(6)) > fix), None)
        if first is not None:
            w = Decimal(int(rows[first].weight.scaleb(6)) - fix).scaleb(-6)
            rows[first] = ScoredRow(rows[first].member, rows[first].role, (w,), w)
            performers = [int(r.weight.scaleb(6)) for r in rows[:-1] if r.weight > 0]
            avg = Decimal(sum(performers) // len(performers)).scaleb(-6)
            rows[-1] = ScoredRow(rows[-1].member, rows[-1].role, (avg,), avg)
    threshold = None
    if rng.random() < 0.3:
        threshold = rng.choice([Decimal(rng.randint(0, 10**6)).scaleb(-6), rows[0].weight, Decimal(0), Decimal(1)])
    options = Options(
        threshold=threshold,
        min_divisor=rng.randint(1, 5),
        bonus=rng.random() < 0.85,
        excess=rng.random() < 0.85,
        cap_rule=rng.choice(["scale", "scale", "at-base", "off"]),
        decimals=rng.choice([0, 2, 4, 6, 6]),
    )
    budget = rng.choice([Decimal(rng.randint(0, 10**7)), Decimal(rng.randint(0, 10**8)).scaleb(-2), Decimal(100000)])
    budget = fit_budget(budget, options.decimals)  # a budget has at most the totals' decimals
    return Month(
        template=template or rng.choice(["compact", "expanded"]), month="2026-12", criteria=criteria,
        budget=budget, options=options, rows=tuple(rows), capacity=len(rows) + 2,
    )  # fmt: skip


def write(month: Month | Book, path: Path) -> Path:
    """The workbook `katsheet new` writes for ``month`` (one or several SubDAOs)."""
    return write_month(month, path)


@dataclass
class Mismatch:
    sheet: str
    cell: str
    label: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell} ({self.label}): engine {self.expected!r}, found {self.found!r}"


def compare(month: Any, found: dict[tuple[str, str], Any]) -> list[Mismatch]:
    """Every computed cell of the month's layout (any template) against ``found`` ((sheet, cell) -> value)."""
    out = []
    for e in expected_cells(layout_of(month), month):
        got = found.get((e.sheet, e.cell))
        if not agrees(e.value, got, e.fmt, e.decimals, e.budget):
            out.append(Mismatch(e.sheet, e.cell, e.label, e.value, got))
    return out


def mismatches(month: Any, found: dict[tuple[str, str], Any]) -> list[str]:
    """compare(), each mismatch as one line."""
    return [str(m) for m in compare(month, found)]


def evaluated_values(path: Path) -> dict[tuple[str, str], Any]:
    """Every cell as katsheet's column-wise evaluation (the `formulas` functions) computes it."""
    raw = read_xlsx(path)
    return evaluate_cells(dict(raw.formulas), raw.formula_keys, raw.names)


def libreoffice_mismatches(written: dict[Any, tuple[Any, Path]], out: Path) -> tuple[dict[Any, list[str]], list[Path]]:
    """Each written (month, file) recalculated by LibreOffice, its stored values against the
    engine: the months that differ (with their mismatches) and the recalculated files, in order."""
    names = list(written)
    done = recalculate([written[n][1] for n in names], out)
    bad = {n: m for n, p in zip(names, done, strict=True) if (m := mismatches(written[n][0], cached_values(p)))}
    return bad, done


def described(bad: dict[Any, list[str]]) -> str:
    """Months that differ from the engine, one line each with its first mismatches."""
    return "\n".join(f"{n}: {len(m)} cells, e.g. {m[:3]}" for n, m in bad.items())


def cached_values(path: Path) -> dict[tuple[str, str], Any]:
    """The values stored in the file (what a reader of cached values sees)."""
    wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None and hasattr(c, "coordinate"):
                    out[(ws.title, c.coordinate)] = c.value
    wb.close()
    return out


def formulas_values(path: Path) -> dict[tuple[str, str], Any]:
    """Every cell as the `formulas` package computes it (sheet names as in the file)."""
    return evaluate(path, openpyxl.load_workbook(path, read_only=True).sheetnames)


def formulas_values_parallel(paths: list[Path], progress: Any = None) -> list[dict[tuple[str, str], Any]]:
    """`formulas_values` of each path, a process per core; ``progress.advance()`` after each."""
    with ProcessPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        out = []
        for values in pool.map(formulas_values, paths):
            out.append(values)
            if progress is not None:
                progress.advance()
        return out


def as_excel_saves_it(path: Path, out: Path) -> Path:
    """Rewrite every column run of formulas as Excel writes them: one shared formula (the first
    cell holds the text, the others refer to it) and `_xlfn.` before a function name."""

    def share(xml: bytes) -> bytes:
        cells = list(re.finditer(rb'<c r="([A-Z]+)(\d+)"([^>]*)><f>([^<]*)</f>', xml))
        by_col: dict[bytes, list] = {}
        for m in cells:
            by_col.setdefault(m.group(1), []).append(m)
        edits = []
        for col, found in by_col.items():
            if len(found) < 3:
                continue
            first, last = found[0], found[-1]
            ref = f"{col.decode()}{first.group(2).decode()}:{col.decode()}{last.group(2).decode()}".encode()
            text = first.group(4).replace(b"SUBSTITUTE(", b"_xlfn.SUBSTITUTE(")
            edits.append(
                (
                    first.start(4) - 3,
                    first.end(4) + 4,
                    b'<f t="shared" ref="' + ref + b'" si="' + col + b'">' + text + b"</f>",
                )
            )
            for m in found[1:]:
                if m.group(4).decode().replace(m.group(2).decode(), "") == first.group(4).decode().replace(
                    first.group(2).decode(), ""
                ):
                    edits.append((m.start(4) - 3, m.end(4) + 4, b'<f t="shared" si="' + col + b'"/>'))
        for start, end, new in sorted(edits, reverse=True):
            xml = xml[:start] + new + xml[end:]
        return xml

    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, share(data) if info.filename.startswith("xl/worksheets/sheet") else data)
    return out


def with_sheet_edited(path: Path, out: Path, sheet: str, pattern: bytes, replacement: bytes) -> Path:
    """``path`` written to ``out`` with one edit, made where ``pattern`` matches once in the XML of
    ``sheet``: a stored value changed as a program that does not recalculate leaves it, a value
    turned into a formula."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        part = sheet_parts(src)[sheet]
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                data, n = re.subn(pattern, replacement, data)
                assert n == 1, (sheet, pattern, n)
            dst.writestr(info, data)
    return out
