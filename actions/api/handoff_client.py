"""The actions' one client of the handoff service's case API.

`HandoffClient.create_case` posts one case and returns the stored case, or
raises one of two errors, which is all a caller has to decide between:

- `HandoffUnavailable`: no usable answer (down, slow, 5xx, 429, an answer
  that is not the case) or a set-up fault (wrong token, wrong URL). The case
  may or may not have been stored; sending it again is safe, because the
  service is idempotent on (conversation_id, reason).
- `HandoffRejected`: the service read the case and will never accept it
  (400, 413, 422, ...). Sending it again is pointless.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from plumbing.logs import REQUEST_ID_HEADER

CASES_PATH = "/api/cases"
# Enough of the service's error to tell what was wrong, short enough for a log.
MAX_ERROR_CHARS = 200
# 4xx answers that say nothing about the case itself: a request timeout, a
# rate limit, and set-up faults (token, URL) that are fixed by a person while
# the cases wait. Every other 4xx is the service judging the case.
RETRYABLE_4XX = frozenset({401, 403, 404, 408, 429})


class HandoffUnavailable(Exception):
    """No usable answer; the message says why (never any case content).
    `status` is the HTTP status when the service answered, else None."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class HandoffRejected(Exception):
    """The service refused the case for good; `status` and the message are
    the service's answer (its error text, shortened)."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"HTTP {status}: {error}")
        self.status = status
        self.error = error


def _error_text(raw: bytes) -> str:
    """The {"error": ...} of an answer, or its start when it is not that shape."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        text = body["error"]
    else:
        text = raw[:MAX_ERROR_CHARS].decode("utf-8", errors="replace")
    return " ".join(text.split())[:MAX_ERROR_CHARS] or "(no error text)"


class HandoffClient:
    """Talks to one handoff service. The session is injectable (tests, the
    outbox's own); `connect` makes a client that owns its session and closes
    it in `aclose`."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, timeout_s: float = 2.0) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + CASES_PATH
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._owns_session = False

    @classmethod
    def connect(cls, base_url: str, token: str, timeout_s: float = 2.0) -> HandoffClient:
        """A client with a session of its own; call inside the event loop that
        will use it, and `await aclose()` when done."""
        client = cls(aiohttp.ClientSession(), base_url, token, timeout_s)
        client._owns_session = True
        return client

    async def aclose(self) -> None:
        """Close the session if this client made it; an injected one is left
        to its owner."""
        if self._owns_session and not self._session.closed:
            await self._session.close()

    async def create_case(self, payload: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """POST the case; the stored case (the answer's "case" object), whether
        it was created now (201) or already existed (200). `request_id` (the
        message that made the case) is sent as X-Request-Id for the logs."""
        headers = {**self._headers, REQUEST_ID_HEADER: request_id} if request_id else self._headers
        try:
            async with self._session.post(
                self._url, json=payload, headers=headers, timeout=self._timeout
            ) as response:
                status = response.status
                raw = await response.read()
        except asyncio.TimeoutError:
            raise HandoffUnavailable("no answer within the time budget") from None
        except aiohttp.ClientError as exc:
            raise HandoffUnavailable(type(exc).__name__) from None
        if 400 <= status < 500 and status not in RETRYABLE_4XX:
            raise HandoffRejected(status, _error_text(raw))
        if status not in (200, 201):
            raise HandoffUnavailable(f"HTTP {status}", status)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise HandoffUnavailable("answer is not JSON", status) from None
        case = body.get("case") if isinstance(body, dict) else None
        if not isinstance(case, dict):
            raise HandoffUnavailable("answer holds no case", status)
        return case
