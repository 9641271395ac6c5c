"""The worked vectors of grape.md section 4, as data (test_spec_sync checks them against the spec)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

V4_WEIGHTS = ["0.9"] + ["0.1"] * 9
V1_WEIGHTS = ["1", "0.8", "0.6", "0.4", "0"]


@dataclass(frozen=True)
class Vector:
    id: str
    budget: str
    weights: list[str]
    options: dict = field(default_factory=dict)
    totals: list[str] = field(default_factory=list)
    returned: str = "0"
    #: the CLI flags that give the same options
    flags: list[str] = field(default_factory=list)


VECTORS = [
    Vector("V1", "100000", V1_WEIGHTS, {}, ["40533.333333", "32426.666666", "12000", "8000", "0"], "7040.000001"),
    Vector("V2", "90000", ["1", "1", "1"], {}, ["30000", "30000", "30000"], "0"),
    Vector("V3", "10000", ["0.5"], {}, ["5000"], "5000"),
    Vector("V4", "100000", V4_WEIGHTS, {}, ["33004.68"] + ["1000"] * 9, "57995.32"),
    Vector(
        "V5",
        "100000",
        V1_WEIGHTS,
        {"threshold": Decimal("0.5")},
        ["37600", "30080", "22560", "8000", "0"],
        "1760",
        ["--threshold", "0.5"],
    ),
    Vector("V6", "60000", ["0.8", "0.6", "0.4"], {}, ["27093.333333", "12000", "8000"], "12906.666667"),
    Vector("V7", "30000", ["0.1", "0.2", "0.3"], {}, ["1000", "2000", "7560"], "19440"),
    Vector(
        "V8",
        "100000",
        V1_WEIGHTS,
        {"bonus": False, "excess": False},
        ["20000", "16000", "12000", "8000", "0"],
        "44000",
        ["--no-bonus", "--no-excess"],
    ),
    Vector(
        "V9",
        "100000",
        V4_WEIGHTS,
        {"cap_rule": "at-base"},
        ["42600"] + ["1000"] * 9,
        "48400",
        ["--cap-rule", "at-base"],
    ),
    Vector(
        "V10",
        "100000",
        V4_WEIGHTS,
        {"cap_rule": "off"},
        ["50820"] + ["1000"] * 9,
        "40180",
        ["--cap-rule", "off"],
    ),
]

#: Intermediate figures the spec states (V1 and V4).
INTERMEDIATES = {
    "V1": {
        "base_allotted": "20000",
        "average_weight": "0.7",
        "bonus_eligible": 2,
        "bonus_divisor": 3,
        "bonus_pool": "44000",
        "excess_pool": "17600",
        "cap_engaged": False,
    },
    "V4": {
        "base_allotted": "10000",
        "average_weight": "0.18",
        "bonus_eligible": 1,
        "bonus_divisor": 3,
        "bonus_pool": "82000",
        "excess_pool": "57400",
        "cap_engaged": True,
        "cap_ratio": "0.574",
    },
}

#: Scoring grid, default criteria: scores -> GRAPE weight.
GRID = [
    (["90%", "70%", "80%", "50%"], "0.79"),
    (["100%", "0", "0", "0"], "0.6"),
    (["66%", "33%", "100%", "66%"], "0.661"),
]

#: The cap discontinuity example of grape.md 2.8.
CAP_FLAW_BUDGET = "156659"
CAP_FLAW_WEIGHTS = ["0.85", "0", "0", "0.48", "0", "0.78", "0.68", "0", "0.59", "0", "0"]
CAP_FLAW_TOTALS = ("49925.37", "27817.54")  # first member at 0.85, then at 0.98
