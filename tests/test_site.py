"""`katsheet report FOLDER -o SITE`: the static transparency site (issue 13). Every link resolves
inside the site, every figure is the engine's, every settlement file is there with its SHA-256,
and nothing in it acts."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest
from dashboard_folder import grape_draft, settled_grape, settled_kat

from katsheet.dashboard.links import member_file
from katsheet.workbook.reader import read_workbook

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("months")
    settled_kat(folder, 2)
    settled_grape(folder, 2)
    return folder


@pytest.fixture(scope="module")
def site(folder, tmp_path_factory) -> Path:
    from katsheet.cli.main import main

    site = tmp_path_factory.mktemp("published") / "site"
    assert main(["report", str(folder), "-o", str(site)]) == 0
    return site


def links(page: Path) -> list[str]:
    return [unescape(x) for x in re.findall(r'(?:href|src)="([^"]+)"', page.read_text(encoding="utf-8"))]


def test_no_link_in_the_site_is_broken(site) -> None:
    pages = list(site.rglob("*.html"))
    assert len(pages) > 20  # index, 4 months, their members
    for page in pages:
        for link in links(page):
            if link.startswith("#"):
                continue
            assert "://" not in link and not link.startswith("/"), f"{page}: {link} leaves the site"
            target = (page.parent / unquote(link)).resolve()
            assert target.is_file() and target.is_relative_to(site.resolve()), f"{page}: {link} is broken"


def test_the_settled_files_are_published_with_their_sha256(folder, site) -> None:
    for record in folder.glob("*-settlement.json"):
        sid = record.name.removesuffix("-settlement.json")
        dao, period = sid.rsplit("-", 2)[0], sid[-7:]
        page = (site / dao / period / "index.html").read_text(encoding="utf-8")
        for name in [*__import__("json").loads(record.read_text())["files"], record.name]:
            published = site / dao / period / "files" / name
            assert published.read_bytes() == (folder / name).read_bytes()
            assert f"<code>{hashlib.sha256(published.read_bytes()).hexdigest()}</code>" in page


def test_the_figures_are_the_engines_and_nothing_acts(folder, site) -> None:
    month = read_workbook(folder / "CED-2026-11-settled.xlsx").month
    page = (site / "CED" / "2026-11" / "index.html").read_text(encoding="utf-8")
    for m in month.members:
        row = re.search(rf"<tr><td data-sort=\"{re.escape(m.member)}\">.*?</tr>", page).group(0)
        kat = re.findall(r'<td class="n" data-sort="([^"]*)">', row)[5]
        assert Decimal(kat) == m.kat
    # a GRAPE member's month by month, though its payout file (solana-tokens) names no member
    grape = read_workbook(folder / "GRAPE-2026-11-settled.xlsx").month
    ada = next(line for line in grape.members if line.member == "Ada Okafor")
    member = (site / "GRAPE" / "2026-11" / member_file("Ada Okafor")).read_text(encoding="utf-8")
    assert f'data-sort="{ada.total:,.{grape.first.options.decimals}f}"'.replace(",", "") in member
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<form" not in text and "csrf" not in text
    assert not list(site.rglob("*.xlsx.tmp")) and not (site / "CED" / "2026-12" / "files").exists()


def test_the_site_is_written_all_or_nothing_and_never_over_a_folder(folder, site, run, tmp_path) -> None:
    code, _, err = run("report", str(folder), "-o", str(site))
    assert code == 2 and "already exists" in err
    inside = folder / "site"
    code, _, err = run("report", str(folder), "-o", str(inside))
    assert code == 2 and "outside the folder" in err and not inside.exists()


def test_a_failure_midway_leaves_no_site(folder, tmp_path, run, monkeypatch) -> None:
    import katsheet.dashboard.site as site_module
    from katsheet.engine import InputError

    def full(files, **_):
        files = list(files)
        files[0][0].write_bytes(b"half")  # one file out, then the disk fills up
        raise InputError("the disk is full: nothing was written", where=str(files[1][0]))

    monkeypatch.setattr(site_module, "write_all", full)
    code, _, err = run("report", str(folder), "-o", str(tmp_path / "site"))
    assert code == 2 and "disk is full" in err
    assert list(tmp_path.iterdir()) == []


def test_user_text_stays_text_in_the_site(tmp_path, run) -> None:
    grape_draft(
        tmp_path / "months" if (tmp_path / "months").mkdir() is None else tmp_path, names={"Ada Okafor": HOSTILE}
    )
    assert run("report", str(tmp_path / "months"), "-o", str(tmp_path / "site"))[0] == 0
    for page in (tmp_path / "site").rglob("*.html"):
        assert HOSTILE not in page.read_text(encoding="utf-8")
    assert any("&lt;script&gt;" in p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*.html"))
