"""The dashboard end to end in a real browser (issue 13): Debian's chromium, headless, driven by
Playwright, against the app served on 127.0.0.1. A newcomer walks a KAT month and a GRAPE month
from validation to settled to the next month; every figure on the page is the engine's, and the
files downloaded are byte for byte what `katsheet settle` writes. Screenshots are saved in
test-artifacts/ (KATSHEET_ARTIFACTS to put them elsewhere)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from dashboard_folder import APPROVED_ON, grape_draft, kat_draft

from katsheet.workbook.reader import read_workbook

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-quic", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(os.environ.get("KATSHEET_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium under Playwright, with a fresh profile (a tool's own browser download fails here)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="katsheet-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                                                       viewport={"width": 1280, "height": 900}, accept_downloads=True)  # fmt: skip
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


class Served:
    def __init__(self, folder: Path) -> None:
        import uvicorn

        from katsheet.dashboard.app import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.folder = folder
        self.server = uvicorn.Server(uvicorn.Config(create_app(folder), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))  # fmt: skip
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.05)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "months"
    folder.mkdir()
    kat_draft(folder)
    grape_draft(folder)
    s = Served(folder)
    yield s
    s.stop()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def column(page, caption: str, index: int) -> list[str]:
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    return [c.strip() for c in table.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()]


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def index(page, served: Served) -> None:
    """The index once every month's stage is known (it shows "checking…" while the dashboard reads
    the workbooks in the background, and reloads itself until then)."""
    deadline = time.monotonic() + 120
    page.goto(served.url())
    while "checking…" in page.content():
        assert time.monotonic() < deadline, "the index never finished checking the months"
        page.wait_for_timeout(500)
        page.goto(served.url())


def walk(page, served: Served, dao: str, payout: str, tmp_path: Path, label: str) -> None:
    """validated -> approved -> settled -> next month, checking figures and files on the way."""
    index(page, served)
    shot(page, f"{label}-1-index")
    page.locator("section", has=page.get_by_role("heading", name=dao)).get_by_role("link", name="2026-11").click()
    assert page.locator("[aria-current=step]").inner_text() == "validated"
    page.get_by_role("button", name="Validate (run katsheet check)", exact=True).click()
    assert "Validated:" in page.locator(".message").inner_text()
    page.get_by_label("Approved by", exact=True).fill("Priya Nair")
    page.get_by_label("Approved on", exact=True).fill(APPROVED_ON)
    page.get_by_role("button", name="Approve", exact=True).click()
    assert page.locator("[aria-current=step]").inner_text() == "approved"
    workbook = served.folder / f"{dao}-2026-11.xlsx"
    approved = tmp_path / f"{label}-approved.xlsx"
    shutil.copy(workbook, approved)
    month = read_workbook(workbook).month
    members = month.members
    figures = [(m.member, m.kat) for m in members] if label == "kat" else [(m.member, m.total) for m in members]
    shown = column(page, "Per member", 0)
    amounts = column(page, "Per member", 6 if label == "kat" else 2)
    assert [(n, number(a)) for n, a in zip(shown, amounts, strict=True)] == figures
    shot(page, f"{label}-2-approved")
    page.get_by_label("Payout file").select_option(payout)
    page.get_by_role("button", name="Settle", exact=True).click()
    assert page.locator("[aria-current=step]").inner_text() == "settled"
    shot(page, f"{label}-3-settled")
    # the files, downloaded, are what katsheet settle writes from the same approved workbook
    from katsheet.cli.main import main

    cli = tmp_path / f"{label}-cli"
    cli.mkdir()
    assert main(["settle", str(approved), "--out", str(cli), "--payout", payout]) == 0
    for made in sorted(cli.iterdir()):
        with page.expect_download() as download:
            files = page.locator("table", has=page.locator("caption", has_text="Each file and its SHA-256"))
            files.get_by_role("link", name=made.name, exact=True).click()
        assert Path(download.value.path()).read_bytes() == made.read_bytes(), made.name
    # a member's figure, explained
    first = shown[0]
    page.get_by_role("link", name=first, exact=True).first.click()
    assert page.get_by_role("heading", name="This month's figure, step by step").is_visible()
    assert "ROUNDDOWN" in page.locator("main").inner_text()
    shot(page, f"{label}-4-member")
    page.go_back()
    page.get_by_role("button", name="Start the next month", exact=True).click()
    assert (served.folder / f"{dao}-2026-12.xlsx").is_file()
    index(page, served)
    rows = page.locator("table", has=page.locator("caption", has_text=f"{dao}: months")).locator("tbody tr")
    assert [r.replace("\t", " ").split()[:2] for r in rows.all_inner_texts()] == [
        ["2026-11", "settled"],
        ["2026-12", "validated"],
    ]


def test_a_newcomer_walks_a_kat_month_and_a_grape_month_to_the_next(chromium, served, tmp_path) -> None:
    page = chromium.new_page()
    walk(page, served, "CED", "kat-mint", tmp_path, "kat")
    walk(page, served, "GRAPE", "solana-tokens", tmp_path, "grape")
    page.close()


def test_tables_sort_by_keyboard_and_the_page_fits_a_phone(chromium, served) -> None:
    page = chromium.new_page()
    page.goto(served.url("/CED/2026-11/index.html"))
    kat = [number(x) for x in column(page, "Per member", 6)]
    button = page.locator("table", has=page.locator("caption", has_text="Per member")).get_by_role(
        "button", name="KAT", exact=True
    )
    for _ in range(200):  # Tab through the page until the KAT heading has the focus
        page.keyboard.press("Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    else:
        pytest.fail("the KAT column's heading is not reachable by Tab")
    page.keyboard.press("Enter")
    assert [number(x) for x in column(page, "Per member", 6)] == sorted(kat)
    page.keyboard.press("Enter")
    assert [number(x) for x in column(page, "Per member", 6)] == sorted(kat, reverse=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(served.url("/GRAPE/2026-11/index.html"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # wide tables scroll in their box
    shot(page, "phone-grape-month")
    page.close()
