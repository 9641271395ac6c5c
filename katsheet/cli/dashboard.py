"""`katsheet dashboard`, `katsheet report` (dashboard/) and `katsheet approve` (cycle/approve.py)."""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from ..engine import InputError
from ..io.atomic import write_atomic
from .cycle import _refused
from .options import PATH

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command(name="dashboard")
@click.argument("folder", type=PATH)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="The port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; any other than 127.0.0.1 needs the access token printed.")  # fmt: skip
def dashboard_command(folder: Path, port: int, host: str) -> None:
    """The monthly cycle of the months in FOLDER in a browser: stages, findings, figures, members'
    explanations, and the validate, approve, settle and next steps."""
    import uvicorn

    from ..dashboard.app import create_app

    token = None if host in LOCAL_HOSTS else secrets.token_urlsafe(24)
    app = create_app(folder, token=token)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    # plain echo, flushed: an address wrapped at 80 columns (rich in a pipe) could not be opened
    click.echo(f"katsheet dashboard over {folder}: open {address} (Ctrl+C stops it)")
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, log_level="warning")


@click.command(name="report")
@click.argument("folder", type=PATH)
@click.option("-o", "--out", "site", type=PATH, required=True, help="The folder to write the site into.")
@click.option("--force", is_flag=True, help="Replace the site folder if it exists.")
def report_command(folder: Path, site: Path, force: bool) -> None:
    """Write the dashboard's pages for FOLDER as a static, self-contained site to publish, with the
    settlement records and files linked and their SHA-256 shown."""
    from ..dashboard.site import write_site

    count = write_site(folder, site, force=force)
    Console().print(Text(f"Wrote {site}/index.html and {count - 1:,} more files."))


@click.command(name="approve")
@click.argument("month", type=PATH)
@click.argument("out", type=PATH, required=False)
@click.option("--by", "by", required=True, help="Who approved the month for the DAO (ApprovedBy).")
@click.option("--on", "on", required=True, help="The date of the approval, YYYY-MM-DD (ApprovedOn).")
@click.option("--in-place", is_flag=True, help="Write the approval into MONTH itself.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def approve_command(month: Path, out: Path | None, by: str, on: str, in_place: bool, force: bool) -> None:
    """Sign the approval of a month `katsheet check` finds clean, written by katsheet's own writer
    into OUT (or MONTH itself with --in-place); refused if anything typed would be lost."""
    from ..cycle.approve import approve
    from ..cycle.settle import Refused

    if (out is None) == (not in_place):
        raise InputError("give OUT, or --in-place to write into MONTH itself", where="OUT")
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        raise InputError("is not a date: give YYYY-MM-DD", where="--on", value=on) from None
    try:
        data = approve(month, by, day)
    except Refused as e:
        _refused(e)
        return
    target = month if in_place else out
    assert target is not None
    write_atomic(target, data, force=force or in_place)
    Console().print(Text(f"Wrote {target}: approved by {' '.join(by.split())} on {day.isoformat()}."))
