"""Read a task-pool month back (layouts/pools.py): assets, the cap, task shares, levels, members.

The task and asset names head the sheets' columns and lines, so they are read from the file
first; the layout they give is then moved to where the workbook's names and headers say its cells
now are, as for the GRAPE templates (reader.py). Inputs the sheet cannot compute with (text in a
budget, a share or a score; a member twice; shares all zero) are reported at their cell and stop
the number check; a bad wallet or Discord id is reported and blocks settlement, not the numbers.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from ..cycle.wallets import CHAINS
from ..engine import InputError
from ..engine.grape.allocation import MAX_DECIMALS
from ..engine.grape.pools import Asset, Task
from ..engine.names import member_key
from ..layouts.grape import IDENTITY
from ..layouts.model import col_letter, split_cell
from ..layouts.pools import (
    GUIDE,
    LAYOUT_VERSION,
    MEMBERS,
    ORIGIN_FIRST_ROW,
    SCORING,
    TEMPLATE_ID,
    PoolRow,
    PoolsMonth,
    pools_layout,
)
from .reader import (
    Cells,
    Finding,
    Workbook,
    _actual_geometry,
    _appended,
    _bad,
    _constant,
    _input,
    _levels,
    _named,
    _number,
    _param,
    _row_maps,
    _score,
    _whole,
    budget_input,
    max_share_input,
    read_identity,
    row_member,
    signed_cells,
    stamp_of,
)


def _labels(names: dict[str, str], cells: Cells, stem: str, path: Path) -> list[str]:
    """The texts of the label cells ``stem``_1, ``stem``_2, ... (task or asset names)."""
    out = []
    while f"{stem}_{len(out) + 1}" in names:
        sheet, cell, _ = _named(names, f"{stem}_{len(out) + 1}", path)
        out.append(str(cells.get((sheet, cell)) or f"{stem} {len(out) + 1}"))
    return out


def read_pools_workbook(path: Path, formulas: Cells, cached: Cells, keys: set, names: dict[str, str],
                        sheetnames: list[str]) -> Workbook:  # fmt: skip
    version = _constant(names, "KatsheetLayoutVersion")
    if version != str(LAYOUT_VERSION):
        raise InputError(f"was made with pools layout version {version}; this katsheet reads version "
                         f"{LAYOUT_VERSION}: make the month again with `katsheet new --template pools`", where=str(path))  # fmt: skip
    task_names, asset_names = _labels(names, formulas, "TaskName", path), _labels(names, formulas, "AssetName", path)
    if not task_names or not asset_names:
        raise InputError("has no tasks or no assets (TaskName_1, AssetName_1): start from a new workbook "
                         "(katsheet new --template pools)", where=str(path))  # fmt: skip
    skeleton = PoolsMonth(
        _constant(names, "KatsheetMonth") or "", tuple(Task(t, Decimal(1)) for t in task_names),
        tuple(Asset(a, Decimal(0), 0) for a in asset_names), capacity=1,
    )  # fmt: skip
    findings: list[Finding] = []
    layout = _actual_geometry(pools_layout(skeleton), names, formulas, findings, sheetnames, path)
    book = Workbook(path, TEMPLATE_ID, layout, formulas, cached, None, findings, keys, names)
    book.broken_columns = {(f.sheet, re.sub(r"\d", "", f.cell)) for f in findings if f.kind == "structure"}
    book.row_maps = _row_maps(book)
    assets = _assets(book, asset_names)
    tasks = _tasks(book, task_names)
    _, max_share = max_share_input(book)  # a bad one is reported: book.blocking() below
    levels = _levels(book, "")
    rows, slots = _rows(book, len(task_names), levels)
    if book.blocking() or assets is None or tasks is None:
        return book
    value = lambda sheet, cell: _input(book, sheet, cell)  # noqa: E731
    try:
        month = PoolsMonth(
            skeleton.month, tasks, assets, tuple(rows), max_share, levels, capacity=len(slots), slots=tuple(slots),
            approval=signed_cells(names, value), stamp=stamp_of(names), origin=_origin(book),
            base_budgets=tuple(_base(names, k) for k in range(len(assets))),
        )  # fmt: skip
        _ = month.allocations
    except InputError as e:
        sheet, _, cell = (e.where or f"{SCORING}!A1").rpartition("!")
        findings.append(Finding("bad-input", sheet or SCORING, cell or "A1", "usable inputs", repr(e.value), e.problem))
        return book
    book.month = month
    return book


def _assets(book: Workbook, asset_names: list[str]) -> tuple[Asset, ...] | None:
    out = []
    for k, name in enumerate(asset_names):
        decimals = _whole(book, f"Decimals_{k + 1}", 0, MAX_DECIMALS)
        budget = budget_input(book, f"Budget_{k + 1}", decimals, f"the {name} budget")
        if budget is None or decimals is None:
            return None
        out.append(Asset(name, budget, decimals))
    return tuple(out)


def _tasks(book: Workbook, task_names: list[str]) -> tuple[Task, ...] | None:
    out = []
    for t, name in enumerate(task_names):
        where, raw = _param(book, f"Share_{t + 1}")
        share = _number(book, where, raw, "a share >= 0", f"the share of {name}")
        if share is not None and share < 0:
            _bad(book, where, "a share >= 0", raw, "a task's share must be 0 or more")
            share = None
        if share is None:
            return None
        out.append(Task(name, share, where))
    if sum(t.share for t in out) <= 0:
        _bad(book, out[0].where, "shares summing to more than 0", 0, "the tasks' shares are all zero: give each "
             "task its share of the budget")  # fmt: skip
        return None
    return tuple(out)


def _rows(book: Workbook, n_tasks: int, levels: dict[str, Decimal]) -> tuple[list[PoolRow], list[int | None]]:
    table = book.layout.sheet(SCORING).table
    assert table is not None
    member_col = col_letter(table.index("member"))
    score_cols = [col_letter(table.index(f"s_{t + 1}")) for t in range(n_tasks)]
    identity_cols = [(key, col_letter(table.index(key)), CHAINS[chain]) for key, *_, chain in IDENTITY]
    rows: list[PoolRow] = []
    slots: list[int | None] = []
    seen: dict[str, str] = {}
    for i in range(table.rows):
        r = table.first_row + i
        raw_scores = [_input(book, SCORING, f"{c}{r}") for c in score_cols]
        where = f"{SCORING}!{member_col}{r}"
        name = row_member(book, SCORING, f"{member_col}{r}", raw_scores)
        if name is None:
            slots.append(None)
            continue
        if member_key(name) in seen:
            _bad(book, where, "one row per member", name, f"the same member twice (first at {seen[member_key(name)]})")
        seen[member_key(name)] = where
        parsed = [_score(book, f"{SCORING}!{c}{r}", raw, levels) for c, raw in zip(score_cols, raw_scores, strict=True)]
        identity = read_identity(book, SCORING, identity_cols, r)
        slots.append(len(rows))
        rows.append(PoolRow(name, tuple(s for _, s in parsed), tuple(v for v, _ in parsed), where=where, **identity))
    _appended(book, SCORING, table, member_col)
    members = book.layout.sheet(MEMBERS).table
    assert members is not None
    hidden = next((i for i, slot in enumerate(slots) if slot is not None and i >= members.rows), None)
    if hidden is not None:
        book.findings.append(Finding(
            "structure", SCORING, f"{member_col}{table.first_row + hidden}",
            f"a member within the {members.rows} rows the Members sheet shows", repr(rows[slots[hidden]].member),  # type: ignore[index]
            "the Members sheet does not show this row, so the member is not paid: make the month again with more "
            "--rows",
        ))  # fmt: skip
    return rows, slots


def _origin(book: Workbook) -> tuple[str, ...]:
    """katsheet next's lines on the Guide (where each budget came from), kept by a rewrite."""
    if "ApprovedBy" not in book.names:
        return ()
    last = split_cell(_named(book.names, "ApprovedBy", book.path)[1])[1] - 2
    texts = (book.formulas.get((GUIDE, f"A{r}")) for r in range(ORIGIN_FIRST_ROW, last))
    return tuple(str(t) for t in texts if isinstance(t, str) and t.strip())


def _base(names: dict[str, str], k: int) -> Decimal | None:
    text = _constant(names, f"KatsheetBaseBudget_{k + 1}")
    try:
        return Decimal(text) if text else None
    except ArithmeticError:
        return None
