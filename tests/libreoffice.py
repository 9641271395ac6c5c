"""LibreOffice headless as an independent spreadsheet engine: recalculate .xlsx files from scratch.

LibreOffice keeps an .xlsx file's cached values unless told otherwise; the profile written here
sets OOXMLRecalcMode to 0 ("always recalculate"), so what comes back is LibreOffice's own result.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_libreoffice() -> str:
    """The soffice binary; a loud skip locally, a failure under CI=true, when it is missing."""
    binary = soffice()
    if binary:
        return binary
    reason = "LibreOffice (soffice) is not installed: the cross-engine tests need it (apt-get install libreoffice-calc-nogui)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def recalculate(paths: list[Path], outdir: Path, *, timeout: float = 600) -> list[Path]:
    """Open each file in LibreOffice, recalculate everything, save as .xlsx into ``outdir``."""
    binary = require_libreoffice()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="katsheet-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(PROFILE_XCU)
        proc = subprocess.run(
            [
                binary, "--headless", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir),
                *[str(p) for p in paths],
            ],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
    out = [outdir / p.name for p in paths]
    missing = [p for p in out if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not write {missing[:3]}: {proc.stdout}\n{proc.stderr}")
    return out


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
