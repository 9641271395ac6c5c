"""The files we ship: blank templates (templates/) and filled sample months (sample_workbooks/).

`python scripts/make_templates.py` regenerates them from these descriptions; the tests regenerate
them again and compare structure, so a shipped file can never drift from the generator.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ..engine import FOUR_CRITERIA, SINGLE_CRITERION, Options
from ..layouts.grape import TEMPLATES, Month, grape_layout, template_id
from ..samples import SAMPLE_BUDGET, sample_scored_roster
from .writer import write_workbook


def shipped_templates() -> dict[str, Month]:
    """templates/: each template with each criteria variant, blank, room for 100 members."""
    out = {}
    for template in TEMPLATES:
        out[f"{template_id(template)}.xlsx"] = Month(template=template, criteria=FOUR_CRITERIA)
        out[f"{template_id(template)}-single.xlsx"] = Month(template=template, criteria=SINGLE_CRITERION)
    return out


def sample_months() -> dict[str, Month]:
    """sample_workbooks/: a realistic filled month, with the bonus threshold overridden to 70%."""
    rows = tuple(sample_scored_roster())
    return {
        "2026-11-expanded.xlsx": Month(
            template="expanded", month="2026-11", budget=SAMPLE_BUDGET, rows=rows,
            options=Options(threshold=Decimal("0.7")),
        ),
        "2026-11-compact.xlsx": Month(
            template="compact", month="2026-11", budget=SAMPLE_BUDGET, rows=rows,
            options=Options(threshold=Decimal("0.7"), decimals=2),
        ),
    }  # fmt: skip


def write_month(month: Month, path: Path) -> Path:
    write_workbook(grape_layout(month), month, path, decimals=month.options.decimals)
    return path
