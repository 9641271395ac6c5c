from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from katsheet.cli.main import main
from katsheet.engine import RoleRow

SPEC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "spec"


def role_rows(weights: list[str]) -> list[RoleRow]:
    return [RoleRow(f"member {i + 1}", "Contributor", Decimal(w), where=f"row {i + 2}") for i, w in enumerate(weights)]


def write_roster(path: Path, weights: list[str]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["member", "role", "grape_weight"])
        for i, weight in enumerate(weights):
            w.writerow([f"member {i + 1}", "Contributor", weight])
    return path


class Run:
    """The CLI run in-process: exit code, stdout, stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> dict:
        code, out, err = self(*args, "--format", "json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys)


@pytest.fixture(scope="session")
def lo_editor():
    """One LibreOffice (UNO) for every edit the tests make, started on first use."""
    from libreoffice import Editor, require_uno

    require_uno()
    editor = Editor()
    yield editor
    editor.close()
