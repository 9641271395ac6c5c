"""The reference engine: pure Python, exact decimals, no I/O.

It imports neither openpyxl nor ``formulas`` (pandas only inside ``Allocation.to_frame``), so it
runs wherever Python does, xlwings Lite's Pyodide included.
"""

from .allocation import (
    CAP_RULES,
    Allocation,
    CapRule,
    MemberAllocation,
    Options,
    RoleRow,
    allocate,
    empty_allocation,
    member_key,
)
from .criteria import (
    DEFAULT_LEVELS,
    FOUR_CRITERIA,
    SINGLE_CRITERION,
    Criteria,
    Criterion,
    grape_weight,
    parse_score,
)
from .errors import InputError
from .numbers import parse_bool, parse_decimal, plain, round_down, round_half_up
from .summary import MemberSummary, summarize

__all__ = [
    "CAP_RULES",
    "DEFAULT_LEVELS",
    "FOUR_CRITERIA",
    "SINGLE_CRITERION",
    "Allocation",
    "CapRule",
    "Criteria",
    "Criterion",
    "InputError",
    "MemberAllocation",
    "MemberSummary",
    "Options",
    "RoleRow",
    "allocate",
    "empty_allocation",
    "grape_weight",
    "member_key",
    "parse_bool",
    "parse_decimal",
    "parse_score",
    "plain",
    "round_down",
    "round_half_up",
    "summarize",
]
