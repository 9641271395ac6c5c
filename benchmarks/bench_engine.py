"""Allocate rosters of 100, 10,000 and 100,000 members; print seconds and members per second.

Baseline in the same run: the literal Fraction transcription of grape.md (tests/reference.py),
the obvious exact implementation, at 100 and 10,000 members.

    python benchmarks/bench_engine.py
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import show, timed
from reference import reference

from katsheet.engine import Options, RoleRow, allocate

SIZES = (100, 10_000, 100_000)
BASELINE_SIZES = (100, 10_000)


def roster(n: int, seed: int = 7) -> list[RoleRow]:
    rng = random.Random(seed)
    return [
        RoleRow(f"member {i}", "Contributor", Decimal(rng.choice((0, rng.randint(0, 10**6)))).scaleb(-6))
        for i in range(n)
    ]


def main() -> None:
    rows = []
    budget = Decimal("1234567.89")
    for n in SIZES:
        members = roster(n)
        seconds, result = timed(lambda m=members: allocate(budget, m, Options()), repeat=3)
        assert result.total_allocated + result.returned_to_treasury == budget
        base = "-"
        if n in BASELINE_SIZES:
            weights = [r.weight for r in members]
            ref_seconds, (totals, _, _) = timed(lambda w=weights: reference(budget, w))
            assert totals == [m.total for m in result.members]
            base = f"{ref_seconds:.3f} s ({ref_seconds / seconds:.0f}x slower)"
        rows.append([f"{n:,}", f"{seconds:.3f}", f"{n / seconds:,.0f}", base])
    show(
        "katsheet engine: allocate() with exact arithmetic (best of 3)",
        ["members", "seconds", "members/s", "baseline: literal Fraction reference"],
        rows,
    )


if __name__ == "__main__":
    main()
