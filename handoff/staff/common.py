"""What every staff page shares: the labels, the session keys, the helpers that
render a page, reach the store in a thread and word times, and
`login_required`, which every page but the sign-in one goes through."""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from council import clock
from council.catalogue import Catalogue
from handoff import accounts
from handoff.cases import Case
from handoff.keys import STORE
from handoff.settings import HandoffSettings
from handoff.sign_in_throttle import SignInThrottle
from handoff.staff.password_checks import PasswordChecks
from handoff.store import CaseStore

log = logging.getLogger("handoff.staff")

HERE = Path(__file__).resolve().parent.parent  # handoff/: templates/ and static/
SESSION_COOKIE = "handoff_session"
LOGIN_CSRF_COOKIE = "handoff_login_csrf"
COOKIE_PATH = "/staff"
QUEUE_STATUSES = ("open", "claimed")
QUEUE_LIMIT = 200
NOTE_LIMIT = 4000
REPORT_DAYS = 30

OUTCOME_LABELS = {
    "resolved_at_desk": "Resolved at the desk",
    "appointment_booked": "Appointment booked",
    "referred_to_service": "Referred to the service",
    "referred_to_other_council": "Referred to the other council",
    "no_contact": "No contact",
    "duplicate": "Duplicate",
}
REASON_LABELS = {
    "person_requested": "Asked to speak to a person",
    "not_understood": "The bot did not understand",
    "urgent": "Urgent",
    "complaint": "Complaint",
    "cannot_complete": "The bot could not finish the task",
}
CHANNEL_LABELS = {"voice": "Phone call", "sms": "Text message", "chat": "Web chat"}
STATUS_LABELS = {"open": "Waiting", "claimed": "Claimed", "resolved": "Resolved",
                 "closed_no_contact": "Closed: no contact"}
PRIORITY_LABELS = {"high": "High priority", "normal": "Normal"}
ACTION_LABELS = {
    "create": "Case created", "claim": "Claimed", "outcome": "Outcome recorded", "note": "Note added",
    "reveal_number": "Phone number shown", "purge_transcript": "Transcript removed (retention period)",
    "view_case": "Case viewed", "search": "Found by a search", "api_read": "Read through the API",
}
DONE_MESSAGES = {
    "claimed": "You have claimed this case.",
    "note": "Your note has been added.",
    "outcome": "The outcome has been recorded.",
}

# Keys on the request for what login_required found.
STAFF_KEY = "handoff_staff"
CSRF_KEY = "handoff_csrf"
FORM_KEY = "handoff_form"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class StaffConfig:
    settings: HandoffSettings
    throttle: SignInThrottle
    password_checks: PasswordChecks

    @classmethod
    def from_settings(cls, settings: HandoffSettings) -> "StaffConfig":
        throttle = SignInThrottle(free_attempts=settings.signin_free_attempts,
                                  client_cap_s=settings.signin_client_wait_minutes * 60.0,
                                  account_cap_s=float(settings.signin_account_wait_seconds))
        return cls(settings, throttle, PasswordChecks())


CONFIG = web.AppKey("staff_config", StaffConfig)


# ---------------------------------------------------------------- helpers

def staff_config(request: web.Request) -> StaffConfig:
    return request.app[CONFIG]


def case_store(request: web.Request) -> CaseStore:
    return request.app[STORE]


def catalogue_of(request: web.Request) -> Catalogue:
    # The store's own, so names shown always match the ids it stored.
    return case_store(request).catalogue


async def in_thread(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a synchronous store or accounts call in the thread executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))


def redirect(location: str) -> web.Response:
    # Returned rather than raised, so cookies can be set on it.
    return web.Response(status=303, headers={"Location": location})


def same_token(given: Any, expected: str | None) -> bool:
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str,
                max_age: int | None) -> None:
    response.set_cookie(name, value, path=COOKIE_PATH, max_age=max_age, httponly=True, samesite="Strict",
                        secure=staff_config(request).settings.secure_cookies or None)


def render(request: web.Request, template: str, context: Mapping[str, Any], status: int = 200) -> web.Response:
    base = {"staff": request.get(STAFF_KEY), "csrf_token": request.get(CSRF_KEY), "path": request.path}
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def london(moment: datetime | None, style: str = "full") -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(clock.LONDON)
    if style == "time":
        return local.strftime("%H:%M")
    if style == "date":
        return f"{local:%a} {local.day} {local:%b %Y}"
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def duration(minutes: float) -> str:
    """A length of time as a counter clerk says it: '2 h 15 min'."""
    whole = max(int(minutes), 0)
    if whole < 1:
        return "under 1 min"
    days, rest = divmod(whole, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def waited(since: datetime | None, until: datetime | None = None) -> str:
    """How long from `since` to `until` (default: now)."""
    if since is None:
        return ""
    return duration(((until or clock.now()) - since).total_seconds() / 60)


async def audit_access(request: web.Request, action: str, reference: str | None = None,
                       detail: Mapping[str, Any] | None = None) -> None:
    """An audit row for what the signed-in member of staff just read."""
    staff: accounts.Staff = request[STAFF_KEY]
    await in_thread(case_store(request).record_access, f"staff:{staff.username}", action, reference,
                    dict(detail) if detail else None)


def report_centre(staff: accounts.Staff, asked: str | None) -> str | None:
    """The centre a report covers: a member of staff's own, always; for a
    manager the one asked for, or every centre (None)."""
    if not staff.is_manager:
        return staff.centre
    return asked or None


def may_see(staff: accounts.Staff, case: Case) -> bool:
    return staff.is_manager or case.centre == staff.centre


def centre_name(request: web.Request, centre_id: str | None) -> str:
    centre = catalogue_of(request).centres.get(centre_id or "")
    return centre.name if centre else (centre_id or "")


def service_name(request: web.Request, service_id: str | None) -> str:
    service = catalogue_of(request).services.get(service_id or "")
    if service is None:
        return "Not known" if not service_id else service_id
    return service.name


def staff_name(names: Mapping[str, str], username: str | None) -> str:
    if not username:
        return ""
    return names.get(username, username)


def login_url(request: web.Request) -> str:
    if request.method == "GET" and request.path != "/staff/":
        return "/staff/login?" + urlencode({"next": request.path_qs})
    return "/staff/login"


def safe_next(target: str | None) -> str:
    """Only a path on these pages: never another site (//evil, https://...)."""
    if not target or not target.startswith("/staff/") or target.startswith("//") or "\\" in target:
        return "/staff/"
    return target


def login_required(handler: Handler) -> Handler:
    """Send a visitor without a live session to the sign-in page; on POST,
    answer 403 unless the form carries this session's CSRF token. The
    handler finds the member of staff under request[STAFF_KEY]."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        found = None
        if cookie:
            found = await in_thread(accounts.session_for, case_store(request).engine, cookie, clock.now())
        if found is None:
            return redirect(login_url(request))
        request[STAFF_KEY], request[CSRF_KEY] = found
        if request.method == "POST":
            form = await request.post()
            if not same_token(form.get("csrf_token"), request[CSRF_KEY]):
                log.warning("csrf token missing or wrong", extra={"path": request.path, "status": 403})
                return error_page(request, 403, "Form not accepted",
                              "This form was not sent from the page you signed in to, or it is out of date. "
                              "Go back, reload the page and try again.")
            request[FORM_KEY] = form
        return await handler(request)

    return wrapped
