"""What the bridge and the handoff service share as HTTP services: the
request id and one JSON log line a request, Prometheus metrics in a registry
of each app's own, a protected /metrics and the /healthz answer.

/metrics: with METRICS_TOKEN set it needs `Authorization: Bearer <token>`
(401 otherwise). Without a token it is open outside production, for local
development, and switched off (404) in production, where the port may be
reached through the same proxy as Twilio or staff: a scraper needs the token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import Any, Awaitable, Callable, Mapping

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import Table, literal, select
from sqlalchemy.engine import Engine

from plumbing.logs import REQUEST_ID_HEADER, bind_request_id, clean_request_id, reset_request_id

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
# Polled every few seconds: neither is worth a log line.
QUIET_PATHS = frozenset({METRICS_PATH, HEALTH_PATH})
HEALTH_TIMEOUT_S = 2.0
# Seconds; the bridge gives the bot 3 s, so the buckets straddle that budget.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 10.0)

log = logging.getLogger("plumbing.observability")


class HttpMetrics:
    """A registry of the app's own (tests run several apps in one process)
    holding what every service measures: answers by status class and
    request latency by route. Each service adds its own metrics to
    `registry`."""

    def __init__(self, prefix: str) -> None:
        self.registry = CollectorRegistry()
        self.responses = Counter(f"{prefix}_http_responses", "HTTP answers by status class (2xx, 4xx, 5xx, ...)",
                                 ["status_class"], registry=self.registry)
        self.latency = Histogram(f"{prefix}_http_request_duration_seconds",
                                 "Time from a request arriving to its answer, by route", ["method", "route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)

    def observe(self, request: web.Request, status: int, seconds: float) -> None:
        self.responses.labels(f"{status // 100}xx").inc()
        self.latency.labels(request.method, _route(request)).observe(seconds)


def _route(request: web.Request) -> str:
    """The route's pattern (/api/cases/{reference}), so a label never holds
    a value from a request."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def middleware(metrics: HttpMetrics, access_log: logging.Logger) -> Handler:
    """Outermost: binds the request id (X-Request-Id when the caller sent a
    plausible one; inner layers may bind a better one), then measures and
    logs the request (not its query or body) once it is answered."""

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = bind_request_id(clean_request_id(request.headers.get(REQUEST_ID_HEADER)))
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            if request.path not in QUIET_PATHS:
                seconds = time.perf_counter() - started
                metrics.observe(request, status, seconds)
                access_log.info("%s %s %d", request.method, request.path, status,
                                extra={"method": request.method, "path": request.path, "status": status,
                                       "duration_ms": round(seconds * 1000, 1)})
            reset_request_id(token)

    return observe


def metrics_route(app: web.Application, metrics: HttpMetrics, token: str | None, production: bool) -> None:
    """GET /metrics: the registry in Prometheus text format, guarded as the
    module docstring says."""
    expected = token.encode() if token else None

    async def scrape(request: web.Request) -> web.Response:
        if expected is not None:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
                return web.Response(status=401, text="metrics need the METRICS_TOKEN bearer token\n",
                                    headers={"WWW-Authenticate": "Bearer"})
        elif production:
            return web.Response(status=404, text="metrics are off: set METRICS_TOKEN to scrape them\n")
        return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get(METRICS_PATH, scrape)


def ping(engine: Engine, table: Table) -> None:
    """Read one row of `table`: raises when the database cannot be reached
    or is not migrated. Blocking; run it in a thread."""
    with engine.connect() as connection:
        connection.execute(select(literal(1)).select_from(table).limit(1)).all()


async def check(probe: Callable[[], Any], timeout_s: float = HEALTH_TIMEOUT_S) -> str:
    """'ok', or why not ('unreachable', 'timeout'), for a blocking `probe`
    run in a thread."""
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, probe), timeout_s)
    except asyncio.TimeoutError:
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - any failure is the answer; its text may quote data
        log.warning("health check failed: %s", type(exc).__name__)
        return "unreachable"
    return "ok"


def health(parts: Mapping[str, Any], required: tuple[str, ...]) -> web.Response:
    """200 {"status": "ok", **parts} when every part named in `required` is
    'ok', else 503 {"status": "unavailable", "failing": [...], **parts}."""
    failing = [name for name in required if parts.get(name) != "ok"]
    if failing:
        return web.json_response({"status": "unavailable", "failing": failing, **parts}, status=503)
    return web.json_response({"status": "ok", **parts})
