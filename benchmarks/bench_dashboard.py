"""The dashboard over a folder of 2 DAOs x 24 months (issue 13): how soon `katsheet dashboard`
answers its first page, and how fast a month's page renders, beside `katsheet check` on the same
month (the page shows check's findings, so check is the baseline a cold page cannot beat).

    python benchmarks/bench_dashboard.py [--months 24]

The folder: the CED sample's months in a row, each approved, settled and started from the last
(bench_cycle.py), and 24 GRAPE months of the two-SubDAO sample, each settled; the month after the
last of each is left as a draft. Targets (issue 13): the dashboard starts in under 2 s and the
month page renders in under 300 ms.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import installed_bytecode, show, timed
from bench_cycle import settled_folder
from rich.progress import Progress

from katsheet.cycle.next import month_after
from katsheet.cycle.settle import settle, write_settlement
from katsheet.dashboard.links import member_file
from katsheet.layouts.grape import as_book, grape_layout
from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import sample_months
from katsheet.workbook.writer import workbook_bytes

APPROVAL = {"ApprovedBy": "GRAPE council", "ApprovedOn": dt.date(2026, 12, 2)}


def grape_months(folder: Path, months: int, progress: Progress) -> None:
    task = progress.add_task("GRAPE months settled", total=months)
    book = as_book(sample_months()["2026-11-subdaos.xlsx"])
    period = "2026-11"
    for i in range(months + 1):
        parts = tuple(dataclasses.replace(p, month=period) for p in book.parts)
        b = dataclasses.replace(book, parts=parts, approval=APPROVAL if i < months else {})
        path = folder / f"GRAPE-{period}.xlsx"
        path.write_bytes(workbook_bytes(grape_layout(b), b, decimals=b.first.options.decimals))
        if i < months:
            write_settlement(settle(path, folder, payout="solana-tokens"))
            progress.advance(task)
        period = month_after(period)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        assert r.status == 200
        return r.read()


def start(folder: Path) -> tuple[float, subprocess.Popen, str]:
    """`katsheet dashboard FOLDER` as a user starts it: seconds until its index page answers."""
    port = free_port()
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "katsheet", "dashboard", str(folder), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    while True:
        try:
            get(base + "/")
            return time.perf_counter() - began, proc, base
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("katsheet dashboard exited") from None
            time.sleep(0.02)


def main() -> None:
    installed_bytecode()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "months"
        folder.mkdir()
        with Progress() as progress:
            task = progress.add_task("CED months settled", total=None)
            settled_folder(folder, args.months)
            progress.update(task, total=1, completed=1)
            grape_months(folder, args.months, progress)
        middle = sorted(folder.glob("CED-????-??-settled.xlsx"))[args.months // 2]
        period = middle.name[4:11]
        start_s, proc, base = start(folder)
        try:
            time.sleep(0)  # the warm-up thread reads the months in the background from here
            page = f"{base}/CED/{period}/index.html"
            cold_s, _ = timed(lambda: get(page))  # read and checked now unless warmed already
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:  # until every month is in the cache
                get(f"{base}/GRAPE/2026-11/index.html")
                warm_all, _ = timed(lambda: get(f"{base}/GRAPE/2026-11/index.html"))
                if warm_all < 0.3:
                    break
            warm_s, html = timed(lambda: get(page), repeat=5)
            member_s, _ = timed(lambda: get(f"{base}/CED/{period}/{member_file('Bruno Silva')}"), repeat=5)
            index_s, _ = timed(lambda: get(base + "/"), repeat=5)
        finally:
            proc.terminate()
            proc.wait(10)
        check_s, report = timed(lambda: check(read_workbook(middle)), repeat=3)
        assert report.clean and b"katsheet check: clean" in html
        from katsheet.dashboard.site import build_site

        site_s, files = timed(lambda: build_site(folder))
    n = 2 * args.months
    rows = [
        [f"katsheet check of one CED month (baseline; {middle.name})", f"{check_s * 1000:.0f}", "-", "1.00x"],
        [f"dashboard start, until the index of {n} months answers", f"{start_s * 1000:.0f}", "2000",
         f"{start_s / check_s:.2f}x"],
        ["month page, first request (read and checked unless warmed up)", f"{cold_s * 1000:.0f}", "-",
         f"{cold_s / check_s:.2f}x"],
        ["month page, cached (the workbook unchanged on disk)", f"{warm_s * 1000:.0f}", "300", f"{warm_s / check_s:.2f}x"],
        ["member page, cached", f"{member_s * 1000:.0f}", "-", f"{member_s / check_s:.2f}x"],
        ["index page, cached", f"{index_s * 1000:.0f}", "-", f"{index_s / check_s:.2f}x"],
        [f"katsheet report: the static site ({len(files)} files)", f"{site_s * 1000:.0f}", "-", f"{site_s / check_s:.2f}x"],
    ]  # fmt: skip
    show(f"The dashboard over 2 DAOs x {args.months} months", ["what", "ms", "target ms", "vs check"], rows)


if __name__ == "__main__":
    main()
