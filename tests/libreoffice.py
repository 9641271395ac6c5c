"""LibreOffice headless as an independent spreadsheet engine: recalculate .xlsx files from scratch.

LibreOffice keeps an .xlsx file's cached values unless told otherwise; the profile written here
sets OOXMLRecalcMode to 0 ("always recalculate"), so what comes back is LibreOffice's own result.
"""

from __future__ import annotations

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
