"""The per-member summary of grape.md section 5: a member's totals over all role rows and sheets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..numbers import exact_sum
from .allocation import Allocation, member_key


@dataclass(frozen=True)
class MemberSummary:
    """One member: the roles held (in first-seen order), how many rows, and the summed total."""

    member: str
    roles: tuple[str, ...]
    role_rows: int
    total: Decimal


def summarize(allocations: Allocation | Iterable[Allocation]) -> list[MemberSummary]:
    """Sum each member's totals over every role row of one or several allocations (SubDAO sheets).

    Members are matched as ``member_key`` compares them; the first spelling seen is shown.
    Order: first appearance.
    """
    if isinstance(allocations, Allocation):
        allocations = [allocations]
    names: dict[str, str] = {}
    roles: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    totals: dict[str, Decimal] = {}
    for allocation in allocations:
        for m in allocation.members:
            key = member_key(m.member)
            names.setdefault(key, m.member)
            if m.role not in roles.setdefault(key, []):
                roles[key].append(m.role)
            rows[key] = rows.get(key, 0) + 1
            totals[key] = exact_sum((m.total,), totals.get(key, Decimal(0)))
    return [MemberSummary(names[k], tuple(roles[k]), rows[k], totals[k]) for k in names]
