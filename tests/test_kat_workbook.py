"""The KAT workbook (issue 11): written by `katsheet new --template kat`, recalculated by LibreOffice
headless and by katsheet's evaluation (the `formulas` package), every computed cell agreeing with
the KAT engine: K1 to K10, the CED sample months and random months with every status and problem.
Exact for flags, levels, counts, dates and the problem texts; one unit of the last decimal for amounts."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest
from kat_helpers import CED, GUARDRAILS, MONTH, ced
from libreoffice import require_libreoffice
from test_kat_vectors import CASES
from workbooks import cached_values, described, evaluated_values, libreoffice_mismatches, mismatches

from katsheet.engine.kat import ExceptionRecord, Ledger, LedgerRow, MemberState, parse_config
from katsheet.engine.kat.records import STATUSES
from katsheet.io.katfiles import sample_inputs
from katsheet.layouts.kat import SAMPLE_MONTH, KatMonth, kat_layout
from katsheet.workbook.writer import workbook_bytes

RANDOM_MONTHS = 200
NAMES = ["Ada", "ada ", "Bo", "Cy", "Dee", "  Eve", "Fay", "member 7"]


def vector_month(name: str) -> KatMonth:
    case = CASES[name]()
    config = ced(**case.settlement) if case.settlement else ced()
    return KatMonth(config, MONTH, Ledger.of(case.ledger), tuple(case.exceptions), tuple(case.states), spare_rows=3)


def sample_month(name: str) -> KatMonth:
    config, ledger, exceptions, states = sample_inputs(name)
    return KatMonth(config, SAMPLE_MONTH, ledger, tuple(exceptions), tuple(states), spare_rows=5)


def random_month(seed: int) -> KatMonth:
    """A configuration inside the guardrails, and a ledger with every status and problem mixed in."""
    rng = random.Random(seed)
    data = {**CED, "settlement": dict(CED["settlement"]), "karma": dict(CED["karma"])}
    decimals = rng.choice([0, 2, 2, 4, 6])
    global_cap = Decimal(rng.choice([60, 500, 5000, 123457]))
    data["settlement"].update(
        kat_per_credit=Decimal(rng.choice(["0.7", "1", "2.5", "5", "10"])), global_cap=global_cap,
        per_user_cap=(global_cap * Decimal("0.05") * Decimal(rng.choice(["0.3", "0.77", "1"]))).quantize(
            Decimal("0.01")), decimals=decimals,
    )  # fmt: skip
    data["karma"].update(promote_after=rng.randint(1, 3), inactivity_days=rng.choice([10, 30, 60]))
    data["rules"] = [
        dict(r, credits=Decimal(rng.choice(["0.1", "0.5", "1", "1.3", "3", "5"])))
        | ({"limit": rng.randint(1, 3)} if rng.random() < 0.4 else {})
        for r in CED["rules"]
    ]
    for r in data["rules"]:
        if r.get("limit", 0) is None:
            del r["limit"]
    config = parse_config(data, GUARDRAILS, source=f"random {seed}")
    start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
    rules = [r.id for r in config.rules]
    ledger = []
    for i in range(rng.randint(0, 40)):
        member = rng.choice(NAMES)
        rule = rng.choice([*rules, *rules, "ZZ", " g1"])
        known = config.rule(rule)
        fine = rng.random() < 0.7
        day = start + dt.timedelta(days=rng.randrange(30)) if fine else rng.choice(
            [None, dt.date(2026, 10, 25), dt.date(2026, 12, 2), start])  # fmt: skip
        ledger.append(LedgerRow(
            entry=rng.choice([f"E{i}", f"E{i}", "E0", " e1 ", ""]) if not fine else f"E{i}",
            date=day, member=member if fine or rng.random() < 0.9 else "",
            stakeholder=(known.stakeholder if known else "Guides") if fine or rng.random() < 0.6 else "Partners",
            rule=rule, quantity=rng.choice(["1", "2", 3, ""]) if fine else rng.choice(["0", "1.5", "", "x", 2]),
            evidence="https://e.example" if fine or rng.random() < 0.5 else " ",
            verified_by="Org" if fine or rng.random() < 0.5 else rng.choice(["", member.upper(), "Org"]),
            verified_on=day if fine else rng.choice([None, day, end + dt.timedelta(days=1)]),
            status=rng.choice(["verified"] * 6 + list(STATUSES) + ["approved", " Verified "]),
            settled=rng.choice(["", "", "", "2026-10"]) if not fine else "", where=f"row {i + 2}",
        ))  # fmt: skip
    present = sorted({m.strip().casefold(): m.strip() for m in NAMES}.values())
    states = [
        MemberState(m, rng.randint(0, config.top_level), rng.randint(0, 3),
                    rng.choice([None, dt.date(2026, 8, 1), dt.date(2026, 10, 20)]),
                    rng.choice([None, dt.date(2026, 1, 5)]), Decimal(rng.choice(["0", "12.5", "99.99", "250"])))
        for m in present if rng.random() < 0.6
    ]  # fmt: skip
    known = {m.member.casefold() for m in states} | {r.member.strip().casefold() for r in ledger if r.member.strip()}
    exceptions = [
        ExceptionRecord(f"X{i}", rng.choice([dt.date(2026, 11, 9), dt.date(2026, 12, 9)]), m, "conduct",
                        rng.choice(["open", "upheld", "dismissed"]), settled=rng.choice(["", "", "2026-10"]))
        for i, m in enumerate(rng.sample(sorted(known), min(2, len(known))))
    ]  # fmt: skip
    return KatMonth(
        config,
        MONTH,
        Ledger.of(ledger),
        tuple(exceptions),
        tuple(states),
        spare_rows=3,
        member_spare_rows=2,
        exception_spare_rows=2,
    )


def months() -> dict[str, KatMonth]:
    out = {name: vector_month(name) for name in CASES}
    out["CED"], out["CED-blocked"] = sample_month("month"), sample_month("blocked")
    out |= {f"random-{seed}": random_month(seed) for seed in range(RANDOM_MONTHS)}
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, tuple[KatMonth, Path]]:
    folder = tmp_path_factory.mktemp("kat")
    out = {}
    for name, month in months().items():
        path = folder / f"{name}.xlsx"
        path.write_bytes(workbook_bytes(kat_layout(month), month, decimals=month.config.decimals))
        out[name] = (month, path)
    return out


def test_the_random_months_hold_every_kind_of_row(written) -> None:
    """The proof below is only as good as its months: every problem and outcome occurs in them."""
    rows = [r for month, _ in written.values() for r in month.period.rows]
    problems = {p.split(" ")[0] for r in rows for p in r.problems}
    assert {"the", "entry", "status", "quantity", "rule", "stakeholder", "no", "verified", "dated"} <= problems
    assert any(r.beyond_limit for r in rows) and any(r.late for r in rows) and any(r.history for r in rows)
    members = [m for month, _ in written.values() for m in month.period.members]
    assert {m.level - m.level_before for m in members} == {-1, 0, 1}
    assert any(m.upheld for m in members) and any(m.inactive for m in members)
    assert any(month.period.global_cap_engaged for month, _ in written.values())
    assert any(m.capped < m.raw for m in members)


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_engines_figures(written, tmp_path) -> None:
    require_libreoffice()
    bad, _ = libreoffice_mismatches(written, tmp_path / "lo")
    assert not bad, described(bad)


def test_the_cached_values_are_the_engines(written) -> None:
    name = "CED-blocked"
    month, path = written[name]
    assert mismatches(month, cached_values(path)) == []


def evaluated_mismatches(job: tuple[str, Path, KatMonth | None]) -> list[str]:
    """One month evaluated by katsheet's column-wise evaluation (the `formulas` functions), against
    the engine, in a worker process (a random month is rebuilt there from its seed)."""
    name, path, month = job
    month = month if month is not None else random_month(int(name.split("-")[1]))
    return mismatches(month, evaluated_values(path))


def test_katsheets_evaluation_recalculates_the_engines_figures(written, request) -> None:
    """Every month (K1 to K10, the samples, 200 random ones) evaluated with `formulas`' functions."""
    import os
    from concurrent.futures import ProcessPoolExecutor

    from conftest import Progress

    progress = Progress(request, "KAT months evaluated by formulas' functions", len(written))
    bad = {}
    with ProcessPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        jobs = [(n, p, None if n.startswith("random-") else m) for n, (m, p) in written.items()]
        for (name, _, _), found in zip(jobs, pool.map(evaluated_mismatches, jobs), strict=True):
            progress.advance()
            if found:
                bad[name] = found
    assert not bad, described(bad)


def test_new_writes_the_kat_sample_and_refuses_grape_options(run, tmp_path) -> None:
    out = tmp_path / "kat.xlsx"
    code, text, _ = run("new", str(out), "--template", "kat", "--sample")
    assert code == 0 and "64 ledger rows" in text and out.exists()
    assert run("new", str(out), "--template", "kat", "--sample")[0] == 2  # never over a file unless --force
    for extra, word in ((["--budget", "5"], "--budget"), (["--roster", "r.csv"], "--roster")):
        code, _, err = run("new", str(tmp_path / "x.xlsx"), "--template", "kat", "--sample", *extra)
        assert code == 2 and word in err and "GRAPE" in err and err.count("\n") == 1
    code, _, err = run("new", str(tmp_path / "y.xlsx"), "--template", "kat")
    assert code == 2 and "--config" in err and not (tmp_path / "y.xlsx").exists()
    code, _, err = run("new", str(tmp_path / "z.xlsx"), "--ledger", "l.csv")
    assert code == 2 and "--template kat" in err


def test_the_writers_formula_shortcut_writes_what_xlsxwriter_writes() -> None:
    """writer.fast_formulas skips XlsxWriter's thirty regular expressions per formula: for every
    formula of every shipped template and sample it gives exactly XlsxWriter's own result, and a
    formula that needs XlsxWriter's expansion still gets it."""
    import io

    import xlsxwriter

    from katsheet.workbook.expected import formula_cells
    from katsheet.workbook.shipped import layout_of, sample_months, shipped_templates
    from katsheet.workbook.writer import fast_formulas

    workbook = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    plain, fast = workbook.add_worksheet(), workbook.add_worksheet()
    fast_formulas(fast)
    seen = 0
    for month in {**shipped_templates(), **sample_months()}.values():
        layout = layout_of(month)
        for fc in {fc.formula: fc for fc in formula_cells(layout)}.values():
            assert fast._prepare_formula(fc.formula) == plain._prepare_formula(fc.formula), fc.formula
            seen += 1
    assert seen > 300
    assert fast._prepare_formula("=XLOOKUP(A1,B:B,C:C)") == "_xlfn.XLOOKUP(A1,B:B,C:C)"
    assert fast._prepare_formula("=_xlfn.MAXIFS(A:A,B:B,1)") == "_xlfn.MAXIFS(A:A,B:B,1)"
    workbook.close()


def test_the_writers_shortcuts_change_no_byte_of_the_sample_months(monkeypatch, tmp_path) -> None:
    """With the shortcuts off (every formula through XlsxWriter's write_formula and its expansion,
    every table cell stored and written by XlsxWriter's own methods, not rendered a column at a
    time), the KAT and GRAPE sample months are the same files, part by part."""
    import zipfile

    from xlsxwriter.sharedstrings import SharedStrings
    from xlsxwriter.worksheet import Worksheet

    from katsheet.workbook import writer
    from katsheet.workbook.shipped import sample_months, write_month

    def parts(name: str, month) -> dict[str, bytes]:
        with zipfile.ZipFile(write_month(month, tmp_path / name)) as z:
            return {n: z.read(n) for n in z.namelist()}

    months = sample_months()
    fast = {name: parts(f"fast-{name}", m) for name, m in months.items()}
    monkeypatch.setattr(writer, "_plain_formula", lambda formula: False)
    monkeypatch.setattr(writer.LeanWorksheet, "_write_cell", Worksheet._write_cell)
    monkeypatch.setattr(writer.LeanWorksheet, "raw_tables", False)
    monkeypatch.setattr(writer.LeanSharedStrings, "_write_sst_strings", SharedStrings._write_sst_strings)
    assert {name: parts(f"plain-{name}", m) for name, m in months.items()} == fast


def test_the_lean_worksheet_writes_every_kind_of_cell_as_xlsxwriter_does() -> None:
    """writer.LeanWorksheet's cell loop against XlsxWriter's own, on every kind of cell and cached
    value it takes (and those it leaves to XlsxWriter): the same sheet XML, byte for byte."""
    import io
    import re

    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    from katsheet.workbook.writer import LeanWorksheet

    def sheet_xml(cls: type) -> str:
        workbook = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True, "strings_to_formulas": False})
        ws = workbook.add_worksheet("S", worksheet_class=cls)
        fmt, dated = workbook.add_format({"num_format": "0.00"}), workbook.add_format({"num_format": "yyyy-mm-dd"})
        values = [0, -1, 7, 0.1, 1 / 3, 1e-300, 9_999_999_999_999.0, 2**60, True, False, "", "x", "#N/A",
                  "#DIV/0!", "#VALUE!", 'a & b < c > "d"\n', "\x01 ctrl", "=SUM(A1)"]  # fmt: skip
        for r, v in enumerate(values):
            ws.write_formula(r, 0, '=IF(A1="","<&>",B1)', fmt, v)
            ws.write_formula(r, 1, "=A1", None, v)  # no format: XlsxWriter's own path
            if isinstance(v, str):
                ws.write_string(r, 2, v, fmt)
                ws.write_string(r, 3, v)
            else:
                ws.write_number(r, 2, v, fmt)
                ws.write_number(r, 3, v)
            ws.write_boolean(r, 4, bool(r % 2), fmt)
            ws.write_blank(r, 5, None, fmt)
            ws.write_datetime(r, 6, __import__("datetime").date(2026, 1, r + 1), dated)
        ws.write_array_formula(30, 0, 31, 0, "{=A1:A2*2}", fmt, 4)
        ws.set_row(40, None, fmt)
        ws.write_formula(40, 0, "=1", None, 1)  # the row's format
        workbook.close()
        ws._set_filehandle(io.StringIO())
        ws._write_sheet_data()
        return ws.fh.getvalue()

    lean, plain = sheet_xml(LeanWorksheet), sheet_xml(Worksheet)
    assert lean == plain
    assert len(re.findall(r"<c ", plain)) > 120 and 't="e"' in plain and 't="b"' in plain and "&amp;" in plain


def test_a_table_rendered_as_rows_is_what_xlsxwriter_writes_cell_by_cell() -> None:
    """LeanWorksheet's rendered rows (put_raw_rows, value_xml, _formula_xml) against XlsxWriter's
    own write_* and cell loop, on every kind of value a table column holds, beside cells XlsxWriter
    writes itself, under a chart of the rendered columns: the same parts, byte for byte."""
    import io
    import zipfile

    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    from katsheet.workbook.writer import LeanWorksheet, _formula_xml

    texts = ["Ada", 'a & b < c > "d"', " lead", "\x01 ctrl", "x" * 40_000, "Ada"]
    constants = [0, -1, 7, 0.1, 1 / 3, 2**60, True, False, None, "", *texts]
    cached = [0, 2.5, True, False, "", "ok", "#N/A", "#DIV/0!", 'a & "b"', *range(len(constants) - 9)]
    formula = '=IF($A{r}="","<&>",$B{r}*2)'

    def parts(cls: type) -> dict[str, bytes]:
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
        ws = workbook.add_worksheet("S", worksheet_class=cls)
        fmt, other = workbook.add_format({"num_format": "0.00"}), workbook.add_format({"bold": True})
        for f in (fmt, other):
            f._get_xf_index()
        ws.write_string(0, 0, "above the table", other)
        ws.set_row(3, 30)
        rows = len(constants)
        if cls is LeanWorksheet:
            a = [ws.value_xml(2 + i, 0, f'<c r="A{3 + i}" s="{(other if i < 2 else fmt)._get_xf_index()}"', v)
                 for i, v in enumerate(constants)]  # fmt: skip
            escape = ws._escape_data
            b = [_formula_xml(f'<c r="B{3 + i}" s="{fmt._get_xf_index()}"', escape(formula.format(r=3 + i)[1:]), v,
                              escape) for i, v in enumerate(cached)]  # fmt: skip
            ws.raw_data.update({0: (2, False, constants), 1: (2, True, cached)})
            ws.put_raw_rows(2, [(1, b), (0, a)])
        else:
            for i, v in enumerate(constants):
                f = other if i < 2 else fmt
                if v is None or v == "":
                    ws.write_blank(2 + i, 0, None, f)
                elif isinstance(v, bool):
                    ws.write_boolean(2 + i, 0, v, f)
                elif isinstance(v, (int, float)):
                    ws.write_number(2 + i, 0, v, f)
                else:
                    ws.write_string(2 + i, 0, v, f)
            for i, v in enumerate(cached):
                ws.write_formula(2 + i, 1, formula.format(r=3 + i), fmt, v)
        ws.write_string(2 + rows + 1, 2, "below", other)
        chart = workbook.add_chart({"type": "bar"})
        chart.add_series({"categories": ["S", 2, 0, 1 + rows, 0], "values": ["S", 2, 1, 1 + rows, 1]})
        ws.insert_chart("E2", chart)
        workbook.close()
        with zipfile.ZipFile(buffer) as z:
            return {n: z.read(n) for n in z.namelist()}

    rendered, plain = parts(LeanWorksheet), parts(Worksheet)
    assert rendered == plain
    sheet = plain["xl/worksheets/sheet1.xml"].decode()
    assert 't="b"' in sheet and 't="e"' in sheet and "&amp;" in sheet and 'spans="1:3"' in sheet
    assert "<c:v>Ada</c:v>" in plain["xl/charts/chart1.xml"].decode()


_TEXTS = ["Ada", "", 'a & b < c > "d"', " lead", "trail ", "line\n", "\ttab", "mid\tdle", "\x01 ctrl", "_x0041_",
          "_X0041_", "_x00G1_", "<r><t>rich</t></r>", "<r>", "\ufffe", "\u00e9\u4e2d", "a\nb", "a\u00a0b", "\u00a0nbsp", "sep\x1c", "x" * 300]  # fmt: skip


def test_the_lean_shared_strings_are_what_xlsxwriter_writes() -> None:
    """writer.LeanSharedStrings against XlsxWriter's own part, on plain texts and on every kind it
    leaves to XlsxWriter (escapes, control characters, white space kept, rich text): byte for byte."""
    import io

    from xlsxwriter.sharedstrings import SharedStrings, SharedStringTable

    from katsheet.workbook.writer import LeanSharedStrings

    def part(cls: type) -> str:
        table = SharedStringTable()
        for text in _TEXTS * 2:
            table._get_shared_string_index(text)
        table._sort_string_data()
        sst = cls()
        sst.string_table = table
        sst._set_filehandle(io.StringIO())
        sst._assemble_xml_file()
        return sst.fh.getvalue()

    lean, plain = part(LeanSharedStrings), part(SharedStrings)
    assert lean == plain
    assert plain.count("<si>") == len(_TEXTS) and "_x005F_x0041_" in plain and 'xml:space="preserve"' in plain


def test_parts_are_deflated_at_the_fast_level_and_xlsxwriter_is_left_as_found(tmp_path) -> None:
    """Every part of a written month is deflated at writer.DEFLATE_LEVEL (what XlsxWriter gives no
    option for), and XlsxWriter's own ZipFile is back once the file is written."""
    import zipfile
    import zlib

    import xlsxwriter.packager
    import xlsxwriter.sharedstrings
    import xlsxwriter.workbook

    from katsheet.workbook import writer
    from katsheet.workbook.shipped import sample_months, write_month

    path = write_month(sample_months()["2026-11-kat-ced.xlsx"], tmp_path / "kat.xlsx")
    with zipfile.ZipFile(path) as z:
        infos = [i for i in z.infolist() if i.file_size > 10_000]
        assert infos
        for info in infos:
            deflate = zlib.compressobj(writer.DEFLATE_LEVEL, zlib.DEFLATED, -15)
            data = z.read(info)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.compress_size == len(deflate.compress(data) + deflate.flush()), info.filename
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    assert xlsxwriter.packager.SharedStrings is xlsxwriter.sharedstrings.SharedStrings
