"""The folder is the database: month workbooks, settlement records and their files, found by name.

A workbook says what it is in its defined names (KatsheetTemplate, KatsheetMonth, KatsheetDao,
KatsheetSettled), read without its sheets; a settlement record (``ID-settlement.json``) names its
DAO, period and files. A month is one DAO's period: its working workbook (the newest unsettled
one, when several copies exist) and, once settled, its record and settled workbook.

Its stage in the cycle: `settled` (a record), else from `katsheet check` on the working workbook:
`draft` (findings), `validated` (clean), `approved` (clean and ApprovedBy/ApprovedOn signed).
Reading and checking a workbook is cached by its path, size and modification time, so a page
shows a month without reading it twice, and a file changed on disk is read afresh.

Only files under the folder are ever read or written: a page offers a month's own files by name
(``files_of``), each resolved through ``inside``, which follows links and refuses anything outside.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.errors import InputError
from ..layouts.kat import TEMPLATE
from ..workbook.checker import Report, check
from ..workbook.reader import Workbook, _constant, read_workbook
from ..workbook.xlsx import Refused as Unreadable
from ..workbook.xlsx import defined_names

STAGES = ("draft", "validated", "approved", "settled")
GRAPE_DAO = "GRAPE"


@dataclass
class MonthFiles:
    """One DAO's period, as the folder holds it."""

    dao: str
    framework: str  # kat | grape
    period: str
    workbooks: list[Path] = field(default_factory=list)  # unsettled copies, newest last
    settled: Path | None = None
    record_path: Path | None = None
    record: dict[str, Any] | None = None

    @property
    def workbook(self) -> Path | None:
        """The workbook the month's page shows: the settled one, else the newest working copy."""
        return self.settled or (self.workbooks[-1] if self.workbooks else None)

    @property
    def key(self) -> str:
        return f"{self.dao}/{self.period}"


@dataclass(frozen=True)
class Analysis:
    """A workbook read and checked (or the one line saying why it cannot be)."""

    book: Workbook | None
    report: Report | None
    error: str = ""

    @property
    def stage(self) -> str:
        if self.book is None or self.report is None or self.book.month is None:
            return "draft"
        month = self.book.month
        if month.stamp is not None and self.report.clean:
            return "settled"
        if not self.report.clean:
            return "draft"
        approval = month.approval
        return "approved" if approval.get("ApprovedBy") and approval.get("ApprovedOn") else "validated"


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


class Folder:
    """The months under ``root``, read on demand and cached by file stamp."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise InputError("is not a folder", where=str(root))
        self._names: dict[Path, tuple[tuple[int, int], dict[str, str] | None]] = {}
        self._analyses: dict[Path, tuple[tuple[int, int], Analysis]] = {}
        self._guard = threading.Lock()
        self._reading = threading.Lock()  # one workbook read and checked at a time
        self._month_locks: dict[str, threading.Lock] = {}

    # -- paths ------------------------------------------------------------------------------------

    def inside(self, path: Path) -> Path | None:
        """``path`` as a file under the folder, links resolved; None when it is anything else."""
        try:
            resolved = path.resolve()
        except (OSError, ValueError):  # a NUL in a name, a loop of links
            return None
        return resolved if resolved.is_relative_to(self.root) and resolved.is_file() else None

    def lock(self, key: str) -> threading.Lock:
        """One lock per month: two requests approving or settling it run one after the other."""
        with self._guard:
            return self._month_locks.setdefault(key, threading.Lock())

    # -- scanning ---------------------------------------------------------------------------------

    def _files(self, pattern: str) -> list[Path]:
        return sorted(p for p in self.root.rglob(pattern)
                      if not any(part.startswith((".", "~$")) for part in p.relative_to(self.root).parts)
                      and self.inside(p) is not None)  # fmt: skip

    def names(self, path: Path) -> dict[str, str] | None:
        """A workbook's defined names (cached), None when it is not a workbook we can read."""
        stamp = _stamp(path)
        cached = self._names.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            names: dict[str, str] | None = defined_names(path)
        except (Unreadable, OSError):
            names = None
        self._names[path] = (stamp, names)
        return names

    def months(self) -> dict[str, list[MonthFiles]]:
        """Every DAO's months, in period order."""
        found: dict[tuple[str, str], MonthFiles] = {}
        for path in self._files("*-settlement.json"):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                dao = str(record["dao"]["code"] if record["framework"] == "kat" else GRAPE_DAO)
                m = found.setdefault((dao, str(record["period"])),
                                     MonthFiles(dao, str(record["framework"]), str(record["period"])))  # fmt: skip
            except (ValueError, KeyError, TypeError, UnicodeDecodeError, OSError):
                continue
            m.record_path, m.record = path, record
        for path in sorted(self._files("*.xlsx"), key=lambda p: (_stamp(p)[0], p.name)):
            names = self.names(path)
            template = _constant(names, "KatsheetTemplate") if names else None
            period = _constant(names, "KatsheetMonth") if names else None
            if not template or not period:
                continue
            kat = template == TEMPLATE
            dao = (_constant(names, "KatsheetDao") or "?") if kat else GRAPE_DAO  # type: ignore[arg-type]
            m = found.setdefault((dao, period), MonthFiles(dao, "kat" if kat else "grape", period))
            if _constant(names, "KatsheetSettled"):  # type: ignore[arg-type]
                if m.settled is None or (m.record and path.name == f"{m.record.get('settlement_id')}-settled.xlsx"):
                    m.settled = path
            else:
                m.workbooks.append(path)
        out: dict[str, list[MonthFiles]] = {}
        for (dao, _), m in sorted(found.items()):
            out.setdefault(dao, []).append(m)
        return out

    def month(self, dao: str, period: str) -> MonthFiles | None:
        """The month of a DAO (its code, or the code as an address segment gives it) and period."""
        from .links import segment

        return next((m for code, ms in self.months().items() if dao in (code, segment(code))
                     for m in ms if m.period == period), None)  # fmt: skip

    def files_of(self, m: MonthFiles) -> dict[str, Path]:
        """The files a month's page may offer, by name: its workbooks, and the settlement record with
        the files it names that exist under the folder (a record naming ``../x`` names nothing)."""
        out = {p.name: p for p in [*m.workbooks, *([m.settled] if m.settled else [])]}
        if m.record is not None and m.record_path is not None:
            out[m.record_path.name] = m.record_path
            for name in m.record.get("files", {}):
                if isinstance(name, str) and name == Path(name).name and name not in (".", ".."):
                    file = self.inside(m.record_path.parent / name)
                    if file is not None:
                        out[name] = file
        return out

    # -- reading ----------------------------------------------------------------------------------

    def analyse(self, path: Path) -> Analysis:
        """The workbook read and checked, cached until the file changes."""
        with self._reading:
            stamp = _stamp(path)
            cached = self._analyses.get(path)
            if cached and cached[0] == stamp:
                return cached[1]
            return self._analyse(path, stamp)

    def _analyse(self, path: Path, stamp: tuple[int, int]) -> Analysis:
        try:
            book = read_workbook(path)
            analysis = Analysis(book, check(book))
        except InputError as e:
            analysis = Analysis(None, None, e.line())
        self._analyses[path] = (stamp, analysis)
        return analysis

    def forget(self, path: Path) -> None:
        self._analyses.pop(path, None)

    def stage(self, m: MonthFiles, *, wait: bool = True) -> str | None:
        """The month's stage; with ``wait=False``, None while its workbook is not read yet."""
        if m.record is not None:
            return "settled"
        path = m.workbook
        if path is None:
            return "draft"
        if not wait:
            cached = self._analyses.get(path)
            return cached[1].stage if cached and cached[0] == _stamp(path) else None
        return self.analyse(path).stage
