"""The files we ship: blank templates (templates/) and filled sample months (sample_workbooks/).

`python scripts/make_templates.py` regenerates them from these descriptions; the tests regenerate
them again and compare structure, so a shipped file can never drift from the generator.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ..engine import FOUR_CRITERIA, SINGLE_CRITERION, Options
from ..engine.grape.pools import Asset
from ..io.katfiles import load_config, load_guardrails, sample_inputs, sample_wallets
from ..layouts.grape import TEMPLATES, Book, Month, as_book, grape_layout, template_id
from ..layouts.kat import SAMPLE_MONTH, KatMonth, kat_layout
from ..layouts.model import WorkbookLayout
from ..layouts.pools import PoolsMonth, pools_layout, pools_month
from ..samples import (
    SAMPLE_ART_BUDGET,
    SAMPLE_ART_NAME,
    SAMPLE_BUDGET,
    SAMPLE_POOL_ASSETS,
    sample_pool_inputs,
    sample_scored_roster,
)
from .writer import write_workbook


def shipped_templates() -> dict[str, Month | KatMonth | PoolsMonth]:
    """templates/: each GRAPE template with each criteria variant, blank, room for 100 members; the
    KAT template with the CED configuration and an empty ledger (room for 100 rows)."""
    out: dict[str, Month | KatMonth | PoolsMonth] = {}
    for template in TEMPLATES:
        out[f"{template_id(template)}.xlsx"] = Month(template=template, criteria=FOUR_CRITERIA)
        out[f"{template_id(template)}-single.xlsx"] = Month(template=template, criteria=SINGLE_CRITERION)
    out["kat-ced.xlsx"] = KatMonth(load_config(None, load_guardrails()), SAMPLE_MONTH)
    tasks, _, _ = sample_pool_inputs()
    out["grape-pools.xlsx"] = PoolsMonth("", tuple(tasks), (Asset("GRAPE", Decimal(0), 6),))
    return out


def sample_months() -> dict[str, Month | Book | KatMonth | PoolsMonth]:
    """sample_workbooks/: a realistic filled month, with the bonus threshold overridden to 70%, and a
    month of two SubDAOs (one member in both) whose Members sheet sums them."""
    rows = tuple(sample_scored_roster())
    art = tuple(sample_scored_roster(name=SAMPLE_ART_NAME))
    subdaos = Book((
        Month(template="expanded", month="2026-11", budget=SAMPLE_BUDGET, rows=rows, subdao="Main", capacity=20),
        Month(template="expanded", month="2026-11", budget=SAMPLE_ART_BUDGET, rows=art, subdao="Art", capacity=12),
    ))  # fmt: skip
    tasks, scores, identities = sample_pool_inputs()
    pools = pools_month("2026-11", tasks, SAMPLE_POOL_ASSETS, scores, max_share=Decimal("0.15"),
                        identities=identities, capacity=20)  # fmt: skip
    return {
        "2026-11-pools.xlsx": pools,
        "2026-11-kat-ced.xlsx": kat_sample_month(),
        "2026-11-subdaos.xlsx": subdaos,
        "2026-11-expanded.xlsx": Month(
            template="expanded", month="2026-11", budget=SAMPLE_BUDGET, rows=rows,
            options=Options(threshold=Decimal("0.7")),
        ),
        "2026-11-compact.xlsx": Month(
            template="compact", month="2026-11", budget=SAMPLE_BUDGET, rows=rows,
            options=Options(threshold=Decimal("0.7"), decimals=2),
        ),
    }  # fmt: skip


def kat_sample_month() -> KatMonth:
    """The CED sample month (`katsheet new --template kat --sample`)."""
    config, ledger, exceptions, states = sample_inputs()
    return KatMonth(config, SAMPLE_MONTH, ledger, tuple(exceptions), tuple(states), wallets=sample_wallets())


def layout_of(month: Month | Book | KatMonth | PoolsMonth) -> WorkbookLayout:
    """The layout of any month katsheet writes (GRAPE tiers, KAT, task pools)."""
    if isinstance(month, PoolsMonth):
        return pools_layout(month)
    if isinstance(month, KatMonth):
        return kat_layout(month)
    return grape_layout(as_book(month))


def write_month(month: Month | Book | KatMonth | PoolsMonth, path: Path) -> Path:
    if isinstance(month, PoolsMonth):
        decimals = month.decimals
    elif isinstance(month, KatMonth):
        decimals = month.config.decimals
    else:
        month = as_book(month)
        decimals = month.first.options.decimals
    write_workbook(layout_of(month), month, path, decimals=decimals)
    return path
