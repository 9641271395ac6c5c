"""LibreOffice headless as an independent spreadsheet engine: recalculate .xlsx files from scratch.

LibreOffice keeps an .xlsx file's cached values unless told otherwise; the profile written here
sets OOXMLRecalcMode to 0 ("always recalculate"), so what comes back is LibreOffice's own result.
The tests hold katsheet's workbooks to it, and the benchmarks time it as a baseline.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

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


def recalculate(paths: list[Path], outdir: Path, *, timeout: float = 900) -> list[Path]:
    """Open each file in LibreOffice (one start for all), recalculate everything, save as .xlsx
    into ``outdir``. RuntimeError when LibreOffice is not installed or wrote nothing."""
    binary = soffice()
    if binary is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
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
