"""LibreOffice for the tests: recalculation (katsheet.workbook.libreoffice) that skips loudly, or
fails under CI=true, when LibreOffice is missing; and edits made inside it (lo_edit.py)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from katsheet.workbook.libreoffice import recalculate as _recalculate
from katsheet.workbook.libreoffice import soffice


def require_libreoffice() -> str:
    """The soffice binary; a loud skip locally, a failure under CI=true, when it is missing."""
    binary = soffice()
    if binary:
        return binary
    reason = "LibreOffice (soffice) is not installed: the cross-engine tests need it (apt-get install libreoffice-calc-nogui)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def recalculate(paths: list[Path], outdir: Path, *, timeout: float = 900) -> list[Path]:
    """katsheet.workbook.libreoffice.recalculate, after require_libreoffice, with one LibreOffice
    per core (each its own profile and share of the files): LibreOffice recalculates on one core,
    and hundreds of files are minutes of the suite."""
    require_libreoffice()
    workers = max(1, min(os.cpu_count() or 1, len(paths) // 8 or 1))
    if workers == 1:
        return _recalculate(paths, outdir, timeout=timeout)
    from concurrent.futures import ThreadPoolExecutor

    shares = [paths[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        done = list(pool.map(lambda share: _recalculate(share, outdir, timeout=timeout), shares))
    by_source = {
        src: out for share, outs in zip(shares, done, strict=True) for src, out in zip(share, outs, strict=True)
    }
    return [by_source[p] for p in paths]


SYSTEM_PYTHON = "/usr/bin/python3"
LO_EDIT = Path(__file__).with_name("lo_edit.py")


def require_uno() -> None:
    """LibreOffice and its Python bridge (python3-uno), for the edit tests; as require_libreoffice."""
    require_libreoffice()
    ok = (
        Path(SYSTEM_PYTHON).exists()
        and subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0
    )
    if not ok:
        reason = "LibreOffice's Python bridge is missing (apt-get install python3-uno): the edit tests need it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


class Editor:
    """One LibreOffice for every edit of a test session (tests/lo_edit.py --worker): starting it
    costs seconds, an edit a fraction of one. Restarted should it die."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(
            [SYSTEM_PYTHON, str(LO_EDIT), "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip

    def edit(self, src: Path, dst: Path, ops: list) -> Path:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"src": str(src), "dst": str(dst), "ops": ops}) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer != "ok":
            self.close()
            raise RuntimeError(f"LibreOffice edit failed: {answer or 'the worker died'}")
        return dst

    def close(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(Exception):
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(timeout=60)
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc = None
