"""Make sample_workbooks/2026-11-hand-edited.xlsx: the sample month as people leave it, mistakes included.

    python scripts/make_hand_edited.py      # needs LibreOffice and python3-uno (the test script installs both)

Starting from sample_workbooks/2026-11-expanded.xlsx, LibreOffice makes the edits a treasurer makes
(tolerated ones and mistakes), then one value is changed the way a tool that does not recalculate
would. The expected report is written beside it; tests/test_sample_hand_edited.py holds the
checker to it.

Tolerated: a member added by inserting a Scoring row (formulas filled down); the Expanded rows
sorted by total; a notes column inserted in the Scoring sheet.
Planted: a member's total overwritten by hand (formula drift, wrong numbers); the total-allocated
formula rewritten (+0: drift that changes no number); a member typed below the table (bad input);
a stale stored share (stale value). (A score typed as the text "80%" would turn every figure into
#N/A and bury the rest; tests/test_check.py covers that case.)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "sample_workbooks" / "2026-11-expanded.xlsx"
TARGET = ROOT / "sample_workbooks" / "2026-11-hand-edited.xlsx"
REPORT = ROOT / "sample_workbooks" / "2026-11-hand-edited.expected.json"

EDITS = [
    ["insert_rows", "Scoring", 20, 1],
    ["fill_down", "Scoring", "G19:G19", 1],
    ["set_text", "Scoring", "A20", "Noor Rahman"],
    ["set_text", "Scoring", "B20", "Developer"],
    ["set", "Scoring", "C20", 0.85],
    ["set", "Scoring", "D20", 0.9],
    ["set", "Scoring", "E20", "LEVEL 2"],
    ["set", "Scoring", "F20", 0.5],
    ["insert_columns", "Scoring", "J", 1],
    ["set_text", "Scoring", "J15", "Notes"],
    ["set_text", "Scoring", "J17", "shipped the payout script"],
    ["set_text", "Scoring", "A130", "Late Addition"],
    ["set", "Scoring", "C130", 0.7],
    ["sort", "Expanded", "A16:U29", 14, True],  # the 14 member rows, whole width, by total (column O)
    ["set", "Expanded", "O20", 12000],
    ["set", "Expanded", "H12", "=SUM(TotalUnits)/UnitsPerToken+0"],
]
STALE_CELL = ("xl/worksheets/sheet3.xml", "P16", b"0.25")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        edited = Path(tmp) / "edited.xlsx"
        subprocess.run(
            ["/usr/bin/python3", str(ROOT / "tests" / "lo_edit.py"), str(SOURCE), str(edited), json.dumps(EDITS)],
            check=True,
        )
        part, cell, value = STALE_CELL
        with zipfile.ZipFile(edited) as src, zipfile.ZipFile(TARGET, "w", zipfile.ZIP_DEFLATED) as out:
            for item in src.infolist():
                data = src.read(item)
                if item.filename == part:
                    data, n = re.subn(rf'(<c r="{cell}"[^>]*>.*?<v>)([^<]*)(</v>)'.encode(), rb"\g<1>" + value + rb"\g<3>",
                                      data, count=1)  # fmt: skip
                    assert n == 1, f"{cell} not found in {part}"
                out.writestr(item, data)
    report = subprocess.run(
        [sys.executable, "-m", "katsheet", "check", str(TARGET.relative_to(ROOT)), "--json"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    REPORT.write_text(report.stdout)
    print(f"{TARGET.relative_to(ROOT)}: exit {report.returncode}; expected report in {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
