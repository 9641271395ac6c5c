"""The dashboard's server (issue 13): every route, escaping, path traversal, CSRF, the access
token, two requests acting on one month at once, and the steps of the cycle through it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from dashboard_folder import APPROVED_ON, grape_draft, kat_draft, settled_kat
from starlette.testclient import TestClient

from katsheet.dashboard.app import create_app
from katsheet.dashboard.links import member_file
from katsheet.layouts.kat import kat_layout
from katsheet.layouts.settled import constant_cells
from katsheet.workbook.checker import check
from katsheet.workbook.reader import _named, read_workbook

HOSTILE = {"Ada Okafor": "<script>alert(1)</script>", "Chen Wei": '=HYPERLINK("http://evil.example","pay me")'}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """CED 2026-11 settled and 2026-12 started from it; GRAPE 2026-11 clean, with hostile names."""
    folder = tmp_path_factory.mktemp("made")
    settled_kat(folder, 2)
    grape_draft(folder, names=HOSTILE)
    return folder


@pytest.fixture
def folder(made, tmp_path) -> Path:
    """A copy of the made folder each test may change."""
    return Path(shutil.copytree(made, tmp_path / "months"))


@pytest.fixture
def client(folder) -> TestClient:
    return TestClient(create_app(folder, warm_up=False))


def csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def version(page: str) -> str:
    return re.search(r'name="version" value="([^"]*)"', page).group(1)


def cells(html: str, table_caption: str) -> list[list[str]]:
    """The text of each body row of the table with this caption."""
    table = html[html.index(f"<caption>{table_caption}") :]
    table = table[: table.index("</table>")]
    body = table[table.index("<tbody>") :]
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]  # fmt: skip


# -- pages -------------------------------------------------------------------------------------


def test_the_index_lists_each_dao_and_its_months_at_their_stage(client) -> None:
    page = client.get("/").text
    rows = {(r[0], r[1]) for r in cells(page, "CED: months and their stage")}
    assert rows == {("2026-11", "settled"), ("2026-12", "validated")}
    assert cells(page, "GRAPE: months and their stage")[0][:2] == ["2026-11", "validated"]
    assert 'aria-current="step">settled' in page


def test_every_route_answers(client, folder) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/CED/2026-11/index.html").status_code == 200
    assert client.get("/CED/2026-11/" + member_file("Bruno Silva")).status_code == 200
    assert (
        client.get("/CED/2026-11/files/CED-2026-11-mint.csv").content == (folder / "CED-2026-11-mint.csv").read_bytes()
    )
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/sort.js").status_code == 200
    assert client.get("/CED/2031-01/index.html").status_code == 404
    assert client.get("/CED/2026-11/" + member_file("Nobody")).status_code == 404
    assert client.get("/CED/2026-11/approve").status_code == 404  # actions are POSTs only
    assert client.get("/CED/2026-11/files/nothing.csv").status_code == 404


def test_the_month_page_shows_the_engines_figures(client, folder) -> None:
    page = client.get("/CED/2026-11/index.html").text
    month = read_workbook(folder / "CED-2026-11-settled.xlsx").month
    shown = {r[0]: r for r in cells(page, "Per member")}
    assert set(shown) == {m.member for m in month.members}
    for m in month.members:
        assert Decimal(shown[m.member][6].replace(",", "")) == m.kat
        assert shown[m.member][2] == str(m.level)
    figures = dict(re.findall(r'<th scope="row">(.*?)</th><td class="n">(.*?)</td>', page))
    assert Decimal(figures["Minted"].replace(",", "")) == month.period.minted
    assert f"<code>{hashlib.sha256((folder / 'CED-2026-11-mint.csv').read_bytes()).hexdigest()}</code>" in page
    assert month.stamp.seal in page
    # the checklist: each machine-checked item with its result
    assert len(cells(page, "Machine-checked items")) == len(month.checks)


def test_the_member_page_explains_the_figure_step_by_step(client, folder) -> None:
    page = unescape(client.get("/CED/2026-11/" + member_file("Bruno Silva")).text)
    month = read_workbook(folder / "CED-2026-11-settled.xlsx").month
    bruno = next(m for m in month.members if m.member == "Bruno Silva")
    assert "CED-0062" in page and "not counted: disputed" in page  # the row that did not count, and why
    assert f"Level {bruno.level_before} → {bruno.level}" in page
    assert f"KAT = ROUNDDOWN(scaled, 2) = {bruno.kat:,.2f}" in page
    assert cells(page.replace("&", "&amp;"), "Paid or minted to Bruno Silva") == [["2026-11", f"{bruno.kat:,.2f}"]]


def test_user_text_is_escaped_in_pages(client) -> None:
    page = client.get("/GRAPE/2026-11/index.html").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    member = client.get("/GRAPE/2026-11/" + member_file("<script>alert(1)</script>"))
    assert member.status_code == 200 and "<script>alert" not in member.text
    assert 'href="http://evil.example"' not in page
    # and in the workbook the dashboard writes, a formula-looking approver stays text
    client.post("/GRAPE/2026-11/approve", data={"csrf": csrf(page), "version": version(page), "on": APPROVED_ON,
                                                "by": '=HYPERLINK("http://evil.example","ok")'})  # fmt: skip
    book = read_workbook(client.app.state.folder.root / "GRAPE-2026-11.xlsx")
    where = _named(book.names, "ApprovedBy", book.path)[:2]
    assert where not in book.formula_keys and book.month.approval["ApprovedBy"].startswith("=HYPERLINK(")
    members = {r.member for p in book.month.parts for r in p.rows}
    assert set(HOSTILE.values()) <= members and not any(
        k[0].startswith("Scoring") and str(book.formulas[k]).startswith("=HYPERLINK") for k in book.formula_keys
    )


# -- security ----------------------------------------------------------------------------------


OUTSIDE = [
    "/CED/2026-11/files/../../../../etc/passwd", "/CED/2026-11/files/%2e%2e%2f%2e%2e%2foutside.txt",
    "/CED/2026-11/files/..%2f..%2foutside.txt", "/CED/2026-11/files/%2Fetc%2Fpasswd", "/CED/2026-11/files/link-out",
    "/CED/2026-11/files/forged.txt", "/..%2f..%2f/2026-11/files/outside.txt", "/CED/..%2f..%2f/files/outside.txt",
    "/CED/2026-11/files/..", "/static/../../outside.txt", "/static/%2e%2e/%2e%2e/outside.txt",
]  # fmt: skip


def test_no_file_outside_the_folder_is_served(client, folder) -> None:
    """Downloads are the month's own files by name; a link out of the folder, or a settlement record
    rewritten to name a file outside it, is never served (nor published by katsheet report)."""
    (folder.parent / "outside.txt").write_text("secret")
    (folder / "link-out").symlink_to(folder.parent / "outside.txt")
    (folder / "forged.txt").symlink_to(folder.parent / "outside.txt")
    record = folder / "CED-2026-11-settlement.json"
    data = json.loads(record.read_text())
    data["files"].update({"../outside.txt": "0" * 64, "link-out": "0" * 64, "forged.txt": "0" * 64})
    record.write_text(json.dumps(data))
    for path in OUTSIDE:
        r = client.get(path)
        assert r.status_code == 404 and "secret" not in r.text, path
    page = client.get("/CED/2026-11/index.html").text
    assert "secret" not in page and "files/..%2F" not in page and "(missing)" in page


def test_a_post_without_the_csrf_token_changes_nothing(client, folder) -> None:
    before = (folder / "CED-2026-12.xlsx").read_bytes()
    page = client.get("/CED/2026-12/index.html").text
    form = {"by": "Mallory", "on": APPROVED_ON, "version": version(page)}
    assert client.post("/CED/2026-12/approve", data=form).status_code == 403
    assert client.post("/CED/2026-12/approve", data={**form, "csrf": "guess"}).status_code == 403
    cross = client.post("/CED/2026-12/approve", data={**form, "csrf": csrf(page)},
                        headers={"origin": "http://evil.example"})  # fmt: skip
    assert cross.status_code == 403
    assert (folder / "CED-2026-12.xlsx").read_bytes() == before


def test_another_host_needs_the_access_token(folder) -> None:
    client = TestClient(create_app(folder, token="s3cret", warm_up=False), follow_redirects=False)
    assert client.get("/").status_code == 403
    assert client.get("/CED/2026-11/files/CED-2026-11-mint.csv").status_code == 403
    assert client.get("/?token=wrong").status_code == 403
    entered = client.get("/?token=s3cret")
    assert entered.status_code == 303 and "token" not in entered.headers["location"]
    assert client.get("/").status_code == 200  # the cookie from then on


# -- the cycle's steps -------------------------------------------------------------------------


def test_approve_writes_the_approval_and_loses_nothing(client, folder) -> None:
    path = folder / "CED-2026-12.xlsx"
    before = read_workbook(path).month
    page = client.get("/CED/2026-12/index.html").text
    r = client.post("/CED/2026-12/approve", data={"csrf": csrf(page), "version": version(page),
                                                        "by": "<img src=x onerror=alert(1)>", "on": APPROVED_ON})  # fmt: skip
    assert r.status_code == 200 and "Approved: the approval is written" in r.text
    assert "<img src=x" not in r.text
    book = read_workbook(path)
    assert check(book).clean
    after = book.month
    assert after.approval["ApprovedBy"] == "<img src=x onerror=alert(1)>"  # text, as typed
    signed = {_named(book.names, name, path)[:2] for name in ("ApprovedBy", "ApprovedOn")}
    old, new = set(constant_cells(kat_layout(before), before)), set(constant_cells(kat_layout(after), after))
    assert {(sheet, cell) for sheet, cell, _ in old ^ new} == signed  # the two approval cells, nothing else
    assert cells(client.get("/").text, "CED: months and their stage")[1][:2] == ["2026-12", "approved"]


def test_settle_and_next_through_the_dashboard_match_the_command_line(client, folder, tmp_path, run) -> None:
    page = client.get("/CED/2026-12/index.html").text
    client.post("/CED/2026-12/approve", data={"csrf": csrf(page), "version": version(page), "by": "Priya Nair",
                                                    "on": APPROVED_ON})  # fmt: skip
    approved = tmp_path / "approved.xlsx"
    shutil.copy(folder / "CED-2026-12.xlsx", approved)
    page = client.get("/CED/2026-12/index.html").text
    r = client.post("/CED/2026-12/settle", data={"csrf": csrf(page), "version": version(page), "payout": "kat-mint"})
    assert r.status_code == 200 and "Settled:" in r.text
    out = tmp_path / "cli"
    out.mkdir()
    assert run("settle", str(approved), "--out", str(out))[0] == 0
    for made in out.iterdir():  # the same bytes as katsheet settle writes, the record included
        assert (folder / made.name).read_bytes() == made.read_bytes(), made.name
    page = client.get("/CED/2026-12/index.html").text
    r = client.post("/CED/2026-12/next", data={"csrf": csrf(page)})
    assert r.status_code == 200 and (folder / "CED-2027-01.xlsx").is_file()
    again = client.post("/CED/2026-12/next", data={"csrf": csrf(page)})
    assert again.status_code == 409 and "in the folder already" in again.text


def test_two_tabs_settling_one_month_at_once_one_wins_the_other_is_told(client, folder) -> None:
    page = client.get("/CED/2026-12/index.html").text
    client.post("/CED/2026-12/approve", data={"csrf": csrf(page), "version": version(page), "by": "Priya Nair",
                                                    "on": APPROVED_ON})  # fmt: skip
    page = client.get("/CED/2026-12/index.html").text
    form = {"csrf": csrf(page), "version": version(page), "payout": "kat-mint"}
    results: list[int] = []
    start = threading.Barrier(2)

    def tab() -> None:
        start.wait()
        results.append(client.post("/CED/2026-12/settle", data=form, follow_redirects=False).status_code)

    threads = [threading.Thread(target=tab) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [303, 409]
    record = folder / "CED-2026-12-settlement.json"
    assert record.is_file() and not list(folder.glob(".*katsheet*"))
    from katsheet.cycle.history import history

    assert not [p for ms in history(folder).values() for m in ms for p in m.problems]


def test_two_tabs_approving_one_month_the_second_is_told_it_changed(client, folder) -> None:
    page = client.get("/CED/2026-12/index.html").text
    form = {"csrf": csrf(page), "version": version(page), "on": APPROVED_ON}
    assert client.post("/CED/2026-12/approve", data={**form, "by": "first"}).status_code == 200
    second = client.post("/CED/2026-12/approve", data={**form, "by": "second"})
    assert second.status_code == 409 and "changed since this page was opened" in second.text
    assert read_workbook(folder / "CED-2026-12.xlsx").month.approval["ApprovedBy"] == "first"


def test_a_refused_step_names_its_reasons_and_writes_nothing(client, folder) -> None:
    page = client.get("/GRAPE/2026-11/index.html").text
    before = sorted(p.name for p in folder.iterdir())
    bad_date = client.post("/GRAPE/2026-11/approve", data={"csrf": csrf(page), "version": version(page),
                                                                 "by": "x", "on": "yesterday"})  # fmt: skip
    assert bad_date.status_code == 409 and "is not a date" in bad_date.text
    r = client.post("/GRAPE/2026-11/settle", data={"csrf": csrf(page), "version": version(page)})
    assert r.status_code == 409 and "the approval is not signed" in unescape(r.text)
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.libreoffice
def test_a_month_with_findings_is_a_draft_until_fixed_and_validated(tmp_path, lo_editor) -> None:
    """A person types over the Minted total in LibreOffice: the month is a draft, the finding shown at
    its cell; they undo it, press Validate, and the month is validated."""
    original = kat_draft(tmp_path)
    pristine = original.read_bytes()
    sheet, cell = read_workbook(original).names["Minted"].replace("$", "").split("!")
    lo_editor.edit(original, tmp_path / "edited.xlsx", [["set", sheet, cell, 1000]])
    shutil.move(tmp_path / "edited.xlsx", original)
    client = TestClient(create_app(tmp_path, warm_up=False))
    page = client.get("/CED/2026-11/index.html").text
    assert 'aria-current="step">draft' in page
    assert [sheet + "!" + cell] == [r[1] for r in cells(page, "What katsheet check found, at its cell")][:1]
    assert 'name="by"' not in page  # no approval before the month validates
    original.write_bytes(pristine)
    r = client.post("/CED/2026-11/validate", data={"csrf": csrf(page)})
    assert "Validated:" in r.text and 'aria-current="step">validated' in r.text and 'name="by"' in r.text


def test_a_grape_month_near_the_caps_switch_warns_with_the_jump_and_a_picture(tmp_path) -> None:
    """grape.md 2.8's own example as a month: five members sit near the switch."""
    from katsheet.engine import SINGLE_CRITERION
    from katsheet.engine.grape.roster import ScoredRow
    from katsheet.engine.grape.sensitivity import cap_switches
    from katsheet.layouts.grape import Month
    from katsheet.workbook.shipped import write_month

    weights = ["0.85", "0", "0", "0.48", "0", "0.78", "0.68", "0", "0.59", "0", "0"]
    rows = tuple(ScoredRow(f"Member {i + 1}", "Contributor", (Decimal(w),), Decimal(w)) for i, w in enumerate(weights))
    month = Month(template="expanded", month="2026-11", budget=Decimal(156659), rows=rows, criteria=SINGLE_CRITERION)
    write_month(month, tmp_path / "GRAPE-2026-11.xlsx")
    page = TestClient(create_app(tmp_path, warm_up=False)).get("/GRAPE/2026-11/index.html").text
    assert "Warning: the dynamic cap sits near its switch" in page
    shown = cells(page, "Weights that switch the cap")
    expected = cap_switches(month.budget, [r.role_row() for r in rows], month.options)
    assert len(shown) == len(expected) == 5
    assert [(r[0], Decimal(r[6].replace(",", ""))) for r in shown] == [(s.member, s.jump) for s in expected]
    assert '<svg role="img" aria-label="jump of the member' in page


def test_the_index_answers_at_once_and_says_which_months_it_is_still_checking(folder) -> None:
    """With the warm-up on (as `katsheet dashboard` runs), the first index does not wait for
    katsheet check: a month not read yet shows "checking…" and the page reloads itself."""
    client = TestClient(create_app(folder))
    first = client.get("/").text
    assert "checking…" in first and '<meta http-equiv="refresh"' in first
    app_folder = client.app.state.folder
    for m in [m for ms in app_folder.months().values() for m in ms]:
        app_folder.analyse(m.workbook)
    later = client.get("/").text
    assert "checking…" not in later and 'http-equiv="refresh"' not in later


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_the_command_prints_its_address_and_off_loopback_a_token(made, host) -> None:
    """`katsheet dashboard FOLDER` as a person starts it: the address it prints opens the index;
    listening beyond this machine, the address carries the access token and nothing opens without it."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "katsheet", "dashboard", str(made), "--port", str(port), "--host", host],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = proc.stdout.readline()
        address = re.search(r"open (http://\S+)", line).group(1)
        assert address.startswith(f"http://{host}:{port}/")
        local = address.replace(host, "127.0.0.1", 1)
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())  # keeps the token's cookie
        deadline = time.monotonic() + 30
        while True:
            try:
                with browser.open(local, timeout=30) as r:
                    assert r.status == 200 and b"Months in the folder" in r.read()
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "the dashboard did not answer"
                time.sleep(0.1)
        if host != "127.0.0.1":
            assert "?token=" in address
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30)
            assert refused.value.code == 403
    finally:
        proc.terminate()
        proc.wait(10)
