"""A roster table (header + rows of cells, as from a CSV) to RoleRows. Pure: no file is opened here.

Columns: ``member``, ``role``, and either ``grape_weight`` or one column per criterion (the
criterion's key, e.g. ``work_produced``); optionally ``wallet`` (the member's Solana address, for
the payout file) and ``discord_id``. Headers match case- and punctuation-insensitively, so
``GRAPE Weight`` and ``Work Produced`` are understood. Other columns (notes) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..errors import InputError
from ..names import check_name
from .allocation import RoleRow
from .criteria import DEFAULT_LEVELS, FOUR_CRITERIA, Criteria, grape_weight, parse_score, slug

UNASSIGNED = "Unassigned"


@dataclass(frozen=True)
class ScoredRow:
    """A roster row as typed: raw scores (a number, or a level name such as ``LEVEL 2``) and the
    GRAPE weight they give. ``role`` is as typed (may be blank); ``role_row()`` applies Unassigned.
    """

    member: str
    role: str
    scores: tuple[Decimal | str, ...]
    weight: Decimal
    where: str = ""
    #: the member's Solana wallet and Discord id as typed (the shells check them), blank if none
    wallet: str = ""
    discord_id: str = ""

    def role_row(self) -> RoleRow:
        return RoleRow(self.member, self.role or UNASSIGNED, self.weight, where=self.where)


def has_weight_column(header: Sequence[str], criteria: Criteria = FOUR_CRITERIA) -> bool:
    """Does this roster give GRAPE weights directly (rather than criteria scores)?

    A roster with both a grape_weight column and criteria columns is refused here, so that every
    command (``compute``, ``new``) refuses it alike, whichever grid it was about to use.
    """
    index = _column_index(header)
    if "grape_weight" not in index:
        return False
    both = [k for k in dict.fromkeys((*criteria.keys, *FOUR_CRITERIA.keys)) if k in index]
    if both:
        raise InputError(
            f"give either a grape_weight column or the criteria columns, not both (found {', '.join(both)})",
            where="header row",
            value=",".join(header),
        )
    return True


def _column_index(header: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(slug(str(name or "")), i)
    return index


def roster_rows(
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    criteria: Criteria = FOUR_CRITERIA,
    levels: Mapping[str, Decimal] = DEFAULT_LEVELS,
    decimal_comma: bool = False,
) -> list[RoleRow]:
    """RoleRows from numbered rows (row number as the file counts it, header being row 1).

    Wholly blank rows are skipped; a blank role is ``Unassigned``, as in the original sheet.
    """
    return [
        r.role_row() for r in scored_rows(header, rows, criteria=criteria, levels=levels, decimal_comma=decimal_comma)
    ]


def scored_rows(
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[str]]],
    *,
    criteria: Criteria = FOUR_CRITERIA,
    levels: Mapping[str, Decimal] = DEFAULT_LEVELS,
    decimal_comma: bool = False,
) -> list[ScoredRow]:
    """Like ``roster_rows``, keeping each row's raw scores (a ``grape_weight`` is one score).

    ``decimal_comma``: the file came from a European Excel (``;`` separators): ``0,8`` is 0.8.
    """
    index = _column_index(header)
    if "member" not in index:
        raise InputError("the roster has no 'member' column", where="header row", value=",".join(header))
    by_weight = has_weight_column(header, criteria)
    missing = [k for k in criteria.keys if k not in index]
    if not by_weight and missing:
        raise InputError(
            f"the roster needs a grape_weight column or the criteria columns ({', '.join(criteria.keys)}); "
            f"missing {', '.join(missing)}",
            where="header row",
            value=",".join(header),
        )
    weight_columns = ["grape_weight"] if by_weight else list(criteria.keys)

    def cell(cells: Sequence[str], column: str) -> str:
        i = index.get(column)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    out: list[ScoredRow] = []
    for number, cells in rows:
        if not any(str(c).strip() for c in cells):
            continue
        member = cell(cells, "member")
        role = cell(cells, "role")
        where = f"row {number}"
        if not member:
            raise InputError("a role row has no member name", where=f"{where}, column member", value="")
        check_name(member, what="member name", where=f"{where}, column member")
        check_name(role, what="role", where=f"{where}, column role")
        raw = [cell(cells, c) for c in weight_columns]
        scores = [
            parse_score(
                text,
                where=f"{where}, column {c}",
                levels=levels,
                what="GRAPE weight" if by_weight else f"score {c}",
                decimal_comma=decimal_comma,
            )
            for c, text in zip(weight_columns, raw, strict=True)
        ]
        weight = scores[0] if by_weight else grape_weight(scores, criteria)
        kept = tuple(_level_name(t, levels) or s for t, s in zip(raw, scores, strict=True))
        out.append(
            ScoredRow(
                member,
                role,
                kept,
                weight,
                where=where,
                wallet=cell(cells, "wallet"),
                discord_id=cell(cells, "discord_id"),
            )
        )
    if not out:
        raise InputError("no role holders: the roster has no member rows")
    return out


def _level_name(text: str, levels: Mapping[str, Decimal]) -> str | None:
    name = " ".join(text.upper().split())
    return name if name in levels else None
