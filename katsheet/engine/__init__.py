"""The reference engines, GRAPE (``grape/``) and KAT (``kat/``), side by side: pure Python, exact
decimals, no I/O. They share the exact-number helpers (``numbers``), the error type and name checks.

It imports neither openpyxl nor ``formulas`` (pandas only inside ``Allocation.to_frame``), so it
runs wherever Python does, xlwings Lite's Pyodide included.
"""

from .errors import InputError
from .grape.allocation import (
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
from .grape.criteria import (
    DEFAULT_LEVELS,
    FOUR_CRITERIA,
    SINGLE_CRITERION,
    Criteria,
    Criterion,
    grape_weight,
    parse_score,
)
from .grape.summary import MemberSummary, summarize
from .numbers import parse_bool, parse_decimal, plain, round_down, round_half_up

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
