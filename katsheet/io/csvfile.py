"""Reading CSV files as Excel, LibreOffice and Google Sheets export them, with errors naming the row.

What those programs write, and how it is read:
- encodings: UTF-8 with or without a BOM ("CSV UTF-8"), UTF-16 with a BOM ("Unicode Text"), and
  Windows-1252 (Excel's plain "CSV" on a western Windows), tried in that order;
- separators: ``,``, ``;`` (a European Excel) or a tab, chosen from the header line outside quotes;
  Excel's ``sep=;`` first line is honoured;
- quoting: the whole file goes through one csv parser, so doubled quotes (Excel writes the name
  Smith, "Bob" as a quoted field with its inner quotes doubled), quoted line breaks and Unicode
  line separators inside quotes stay inside their field;
- numbers: with ``;`` separators a comma is the decimal mark (``0,8``), as such a file means it.

Rows are numbered as the spreadsheet showed them (the header is row 1), however many lines a
quoted field spans.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..engine import Criteria, InputError, RoleRow, parse_decimal
from ..engine.bulk import without_cycle_collection
from ..engine.grape.criteria import FOUR_CRITERIA, parse_score, slug
from ..engine.grape.pools import Task, TaskScore
from ..engine.grape.roster import ScoredRow, has_weight_column, scored_rows

#: Bigger than any roster a DAO has; stops a mistaken multi-gigabyte file from being slurped.
MAX_BYTES = 200 * 1024 * 1024
SEPARATORS = (",", ";", "\t")


@dataclass(frozen=True)
class CsvTable:
    """A CSV file's header and rows, each row with its number as a spreadsheet shows it."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]
    separator: str
    encoding: str

    @property
    def decimal_comma(self) -> bool:
        """A ``;``-separated file is what a European Excel saves: its numbers read ``0,8``."""
        return self.separator == ";"


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as e:
            raise InputError(f"is not valid UTF-16 text (byte {e.start})", where=str(path)) from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as e:
        raise InputError(
            f"is neither UTF-8 nor Windows-1252 text (byte {e.start}); save it as CSV UTF-8", where=str(path)
        ) from None


def _separator(text: str) -> str:
    """The separator that occurs most often outside quotes in the first record (default ``,``)."""
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted, at_field_start = False, True
    for ch in text:
        if quoted:
            if ch == '"':
                quoted = False  # a doubled quote re-opens at once, which changes no count
            continue
        if ch == '"' and at_field_start:
            quoted = True
            continue
        if ch in "\r\n":
            break
        if ch in counts:
            counts[ch] += 1
            at_field_start = True
        else:
            at_field_start = False
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ","


def read_table(path: Path) -> CsvTable:
    """The header and numbered rows of a CSV file as a spreadsheet program exported it."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError("is a folder, not a CSV file", where=str(path))
        if path.stat().st_size > MAX_BYTES:
            raise InputError(f"is larger than {MAX_BYTES // 2**20} MiB", where=str(path))
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except OSError as e:
        raise InputError(f"cannot be read: {e.strerror or e}", where=str(path)) from None
    text, encoding = _decode(data, path)
    if "\x00" in text:
        raise InputError("holds NUL bytes: not a CSV text file", where=str(path))
    if not text.strip():
        raise InputError("is empty", where=str(path))
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:  # Excel's separator hint
        separator, text = first.strip()[4], rest
    else:
        separator = _separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"', doublequote=True)
    with without_cycle_collection():  # a ledger is 100,000 rows of a dozen strings: no cycles to look for
        try:
            records = list(reader)
        except csv.Error as e:
            raise InputError(
                f"is not a readable CSV: {e}", where=f"{path} row {_failing_row(text, separator)}"
            ) from None
        while records and not any(c.strip() for c in records[0]):
            records.pop(0)  # blank lines above the header
        if not records:
            raise InputError("is empty", where=str(path))
        header = [h.strip() for h in records[0]]
        _check_header(header, path)
        rows = list(enumerate(records[1:], start=2))
    return CsvTable(path, header, rows, separator, encoding)


def _failing_row(text: str, separator: str) -> int:
    """The row csv could not read (the error path only: reading again, counting)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"', doublequote=True)
    row = 1
    try:
        for _ in reader:
            row += 1
    except csv.Error:
        pass
    return row


def _check_header(header: Sequence[str], path: Path) -> None:
    """Two columns with one name would make a value depend on which one is read: refuse them."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        key = slug(name)
        if not key:
            continue
        if key in seen:
            raise InputError(
                f"the column {name!r} appears twice (columns {seen[key]} and {i}): keep one",
                where=f"{path} header row",
                value=name,
            )
        seen[key] = i


def read_roster(path: Path, criteria: Criteria = FOUR_CRITERIA) -> list[RoleRow]:
    return [r.role_row() for r in read_scored_roster(path, criteria)]


def read_scored_roster(path: Path, criteria: Criteria = FOUR_CRITERIA) -> list[ScoredRow]:
    """The roster's rows; a wallet, when given, must be a Solana address (GRAPE pays out there),
    and a discord_id a Discord id."""
    from ..cycle.wallets import check_wallet

    table = read_table(path)
    try:
        rows = scored_rows(table.header, table.rows, criteria=criteria, decimal_comma=table.decimal_comma)
        for r in rows:
            if r.wallet:
                check_wallet(r.wallet, "solana", where=f"{r.where}, column wallet")
            if r.discord_id:
                check_wallet(r.discord_id, "discord", where=f"{r.where}, column discord_id")
        return rows
    except InputError as e:
        raise InputError(e.problem, where=f"{path.name} {e.where}".strip(), value=e.value) from None


def roster_gives_weights(path: Path) -> bool:
    """True when the roster has a grape_weight column (so a one-criterion grid holds it)."""
    table = read_table(path)
    try:
        return has_weight_column(table.header)
    except InputError as e:
        raise InputError(e.problem, where=f"{path.name} {e.where}".strip(), value=e.value) from None


def read_criteria(path: Path) -> Criteria:
    """A criteria table: columns ``name`` and ``weight`` (or the first two columns)."""
    table = read_table(path)
    names = [h.strip().lower() for h in table.header]
    i_name = names.index("name") if "name" in names else 0
    i_weight = names.index("weight") if "weight" in names else 1
    pairs = [
        (cells[i_name] if i_name < len(cells) else "", cells[i_weight] if i_weight < len(cells) else "")
        for _, cells in table.rows
        if any(c.strip() for c in cells)
    ]
    return Criteria.from_rows(pairs, source=path.name, decimal_comma=table.decimal_comma)


def _columns(table: CsvTable, wanted: tuple[str, ...]) -> dict[str, int]:
    names = [" ".join(h.strip().lower().split()) for h in table.header]
    missing = [w for w in wanted if w not in names]
    if missing:
        raise InputError(f"needs the columns {', '.join(wanted)}; missing {', '.join(missing)}",
                         where=f"{table.path.name} header row", value=",".join(table.header))  # fmt: skip
    return {w: names.index(w) for w in wanted}


def _cell(cells: list[str], i: int) -> str:
    return cells[i].strip() if i < len(cells) else ""


def read_tasks(path: Path) -> list[Task]:
    """The month's tasks and their pool shares (columns task, share; a share as 60, 0.6 or 60%)."""
    table = read_table(path)
    col = _columns(table, ("task", "share"))
    out = []
    for n, cells in table.rows:
        if not any(c.strip() for c in cells):
            continue
        where = f"{path.name} row {n}"
        share = parse_decimal(_cell(cells, col["share"]), what="share", where=f"{where}, column share", percent=True,
                              decimal_comma=table.decimal_comma)  # fmt: skip
        out.append(Task(_cell(cells, col["task"]), share, where))
    if not out:
        raise InputError("lists no task", where=path.name)
    return out


def read_pool_identities(path: Path) -> dict[str, tuple[str, str]]:
    """A pools roster's optional wallet and discord_id columns: per member (by member_key), the
    first non-blank of each; a wallet must be a Solana address, a discord_id a Discord id."""
    from ..cycle.wallets import check_wallet
    from ..engine.names import member_key

    table = read_table(path)
    names = [" ".join(h.strip().lower().split()) for h in table.header]
    member = _columns(table, ("member",))["member"]
    wanted = {k: names.index(k) for k in ("wallet", "discord_id") if k in names}
    out: dict[str, tuple[str, str]] = {}
    for n, cells in table.rows:
        key = member_key(_cell(cells, member))
        if not key:
            continue
        wallet, discord = out.get(key, ("", ""))
        for column, chain in (("wallet", "solana"), ("discord_id", "discord")):
            text = _cell(cells, wanted[column]) if column in wanted else ""
            if text:
                check_wallet(text, chain, where=f"{path.name} row {n}, column {column}")
                if column == "wallet":
                    wallet = wallet or text
                else:
                    discord = discord or text
        out[key] = (wallet, discord)
    return out


def read_task_scores(path: Path) -> list[TaskScore]:
    """A pools roster: one row per member and task (columns member, task, score; a score as 0.66,
    66% or a level such as LEVEL 2)."""
    table = read_table(path)
    col = _columns(table, ("member", "task", "score"))
    out = []
    known: dict[str, Decimal] = {}  # a month repeats a handful of levels 20,000 times: parse each once
    for n, cells in table.rows:
        if not any(c.strip() for c in cells):
            continue
        where = f"{path.name} row {n}"
        text = _cell(cells, col["score"])
        score = known.get(text)
        if score is None:
            score = parse_score(text, where=f"{where}, column score", decimal_comma=table.decimal_comma)
            known[text] = score
        out.append(TaskScore(_cell(cells, col["member"]), _cell(cells, col["task"]), score, where))
    return out
