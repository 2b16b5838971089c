"""A durable local outbox for handoff cases: a case is on disk before anyone
is told it was made, and reaches the handoff service exactly once, however
often the service is down or slow.

`submit` commits the case to a SQLite file first (WAL, synchronous=FULL: a
committed row survives a crash of the process or the machine), then tries
to deliver everything pending, oldest first, with a short timeout, waiting
for that at most SUBMIT_WAIT_S so the resident's answer is not held. Cases
not delivered are retried on every later submit and by a background loop.
A retry after an ambiguous failure (the service stored the case but the
answer was lost) is safe because the service is idempotent on
(conversation_id, reason), which is also this outbox's key.

A case the service refuses for good (a 4xx such as 422) is kept with
`rejected_at` and logged, and never sent again.

Logs carry the case reference and a masked conversation id (an SMS
conversation id is the sender's number), never the transcript. Each case
keeps the request id of the message that made it (plumbing.logs): its delivery,
however late, is logged under that id here and sent as X-Request-Id to the
service, so its logs carry it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import re
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from actions.api.handoff_client import HandoffClient, HandoffRejected, HandoffUnavailable
from plumbing import settings
from plumbing.logs import bind_request_id, current_request_id, reset_request_id
from plumbing.masking import mask
from plumbing.paths import VAR_DIR

log = logging.getLogger(__name__)

DELIVERED = "delivered"
QUEUED = "queued"
REJECTED = "rejected"

DEFAULT_URL = "http://127.0.0.1:8090"
DEVELOPMENT_TOKEN = settings.DEVELOPMENT_HANDOFF_TOKEN
DEFAULT_PATH = VAR_DIR / "handoff-outbox.db"
# One attempt to deliver a case gives up after this.
DELIVERY_TIMEOUT_S = 2.0
# How long an action waits for delivery before it answers. The case is safe
# on disk already and its reference known, so the answer does not depend on
# delivery; the bot's whole turn must fit the bridge's budget (BOT_TIMEOUT_S,
# 3 s by default). Delivery goes on after the answer.
SUBMIT_WAIT_S = 1.0
MAX_BACKOFF_S = 60.0
# After this many failed attempts a case is logged as stuck at error level,
# so someone looks; it is still retried, because giving up would lose it.
STUCK_AFTER_ATTEMPTS = 10
# Fields dropped from a row once delivered: from then on the service holds
# the case under its own retention rules, and this file should not outlive them.
_PRIVATE_FIELDS = ("transcript", "caller_number")
_PHONE_LIKE = re.compile(r"\+?[\d\s\-()]{7,}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at TEXT,
    rejected_at TEXT,
    request_id TEXT
)
"""
# Files made before the request id was kept gain its column.
_COLUMNS_ADDED = {"request_id": "ALTER TABLE outbox ADD COLUMN request_id TEXT"}
_PENDING = "delivered_at IS NULL AND rejected_at IS NULL"


class _Unreachable(Exception):
    """The service cannot be reached: the other pending cases wait too."""


def case_key(payload: dict[str, Any]) -> str:
    """conversation_id|reason, the service's idempotency key. Raises
    ValueError when either is missing: such a case can never be delivered."""
    conversation, reason = payload.get("conversation_id"), payload.get("reason")
    if not isinstance(conversation, str) or not conversation or not isinstance(reason, str) or not reason:
        raise ValueError("a handoff case needs a conversation_id and a reason")
    return f"{conversation}|{reason}"


def _conversation_label(conversation_id: str) -> str:
    """The conversation id as it may appear in a log: masked when it is a
    telephone number (SMS conversations are keyed by the sender's number)."""
    return mask(conversation_id) if _PHONE_LIKE.fullmatch(conversation_id) else conversation_id[:64]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Outbox:
    """The outbox in one SQLite file. `client_factory` is called inside the
    event loop that delivers (once per loop) to make the HandoffClient."""

    def __init__(self, path: Path, client_factory: Callable[[], HandoffClient],
                 submit_wait_s: float = SUBMIT_WAIT_S) -> None:
        self.path = Path(path)
        self._submit_wait_s = submit_wait_s
        self._deliveries: set[asyncio.Task[None]] = set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._factory = client_factory
        # One connection shared by the event loop's worker threads; the lock
        # keeps them to one statement at a time.
        self._db_lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        with self._db_lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            # Overwritten, not just freed: a delivered case's transcript and
            # number must not linger in free pages of the file.
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute(_SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
            for column, statement in _COLUMNS_ADDED.items():
                if column not in have:
                    self._db.execute(statement)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: HandoffClient | None = None
        self._flush_lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None

    # -- the file -------------------------------------------------------------

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._db_lock:
            return self._db.execute(sql, params).fetchall()

    def _insert(self, key: str, payload: dict[str, Any], request_id: str | None) -> bool:
        """Commit the case; False when its key was already there (that row wins)."""
        with self._db_lock:
            cursor = self._db.execute(
                "INSERT INTO outbox (key, payload, created_at, request_id) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO NOTHING",
                (key, json.dumps(payload, ensure_ascii=False), _now(), request_id),
            )
            return cursor.rowcount == 1

    def _state(self, key: str) -> str:
        rows = self._execute("SELECT delivered_at, rejected_at FROM outbox WHERE key = ?", (key,))
        delivered_at, rejected_at = rows[0]
        return DELIVERED if delivered_at else REJECTED if rejected_at else QUEUED

    def _pending_rows(self) -> list[tuple[Any, ...]]:
        return self._execute(
            f"SELECT id, key, payload, attempts, request_id FROM outbox WHERE {_PENDING} ORDER BY id")

    def _mark_failed(self, row_id: int, error: str) -> None:
        self._execute("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?", (error, row_id))

    def _mark_rejected(self, row_id: int, error: str) -> None:
        self._execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, rejected_at = ? WHERE id = ?",
            (error, _now(), row_id),
        )

    def _mark_delivered(self, row_id: int, payload: dict[str, Any]) -> None:
        kept = {name: value for name, value in payload.items() if name not in _PRIVATE_FIELDS}
        self._execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = NULL, delivered_at = ?, payload = ? WHERE id = ?",
            (_now(), json.dumps(kept, ensure_ascii=False), row_id),
        )
        # And out of the write-ahead log, which still holds the row as queued.
        self._execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def reference_for(self, conversation_id: str, reason: str) -> str | None:
        """The reference of the case kept for this conversation and reason:
        the store's once delivered, else the first submitted (a second
        submit keeps the first row); None when there is no such case."""
        rows = self._execute("SELECT payload FROM outbox WHERE key = ?", (f"{conversation_id}|{reason}",))
        return json.loads(rows[0][0]).get("reference") if rows else None

    def pending(self) -> int:
        """How many cases wait for delivery (neither delivered nor rejected)."""
        return self._execute(f"SELECT COUNT(*) FROM outbox WHERE {_PENDING}")[0][0]

    def close(self) -> None:
        """Close the file. Call `stop()` first when the loop was started."""
        with self._db_lock:
            self._db.close()

    # -- delivery -------------------------------------------------------------

    def _bind(self) -> tuple[HandoffClient, asyncio.Lock]:
        """The client and flush lock of the running loop (made on first use in
        each loop: an aiohttp session and an asyncio lock belong to one)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._client is None or self._flush_lock is None:
            self._loop, self._client, self._flush_lock = loop, self._factory(), asyncio.Lock()
        return self._client, self._flush_lock

    async def submit(self, payload: dict[str, Any]) -> str:
        """Commit the case (a second submit of the same conversation_id and
        reason keeps the first row), then try to deliver everything pending,
        waiting for that at most `submit_wait_s` (the delivery goes on after).
        Returns "delivered", "queued" (kept; being or to be retried) or "rejected".
        Never raises for delivery problems; raises ValueError for a payload
        without conversation_id or reason, and sqlite3.Error when the case
        could not be stored (the caller must then not promise a call back)."""
        key = case_key(payload)
        label, reference = _conversation_label(payload["conversation_id"]), payload.get("reference")
        if not await asyncio.to_thread(self._insert, key, payload, current_request_id()):
            log.info("handoff case %s (conversation %s) is already in the outbox", reference, label)
        delivery = asyncio.get_running_loop().create_task(self._flush_quietly())
        self._deliveries.add(delivery)
        delivery.add_done_callback(self._deliveries.discard)
        done, _ = await asyncio.wait({delivery}, timeout=self._submit_wait_s)
        if not done:
            log.info("handoff case %s (conversation %s): answering before delivery, which goes on",
                     reference, label)
        return await asyncio.to_thread(self._state, key)

    async def _flush_quietly(self) -> None:
        try:
            await self.flush()
        except Exception as exc:  # noqa: BLE001 - the case is safe on disk; the action must go on
            log.warning("handoff outbox: delivery failed unexpectedly: %s", type(exc).__name__)

    async def flush(self) -> int:
        """Try every pending case, oldest first; returns how many were
        delivered now. Stops at the first sign the service is unreachable
        (trying the rest would only cost a timeout each); a plain 500 moves
        on, so one case the service chokes on does not block the others."""
        client, lock = self._bind()
        delivered = 0
        async with lock:
            for row_id, key, text, attempts, request_id in await asyncio.to_thread(self._pending_rows):
                token = bind_request_id(request_id)
                try:
                    delivered += await self._deliver(client, row_id, key, json.loads(text), attempts, request_id)
                except _Unreachable:
                    break
                finally:
                    reset_request_id(token)
        return delivered

    async def _deliver(self, client: HandoffClient, row_id: int, key: str, payload: dict[str, Any], attempts: int,
                       request_id: str | None) -> int:
        """Send one pending case: 1 when delivered, 0 when rejected or not
        delivered; raises _Unreachable when the rest should wait."""
        reference = payload.get("reference")
        label = _conversation_label(key.rsplit("|", 1)[0])
        try:
            case = await client.create_case(payload, request_id)
        except HandoffRejected as exc:
            await asyncio.to_thread(self._mark_rejected, row_id, str(exc))
            log.error("handoff case %s (conversation %s) rejected by the service, not retried: %s",
                      reference, label, exc)
            return 0
        except HandoffUnavailable as exc:
            await asyncio.to_thread(self._mark_failed, row_id, str(exc))
            level = logging.ERROR if attempts + 1 >= STUCK_AFTER_ATTEMPTS else logging.WARNING
            log.log(level, "handoff case %s (conversation %s) not delivered (attempt %d): %s",
                    reference, label, attempts + 1, exc)
            if exc.status == 500:
                return 0
            raise _Unreachable from None
        if isinstance(case.get("reference"), str):
            # The store's reference wins: it differs from ours only
            # after a (rare) clash, and is the one staff can find.
            payload["reference"] = case["reference"]
        await asyncio.to_thread(self._mark_delivered, row_id, payload)
        log.info("handoff case %s (conversation %s) delivered as %s", reference, label, case.get("reference"))
        return 1

    # -- the background loop --------------------------------------------------

    def start(self, interval_s: float = 5.0, max_interval_s: float = MAX_BACKOFF_S) -> None:
        """Flush every `interval_s` in the running loop, backing off (doubling,
        up to `max_interval_s`) while cases stay undelivered. Starting again
        in the same loop does nothing."""
        loop = asyncio.get_running_loop()
        if self._task is not None and not self._task.done() and self._task.get_loop() is loop:
            return
        # In an empty context: the loop must not log under the request id of
        # the action that happened to start it.
        loop_body = self._run(interval_s, max(interval_s, max_interval_s))
        self._task = contextvars.Context().run(loop.create_task, loop_body)

    async def _run(self, interval_s: float, max_interval_s: float) -> None:
        delay = interval_s
        while True:
            await asyncio.sleep(delay)
            try:
                await self.flush()
                stuck = await asyncio.to_thread(self.pending) > 0
            except Exception as exc:  # noqa: BLE001 - the loop must outlive any one failure
                log.warning("handoff outbox: flush failed unexpectedly: %s", type(exc).__name__)
                stuck = True
            delay = min(delay * 2, max_interval_s) if stuck else interval_s

    async def stop(self) -> None:
        """Stop the background loop and any delivery an action left running
        (abandoned: its case stays pending) and close the client's own session."""
        task, self._task = self._task, None
        for running in [task, *self._deliveries]:
            if running is not None and not running.done():
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
        client, self._client = self._client, None
        self._loop = self._flush_lock = None
        if client is not None:
            await client.aclose()


_default: Outbox | None = None


def default_outbox() -> Outbox:
    """The action server's outbox: file HANDOFF_OUTBOX (default
    var/handoff-outbox.db), service HANDOFF_URL with HANDOFF_API_TOKEN.
    Made on first use, then shared."""
    global _default
    if _default is None:
        env = settings.environment()
        path = settings.text(env, "HANDOFF_OUTBOX")
        url = settings.url(env, "HANDOFF_URL", DEFAULT_URL)
        token = settings.secret(env, "HANDOFF_API_TOKEN", settings.is_production(env), DEVELOPMENT_TOKEN,
                                "the bearer token for the case API")
        _default = Outbox(Path(path) if path else DEFAULT_PATH,
                          lambda: HandoffClient.connect(url, token, DELIVERY_TIMEOUT_S))
    return _default


async def submit(payload: dict[str, Any]) -> str:
    """What the actions call: `Outbox.submit` on the default outbox, whose
    background loop starts in this (the action server's) event loop."""
    outbox = default_outbox()
    outbox.start()
    return await outbox.submit(payload)
