"""The months the benchmarks measure: realistic rosters with spare rows, as `katsheet new` writes them."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from katsheet.engine import SINGLE_CRITERION
from katsheet.engine.grape.roster import ScoredRow
from katsheet.layouts.grape import MIN_SPARE_ROWS, Month
from katsheet.workbook.shipped import write_month

ROLES = ("Developer", "Ops", "Designer", "Reviewer", "Researcher")


def month(n: int, *, spare: int = MIN_SPARE_ROWS) -> Month:
    """``n`` role rows (a tenth of the members hold two roles) and ``spare`` empty rows below."""
    rng = random.Random(n)
    rows = []
    for i in range(n):
        member = f"member {i if i % 10 else max(0, i - 1)}"  # every tenth row: a second role
        role = ROLES[i % len(ROLES)] if i % 10 else "Second role"
        weight = Decimal(rng.choice((0, rng.randint(0, 10**6)))).scaleb(-6)
        rows.append(ScoredRow(member, role, (weight,), weight))
    return Month(template="expanded", month="2026-12", criteria=SINGLE_CRITERION, budget=Decimal(1_000_000),
                 rows=tuple(rows), capacity=n + spare)  # fmt: skip


def write(m: Month, path: Path) -> Path:
    return write_month(m, path)
