"""Signing in and out of the staff pages."""

from __future__ import annotations

import secrets

from aiohttp import web

from council import clock
from handoff import accounts
from handoff.staff.common import (
    COOKIE_PATH,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    case_store,
    error_page,
    in_thread,
    log,
    login_required,
    redirect,
    render,
    safe_next,
    same_token,
    set_cookie,
    staff_config,
)
from handoff.staff.password_checks import TooBusy


async def login_form(request: web.Request) -> web.StreamResponse:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie and await in_thread(accounts.session_for, case_store(request).engine, cookie, clock.now()):
        return redirect(safe_next(request.query.get("next")))
    return _login_page(request, status=200)


def _login_page(request: web.Request, status: int, error: str | None = None, username: str = "") -> web.Response:
    # Before sign-in there is no session, so the form's CSRF token is tied to
    # a cookie of its own (double submit), which SameSite keeps on this site.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    notice = "You have signed out." if "signed_out" in request.query else None
    response = render(request, "login.html", {
        "csrf_token": token, "error": error, "notice": notice, "username": username,
        "next": safe_next(request.query.get("next")),
    }, status=status)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=None)
    return response


# One answer for an unknown username, a disabled account and a wrong
# password; one for any username while its client or its name must wait.
WRONG = "Wrong username or password."
WAIT = ("Too many sign-in attempts. Wait a minute, then try again; if you have forgotten your password, "
        "ask a manager to reset it.")
BUSY = "The service is busy. Wait a moment, then try again."
MAX_FIELD = 256  # longer than any username or password the accounts take


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not same_token(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return error_page(request, 403, "Form not accepted",
                      "The sign-in form is out of date. Go back, reload the page and try again.")
    config = staff_config(request)
    username = str(form.get("username", ""))[:MAX_FIELD]
    password = str(form.get("password", ""))[:MAX_FIELD]
    client, name = request.remote or "unknown", accounts.normalise_username(username)
    if config.throttle.wait_s(client, name) > 0:
        log.warning("sign-in refused: too many failures", extra={"status": 429})
        return _login_page(request, 429, username=username, error=WAIT)
    engine = case_store(request).engine
    try:
        staff = await config.password_checks.run(accounts.authenticate, engine, username, password)
    except TooBusy:
        log.warning("sign-in refused: password checks busy", extra={"status": 503})
        return _login_page(request, 503, username=username, error=BUSY)
    except accounts.SignInFailed:
        config.throttle.failed(client, name)
        log.info("sign-in failed", extra={"status": 401})
        return _login_page(request, 401, username=username, error=WRONG)
    config.throttle.succeeded(name)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await in_thread(accounts.end_session, engine, old)
    cookie_value, _ = await in_thread(accounts.start_session, engine, staff.id, clock.now())
    response = redirect(safe_next(str(form.get("next", ""))))
    set_cookie(response, request, SESSION_COOKIE, cookie_value, max_age=accounts.SESSION_HOURS * 3600)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    log.info("signed in", extra={"staff": staff.username})
    return response


@login_required
async def logout(request: web.Request) -> web.StreamResponse:
    await in_thread(accounts.end_session, case_store(request).engine, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/staff/login?signed_out=1")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
