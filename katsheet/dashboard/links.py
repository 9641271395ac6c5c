"""One address scheme for the app and the static site, so a page links the same way in both:

    index.html                                the DAOs and their months
    static/NAME                               the stylesheet and the sorting script
    DAO/PERIOD/index.html                     a month
    DAO/PERIOD/member-NAME-HASH.html          a member in that month
    DAO/PERIOD/files/NAME                     the month's workbook and settlement files
    DAO/PERIOD/STEP                           (the app only) a step of the cycle, by POST

The app serves them from ``/``; the site writes them as files and links them relatively.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath
from urllib.parse import quote

from ..engine.names import member_key

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def segment(text: str) -> str:
    """A DAO code as a folder name: safe on every disk and in every address."""
    return _UNSAFE.sub("-", text).strip("-.") or "-"


def member_file(name: str) -> str:
    """A member's page name: readable, safe, and distinct for distinct members."""
    key = member_key(name)
    return f"member-{segment(key)[:40]}-{hashlib.sha256(key.encode()).hexdigest()[:8]}.html"


class Links:
    """``links(kind, *args)``: the address of a page or file, from ``root`` ("/" in the app, the way
    up to the site's top in a static page)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def __call__(self, kind: str, *args: str) -> str:
        if kind == "index":
            return f"{self.root}index.html"
        if kind == "static":
            return f"{self.root}static/{quote(args[0])}"
        month = f"{self.root}{quote(segment(args[0]))}/{quote(args[1])}/"
        if kind == "month":
            return month + "index.html"
        if kind == "member":
            return month + member_file(args[2])
        if kind == "file":
            return month + "files/" + quote(PurePath(args[2]).name)
        if kind == "action":
            return month + quote(args[2])
        raise ValueError(kind)
