"""The built-in sample month: a realistic roster and budget shipped inside the package."""

from __future__ import annotations

from decimal import Decimal
from importlib.resources import as_file, files
from pathlib import Path

from .engine import Criteria, RoleRow
from .engine.grape.criteria import FOUR_CRITERIA
from .engine.grape.pools import Asset, Task, TaskScore
from .engine.grape.roster import ScoredRow
from .io.csvfile import read_pool_identities, read_roster, read_scored_roster, read_task_scores, read_tasks

SAMPLE_BUDGET = Decimal("100000")
SAMPLE_NAME = "sample_roster.csv"
#: a second SubDAO for the sample with several SubDAOs (one member works in both)
SAMPLE_ART_NAME = "sample_art_roster.csv"
SAMPLE_ART_BUDGET = Decimal("40000")


#: the task-pool sample (grape.md 6): a GREMS-like month paying three assets from one scoring
SAMPLE_POOL_TASKS = "sample_pool_tasks.csv"
SAMPLE_POOL_ROSTER = "sample_pool_roster.csv"
SAMPLE_POOL_ASSETS = (
    Asset("GRAPE", Decimal("100000"), 6),
    Asset("USDC", Decimal("2500"), 2),
    Asset("SOL", Decimal("10"), 9),
)


def sample_pool_inputs() -> tuple[list[Task], list[TaskScore], dict[str, tuple[str, str]]]:
    """The sample's tasks, scores and (per member) wallet and Discord id."""
    data = files("katsheet.data")
    with as_file(data / SAMPLE_POOL_TASKS) as tasks, as_file(data / SAMPLE_POOL_ROSTER) as roster:
        return read_tasks(Path(tasks)), read_task_scores(Path(roster)), read_pool_identities(Path(roster))


def sample_roster(criteria: Criteria = FOUR_CRITERIA) -> list[RoleRow]:
    with as_file(files("katsheet.data") / SAMPLE_NAME) as path:
        return read_roster(Path(path), criteria)


def sample_scored_roster(criteria: Criteria = FOUR_CRITERIA, name: str = SAMPLE_NAME) -> list[ScoredRow]:
    with as_file(files("katsheet.data") / name) as path:
        return read_scored_roster(Path(path), criteria)
