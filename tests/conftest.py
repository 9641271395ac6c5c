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


class Progress:
    """A line on the terminal now and then while a slow fixture works (pytest shows nothing else
    until a test finishes): "formulas ExcelModel: 40/62 workbooks (1 min 10 s)"."""

    def __init__(self, request: pytest.FixtureRequest, label: str, total: int, every: float = 20.0) -> None:
        import time

        self.reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        self.capture = request.config.pluginmanager.get_plugin("capturemanager")
        self.label, self.total, self.every = label, total, every
        self.start = self.last = time.monotonic()
        self.done = 0
        self._write(f"{label}: {total} to do")

    def _write(self, text: str) -> None:
        if self.reporter is None:
            return
        if self.capture is None:
            self.reporter.write_line(f"[katsheet] {text}")
            return
        with self.capture.global_and_fixture_disabled():  # pytest captures a fixture's output otherwise
            self.reporter.write_line(f"[katsheet] {text}")

    def advance(self, n: int = 1) -> None:
        import time

        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every or self.done == self.total:
            self.last = now
            self._write(f"{self.label}: {self.done}/{self.total} ({int(now - self.start)} s)")


@pytest.fixture
def progress(request):
    """``progress(label, total)`` -> a Progress for a slow fixture of the requesting test's module."""
    return lambda label, total: Progress(request, label, total)


def recalculated(request: pytest.FixtureRequest, files: dict[str, Path], outdir: Path, label: str) -> dict[str, Path]:
    """The files recalculated by LibreOffice (one start per core), by the same keys, with progress shown."""
    from libreoffice import recalculate, require_libreoffice

    require_libreoffice()
    progress = Progress(request, label, len(files))
    out = recalculate(list(files.values()), outdir)
    progress.advance(len(files))
    return dict(zip(files, out, strict=True))
