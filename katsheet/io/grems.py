"""Read a GREMS-style workbook (the Grape DAO's 2025 sheets, GRIPv2) for `katsheet import-grems`.

What is read, as the issue describes the tabs (their exact layout varies between DAOs, so each
is found by its name and header texts, case-blind, in the first rows):

- SCORE: one row per member and task: Discord name, task, perform level (LEVEL 0 to 3, or a
  score such as 66%); every row that cannot be mapped (no name, no task, an unknown level, the
  same member and task twice) is reported with its row and left out;
- REF: one row per member: name (the Discord name), Discord ID, wallet, final rewards (what GREMS
  paid, to compare with katsheet's figure). A wallet that is not a Solana address, a final reward
  that is not a number, a name listed twice, are reported; a REF member nobody scored is reported.

The values read are those the file shows (its cached values): GREMS computes them with its own
formulas, which katsheet does not evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..engine import InputError
from ..engine.grape.criteria import parse_score
from ..engine.grape.pools import TaskScore
from ..engine.kat.sheet import cell_text
from ..engine.names import member_key
from ..engine.numbers import parse_decimal

SCORE_COLUMNS = {
    "member": ("discord name", "discord", "name", "member", "contributor"),
    "task": ("task", "task name"),
    "level": ("perform level", "performance level", "performance", "level", "score"),
}
REF_COLUMNS = {
    "member": ("name", "discord name", "member", "contributor"),
    "discord_id": ("discord id", "discord_id", "discordid"),
    "wallet": ("wallet", "wallet address", "solana wallet", "address"),
    "final": ("final rewards", "final reward", "final", "rewards"),
}
HEADER_ROWS = 10


@dataclass
class Grems:
    """What the file gives: the scores, each member's wallet and Discord id, GREMS's finals, and
    every row that could not be mapped (with where and why)."""

    scores: list[TaskScore] = field(default_factory=list)
    identities: dict[str, tuple[str, str]] = field(default_factory=dict)
    finals: dict[str, Decimal] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)


def _tab(sheets: dict[str, Any], wanted: str, path: Path) -> Any:
    for name, ws in sheets.items():
        if name.strip().upper() == wanted:
            return ws
    for name, ws in sheets.items():
        if wanted in name.strip().upper():
            return ws
    raise InputError(f"has no {wanted} tab (the GREMS tabs are SCORE and REF; found {', '.join(sheets)})",
                     where=str(path))  # fmt: skip


def _header(rows: list[tuple[Any, ...]], columns: dict[str, tuple[str, ...]], tab: str, path: Path,
            optional: tuple[str, ...] = ()) -> tuple[int, dict[str, int]]:  # fmt: skip
    """The first row naming every required column, and where each column is."""
    for r, row in enumerate(rows[:HEADER_ROWS]):
        texts = [" ".join(str(v).strip().lower().split()) if v is not None else "" for v in row]
        found = {}
        for key, names in columns.items():
            at = next((texts.index(n) for n in names if n in texts), None)
            if at is not None:
                found[key] = at
        if all(k in found for k in columns if k not in optional):
            return r, found
    wanted = ", ".join(names[0] for k, names in columns.items() if k not in optional)
    raise InputError(f"the {tab} tab has no header row naming {wanted} in its first {HEADER_ROWS} rows",
                     where=str(path))  # fmt: skip


def _text(value: Any) -> str:
    return cell_text(value).strip()


def read_grems(path: Path) -> Grems:
    import openpyxl

    from ..cycle.wallets import check_wallet

    try:
        wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except Exception as e:  # a zip that is not a workbook, a workbook openpyxl cannot read
        raise InputError(f"cannot be read as an .xlsx workbook ({type(e).__name__})", where=str(path)) from None
    try:
        sheets = {ws.title: ws for ws in wb.worksheets}
        score_ws, ref_ws = _tab(sheets, "SCORE", path), _tab(sheets, "REF", path)
        score_rows = [tuple(r) for r in score_ws.iter_rows(values_only=True)]
        ref_rows = [tuple(r) for r in ref_ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    out = Grems()

    top, col = _header(ref_rows, REF_COLUMNS, "REF", path, optional=("discord_id", "wallet", "final"))
    seen: dict[str, int] = {}
    for n, row in enumerate(ref_rows[top + 1 :], start=top + 2):
        cells = {k: row[i] if i < len(row) else None for k, i in col.items()}
        name = _text(cells["member"])
        if not name:
            continue
        key = member_key(name)
        where = f"REF row {n}"
        if key in seen:
            out.unmapped.append(f"{where}: {name} is listed twice in REF (first in row {seen[key]}): the first is used")
            continue
        seen[key] = n
        out.names[key] = name
        wallet, discord = _text(cells.get("wallet")), _text(cells.get("discord_id"))
        for text, chain, what in ((wallet, "solana", "wallet"), (discord, "discord", "Discord ID")):
            if text:
                try:
                    check_wallet(text, chain, where=where)
                except InputError as e:
                    out.unmapped.append(f"{where}: {name}'s {what} {text!r} {e.problem}: left blank")
                    wallet, discord = (wallet, "") if chain == "discord" else ("", discord)
        out.identities[key] = (wallet, discord)
        final = cells.get("final")
        if final not in (None, ""):
            try:
                out.finals[key] = parse_decimal(final, what="final rewards", where=where)
            except InputError as e:
                out.unmapped.append(f"{where}: {name}'s final rewards {final!r}: {e.problem}")

    top, col = _header(score_rows, SCORE_COLUMNS, "SCORE", path)
    pairs: dict[tuple[str, str], int] = {}
    missing: set[str] = set()
    for n, row in enumerate(score_rows[top + 1 :], start=top + 2):
        cells = {k: row[i] if i < len(row) else None for k, i in col.items()}
        name, task, level = _text(cells["member"]), _text(cells["task"]), cells["level"]
        where = f"SCORE row {n}"
        if not name and not task and level in (None, ""):
            continue
        if not name or not task:
            out.unmapped.append(f"{where}: no {'Discord name' if not name else 'task'}: left out")
            continue
        if level in (None, ""):
            out.unmapped.append(f"{where}: {name} on {task} has no perform level: left out")
            continue
        try:
            score = parse_score(level, where=where, what="perform level")
        except InputError as e:
            out.unmapped.append(f"{where}: {name} on {task}: perform level {level!r} {e.problem}: left out")
            continue
        pair = (member_key(name), member_key(task))
        if pair in pairs:
            out.unmapped.append(f"{where}: {name} on {task} twice (first in row {pairs[pair]}): left out")
            continue
        pairs[pair] = n
        if member_key(name) not in out.identities and member_key(name) not in missing:
            missing.add(member_key(name))
            out.unmapped.append(f"{where}: {name} is not in REF: scored, but no wallet or Discord ID")
        out.scores.append(TaskScore(name, task, score, where))
    scored = {member_key(s.member) for s in out.scores}
    for key, n in seen.items():
        if key not in scored:
            out.unmapped.append(f"REF row {n}: {out.names[key]} has no score in SCORE: not in the month")
    return out
