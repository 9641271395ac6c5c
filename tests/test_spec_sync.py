"""Our copy of the vectors must be the spec's: a change in grape.md shows up here."""

from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest
from conftest import SPEC_DIR
from vectors import VECTORS


def _spec_rows() -> dict[str, list[str]]:
    text = (SPEC_DIR / "grape.md").read_text()
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*(V\d+)\s*\|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return rows


def test_vectors_match_spec() -> None:
    if not (SPEC_DIR / "grape.md").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the spec is missing at {SPEC_DIR}")
        pytest.skip(f"spec not beside the checkout ({SPEC_DIR}); vectors checked against our copy only")
    rows = _spec_rows()
    assert sorted(rows, key=lambda k: int(k[1:])) == [v.id for v in VECTORS]
    for v in VECTORS:
        budget, weights, _options, totals, returned = rows[v.id]
        assert Decimal(budget) == Decimal(v.budget)
        assert _expand(totals) == [Decimal(t) for t in v.totals], v.id
        assert Decimal(returned) == Decimal(v.returned), v.id
        if "as V4" not in weights and "then" not in weights:
            assert [Decimal(w) for w in weights.split(",")] == [Decimal(w) for w in v.weights], v.id


def _expand(cell: str) -> list[Decimal]:
    """'33004.68, then 1000 nine times' -> the list the spec means."""
    m = re.match(r"(.+), then (\S+) nine times", cell)
    if m:
        return [Decimal(m.group(1))] + [Decimal(m.group(2))] * 9
    return [Decimal(x) for x in cell.split(",")]
