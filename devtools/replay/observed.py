"""What the bot did in one turn, read from the tracker's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from devtools.replay.common import OUTCOMES


@dataclass
class Observed:
    """What one turn produced, in the terms a conversation file uses."""

    intent: str | None = None
    route: str | None = None
    responses: list[dict[str, Any]] = field(default_factory=list)
    transfer: dict[str, Any] | None = None
    handoff: dict[str, Any] | None = None
    hangup: str | None = None
    heard: list[str] = field(default_factory=list)  # --stack: what the caller heard or read

    def expectation(self) -> dict[str, Any]:
        """This turn written as an `expect` block."""
        written: dict[str, Any] = {"intent": self.intent}
        if self.route:
            written["route"] = self.route
        written["responses"] = self.responses
        for name in OUTCOMES:
            value = getattr(self, name)
            if value is not None:
                written[name] = value
        return written


def _council(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    custom = (data or {}).get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("council"), dict):
        return custom["council"]
    return None


def _apply_bot_event(observed: Observed, event: Mapping[str, Any]) -> None:
    payload = _council(event.get("data"))
    if payload is not None:
        kind = payload.get("event")
        if kind == "route":
            observed.route = payload.get("service")
        elif kind == "transfer":
            observed.transfer = {"service": payload.get("service"), "phone": payload.get("phone")}
        elif kind == "handoff":
            observed.handoff = {"reason": payload.get("reason"), "priority": payload.get("priority")}
        elif kind == "hangup":
            observed.hangup = payload.get("reason")
        return
    text = event.get("text")
    buttons = (event.get("data") or {}).get("buttons") or []
    if text is None and not buttons:
        return
    reply: dict[str, Any] = {"name": (event.get("metadata") or {}).get("utter_action"), "text": text}
    if buttons:
        reply["buttons"] = [button.get("payload") for button in buttons]
    observed.responses.append(reply)


def split_turns(events: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Observed]]:
    """A tracker's events (as dictionaries) as turns: each user message with
    what the bot did until the next one. Starts at the latest session."""
    events = list(events)
    starts = [i for i, event in enumerate(events) if event.get("event") == "session_started"]
    if starts:
        events = events[starts[-1]:]
    turns: list[tuple[Mapping[str, Any], Observed]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            turns.append((event, Observed(intent=intent)))
        elif kind == "bot" and turns:
            _apply_bot_event(turns[-1][1], event)
    return turns
