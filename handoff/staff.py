"""The staff pages under /staff/: sign in, the centre's queue, a case with its
transcript, claim / note / outcome forms, search by reference and reports.

Plain server-rendered HTML (aiohttp-jinja2, autoescaped), no JavaScript, so
it works on a counter PC and a tablet alike. Everything but the sign-in page
needs a session (`login_required`); every POST also needs the session's CSRF
token in a hidden field. Staff see only their own centre's cases; managers
see every centre's.

The case store and the accounts are synchronous, so each call goes through
the default thread executor and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from council import clock
from council.catalogue import Catalogue
from handoff import accounts
from council import references
from handoff.keys import METRICS, STORE
from handoff.settings import HandoffSettings
from handoff.store import OUTCOMES, Case, CaseConflict, CaseNotFound, CaseStore, InvalidCase

log = logging.getLogger("handoff.staff")

HERE = Path(__file__).resolve().parent
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
}
DONE_MESSAGES = {
    "claimed": "You have claimed this case.",
    "note": "Your note has been added.",
    "outcome": "The outcome has been recorded.",
}

# Keys on the request for what login_required found.
_STAFF = "handoff_staff"
_CSRF = "handoff_csrf"
_FORM = "handoff_form"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class StaffConfig:
    settings: HandoffSettings


CONFIG = web.AppKey("staff_config", StaffConfig)


# ---------------------------------------------------------------- helpers

def _config(request: web.Request) -> StaffConfig:
    return request.app[CONFIG]


def _store(request: web.Request) -> CaseStore:
    return request.app[STORE]


def _catalogue(request: web.Request) -> Catalogue:
    # The store's own, so names shown always match the ids it stored.
    return _store(request).catalogue


async def _run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a synchronous store or accounts call in the thread executor."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))


def _redirect(location: str) -> web.Response:
    # Returned rather than raised, so cookies can be set on it.
    return web.Response(status=303, headers={"Location": location})


def _same(given: Any, expected: str | None) -> bool:
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str,
                max_age: int | None) -> None:
    response.set_cookie(name, value, path=COOKIE_PATH, max_age=max_age, httponly=True, samesite="Strict",
                        secure=_config(request).settings.secure_cookies or None)


def _page(request: web.Request, template: str, context: Mapping[str, Any], status: int = 200) -> web.Response:
    base = {"staff": request.get(_STAFF), "csrf_token": request.get(_CSRF), "path": request.path}
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def _error(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return _page(request, "error.html", {"title": title, "message": message}, status=status)


def _london(moment: datetime | None, style: str = "full") -> str:
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


def _may_see(staff: accounts.Staff, case: Case) -> bool:
    return staff.is_manager or case.centre == staff.centre


def _centre_name(request: web.Request, centre_id: str | None) -> str:
    centre = _catalogue(request).centres.get(centre_id or "")
    return centre.name if centre else (centre_id or "")


def _service_name(request: web.Request, service_id: str | None) -> str:
    service = _catalogue(request).services.get(service_id or "")
    if service is None:
        return "Not known" if not service_id else service_id
    return service.name


def _name(names: Mapping[str, str], username: str | None) -> str:
    if not username:
        return ""
    return names.get(username, username)


def _login_url(request: web.Request) -> str:
    if request.method == "GET" and request.path != "/staff/":
        return "/staff/login?" + urlencode({"next": request.path_qs})
    return "/staff/login"


def _safe_next(target: str | None) -> str:
    """Only a path on these pages: never another site (//evil, https://...)."""
    if not target or not target.startswith("/staff/") or target.startswith("//") or "\\" in target:
        return "/staff/"
    return target


# ---------------------------------------------------------------- sessions

def login_required(handler: Handler) -> Handler:
    """Send a visitor without a live session to the sign-in page; on POST,
    answer 403 unless the form carries this session's CSRF token. The
    handler finds the member of staff under request[_STAFF]."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        found = await _run(accounts.session_for, _store(request).engine, cookie, clock.now()) if cookie else None
        if found is None:
            return _redirect(_login_url(request))
        request[_STAFF], request[_CSRF] = found
        if request.method == "POST":
            form = await request.post()
            if not _same(form.get("csrf_token"), request[_CSRF]):
                log.warning("csrf token missing or wrong", extra={"path": request.path, "status": 403})
                return _error(request, 403, "Form not accepted",
                              "This form was not sent from the page you signed in to, or it is out of date. "
                              "Go back, reload the page and try again.")
            request[_FORM] = form
        return await handler(request)

    return wrapped


async def login_form(request: web.Request) -> web.StreamResponse:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie and await _run(accounts.session_for, _store(request).engine, cookie, clock.now()):
        return _redirect(_safe_next(request.query.get("next")))
    return _login_page(request, status=200)


def _login_page(request: web.Request, status: int, error: str | None = None, username: str = "") -> web.Response:
    # Before sign-in there is no session, so the form's CSRF token is tied to
    # a cookie of its own (double submit), which SameSite keeps on this site.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    notice = "You have signed out." if "signed_out" in request.query else None
    response = _page(request, "login.html", {
        "csrf_token": token, "error": error, "notice": notice, "username": username,
        "next": _safe_next(request.query.get("next")),
    }, status=status)
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=None)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not _same(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _error(request, 403, "Form not accepted",
                      "The sign-in form is out of date. Go back, reload the page and try again.")
    settings = _config(request).settings
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    engine = _store(request).engine
    try:
        staff = await _run(accounts.authenticate, engine, username, password, clock.now(),
                           max_attempts=settings.lockout_attempts, lockout_minutes=settings.lockout_minutes)
    except accounts.AccountLocked as locked:
        log.warning("sign-in refused: account locked", extra={"status": 403})
        return _login_page(request, 403, username=username, error=(
            f"This account is locked after too many failed sign-ins; try again at {_london(locked.until, 'time')}."))
    except accounts.SignInFailed:
        log.info("sign-in failed", extra={"status": 401})
        return _login_page(request, 401, username=username, error="Wrong username or password.")
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await _run(accounts.end_session, engine, old)
    cookie_value, _ = await _run(accounts.start_session, engine, staff.id, clock.now())
    response = _redirect(_safe_next(str(form.get("next", ""))))
    _set_cookie(response, request, SESSION_COOKIE, cookie_value, max_age=accounts.SESSION_HOURS * 3600)
    response.del_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
    log.info("signed in", extra={"staff": staff.username})
    return response


@login_required
async def logout(request: web.Request) -> web.StreamResponse:
    await _run(accounts.end_session, _store(request).engine, request.cookies.get(SESSION_COOKIE, ""))
    response = _redirect("/staff/login?signed_out=1")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


# ---------------------------------------------------------------- queue

async def to_queue(request: web.Request) -> web.StreamResponse:
    return _redirect("/staff/")


@login_required
async def queue(request: web.Request) -> web.StreamResponse:
    staff: accounts.Staff = request[_STAFF]
    catalogue = _catalogue(request)
    chosen = request.query.get("centre", "") if staff.is_manager else staff.centre
    if chosen and chosen not in catalogue.centres:
        chosen = ""
    cases = await _run(_store(request).list_cases, centre=chosen or None, statuses=QUEUE_STATUSES,
                       limit=QUEUE_LIMIT)
    names = await _run(accounts.display_names, _store(request).engine, [c.claimed_by for c in cases])
    now = clock.now()
    rows = [{
        "reference": case.reference,
        "waiting": waited(case.created_at, now),
        "created": _london(case.created_at),
        "high": case.priority == "high",
        "priority": PRIORITY_LABELS.get(case.priority, case.priority),
        "service": _service_name(request, case.service),
        "reason": REASON_LABELS.get(case.reason, case.reason),
        "channel": CHANNEL_LABELS.get(case.channel, case.channel),
        "status": STATUS_LABELS.get(case.status, case.status),
        "claimed_by": _name(names, case.claimed_by),
        "centre": _centre_name(request, case.centre),
    } for case in cases]
    return _page(request, "queue.html", {
        "rows": rows, "full": len(cases) >= QUEUE_LIMIT, "chosen": chosen,
        "centres": [(cid, c.name) for cid, c in catalogue.centres.items()],
        "centre_name": _centre_name(request, chosen) if chosen else "all centres",
    })


# ---------------------------------------------------------------- one case

async def _load(request: web.Request) -> Case | web.Response:
    """The case named in the path, or the error page to answer with."""
    raw = request.match_info["reference"]
    reference = references.normalise(raw)
    if reference is None:
        return _error(request, 404, "Case not found", "That is not a valid case reference.")
    try:
        case = await _run(_store(request).get, reference)
    except CaseNotFound:
        return _error(request, 404, "Case not found", f"No case has the reference {reference}.")
    if not _may_see(request[_STAFF], case):
        log.warning("case of another centre refused", extra={"staff": request[_STAFF].username, "status": 403})
        return _error(request, 403, "Not your centre",
                      f"Case {case.reference} belongs to {_centre_name(request, case.centre)}. "
                      "Only staff of that centre, or a manager, can open it.")
    return case


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _audit_rows(request: web.Request, entries: list[dict], names: Mapping[str, str]) -> list[dict]:
    rows = []
    for entry in entries:
        actor = str(entry.get("actor") or "")
        who = _name(names, actor[len("staff:"):]) if actor.startswith("staff:") else {
            "api": "The bot", "system": "The system"}.get(actor, actor)
        action = str(entry.get("action") or "")
        detail = ""
        after = _json(entry.get("after"))
        # Only the outcome says more than the action's own name.
        if isinstance(after, Mapping) and action == "outcome" and after.get("outcome"):
            detail = OUTCOME_LABELS.get(after["outcome"], str(after["outcome"]))
        at = entry.get("at")
        if isinstance(at, str):
            try:
                at = datetime.fromisoformat(at)
            except ValueError:
                at = None
        rows.append({"at": _london(at), "who": who, "action": ACTION_LABELS.get(action, action.replace("_", " ")),
                     "detail": detail})
    return rows


async def _case_page(request: web.Request, case: Case, status: int = 200, error: str | None = None,
                     revealed: str | None = None) -> web.Response:
    store = _store(request)
    entries = await _run(store.audit, case.reference)
    usernames = [case.claimed_by, case.resolved_by, *(note.staff for note in case.notes),
                 *(str(e.get("actor", ""))[len("staff:"):] for e in entries)]
    names = await _run(accounts.display_names, store.engine, usernames)
    staff: accounts.Staff = request[_STAFF]
    closed = case.status not in QUEUE_STATUSES
    context = {
        "case": case,
        "title": f"Case {case.reference}",
        "error": error,
        "done": DONE_MESSAGES.get(request.query.get("done", "")) if status == 200 and not error else None,
        "revealed": revealed,
        "revealed_at": _london(clock.now(), "time"),
        "high": case.priority == "high",
        "priority": PRIORITY_LABELS.get(case.priority, case.priority),
        "status": STATUS_LABELS.get(case.status, case.status),
        "service": _service_name(request, case.service),
        "authority": _catalogue(request).authorities.get(case.authority or "", case.authority or ""),
        "reason": REASON_LABELS.get(case.reason, case.reason),
        "channel": CHANNEL_LABELS.get(case.channel, case.channel),
        "centre": _centre_name(request, case.centre),
        "created": _london(case.created_at),
        "waiting": waited(case.created_at, case.resolved_at or clock.now()),
        "claimed_by": _name(names, case.claimed_by),
        "claimed_at": _london(case.claimed_at),
        "resolved_by": _name(names, case.resolved_by),
        "resolved_at": _london(case.resolved_at),
        "outcome": OUTCOME_LABELS.get(case.outcome or "", case.outcome),
        "mine": case.claimed_by == staff.username,
        "can_claim": case.status == "open",
        "can_close": not closed,
        "outcomes": [(value, OUTCOME_LABELS.get(value, value)) for value in OUTCOMES],
        "turns": [{"caller": turn.get("who") == "caller", "text": str(turn.get("text", ""))}
                  for turn in case.transcript or []],
        "purged": case.transcript is None,
        "notes": [{"at": _london(note.at), "who": _name(names, note.staff), "text": note.text} for note in case.notes],
        "audit": _audit_rows(request, entries, names),
        "note_limit": NOTE_LIMIT,
    }
    return _page(request, "case.html", context, status=status)


@login_required
async def case_view(request: web.Request) -> web.StreamResponse:
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    return await _case_page(request, found)


def _after(case: Case, done: str) -> web.Response:
    return _redirect(f"/staff/cases/{case.reference}?done={done}")


@login_required
async def claim(request: web.Request) -> web.StreamResponse:
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    staff: accounts.Staff = request[_STAFF]
    try:
        case = await _run(_store(request).claim, found.reference, staff.username)
    except CaseConflict as conflict:
        current = conflict.case if isinstance(conflict.case, Case) else await _run(_store(request).get, found.reference)
        return await _case_page(request, current, 409, error=await _conflict_message(request, current))
    request.app[METRICS].claims.labels("staff").inc()
    return _after(case, "claimed")


async def _conflict_message(request: web.Request, case: Case) -> str:
    names = await _run(accounts.display_names, _store(request).engine, [case.claimed_by, case.resolved_by])
    if case.status == "claimed":
        return f"Already claimed by {_name(names, case.claimed_by)}."
    closed_by = _name(names, case.resolved_by) or "a colleague"
    return f"This case is already closed ({STATUS_LABELS.get(case.status, case.status)}) by {closed_by}."


@login_required
async def outcome(request: web.Request) -> web.StreamResponse:
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    form = request[_FORM]
    chosen = str(form.get("outcome", ""))
    note = str(form.get("note", "")).strip()
    if chosen not in OUTCOMES:
        return await _case_page(request, found, 400, error="Choose an outcome before saving.")
    if len(note) > NOTE_LIMIT:
        return await _case_page(request, found, 422, error=f"The note is too long (at most {NOTE_LIMIT} characters).")
    staff: accounts.Staff = request[_STAFF]
    try:
        case = await _run(_store(request).record_outcome, found.reference, staff.username, chosen, note or None)
    except CaseConflict as conflict:
        current = conflict.case if isinstance(conflict.case, Case) else await _run(_store(request).get, found.reference)
        return await _case_page(request, current, 409, error=await _conflict_message(request, current))
    except InvalidCase as invalid:
        return await _case_page(request, found, 422, error=f"Not saved: {invalid}")
    request.app[METRICS].outcomes.labels(chosen, "staff").inc()
    return _after(case, "outcome")


@login_required
async def add_note(request: web.Request) -> web.StreamResponse:
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    text = str(request[_FORM].get("text", "")).strip()
    if not text:
        return await _case_page(request, found, 400, error="Write the note before saving it.")
    if len(text) > NOTE_LIMIT:
        return await _case_page(request, found, 422, error=f"The note is too long (at most {NOTE_LIMIT} characters).")
    staff: accounts.Staff = request[_STAFF]
    try:
        case = await _run(_store(request).add_note, found.reference, staff.username, text)
    except InvalidCase as invalid:
        return await _case_page(request, found, 422, error=f"Not saved: {invalid}")
    return _after(case, "note")


@login_required
async def reveal(request: web.Request) -> web.StreamResponse:
    """Show the caller's full number once, to call them back; the store
    writes who asked into the audit trail."""
    found = await _load(request)
    if isinstance(found, web.Response):
        return found
    staff: accounts.Staff = request[_STAFF]
    number = await _run(_store(request).reveal_number, found.reference, f"staff:{staff.username}")
    case = await _run(_store(request).get, found.reference)
    return await _case_page(request, case, revealed=number or "No number was kept for this case.")


# ---------------------------------------------------------------- search

@login_required
async def search(request: web.Request) -> web.StreamResponse:
    typed = request.query.get("reference", "").strip()
    if not typed:
        return _page(request, "search.html", {"typed": "", "error": None})
    reference = references.normalise(typed)
    if reference is None:
        return _page(request, "search.html", {"typed": typed, "error": (
            f"“{typed}” is not a valid reference. References look like LAN-7K3-Q9X; check each character.")},
            status=404)
    try:
        case = await _run(_store(request).get, reference)
    except CaseNotFound:
        return _page(request, "search.html", {"typed": typed, "error": f"No case found with the reference {reference}."},
                     status=404)
    return _redirect(f"/staff/cases/{case.reference}")


# ---------------------------------------------------------------- reports

def _period(request: web.Request) -> tuple[date, date]:
    """The report's first and last day (both included); ValueError names a bad one."""
    today = clock.now().date()
    raw_from, raw_to = request.query.get("from", "").strip(), request.query.get("to", "").strip()
    try:
        last = date.fromisoformat(raw_to) if raw_to else today
    except ValueError:
        raise ValueError(f"“to” must be a date like {today.isoformat()}") from None
    try:
        first = date.fromisoformat(raw_from) if raw_from else last - timedelta(days=REPORT_DAYS - 1)
    except ValueError:
        raise ValueError(f"“from” must be a date like {today.isoformat()}") from None
    if first > last:
        raise ValueError("“from” must not be after “to”")
    return first, last


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Midnight London time at the start of `first` up to (not including) midnight after `last`."""
    return (datetime.combine(first, time(0), tzinfo=clock.LONDON),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=clock.LONDON))


def _report_query(first: date, last: date) -> str:
    return urlencode({"from": first.isoformat(), "to": last.isoformat()})


def _build_report(store: CaseStore, start: datetime, end: datetime) -> Any:
    from handoff import reports  # matplotlib and friends load only when a report is asked for

    return reports.case_report(store, start, end)


def _report_chart(store: CaseStore, start: datetime, end: datetime, name: str) -> bytes:
    from handoff import reports  # its charts use no pyplot state, so threads may draw at once

    return reports.chart(reports.case_report(store, start, end), name)


def _csv(store: CaseStore, start: datetime, end: datetime) -> str:
    from handoff import reports

    return reports.to_csv(store.cases_between(start, end))


REPORT_FIGURES = (
    ("cases", "Cases handed off", ""),
    ("claimed", "Cases claimed", ""),
    ("median_minutes_to_claim", "Median time to claim", "minutes"),
    ("p90_minutes_to_claim", "90th percentile time to claim", "minutes"),
    ("with_outcome", "Cases with an outcome", ""),
    ("median_minutes_to_resolve", "Median time to resolve", "minutes"),
    ("p90_minutes_to_resolve", "90th percentile time to resolve", "minutes"),
    ("resolved_at_desk", "Resolved at the desk", ""),
    ("resolved_at_first_contact_pct", "Resolved at first contact", "percent"),
)
REPORT_TABLES = (("by_service", "Service"), ("by_authority", "Council"), ("by_centre", "Centre"),
                 ("by_reason", "Reason"), ("by_outcome", "Outcome"), ("by_status", "Status"))


def _figure(value: Any, unit: str) -> str:
    if value is None:
        return "none yet"
    if unit == "minutes":
        return duration(float(value))
    if unit == "percent":
        return f"{float(value):.0f}%"
    return str(value)


def _figures(data: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str, list[dict]]]]:
    """The report's dict as (name, figure) lines and (key, heading, rows) tables."""
    singles = [(title, _figure(data.get(key), unit)) for key, title, unit in REPORT_FIGURES if key in data]
    tables = [(key, heading, list(data.get(key) or ())) for key, heading in REPORT_TABLES if key in data]
    return singles, tables


def _for_period(handler: Callable[[web.Request, date, date], Awaitable[web.StreamResponse]]) -> Handler:
    """Report handlers get the period of the query (its first and last day),
    or the visitor a 400 page naming what is wrong with it."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            first, last = _period(request)
        except ValueError as bad:
            return _error(request, 400, "Report period not understood", str(bad))
        return await handler(request, first, last)

    return wrapped


def _chart_names() -> tuple[str, ...]:
    from handoff import reports

    return tuple(reports.CHARTS)


@login_required
@_for_period
async def report_page(request: web.Request, first: date, last: date) -> web.StreamResponse:
    report = await _run(_build_report, _store(request), *_bounds(first, last))
    singles, tables = _figures(report.as_dict())
    query = _report_query(first, last)
    return _page(request, "reports.html", {
        "first": first.isoformat(), "last": last.isoformat(), "singles": singles, "tables": tables,
        "query": query, "charts": [(name, name.removeprefix("by_").replace("_", " ")) for name in _chart_names()],
    })


@login_required
@_for_period
async def report_csv(request: web.Request, first: date, last: date) -> web.StreamResponse:
    text = await _run(_csv, _store(request), *_bounds(first, last))
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="handoff-cases-{first.isoformat()}-to-{last.isoformat()}.csv"'})


@login_required
@_for_period
async def report_chart(request: web.Request, first: date, last: date) -> web.StreamResponse:
    name = request.match_info["chart"]
    if name not in _chart_names():  # each <img> asks for one chart: draw only that one
        return _error(request, 404, "No such chart", "There is no chart by that name.")
    png = await _run(_report_chart, _store(request), *_bounds(first, last), name)
    return web.Response(body=png, content_type="image/png")


# ---------------------------------------------------------------- set-up

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
    app[CONFIG] = StaffConfig(settings)
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
    env.filters["london"] = _london
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
