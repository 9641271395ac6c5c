"""Golden files: the generated structure of each template, compared part by part with the reference.

An accidental change to a formula, a name, a validation or an input style shows up here, named by
template and part. To accept an intended change: python scripts/make_templates.py --golden
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from structure import PARTS, describe

from katsheet.workbook.shipped import sample_months, shipped_templates, write_month

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
TEMPLATES = list(shipped_templates())


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("fresh")
    files = {**shipped_templates(), **sample_months()}
    return {name: describe(write_month(month, folder / name)) for name, month in files.items()}


def _normalise(data):
    return json.loads(json.dumps(data, sort_keys=True))


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("name", TEMPLATES)
def test_template_matches_golden(name, part, fresh) -> None:
    golden = json.loads((GOLDEN / (Path(name).stem + ".json")).read_text())
    assert _normalise(fresh[name][part]) == golden[part], (
        f"{name}: part {part!r} changed. If intended: bump LAYOUT_VERSION (the checker reads it) and run "
        "python scripts/make_templates.py --golden"
    )


@pytest.mark.parametrize("name", TEMPLATES)
def test_shipped_template_matches_generator(name, fresh) -> None:
    assert _normalise(describe(ROOT / "templates" / name)) == _normalise(fresh[name])


@pytest.mark.parametrize("name", list(sample_months()))
def test_sample_workbook_matches_generator(name, fresh) -> None:
    assert _normalise(describe(ROOT / "sample_workbooks" / name)) == _normalise(fresh[name])


def test_golden_is_not_empty() -> None:
    """The reference really pins formulas, names and validation (a blank golden would pass anything)."""
    golden = json.loads((GOLDEN / "grape-expanded.json").read_text())
    assert golden["names"]["ThresholdOverride"] == "Expanded!$E$3"
    assert golden["names"]["AverageWeight"] == "Expanded!$E$7"
    assert len(golden["formulas"]["Expanded"]) >= 15
    assert golden["validation"]["Expanded"] and golden["conditional"]["Expanded"]
    assert golden["styles"]["Scoring"]["A"][0][2].startswith("FFFFF2CC")  # member names: yellow inputs
