"""`katsheet report FOLDER -o SITE/`: the dashboard's pages as a static site a DAO can publish.

The same templates and page data as the app, without the actions: every link relative (the site
opens from a disk, a web server or an archive), the settlement records and their files copied in
beside each month's page with their SHA-256 shown, the stylesheet and the table-sorting script
copied from the package. No JavaScript is needed to read anything. Written all or nothing, into a
folder that must not exist yet (or with ``force``, replaced).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..engine.errors import InputError
from ..engine.names import member_key
from ..io.atomic import write_all
from .app import environment
from .folder import Folder, MonthFiles
from .pages import index_context, member_context, month_context

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def member_file(name: str) -> str:
    """A member's page name: readable, safe on every disk, and distinct for distinct members."""
    slug = _UNSAFE.sub("-", member_key(name)).strip("-.")[:40] or "member"
    return f"member-{slug}-{hashlib.sha256(member_key(name).encode()).hexdigest()[:8]}.html"


def month_dir(m: MonthFiles) -> str:
    return f"{_UNSAFE.sub('-', m.dao)}/{m.period}"


def _url(depth: int, here: MonthFiles | None) -> Callable[..., str]:
    up = "../" * depth

    def url(kind: str, *args: str) -> str:
        if kind == "index":
            return f"{up}index.html"
        if kind == "static":
            return f"{up}static/{quote(args[0])}"
        if kind == "month":
            return f"{up}{_UNSAFE.sub('-', args[0])}/{quote(args[1])}/index.html"
        if kind == "member":
            return f"{up}{_UNSAFE.sub('-', args[0])}/{quote(args[1])}/{member_file(args[2])}"
        if kind == "file":  # a settlement file, copied beside its month's page
            return f"{up}{month_dir(here)}/files/{quote(Path(args[0]).name)}" if here else "#"
        raise ValueError(kind)

    return url


def build_site(root: Path) -> dict[str, bytes]:
    """Every file of the site, by its path inside it."""
    folder = Folder(root)
    env = environment()
    out: dict[str, bytes] = {}

    def render(template: str, path: str, ctx: dict[str, Any], depth: int, here: MonthFiles | None) -> None:
        url = _url(depth, here)
        m = ctx.get("m")
        link = (lambda who: url("member", m.dao, m.period, who)) if isinstance(m, MonthFiles) else None
        out[path] = env.get_template(template).render(url=url, live=False, katsheet_version=__version__,
                                                      member_link=link, **ctx).encode("utf-8")  # fmt: skip

    render("index.html", "index.html", index_context(folder), 0, None)
    for months in folder.months().values():
        for m in months:
            base = month_dir(m)
            ctx = month_context(folder, m)
            # only the settlement's own files are published (the working copies stay private)
            ctx["workbook"] = ""
            ctx["files"] = [f for f in ctx["files"] if f["path"]]
            for f in ctx["files"]:
                out[f"{base}/files/{Path(f['path']).name}"] = folder.inside(f["path"]).read_bytes()
            render("month.html", f"{base}/index.html", ctx, 2, m)
            members = ctx.get("members")
            for who in members.links.get(0, []) if members else []:
                mctx = member_context(folder, m, who)
                if mctx is not None:
                    render("member.html", f"{base}/{member_file(who)}", mctx, 2, m)
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
