"""Reading CSV rosters and criteria tables, with errors that name the file and row."""

from __future__ import annotations

import csv
from pathlib import Path

from ..engine import Criteria, InputError, RoleRow
from ..engine.criteria import FOUR_CRITERIA
from ..engine.roster import ScoredRow, has_weight_column, scored_rows

#: Bigger than any roster a DAO has; stops a mistaken multi-gigabyte file from being slurped.
MAX_BYTES = 200 * 1024 * 1024


def read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and numbered rows of a CSV (UTF-8, an Excel BOM allowed; ``,`` or ``;``)."""
    try:
        if path.is_dir():
            raise InputError("is a folder, not a CSV file", where=str(path))
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"is larger than {MAX_BYTES // 2**20} MiB", where=str(path))
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except UnicodeDecodeError as e:
        raise InputError(f"is not UTF-8 text (byte {e.start}); save it as CSV UTF-8", where=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot be read: {e.strerror or e}", where=str(path)) from None
    if not text.strip():
        raise InputError("is empty", where=str(path))
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text.splitlines(keepends=True), dialect)
    try:
        header = next(reader)
        rows = []
        for cells in reader:
            rows.append((reader.line_num, cells))
    except csv.Error as e:
        raise InputError(f"is not a readable CSV: {e}", where=f"{path} row {reader.line_num}") from None
    return header, rows


def read_roster(path: Path, criteria: Criteria = FOUR_CRITERIA) -> list[RoleRow]:
    return [r.role_row() for r in read_scored_roster(path, criteria)]


def read_scored_roster(path: Path, criteria: Criteria = FOUR_CRITERIA) -> list[ScoredRow]:
    header, rows = read_table(path)
    try:
        return scored_rows(header, rows, criteria=criteria)
    except InputError as e:
        raise InputError(e.problem, where=f"{path.name} {e.where}".strip(), value=e.value) from None


def roster_gives_weights(path: Path) -> bool:
    """True when the roster has a grape_weight column (so a one-criterion grid holds it)."""
    header, _ = read_table(path)
    return has_weight_column(header)


def read_criteria(path: Path) -> Criteria:
    """A criteria table: columns ``name`` and ``weight`` (or the first two columns)."""
    header, rows = read_table(path)
    names = [h.strip().lower() for h in header]
    i_name = names.index("name") if "name" in names else 0
    i_weight = names.index("weight") if "weight" in names else 1
    pairs = [
        (cells[i_name] if i_name < len(cells) else "", cells[i_weight] if i_weight < len(cells) else "")
        for _, cells in rows
        if any(c.strip() for c in cells)
    ]
    return Criteria.from_rows(pairs, source=path.name)
