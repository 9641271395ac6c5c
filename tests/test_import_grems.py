"""`katsheet import-grems` (issue 14): a GREMS-shaped workbook built here from the tabs' published
description (SCORE: Discord name, task, perform level; REF: name, Discord ID, wallet, final rewards)
is imported as a katsheet pools month; the rows it cannot map are reported, and GREMS's capped
finals are compared with katsheet's (grape.md 6, vector P2)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook

WALLETS = {"x": "E3GftcKCPWDib9yBLoL21nG6ZFe4ncGieJkmykDmB8g9", "y": "6DrToaBNkYPkef8K22vjouJT9rYDgpamvhkACVjEvi83",
           "z": "76EcEekDUYhoowYiHNNBDn86HBSgm6dNK3t4e9CKnt2t"}  # fmt: skip


def grems_workbook(path: Path, finals: dict[str, float]) -> Path:
    """SCORE and REF as GREMS lays them out: a title row, then the header, then one row each."""
    wb = openpyxl.Workbook()
    score = wb.active
    score.title = "SCORE"
    score.append(["GRIPv2 scoring, November"])
    score.append(["Discord Name", "Task", "Perform Level", "Notes"])
    for row in [
        ("x", "A", 1),
        ("y", "A", "66%"),
        ("z", "A", "LEVEL 0"),
        ("y", "B", 0.66),
        ("", "A", 1),
        ("w", "B", "LEVEL 9"),
        ("y", "A", 0.5),
        ("q", "A", None),
    ]:
        score.append(list(row))
    ref = wb.create_sheet("REF")
    ref.append(["Name", "Discord ID", "Wallet", "Final Rewards"])
    for name in ("x", "y", "z"):
        ref.append([name, "412345678901234567", WALLETS[name], finals[name]])
    ref.append(["v", "", "not-a-wallet", 5])
    wb.create_sheet("CALC").append(["GREMS's own formulas live here"])
    wb.save(path)
    return path


@pytest.fixture
def tasks(tmp_path) -> Path:
    path = tmp_path / "tasks.csv"
    path.write_text("task,share\nA,60\nB,40\n")
    return path


def test_import_maps_the_rows_reports_the_rest_and_agrees_with_gremss_capped_finals(run, tmp_path, tasks) -> None:
    source = grems_workbook(tmp_path / "grems.xlsx", {"x": 361.445783, "y": 400, "z": 0})
    code, out, err = run("import-grems", str(source), "--tasks", str(tasks), "--budget", "1000", "--max-reward",
                         "40%", "--month", "2026-11", "--format", "json")  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["compared"] == 4 and result["agree"] == 3  # v: paid 5 by GREMS, never scored: 0 here
    v = next(m for m in result["members"] if m["member"] == "v")
    assert (v["grems"], v["katsheet"], v["difference"]) == ("5", "0", "-5")
    y = next(m for m in result["members"] if m["member"] == "y")
    assert y == {"member": "y", "grems": "400", "katsheet": "400", "difference": "0", "capped": True}
    unmapped = "\n".join(result["unmapped"])
    for expected in ("SCORE row 7: no Discord name", "SCORE row 8: w on B: perform level 'LEVEL 9'",
                     "SCORE row 9: y on A twice (first in row 4)", "SCORE row 10: q on A has no perform level",
                     "REF row 5: v's wallet 'not-a-wallet'", "REF row 5: v has no score in SCORE"):  # fmt: skip
        assert expected in unmapped, unmapped
    assert len(result["unmapped"]) == 6
    book = read_workbook(tmp_path / "grems-katsheet.xlsx")
    assert check(book).findings == []
    assert {r.member: r.wallet for r in book.month.rows} == WALLETS
    assert [t.name for t in book.month.tasks] == ["A", "B"] and book.month.max_share is not None


def test_a_final_that_differs_is_shown_with_its_difference(run, tmp_path, tasks) -> None:
    source = grems_workbook(tmp_path / "grems.xlsx", {"x": 361.445784, "y": 502.554216, "z": 0})
    code, out, err = run("import-grems", str(source), str(tmp_path / "m.xlsx"), "--tasks", str(tasks), "--budget",
                         "1000", "--month", "2026-11")  # fmt: skip
    assert code == 0, err
    assert "2 of 4 members' final rewards agree to the unit" in out and "-0.000001" in out
    # without --tasks every task gets an equal share, and the output says so
    code, out, _ = run("import-grems", str(source), str(tmp_path / "eq.xlsx"), "--budget", "1000")
    assert code == 0 and "equal shares" in out
    # never over a file unless asked; a file without the tabs is one line
    code, _, err = run("import-grems", str(source), str(tmp_path / "m.xlsx"), "--tasks", str(tasks), "--budget", "1")
    assert code == 2 and "exists" in err
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    code, _, err = run("import-grems", str(other), "--budget", "1")
    assert code == 2 and "has no SCORE tab" in err and len(err.strip().splitlines()) == 1
