"""The monthly cycle at the issue's sizes: `katsheet settle` and `katsheet next` on a KAT month of
10,000 ledger rows and 1,000 members and on a GRAPE month of 1,000 members, and `katsheet history`
over a folder of 24 settled months.

    python benchmarks/bench_cycle.py [--rows 10000 --members 1000 --months 24]

Baseline in the same run: `katsheet check` of the same month (settling checks it first, so it
is the floor settle cannot go below without a faster checker). Targets (issue 12): settle, next
and history under 3 s each.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import base58
from _months import month as grape_month
from _table import as_command, one_core, show, timed
from bench_kat import MONTH, write_month

from katsheet.cycle.next import next_grape_book, next_kat_month
from katsheet.cycle.next import next_month as start_next
from katsheet.cycle.settle import settle, write_settlement
from katsheet.cycle.wallets import eip55
from katsheet.engine.names import member_key
from katsheet.io.katfiles import load_config, load_guardrails, read_ledger, read_states
from katsheet.layouts.grape import as_book, grape_layout
from katsheet.layouts.kat import KatMonth, kat_layout
from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import kat_sample_month
from katsheet.workbook.writer import workbook_bytes

APPROVAL = {"ApprovedBy": "Treasurer", "ApprovedOn": dt.date(2026, 12, 2)}


def wallet(name: str) -> str:
    return eip55("0x" + hashlib.sha256(name.encode()).hexdigest()[:40])


def write(month: KatMonth, path: Path) -> Path:
    path.write_bytes(workbook_bytes(kat_layout(month), month, decimals=month.config.decimals))
    return path


def grape(folder: Path, members: int) -> tuple[float, float, float]:
    """check, settle and next of a GRAPE month of ``members`` role rows, each with a wallet."""
    m = grape_month(members)
    rows = tuple(dataclasses.replace(r, wallet=base58.b58encode(hashlib.sha256(r.member.encode()).digest()).decode())
                 for r in m.rows)  # fmt: skip
    book = dataclasses.replace(as_book(dataclasses.replace(m, rows=rows)), approval=APPROVAL)
    path = folder / "grape.xlsx"
    path.write_bytes(workbook_bytes(grape_layout(book), book, decimals=book.first.options.decimals))
    out = folder / "grape-out"
    out.mkdir()
    check_s, report = timed(as_command(lambda: check(read_workbook(path))))
    assert not report.findings, report.findings[:3]
    settle_s, _ = timed(as_command(lambda: write_settlement(settle(path, out, payout="solana-tokens"))))
    settled = out / f"GRAPE-{book.month}-settled.xlsx"

    def next_month() -> None:
        b = next_grape_book(settled, carry_over="50%")
        (out / "next.xlsx").write_bytes(workbook_bytes(grape_layout(b), b, decimals=b.first.options.decimals))

    next_s, _ = timed(as_command(next_month))
    return check_s, settle_s, next_s


def settled_folder(folder: Path, months: int) -> None:
    """``months`` CED sample months in a row, each approved, settled and started from the last."""
    month = dataclasses.replace(kat_sample_month(), approval=APPROVAL)
    for _ in range(months):
        path = write(month, folder / f"{month.period.settlement_id}.xlsx")
        write_settlement(settle(path, folder))
        month = dataclasses.replace(next_kat_month(folder / f"{month.period.settlement_id}-settled.xlsx"),
                                    approval=APPROVAL)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--grape-members", type=int, default=1_000)
    args = parser.parse_args()
    config = load_config(None, load_guardrails())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ledger_csv, state_csv = write_month(folder, args.rows, args.members, config)
        ledger, states = read_ledger(ledger_csv), tuple(read_states(state_csv))
        month = KatMonth(config, MONTH, ledger, (), states, approval=APPROVAL)
        month = dataclasses.replace(
            month, wallets={member_key(m.member): wallet(m.member) for m in month.period.members}
        )
        # the benchmark month has flawed rows on purpose (bench_kat.py); settling needs a clean one
        clean = [r for r, res in zip(month.rows, month.results, strict=True) if not res.problems]
        month = dataclasses.replace(month, ledger=type(month.ledger).of(clean))
        path = write(month, folder / "big.xlsx")
        out = folder / "out"
        out.mkdir()
        check_s, report = timed(as_command(lambda: check(read_workbook(path, evaluate_early=True))))
        assert not report.findings, report.findings[:3]
        serial_out = folder / "one-core"
        serial_out.mkdir()
        settle_s, _ = timed(as_command(lambda: write_settlement(settle(path, out))))
        serial_settle_s, _ = timed(as_command(one_core(lambda: write_settlement(settle(path, serial_out)))))
        settled = out / f"{month.period.settlement_id}-settled.xlsx"

        def started() -> None:  # as `katsheet next` runs it
            (out / "next.xlsx").write_bytes(start_next(settled).render())

        next_s, _ = timed(as_command(started))
        serial_next_s, _ = timed(as_command(one_core(started)))
        history_folder = folder / "history"
        history_folder.mkdir()
        settled_folder(history_folder, args.months)
        from katsheet.cycle.history import history

        history_s, months = timed(as_command(lambda: history(history_folder)))
        assert all(not m.problems for ms in months.values() for m in ms)
        g_check, g_settle, g_next = grape(folder, args.grape_members)
    rows = [
        [f"katsheet check ({args.rows:,} rows, {args.members:,} members; baseline)", f"{check_s:.2f}", "-", "1.00x"],
        ["katsheet settle (check included)", f"{settle_s:.2f}", "3", f"{settle_s / check_s:.2f}x"],
        [
            "katsheet settle on one core (KATSHEET_SERIAL=1)",
            f"{serial_settle_s:.2f}",
            "-",
            f"{serial_settle_s / check_s:.2f}x",
        ],
        ["katsheet next", f"{next_s:.2f}", "3", f"{next_s / check_s:.2f}x"],
        [
            "katsheet next on one core (KATSHEET_SERIAL=1)",
            f"{serial_next_s:.2f}",
            "-",
            f"{serial_next_s / check_s:.2f}x",
        ],
        [f"katsheet history ({args.months} CED months)", f"{history_s:.2f}", "3", "-"],
        [f"GRAPE: katsheet check ({args.grape_members:,} role rows; baseline)", f"{g_check:.2f}", "-", "1.00x"],
        ["GRAPE: katsheet settle (check included)", f"{g_settle:.2f}", "3", f"{g_settle / g_check:.2f}x"],
        ["GRAPE: katsheet next", f"{g_next:.2f}", "3", f"{g_next / g_check:.2f}x"],
    ]
    show("The monthly cycle", ["what", "seconds", "target s", "vs check"], rows)


if __name__ == "__main__":
    main()
