"""`katsheet report FOLDER -o SITE/`: the dashboard's pages as a static site a DAO can publish.

The same templates, page data and addresses (links.py) as the app, without the actions: every
link relative (the site opens from a disk, a web server or an archive), the settlement records and their files copied in
beside each month's page with their SHA-256 shown, the stylesheet and the table-sorting script
copied from the package. No JavaScript is needed to read anything. Written all or nothing, into a
folder that must not exist yet (or with ``force``, replaced).
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..engine.errors import InputError
from ..io.atomic import write_all
from .app import environment, render
from .folder import Folder
from .links import Links, member_file, segment
from .pages import index_context, member_context, member_names, month_context


def build_site(root: Path) -> dict[str, bytes]:
    """Every file of the site, by its path inside it."""
    folder = Folder(root)
    env = environment()
    out: dict[str, bytes] = {}

    def page(template: str, path: str, ctx: dict[str, Any]) -> None:
        out[path] = render(env, template, ctx, Links("../" * path.count("/")), live=False).encode("utf-8")

    page("index.html", "index.html", index_context(folder))
    for months in folder.months().values():
        for m in months:
            base = f"{segment(m.dao)}/{m.period}"
            ctx = month_context(folder, m)
            ctx["workbook"] = ""  # the working copies stay private; the settlement's files are published
            present = folder.files_of(m)
            for f in ctx["files"]:
                if f["present"]:
                    out[f"{base}/files/{f['name']}"] = present[f["name"]].read_bytes()
            page("month.html", f"{base}/index.html", ctx)
            for who in member_names(folder, m):
                mctx = member_context(folder, m, who)
                if mctx is not None:
                    page("member.html", f"{base}/{member_file(who)}", mctx)
    static = files("katsheet.dashboard").joinpath("static")
    for name in ("style.css", "sort.js"):
        out[f"static/{name}"] = static.joinpath(name).read_bytes()
    return out


def write_site(root: Path, site: Path, *, force: bool = False) -> int:
    """Build the site of ``root`` into ``site``; how many files were written."""
    site = Path(site)
    if site.resolve().is_relative_to(Path(root).resolve()):
        raise InputError("the site must be written outside the folder it shows", where=str(site))
    if site.exists() and not force:
        raise InputError("already exists; pass --force to replace it", where=str(site))
    content = build_site(root)
    staging = site.with_name(f".{site.name}.katsheet-new")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for name in {str(Path(n).parent) for n in content}:
            (staging / name).mkdir(parents=True, exist_ok=True)
        write_all([(staging / name, data) for name, data in content.items()])
        if site.exists():
            shutil.rmtree(site)
        staging.rename(site)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(content)
