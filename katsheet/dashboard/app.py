"""`katsheet dashboard FOLDER`: the monthly cycle in a browser, on the operator's own machine.

A Starlette app over the folder (folder.py), its pages rendered by Jinja2 from pages.py's data.
Security of a local app:
- it binds to 127.0.0.1; on any other host it needs the access token printed at start (given once
  as ``?token=``, then kept in an HttpOnly cookie);
- every state-changing request is a POST carrying the page's CSRF token (and, when the browser
  sends one, an Origin of this very server);
- only files under the folder are read or written: a download is one of the month's own files,
  found by name (folder.py's ``files_of``), never a path from the request;
- user text is escaped in pages (Jinja2 autoescaping) and written as text in workbooks (the writer);
- two requests acting on one month run one after the other, and an action carries the SHA-256 of
  the workbook its page showed: the second of two tabs is told the month changed, never corrupts it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..engine.errors import InputError
from ..io.atomic import write_atomic
from .folder import Folder, MonthFiles
from .links import Links, member_file
from .pages import index_context, member_context, member_names, month_context, version_of

TOKEN_COOKIE = "katsheet_token"
MESSAGES = {
    "validated": "Validated: katsheet check ran on the workbook as it is now.",
    "approved": "Approved: the approval is written into the workbook.",
    "settled": "Settled: the settled workbook, payout file, report and record are written.",
    "next": "The next month's workbook is written.",
}


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("katsheet.dashboard", "templates"), autoescape=select_autoescape(default=True)
    )


def render(env: Environment, template: str, ctx: dict[str, Any], links: Links, *, live: bool, csrf: str = "") -> str:
    """A page of the app (``live``: with the forms) or of the static site."""
    m = ctx.get("m")
    member_link = (lambda who: links("member", m.dao, m.period, who)) if isinstance(m, MonthFiles) else None
    return env.get_template(template).render(url=links, live=live, csrf=csrf, katsheet_version=__version__,
                                             member_link=member_link, **ctx)  # fmt: skip


LIVE = Links("/")


class _Token(BaseHTTPMiddleware):
    """Off 127.0.0.1: the access token, from ``?token=`` once (then a cookie), on every request."""

    def __init__(self, app: Any, token: str) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        given = request.query_params.get("token")
        if given is not None and hmac.compare_digest(given, self.token):
            response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            return response
        if not hmac.compare_digest(request.cookies.get(TOKEN_COOKIE, ""), self.token):
            return HTMLResponse("This dashboard needs the access token printed when it started: open the "
                                "address it printed (with ?token=...).", status_code=403)  # fmt: skip
        return await call_next(request)


def warm(folder: Folder) -> None:
    """Read and check every month's workbook once, so that pages render from the cache: first the
    months not settled (the index shows their stage), then the settled ones, newest first."""
    months = [m for ms in folder.months().values() for m in ms if m.workbook is not None]
    months.sort(key=lambda m: (m.record is not None, [-ord(c) for c in m.period]))
    for m in months:
        folder.analyse(m.workbook)  # type: ignore[arg-type]


def create_app(root: Path, *, token: str | None = None, warm_up: bool = True) -> Starlette:
    """The dashboard over ``root``; ``token``: required on every request (a host other than 127.0.0.1).
    ``warm_up``: from the first request on, read and check the months in a background thread (the
    index answers at once, showing "checking…" for a month not read yet; a month's page asked for
    before its month is read reads it then). Not before: reading competes with the server's own
    start for the interpreter, and the first page would wait for it."""
    folder = Folder(root)
    warming: list[threading.Thread] = []
    starting = threading.Lock()

    def start_warm_up() -> None:
        """After a page is sent: read whatever changed or appeared since (one thread at a time)."""
        with starting:
            if warm_up and not (warming and warming[-1].is_alive()):
                warming.append(threading.Thread(target=warm, args=(folder,), name="katsheet-warm-up", daemon=True))
                warming[-1].start()

    env = environment()
    csrf = secrets.token_urlsafe(32)

    def page(name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
        return HTMLResponse(render(env, name, ctx, LIVE, live=True, csrf=csrf), status_code=status)

    def find(request: Request) -> MonthFiles:
        m = folder.month(request.path_params["dao"], request.path_params["period"])
        if m is None:
            raise _NotFound()
        return m

    async def index(request: Request) -> Response:
        ctx = await run_in_threadpool(index_context, folder, wait=not warm_up)
        response = page("index.html", {**ctx, "message": MESSAGES.get(request.query_params.get("done", ""))})
        response.background = BackgroundTask(start_warm_up)  # once this page is sent
        return response

    def month_page(m: MonthFiles, *, message: str | None = None, problems: list[str] | None = None,
                   status: int = 200) -> HTMLResponse:  # fmt: skip
        ctx = month_context(folder, m)
        ctx.update(message=message, problems=problems or [], version=version_of(m) if m.record is None else "")
        return page("month.html", ctx, status)

    async def month(request: Request) -> Response:
        m = await run_in_threadpool(find, request)
        response = await run_in_threadpool(month_page, m, message=MESSAGES.get(request.query_params.get("done", "")))
        response.background = BackgroundTask(start_warm_up)
        return response

    async def member(request: Request) -> Response:
        m = await run_in_threadpool(find, request)
        wanted = request.path_params["page"]
        names = await run_in_threadpool(member_names, folder, m)
        name = next((n for n in names if member_file(n) == wanted), None)
        ctx = await run_in_threadpool(member_context, folder, m, name) if name is not None else None
        if ctx is None:
            raise _NotFound()
        return page("member.html", ctx)

    async def files(request: Request) -> Response:
        m = await run_in_threadpool(find, request)
        path = (await run_in_threadpool(folder.files_of, m)).get(request.path_params["name"])
        if path is None:  # only the month's own files, by name: no path from the request is ever opened
            raise _NotFound()
        return FileResponse(path, filename=path.name)

    async def action(request: Request) -> Response:
        m = await run_in_threadpool(find, request)
        step = request.path_params["step"]
        if step not in ("validate", "approve", "settle", "next"):
            raise _NotFound()
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            return HTMLResponse("Refused: the request came from another site.", status_code=403)
        form = await request.form()
        if not hmac.compare_digest(str(form.get("csrf", "")), csrf):
            return HTMLResponse("Refused: the form's CSRF token is missing or stale: reload the page.", status_code=403)
        fields = {k: str(v) for k, v in form.items()}

        def act() -> Response | str:
            with folder.lock(m.key):
                now = find(request)  # as it is now, after whoever held the lock
                try:
                    return _act(folder, now, step, fields)
                except _Conflict as e:
                    return month_page(now, problems=e.reasons, status=409)
                except InputError as e:
                    return month_page(now, problems=[e.line()], status=400)

        done = await run_in_threadpool(act)
        if isinstance(done, Response):
            return done
        return RedirectResponse(LIVE("month", m.dao, m.period) + f"?done={done}", status_code=303)

    async def not_found(request: Request, exc: Exception) -> Response:
        return HTMLResponse("Not found in this folder.", status_code=404)

    routes = [
        Route("/", index),
        Route("/index.html", index),
        Route("/{dao}/{period}/index.html", month),
        Route("/{dao}/{period}/files/{name}", files),
        Route("/{dao}/{period}/{page:str}", member, methods=["GET"]),
        Route("/{dao}/{period}/{step}", action, methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("katsheet.dashboard", "static")]), name="static"),
    ]
    middleware = [Middleware(_Token, token=token)] if token else []
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={_NotFound: not_found})
    app.state.folder = folder
    return app


class _NotFound(Exception):
    pass


class _Conflict(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _act(folder: Folder, m: MonthFiles, step: str, form: dict[str, str]) -> str:
    """One step of the cycle on month ``m`` (under its lock); the message key, or _Conflict."""
    from ..cycle.approve import approve
    from ..cycle.settle import Refused, settle, write_settlement

    path = m.workbook
    if path is None:
        raise _Conflict(["no workbook for this month in the folder"])
    if step == "validate":
        folder.forget(path)
        return "validated"
    if step == "next":
        return _next(folder, m, form)
    if m.record is not None:
        raise _Conflict([f"{m.dao} {m.period} is settled already: nothing to {step}"])
    if form.get("version") != version_of(m):
        raise _Conflict([f"{path.name} changed since this page was opened (approved or edited elsewhere): "
                         "look at the page again before you act"])  # fmt: skip
    try:
        if step == "approve":
            try:
                on = dt.date.fromisoformat(form.get("on", ""))
            except ValueError:
                raise _Conflict([f"the approval date {form.get('on', '')!r} is not a date (YYYY-MM-DD)"]) from None
            data = approve(path, form.get("by", ""), on)
            write_atomic(path, data, force=True)
            folder.forget(path)
            return "approved"
        result = settle(path, payout=form.get("payout") or None, token=form.get("token", "").strip())
    except Refused as e:
        raise _Conflict(e.reasons) from None
    write_settlement(result)  # never over a file: of two settling at once, one fails here
    return "settled"


def _next(folder: Folder, m: MonthFiles, form: dict[str, str]) -> str:
    from ..cycle.next import month_after, next_month
    from ..cycle.settle import Refused

    if m.settled is None or m.record is None:
        raise _Conflict([f"{m.dao} {m.period} is not settled: settle it before starting the next month"])
    if folder.month(m.dao, month_after(m.period)) is not None:
        raise _Conflict([f"{m.dao} {month_after(m.period)} is in the folder already"])
    try:
        made = next_month(m.settled, carry_over=form.get("carry_over", "0%").strip() or "0%")
    except Refused as e:
        raise _Conflict(e.reasons) from None
    write_atomic(m.settled.parent / made.name, made.render)
    return "next"
