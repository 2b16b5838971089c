"""The case API: JSON over HTTP for the bot's actions (and any other service).

Every /api/ route needs a bearer token, and the token says who is asking.
HANDOFF_API_TOKEN is the bot's: it makes cases and reads a case back by its
reference. Listing cases and staff actions (claim, outcome, note) need
HANDOFF_INTEGRATION_TOKEN, a contact-centre system's, which is unset by
default: then staff act only on the staff pages, in a session of their own,
and the bot's token cannot claim or close a case under anyone's name. Every
read through the API leaves an audit row (api_read, api_list). Answers
and errors are JSON; an error is {"error": "..."} (a 409 adds the current
"case"). Domain errors become HTTP errors in one place, `_errors`. The
callers retry through their outbox, so a fault is an honest 500, and a
retried create is safe: cases are idempotent on (conversation_id, reason).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import traceback
from datetime import datetime
from typing import Any, Awaitable, Callable, Mapping, TypeVar

from aiohttp import web
from twilio.http import HttpClient

from council import references
from council.catalogue import Catalogue
from council.clock import parse
from handoff import db, notify
from handoff.cases import MAX_LIST, PRIORITIES, STATUSES, CaseConflict, CaseError, CaseNotFound, InvalidCase, NewCase
from handoff.keys import METRICS, SETTINGS, STORE
from handoff.metrics import HandoffMetrics
from handoff.settings import HandoffSettings
from plumbing import observability

log = logging.getLogger("handoff.api")

PREFIX = "/api/"
MAX_BODY = 256 * 1024
DRAIN_TIMEOUT_S = 5.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")

CATALOGUE = web.AppKey("catalogue", Catalogue)
# Texts being sent; awaited when the app stops so none is cut off half-way.
NOTIFY_TASKS = web.AppKey("notify_tasks", set)
# Twilio's HTTP client; None means the real one. Tests put a fake here.
TWILIO_HTTP = web.AppKey("twilio_http", HttpClient)


class ApiError(Exception):
    """A request the API refuses, with the status to answer."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _error(status: int, message: str, headers: Mapping[str, str] | None = None, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status, headers=headers)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place where refusals and domain errors become HTTP answers."""
    if not request.path.startswith(PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except Exception as exc:  # noqa: BLE001 - each kind is answered in _answer
        response = _answer(request, exc)
    if not await _discard_body(request):
        response.force_close()
    return response


async def _discard_body(request: web.Request) -> bool:
    """Read and drop what is left of a refused request's body; False when it
    is too big for that (then the connection is closed after the answer).
    aiohttp stops reading a connection whose buffered body nobody reads, so
    the next request on the same keep-alive connection would hang."""
    if request.content.at_eof():
        return True
    if request.content_length is not None and request.content_length > MAX_BODY:
        return False

    async def drain() -> bool:
        left = MAX_BODY
        while left > 0:
            chunk = await request.content.read(min(left, 64 * 1024))
            if not chunk:
                return True
            left -= len(chunk)
        return request.content.at_eof()

    try:
        return await asyncio.wait_for(drain(), DRAIN_TIMEOUT_S)
    except (asyncio.TimeoutError, ConnectionError):
        return False


def _answer(request: web.Request, exc: Exception) -> web.Response:
    if isinstance(exc, ApiError):
        return _error(exc.status, exc.message, exc.headers)
    if isinstance(exc, CaseNotFound):
        return _error(404, str(exc) or "no such case")
    if isinstance(exc, CaseConflict):
        case = exc.case.as_dict() if exc.case is not None else None
        return _error(409, str(exc) or "the case has changed", case=case)
    if isinstance(exc, CaseError):  # InvalidCase and any other refusal of the store
        return _error(422, str(exc) or "invalid case")
    if isinstance(exc, web.HTTPException) and exc.status >= 400:
        return _error(exc.status, exc.reason, {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None)
    if isinstance(exc, web.HTTPException):  # a redirect is not an error
        raise exc
    # A caller's outbox retries a 500. Frames only: an exception's message (a
    # database error's parameters, say) can quote the body, and the body holds
    # a transcript and a number.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s while answering %s %s\n%s", type(exc).__name__, request.method, request.path, frames,
              extra={"path": request.path, "status": 500, "event": "internal_error"})
    return _error(500, "internal error")


BOT, INTEGRATION = "bot", "integration"
CALLER = "handoff_api_caller"  # the request key: BOT or INTEGRATION


def _auth(settings: HandoffSettings) -> Callable[..., Awaitable[web.StreamResponse]]:
    tokens = [(settings.api_token.encode(), BOT)]
    if settings.integration_token:
        tokens.append((settings.integration_token.encode(), INTEGRATION))

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(PREFIX):
            return await handler(request)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        offered = given.strip().encode()
        # Every token compared, whichever matches, so timing tells nothing.
        matched = [who for token, who in tokens if hmac.compare_digest(offered, token)]
        if scheme.lower() != "bearer" or not offered:
            problem = "missing"
        elif not matched:
            problem = "does not match"
        else:
            request[CALLER] = matched[0]
            return await handler(request)
        # Neither the body nor the token offered is logged.
        log.warning("bearer token %s", problem, extra={"path": request.path, "status": 401})
        raise ApiError(401, f"bearer token {problem}", {"WWW-Authenticate": "Bearer"})

    return check


def middlewares(settings: HandoffSettings,
                metrics: HandoffMetrics) -> list[Callable[..., Awaitable[web.StreamResponse]]]:
    """Measuring and logging outermost (every answer counted, under the
    caller's X-Request-Id), then errors, so a refused token is answered as
    JSON too."""
    return [observability.middleware(metrics, log), _errors, _auth(settings)]


def _integration_only(handler: Handler) -> Handler:
    """Listing and staff actions: not for the bot's token (see the module's docstring)."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        if request.get(CALLER) != INTEGRATION:
            log.warning("staff action refused to the bot's token", extra={"path": request.path, "status": 403})
            raise ApiError(403, "this token makes and reads cases; staff act on the staff pages")
        return await handler(request)

    return wrapped


async def _audit_read(request: web.Request, action: str, reference: str | None = None,
                      detail: dict[str, Any] | None = None) -> None:
    await _run(request.app[STORE].record_access, f"api:{request[CALLER]}", action, reference, detail)


# --- reading requests --------------------------------------------------------


async def _json_object(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, f"the body is over {MAX_BODY // 1024} KiB")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body.extend(chunk)
        if len(body) > MAX_BODY:  # a chunked body has no Content-Length to check first
            raise ApiError(413, f"the body is over {MAX_BODY // 1024} KiB")
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _text(body: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string field's value; its length and vocabulary are the store's to
    check (422)."""
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, f"{name} is required")
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string")
    if required and not value.strip():
        raise ApiError(400, f"{name} is required")
    return value


def _reference(request: web.Request) -> str:
    raw = request.match_info["reference"]
    reference = references.normalise(raw)
    if reference is None:
        raise InvalidCase("reference", f"{raw[:40]!r} is not a case reference")
    return reference


def _when(body: Mapping[str, Any], name: str) -> datetime | None:
    text = _text(body, name, required=False)
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError:
        raise InvalidCase(name, f"{text[:40]!r} is not an ISO-8601 date-time") from None


def _new_case(body: Mapping[str, Any]) -> NewCase:
    if "transcript" not in body:
        raise ApiError(400, "transcript is required")
    return NewCase(
        conversation_id=_text(body, "conversation_id") or "",
        reason=_text(body, "reason") or "",
        channel=_text(body, "channel") or "",
        transcript=body["transcript"],  # its shape is the store's to check (422)
        reference=_text(body, "reference", required=False),
        caller_number=_text(body, "caller_number", required=False),
        service=_text(body, "service", required=False),
        priority=_text(body, "priority", required=False),
        postcode=_text(body, "postcode", required=False),
        created_at=_when(body, "created_at"),
    )


def _staff(body: Mapping[str, Any]) -> str:
    return _text(body, "staff") or ""


def _whole(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be from {low} to {high}")
    return value


def _statuses(request: web.Request) -> list[str] | None:
    # Both ?status=open&status=claimed and ?status=open,claimed.
    wanted = [s.strip() for raw in request.query.getall("status", []) for s in raw.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise InvalidCase("status", f"{unknown[0][:40]!r} is not one of {', '.join(STATUSES)}")
    return wanted or None


# --- routes ------------------------------------------------------------------


async def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The store is synchronous: call it in a worker thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))


def _case(case: Any, status: int = 200) -> web.Response:
    return web.json_response({"case": case.as_dict()}, status=status)


def _text_the_reference(app: web.Application, case: Any, caller_number: str | None) -> None:
    """In the background: the answer to the client never waits for Twilio."""
    task = asyncio.get_running_loop().create_task(notify.text_reference(
        app[SETTINGS], case, caller_number, catalogue=app[CATALOGUE], http_client=app.get(TWILIO_HTTP)))
    tasks = app[NOTIFY_TASKS]
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def create_case(request: web.Request) -> web.Response:
    new = _new_case(await _json_object(request))
    case, created = await _run(request.app[STORE].create_case, new, actor="api")
    if created:
        request.app[METRICS].cases_created.labels(case.channel, case.priority).inc()
        log.info("case %s created", case.reference,
                 extra={"reference": case.reference, "reason": case.reason, "service": case.service})
        # The number comes from the request: the store keeps it apart and
        # reading it back would be an audited reveal.
        _text_the_reference(request.app, case, new.caller_number)
    return _case(case, 201 if created else 200)


async def get_case(request: web.Request) -> web.Response:
    case = await _run(request.app[STORE].get, _reference(request))
    await _audit_read(request, "api_read", case.reference)
    return _case(case)


@_integration_only
async def list_cases(request: web.Request) -> web.Response:
    query = request.query
    priority = query.get("priority") or None
    if priority is not None and priority not in PRIORITIES:
        raise InvalidCase("priority", f"{priority[:40]!r} is not one of {', '.join(PRIORITIES)}")
    cases = await _run(
        request.app[STORE].list_cases,
        centre=query.get("centre") or None, statuses=_statuses(request), priority=priority,
        service=query.get("service") or None, limit=_whole(query, "limit", 100, 1, MAX_LIST),
        offset=_whole(query, "offset", 0, 0, 10**9),
    )
    await _audit_read(request, "api_list", None, {"count": len(cases)})
    return web.json_response({"cases": [case.as_dict() for case in cases]})


@_integration_only
async def claim(request: web.Request) -> web.Response:
    reference = _reference(request)
    staff = _staff(await _json_object(request))
    case = await _run(request.app[STORE].claim, reference, staff)
    request.app[METRICS].claims.labels("api").inc()
    return _case(case)


@_integration_only
async def outcome(request: web.Request) -> web.Response:
    reference = _reference(request)
    body = await _json_object(request)
    staff, chosen = _staff(body), _text(body, "outcome") or ""
    note = _text(body, "note", required=False)
    case = await _run(request.app[STORE].record_outcome, reference, staff, chosen, note)
    request.app[METRICS].outcomes.labels(chosen, "api").inc()
    return _case(case)


@_integration_only
async def add_note(request: web.Request) -> web.Response:
    reference = _reference(request)
    body = await _json_object(request)
    staff, text = _staff(body), _text(body, "text") or ""
    return _case(await _run(request.app[STORE].add_note, reference, staff, text), 201)


async def healthz(request: web.Request) -> web.Response:
    """Ready when the case store's database answers (no token needed)."""
    store = request.app[STORE]
    database = await observability.check(lambda: observability.ping(store.engine, db.cases))
    return observability.health({"database": database}, required=("database",))


def setup(app: web.Application, catalogue: Catalogue) -> None:
    """Mount the case API on `app` (whose middlewares include
    `middlewares(settings, metrics)`)."""
    app[CATALOGUE] = catalogue
    app[NOTIFY_TASKS] = set()
    app.router.add_post("/api/cases", create_case)
    app.router.add_get("/api/cases", list_cases)
    app.router.add_get("/api/cases/{reference}", get_case)
    app.router.add_post("/api/cases/{reference}/claim", claim)
    app.router.add_post("/api/cases/{reference}/outcome", outcome)
    app.router.add_post("/api/cases/{reference}/notes", add_note)
    app.router.add_get(observability.HEALTH_PATH, healthz)
    observability.metrics_route(app, app[METRICS], app[SETTINGS].metrics_token, app[SETTINGS].production)


async def finish_texts(app: web.Application) -> None:
    """Wait for texts still being sent (each has its own Twilio timeout)."""
    tasks = set(app[NOTIFY_TASKS])
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
