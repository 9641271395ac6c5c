"""The built-in sample month: a realistic roster and budget shipped inside the package."""

from __future__ import annotations

from decimal import Decimal
from importlib.resources import as_file, files
from pathlib import Path

from .engine import Criteria, RoleRow
from .engine.grape.criteria import FOUR_CRITERIA
from .engine.grape.roster import ScoredRow
from .io.csvfile import read_roster, read_scored_roster

SAMPLE_BUDGET = Decimal("100000")
SAMPLE_NAME = "sample_roster.csv"
#: a second SubDAO for the sample with several SubDAOs (one member works in both)
SAMPLE_ART_NAME = "sample_art_roster.csv"
SAMPLE_ART_BUDGET = Decimal("40000")


def sample_roster(criteria: Criteria = FOUR_CRITERIA) -> list[RoleRow]:
    with as_file(files("katsheet.data") / SAMPLE_NAME) as path:
        return read_roster(Path(path), criteria)


def sample_scored_roster(criteria: Criteria = FOUR_CRITERIA, name: str = SAMPLE_NAME) -> list[ScoredRow]:
    with as_file(files("katsheet.data") / name) as path:
        return read_scored_roster(Path(path), criteria)
