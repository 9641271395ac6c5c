"""Folders of months for the dashboard's tests and benchmark, made by katsheet's own commands."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from katsheet.cli.main import main
from katsheet.layouts.grape import as_book
from katsheet.workbook.shipped import kat_sample_month, sample_months, write_month

APPROVED_ON = "2026-12-02"


def ok(*args: str) -> None:
    code = main(list(args))
    assert code == 0, f"katsheet {' '.join(args)} exited {code}"


def kat_draft(folder: Path) -> Path:
    """The CED sample month as CED-2026-11.xlsx (clean, not approved)."""
    return write_month(kat_sample_month(), folder / "CED-2026-11.xlsx")


def grape_draft(folder: Path, *, names: dict[str, str] | None = None) -> Path:
    """The two-SubDAO GRAPE sample as GRAPE-2026-11.xlsx; ``names`` renames members (hostile text)."""
    book = as_book(sample_months()["2026-11-subdaos.xlsx"])
    if names:
        book = dataclasses.replace(book, parts=tuple(
            dataclasses.replace(p, rows=tuple(dataclasses.replace(r, member=names.get(r.member, r.member)) for r in p.rows))
            for p in book.parts))  # fmt: skip
    return write_month(book, folder / "GRAPE-2026-11.xlsx")


def settled_kat(folder: Path, months: int = 2) -> None:
    """KAT months from November on: each approved, settled and followed by the next; the last one
    is left clean and unapproved."""
    path = kat_draft(folder)
    for _ in range(months - 1):
        ok("approve", str(path), "--by", "Priya Nair", "--on", APPROVED_ON, "--in-place")
        ok("settle", str(path))
        settled = next(folder.glob(f"{path.stem}-settled.xlsx"))
        ok("next", str(settled))
        path = sorted(p for p in folder.glob("CED-????-??.xlsx"))[-1]


def settled_grape(folder: Path, months: int = 2, payout: str = "solana-tokens") -> None:
    path = grape_draft(folder)
    for _ in range(months - 1):
        ok("approve", str(path), "--by", "GRAPE council", "--on", APPROVED_ON, "--in-place")
        ok("settle", str(path), "--payout", payout)
        ok("next", str(folder / f"{path.stem}-settled.xlsx"))
        path = sorted(p for p in folder.glob("GRAPE-????-??.xlsx"))[-1]
