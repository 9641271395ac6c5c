"""`katsheet settle` on KAT months (issue 12): refused with every reason until the month is clean,
approved and every member paid has a wallet; then its files, all or nothing, verifiable by anyone;
and every change after settlement named by `katsheet check` at its cell or entry id."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from workbooks import with_sheet_edited

from katsheet.cycle.wallets import evm_problem
from katsheet.engine.kat.seal import GENESIS, canonical, seal
from katsheet.layouts.kat import LEDGER, MEMBERS, kat_layout
from katsheet.workbook.checker import check
from katsheet.workbook.reader import read_workbook
from katsheet.workbook.shipped import kat_sample_month, write_month

pytestmark = pytest.mark.libreoffice
SIGNED_ON = 46358  # 2026-12-02 as a spreadsheet date
ID = "CED-2026-11"


def _cell(path: Path, name: str) -> str:
    return read_workbook(path).names[name].split("!")[1].replace("$", "")


@pytest.fixture(scope="module")
def month():
    return kat_sample_month()


@pytest.fixture(scope="module")
def signed(month, lo_editor, tmp_path_factory) -> Path:
    """The sample month, approved in LibreOffice as a person signs it."""
    folder = tmp_path_factory.mktemp("signed")
    base = write_month(month, folder / "month.xlsx")
    return lo_editor.edit(base, folder / "signed.xlsx", [
        ["set_text", "Checklist", _cell(base, "ApprovedBy"), "Priya Nair (CED council)"],
        ["set", "Checklist", _cell(base, "ApprovedOn"), SIGNED_ON],
    ])  # fmt: skip


@pytest.fixture(scope="module")
def settled(signed, tmp_path_factory) -> Path:
    from katsheet.cli.main import main

    out = tmp_path_factory.mktemp("settled")
    assert main(["settle", str(signed), "--out", str(out)]) == 0
    return out


def test_an_unsigned_month_is_refused_naming_the_cells(month, run, tmp_path) -> None:
    path = write_month(month, tmp_path / "m.xlsx")
    code, _, err = run("settle", str(path))
    assert code == 1
    assert f"Checklist!{_cell(path, 'ApprovedBy')}: the approval is not signed" in err
    assert f"Checklist!{_cell(path, 'ApprovedOn')}: the approval has no date" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.xlsx"]


def test_a_month_with_findings_is_refused_with_each(run, tmp_path) -> None:
    from katsheet.io.katfiles import sample_inputs
    from katsheet.layouts.kat import SAMPLE_MONTH, KatMonth

    config, ledger, exceptions, states = sample_inputs("blocked")
    path = write_month(KatMonth(config, SAMPLE_MONTH, ledger, tuple(exceptions), tuple(states)), tmp_path / "b.xlsx")
    code, _, err = run("settle", str(path))
    assert code == 1 and "refused (4 reasons)" in err  # the check's findings, the cause, first
    assert [line.split(":")[0].strip() for line in err.splitlines()[1:]] == [
        "Ledger!E71", "Ledger!F73", "Ledger!J74", "Ledger!A76"]  # fmt: skip


def test_a_member_paid_without_a_wallet_blocks_settlement(month, lo_editor, run, tmp_path) -> None:
    import dataclasses

    from katsheet.engine.names import member_key

    paid = next(m for m in month.period.members if m.kat > 0)
    wallets = {k: w for k, w in month.wallets.items() if k != member_key(paid.member)}
    path = write_month(dataclasses.replace(month, wallets=wallets), tmp_path / "m.xlsx")
    signed = lo_editor.edit(path, tmp_path / "s.xlsx", [
        ["set_text", "Checklist", _cell(path, "ApprovedBy"), "Priya"], ["set", "Checklist", _cell(path, "ApprovedOn"),
                                                                      SIGNED_ON]])  # fmt: skip
    code, _, err = run("settle", str(signed))
    table = kat_layout(month).sheet(MEMBERS).table
    row = table.first_row + [m.member for m in month.members].index(paid.member)
    assert code == 1 and f"Members!{table.letter('wallet')}{row}: {paid.member} is paid" in err


def test_the_settled_files_are_what_the_record_says(month, settled) -> None:
    record = json.loads((settled / f"{ID}-settlement.json").read_text())
    for name, digest in record["files"].items():
        assert hashlib.sha256((settled / name).read_bytes()).hexdigest() == digest
    rows = list(csv.DictReader(io.StringIO((settled / f"{ID}-mint.csv").read_text())))
    assert sum(Decimal(r["amount"]) for r in rows) == month.period.minted == Decimal(record["totals"]["minted"])
    assert [r["member"] for r in rows] == [m.member for m in month.period.members if m.kat > 0]
    assert all(evm_problem(r["wallet"]) is None for r in rows) and len({r["wallet"] for r in rows}) == len(rows)
    book = read_workbook(settled / f"{ID}-settled.xlsx")
    assert check(book).findings == []
    assert book.month.stamp.seal == record["seal"] and book.month.stamp.approved_by == "Priya Nair (CED council)"
    assert book.month.period.minted == month.period.minted


def test_the_seal_is_the_documented_hash_of_the_sealed_sheet(month, settled) -> None:
    """layouts/settled.py's format, computed here from the file by openpyxl: the SHA-256 of the
    compact JSON array of [sheet, cell, text], UTF-8, in the Sealed sheet's order; and that copy
    is every constant cell of the month, made here one cell at a time."""
    import dataclasses

    import openpyxl

    from katsheet.layouts.settled import SEALED, seal_text

    record = json.loads((settled / f"{ID}-settlement.json").read_text())
    ws = openpyxl.load_workbook(settled / f"{ID}-settled.xlsx")[SEALED]
    cells = []
    for where, pairs in ws.iter_rows(min_row=2, max_col=2, values_only=True):
        sheet, _, row = where.rpartition("!")
        cells += [[sheet, f"{letters}{row}", text] for letters, text in json.loads(pairs)]
    text = json.dumps(cells, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == record["seal"]

    unsealed = dataclasses.replace(read_workbook(settled / f"{ID}-settled.xlsx").month, stamp=None)
    one_by_one = []
    for sheet in kat_layout(unsealed).sheets:
        table = sheet.table
        for col in table.columns if table is not None else ():
            if col.formula is None:
                one_by_one += [[sheet.name, f"{table.letter(col.key)}{table.first_row + i}",
                                seal_text(col.value(unsealed, i))] for i in range(table.rows)]  # fmt: skip
    in_tables = {(s, c) for s, c, _ in one_by_one}
    assert len(one_by_one) > 1000
    assert sorted(one_by_one) == sorted(c for c in cells if (c[0], c[1]) in in_tables)


def test_reading_a_settled_month_leaves_its_sealed_copy_unrendered(settled, monkeypatch) -> None:
    """The seal is in the file: checking a settled month compares the file's Sealed sheet with its
    cells and never makes the constant cells again (130,000 of them at 10,000 ledger rows)."""
    import katsheet.layouts.settled as settled_module

    def refused(*_):
        raise AssertionError("the constant cells were made again")

    monkeypatch.setattr(settled_module, "constant_rows", refused)
    book = read_workbook(settled / f"{ID}-settled.xlsx")
    assert book.month.stamp.seal and check(book).findings == []


def test_anyone_can_recompute_the_chain_from_the_settled_ledger(settled) -> None:
    """From the settled workbook's Ledger cells alone, by kat.md's recipe (docs/cycle.md)."""
    import openpyxl

    ws = openpyxl.load_workbook(settled / f"{ID}-settled.xlsx", data_only=True)[LEDGER]
    header = [c.value for c in ws[4]]
    previous, count = GENESIS, 0
    for row in ws.iter_rows(min_row=5, values_only=True):
        cells = dict(zip(header, row, strict=False))
        if not cells.get("Seal"):
            continue
        fields = [cells[h] for h in ("Entry", "Date", "Member", "Stakeholder", "Rule", "Quantity", "Evidence",
                                     "Verified by", "Verified on", "Status", "Notes")]  # fmt: skip
        text = [f.date().isoformat() if hasattr(f, "date") else ("" if f is None else str(f).strip()) for f in fields]
        previous = seal(previous, canonical("ledger", cells["Settled in"], text))
        assert previous == cells["Seal"], cells["Entry"]
        count += 1
    record = json.loads((settled / f"{ID}-settlement.json").read_text())
    assert (previous, count) == (record["chains"]["ledger"]["head"], record["chains"]["ledger"]["records"])
    assert count > 50


def test_settling_again_is_refused_and_again_is_byte_identical(settled, run, tmp_path) -> None:
    path = settled / f"{ID}-settled.xlsx"
    code, _, err = run("settle", str(path))
    assert code == 1 and "settled once" in err
    code, out, _ = run("settle", str(path), "--again")
    assert code == 0 and out.count("byte-identical") == 4
    code, _, _ = run("settle", str(path), "--again", "--out", str(tmp_path))
    assert code == 0
    for name in (f"{ID}-mint.csv", f"{ID}-report.html", f"{ID}-settlement.json"):
        assert (tmp_path / name).read_bytes() == (settled / name).read_bytes()


def test_settle_writes_all_or_nothing(signed, run, tmp_path) -> None:
    (tmp_path / f"{ID}-report.html").write_text("mine")
    code, _, err = run("settle", str(signed), "--out", str(tmp_path))
    assert code == 2 and "already exists" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{ID}-report.html"]
    assert (tmp_path / f"{ID}-report.html").read_text() == "mine"


def _stored(path: Path, out: Path, cell: str, value: str) -> Path:
    """``path`` with one Members cell's stored value replaced, as a program that does not
    recalculate saves it."""
    return with_sheet_edited(path, out, MEMBERS, rf'(<c r="{cell}"[^>]*>.*?<v>)([^<]*)(</v>)'.encode(),
                             rf"\g<1>{value}\g<3>".encode())  # fmt: skip


def test_a_number_found_once_the_files_are_made_still_refuses_and_writes_nothing(
    month, signed, run, tmp_path, monkeypatch
) -> None:
    """settle makes its files in memory while the formulas are evaluated on the other core: a stored
    figure the formulas contradict, found after that, refuses as before and nothing is written."""
    import katsheet.cycle.settle as settling

    members = kat_layout(month).sheet(MEMBERS).table
    cell = f"{members.letter('kat')}{members.first_row + 1}"
    path = _stored(signed, tmp_path / "stale.xlsx", cell, "99999")
    made = []
    real = settling._settlement
    monkeypatch.setattr(settling, "_settlement", lambda *a: made.append(a) or real(*a))
    out = tmp_path / "out"
    out.mkdir()
    code, _, err = run("settle", str(path), "--out", str(out))
    assert code == 1 and f"{MEMBERS}!{cell}" in err, err
    assert len(made) == 1  # the files were made, then dropped
    assert list(out.iterdir()) == []


def test_a_settlement_made_on_the_other_core_is_the_one_made_in_one_process(signed, monkeypatch) -> None:
    """settle makes its files while the formulas are evaluated in a forked child (background.py):
    the same files, byte for byte, and the same record as with everything in one process."""
    from katsheet.cycle import settle as settling
    from katsheet.workbook.background import SERIAL_VARIABLE, Background, can_fork

    forked = []
    real = Background._fork
    monkeypatch.setattr(Background, "_fork", lambda self: forked.append(1) or real(self))
    two = settling.settle(signed)  # nothing written: the files are returned
    assert len(forked) == (1 if can_fork() else 0)  # the evaluation, begun as the file was read
    monkeypatch.setenv(SERIAL_VARIABLE, "1")
    one = settling.settle(signed)
    assert [(p.name, data) for p, data in two.files] == [(p.name, data) for p, data in one.files]
    assert two.record == one.record and len(two.files) == 4


def test_next_gives_the_checks_findings_before_saying_the_month_is_not_settled(month, run, tmp_path) -> None:
    """next makes the new month while the settled one is checked on the other core: a month with
    findings is refused for them, as when the check ran first."""
    path = write_month(month, tmp_path / "m.xlsx")
    members = kat_layout(month).sheet(MEMBERS).table
    cell = f"{members.letter('kat')}{members.first_row + 1}"
    stale = _stored(path, tmp_path / "stale.xlsx", cell, "99999")
    code, _, err = run("next", str(stale))
    assert code == 1 and f"{MEMBERS}!{cell}" in err and "not settled" not in err, err
    code, _, err = run("next", str(path))
    assert code == 2 and "is not settled" in err


@pytest.mark.parametrize("tamper", ["a number", "a name", "a wallet", "a sealed row edited", "a sealed row deleted",
                                    "rows swapped"])  # fmt: skip
def test_every_change_after_settlement_is_named(month, settled, lo_editor, tamper, tmp_path) -> None:
    path = settled / f"{ID}-settled.xlsx"
    members = kat_layout(month).sheet(MEMBERS).table
    ledger = kat_layout(month).sheet(LEDGER).table
    first = ledger.first_row
    ops = {
        "a number": [["set", MEMBERS, f"{members.letter('cumulative_before')}{members.first_row + 1}", 999]],
        "a name": [["set_text", MEMBERS, f"{members.letter('member')}{members.first_row + 2}", "Someone Else"]],
        "a wallet": [
            [
                "set_text",
                MEMBERS,
                f"{members.letter('wallet')}{members.first_row}",
                "0x0000000000000000000000000000000000000001",
            ]
        ],
        "a sealed row edited": [["set_text", LEDGER, f"{ledger.letter('notes')}{first + 3}", "edited later"]],
        "a sealed row deleted": [["delete_rows", LEDGER, first + 3, 1]],
        "rows swapped": [["sort", LEDGER, f"A{first}:{ledger.letter('seal')}{first + 5}", 0, True]],
    }[tamper]
    found = check(read_workbook(lo_editor.edit(path, tmp_path / "t.xlsx", ops))).findings
    sealed = [f for f in found if f.kind == "sealed"]
    assert sealed, (tamper, found[:3])
    if tamper in ("a number", "a name", "a wallet"):
        assert (sealed[0].sheet, sealed[0].cell) == (MEMBERS, ops[0][2]), sealed
    elif tamper == "a sealed row edited":
        assert any(f.sheet == LEDGER and f.cell == f"A{first + 3}" and "CED-0004" in f.message for f in sealed), sealed
    else:
        assert any(f.sheet == LEDGER and "entry" in f.message for f in sealed), sealed


# ---------------------------------------------------------------------------------------------
# katsheet next and katsheet history: two months in a row, then tampering with the folder


@pytest.fixture(scope="module")
def two_months(month, settled, lo_editor, tmp_path_factory) -> Path:
    """November settled, December started from it, signed in LibreOffice and settled: one folder."""
    import shutil

    from katsheet.cli.main import main

    folder = tmp_path_factory.mktemp("folder")
    for p in settled.iterdir():
        shutil.copy(p, folder / p.name)
    assert main(["next", str(folder / f"{ID}-settled.xlsx")]) == 0
    december = folder / "CED-2026-12.xlsx"
    signed = lo_editor.edit(december, folder / "dec-signed.xlsx", [
        ["set_text", "Checklist", _cell(december, "ApprovedBy"), "Priya Nair"],
        ["set", "Checklist", _cell(december, "ApprovedOn"), SIGNED_ON + 31],
    ])  # fmt: skip
    assert main(["settle", str(signed)]) == 0
    return folder


def test_next_carries_the_sealed_ledger_open_rows_and_every_members_state(month, two_months) -> None:
    import openpyxl

    from katsheet.engine.names import member_key

    december = read_workbook(two_months / "CED-2026-12.xlsx").month
    november = read_workbook(two_months / f"{ID}-settled.xlsx").month
    assert december.period.period == "2026-12" and december.stamp is None and december.approval == {}
    sealed = [r for r in november.rows if r.seal]
    assert [r.seal for r in december.rows[: len(sealed)]] == [r.seal for r in sealed]
    assert {r.entry for r in december.rows[len(sealed) :]} == {r.entry for r in november.rows if not r.seal}
    assert {r.status.strip() for r in december.rows[len(sealed) :]} <= {"pending", "disputed", "verified"}
    carried = {member_key(s.member): s for s in december.states}
    for m in month.period.members:
        s = carried[member_key(m.member)]
        assert (s.level, s.streak, s.last_active, s.first_seen, s.cumulative) == (
            m.level, m.streak, m.last_active, m.first_seen, m.cumulative)  # fmt: skip
        assert s.wallet == month.wallet_of(m.member)
    ws = openpyxl.load_workbook(two_months / "CED-2026-12.xlsx")[LEDGER]
    first = kat_layout(december).sheet(LEDGER).table.first_row
    assert ws[f"A{first}"].protection.locked and not ws[f"A{first + len(sealed)}"].protection.locked
    assert check(read_workbook(two_months / "CED-2026-12.xlsx")).findings == []


def test_next_refuses_a_month_that_is_not_settled(month, run, tmp_path) -> None:
    code, _, err = run("next", str(write_month(month, tmp_path / "m.xlsx")))
    assert code == 2 and "is not settled" in err and len(list(tmp_path.iterdir())) == 1


def test_the_december_chain_extends_novembers(two_months) -> None:
    nov = json.loads((two_months / f"{ID}-settlement.json").read_text())
    dec = json.loads((two_months / "CED-2026-12-settlement.json").read_text())
    assert dec["chains"]["ledger"]["records"] >= nov["chains"]["ledger"]["records"]
    book = read_workbook(two_months / "CED-2026-12-settled.xlsx")
    sealed = [r for r in book.month.rows if r.seal]
    assert sealed[nov["chains"]["ledger"]["records"] - 1].seal == nov["chains"]["ledger"]["head"]
    assert sealed[-1].seal == dec["chains"]["ledger"]["head"]


def test_history_lists_and_verifies_the_folder(two_months, run) -> None:
    code, out, err = run("history", str(two_months), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [(m["period"], m["verified"]) for m in data["months"]] == [("2026-11", True), ("2026-12", True)]
    nov = json.loads((two_months / f"{ID}-settlement.json").read_text())
    assert data["months"][0]["paid"] == nov["totals"]["minted"]
    series = data["members"]["CED"]
    assert sum(Decimal(v["2026-11"]) for v in series.values() if "2026-11" in v) == Decimal(nov["totals"]["minted"])
    code, out, _ = run("history", str(two_months), "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "dao,period,settlement_id,paid,left,members_paid,verified"


@pytest.mark.parametrize("tamper", ["an amount in a mint file", "a month deleted", "two months swapped",
                                    "a chain that does not extend"])  # fmt: skip
def test_history_names_each_tampering(two_months, run, tamper, tmp_path) -> None:
    import shutil

    folder = tmp_path / "f"
    shutil.copytree(two_months, folder)
    if tamper == "an amount in a mint file":
        mint = folder / f"{ID}-mint.csv"
        mint.write_text(mint.read_text().replace(",50\n", ",51\n", 1))
        named = f"{ID}-mint.csv: changed since settlement"  # (and the files no longer sum to the record)
    elif tamper == "a month deleted":
        for p in folder.glob(f"{ID}-*"):
            p.unlink()
        named = "holds rows settled in 2026-11, whose settlement is missing"
    elif tamper == "two months swapped":
        a, b = folder / f"{ID}-settled.xlsx", folder / "CED-2026-12-settled.xlsx"
        data = a.read_bytes()
        a.write_bytes(b.read_bytes())
        b.write_bytes(data)
        named = f"{ID}-settled.xlsx: changed since settlement"
    else:
        record = folder / f"{ID}-settlement.json"
        data = json.loads(record.read_text())
        data["chains"]["ledger"]["head"] = "f" * 64
        record.write_text(json.dumps(data))
        named = "does not extend 2026-11's at entry"
    code, _, err = run("history", str(folder))
    assert code == 1 and named in err, err
