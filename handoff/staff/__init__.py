"""The staff pages under /staff/: sign in, the centre's queue, a case with its
transcript, claim / note / outcome forms, search by reference and reports.

Plain server-rendered HTML (aiohttp-jinja2, autoescaped), no JavaScript, so
it works on a counter PC and a tablet alike. Everything but the sign-in page
needs a session (`login_required`); every POST also needs the session's CSRF
token in a hidden field. Staff see only their own centre's cases; managers
see every centre's.

The case store and the accounts are synchronous, so each call goes through
the default thread executor and never blocks the event loop; password checks
(scrypt) have a thread of their own (password_checks).
"""

from __future__ import annotations

import aiohttp_jinja2
import jinja2
from aiohttp import web

from handoff.settings import HandoffSettings
from handoff.staff.cases import add_note, case_view, claim, outcome, queue, reveal, search, to_queue
from handoff.staff.common import CONFIG, COOKIE_PATH, HERE, StaffConfig, london
from handoff.staff.reports import report_chart, report_csv, report_page
from handoff.staff.sessions import login, login_form, logout


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """No script runs on these pages, even if escaping were ever missed, and
    no page of case details stays in a shared PC's cache."""
    if not request.path.startswith(COOKIE_PATH):
        return
    response.headers.setdefault("Content-Security-Policy", (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.path.startswith(f"{COOKIE_PATH}/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


def setup(app: web.Application, settings: HandoffSettings) -> None:
    """Mount the staff pages on `app` (whose app[STORE] is set by start-up)."""
    config = app[CONFIG] = StaffConfig.from_settings(settings)

    async def _close_password_checks(_: web.Application) -> None:
        config.password_checks.close()

    app.on_cleanup.append(_close_password_checks)
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
    env.filters["london"] = london
    app.on_response_prepare.append(_security_headers)
    router = app.router
    router.add_get("/staff", to_queue)
    router.add_get("/staff/", queue)
    router.add_get("/staff/login", login_form)
    router.add_post("/staff/login", login)
    router.add_post("/staff/logout", logout)
    router.add_get("/staff/search", search)
    router.add_get("/staff/cases/{reference}", case_view)
    router.add_post("/staff/cases/{reference}/claim", claim)
    router.add_post("/staff/cases/{reference}/notes", add_note)
    router.add_post("/staff/cases/{reference}/outcome", outcome)
    router.add_post("/staff/cases/{reference}/reveal", reveal)
    router.add_get("/staff/reports", report_page)
    router.add_get("/staff/reports.csv", report_csv)
    router.add_get(r"/staff/reports/{chart:[a-z_]+}.png", report_chart)
    router.add_static("/staff/static/", HERE / "static", name="staff_static")
