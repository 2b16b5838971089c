"""The one client of the bot: Rasa's REST channel (the bridge's calls and
texts, and the web chat, talk to the bot through it).

`BotClient.send` posts a message and returns what the bot said as a
`BotReply`, or raises `BotUnavailable` for anything that is not a proper
answer in time (down, slow, an HTTP error, garbage), so the caller of this
module has exactly one failure to handle.

The request id bound for the logs (plumbing.logs) goes with each message, as the
X-Request-Id header and the metadata's `request_id`, so Rasa, the actions
and the handoff service log under the same id.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

import aiohttp

from plumbing.logs import REQUEST_ID_HEADER, current_request_id

WEBHOOK_PATH = "/webhooks/rest/webhook"
# Speech recognisers sometimes return pages of junk; nobody says more than this
# in one breath, and the model's time grows with the length.
MAX_MESSAGE_CHARS = 1000


class BotUnavailable(Exception):
    """The bot gave no usable answer; the message says why (no user text).
    `cause` is "timeout" when the time budget ran out, else "error"."""

    def __init__(self, message: str, cause: str = "error") -> None:
        super().__init__(message)
        self.cause = cause


class BotObserver(Protocol):
    """What the client reports (the bridge's metrics)."""

    def bot_answered(self, channel: str, reply: "BotReply") -> None: ...

    def bot_failed(self, channel: str, cause: str) -> None: ...


@dataclass(frozen=True)
class BotReply:
    texts: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()  # titles, in order
    events: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)  # council payloads
    button_payloads: tuple[str, ...] = ()  # what each button sends back, in the order of `buttons`

    def event(self, name: str) -> Mapping[str, Any] | None:
        """The first council payload of this kind, if the bot sent one."""
        return next((e for e in self.events if e.get("event") == name), None)

    @property
    def empty(self) -> bool:
        return not self.texts and not self.events


def parse_reply(payload: Any) -> BotReply:
    """Rasa's REST answer (a list of messages) as a BotReply. Raises
    BotUnavailable when it is not that shape at all; unknown keys inside a
    message are ignored."""
    if not isinstance(payload, list):
        raise BotUnavailable(f"answer is a {type(payload).__name__}, not a list of messages")
    texts: list[str] = []
    buttons: list[str] = []
    payloads: list[str] = []
    events: list[Mapping[str, Any]] = []
    for message in payload:
        if not isinstance(message, dict):
            raise BotUnavailable("a message in the answer is not an object")
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            texts.append(text.strip())
        for button in message.get("buttons") or []:
            if isinstance(button, dict) and isinstance(button.get("title"), str):
                buttons.append(button["title"])
                payload = button.get("payload")
                payloads.append(payload if isinstance(payload, str) and payload else button["title"])
        custom = message.get("custom")
        council = custom.get("council") if isinstance(custom, dict) else None
        if isinstance(council, dict) and isinstance(council.get("event"), str):
            events.append(council)
    return BotReply(tuple(texts), tuple(buttons), tuple(events), tuple(payloads))


class BotClient:
    """Talks to one Rasa server. The session is injectable for tests and is
    owned by the application (opened and closed in its cleanup context)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout_s: float,
                 observer: BotObserver | None = None) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._url = self._base + WEBHOOK_PATH
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._observer = observer

    async def send(self, sender: str, text: str, metadata: Mapping[str, Any]) -> BotReply:
        channel = str(metadata.get("channel", "unknown"))
        try:
            reply = await self._send(sender, text, metadata)
        except BotUnavailable as exc:
            if self._observer is not None:
                self._observer.bot_failed(channel, exc.cause)
            raise
        if self._observer is not None:
            self._observer.bot_answered(channel, reply)
        return reply

    async def _send(self, sender: str, text: str, metadata: Mapping[str, Any]) -> BotReply:
        body = {"sender": sender, "message": text[:MAX_MESSAGE_CHARS], "metadata": dict(metadata)}
        headers: dict[str, str] = {}
        request_id = current_request_id()
        if request_id is not None:
            body["metadata"]["request_id"] = request_id
            headers[REQUEST_ID_HEADER] = request_id
        try:
            async with self._session.post(self._url, json=body, headers=headers, timeout=self._timeout) as response:
                if response.status != 200:
                    raise BotUnavailable(f"HTTP {response.status}")
                raw = await response.read()
        except asyncio.TimeoutError:
            raise BotUnavailable("no answer within the time budget", "timeout") from None
        except aiohttp.ClientError as exc:
            raise BotUnavailable(f"{type(exc).__name__}") from None
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BotUnavailable("answer is not JSON") from None
        return parse_reply(payload)

    async def alive(self, timeout_s: float = 1.0) -> bool:
        """True when the Rasa server answers its health path (GET /) now."""
        try:
            async with self._session.get(self._base + "/", timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
                return response.status == 200
        except (asyncio.TimeoutError, aiohttp.ClientError):
            return False
