"""Regenerate the shipped files: templates/*.xlsx and sample_workbooks/*.xlsx.

    python scripts/make_templates.py            # templates and samples
    python scripts/make_templates.py --golden   # also accept the current structure as golden

The tests regenerate these files and compare them with what is committed; --golden rewrites
tests/golden/*.json, the reference that makes an accidental layout change show up in review.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from katsheet.workbook.shipped import sample_months, shipped_templates, write_month


def main(argv: list[str]) -> None:
    (ROOT / "templates").mkdir(exist_ok=True)
    (ROOT / "sample_workbooks").mkdir(exist_ok=True)
    for name, month in shipped_templates().items():
        print("templates/" + name)
        write_month(month, ROOT / "templates" / name)
    for name, month in sample_months().items():
        print("sample_workbooks/" + name)
        write_month(month, ROOT / "sample_workbooks" / name)
    if "--golden" in argv:
        from structure import describe

        golden = ROOT / "tests" / "golden"
        golden.mkdir(exist_ok=True)
        for name in shipped_templates():
            target = golden / (Path(name).stem + ".json")
            target.write_text(json.dumps(describe(ROOT / "templates" / name), indent=1, sort_keys=True) + "\n")
            print(target.relative_to(ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
