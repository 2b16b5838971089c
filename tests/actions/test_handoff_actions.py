"""Cases made by the actions: when, what the person is told, and what goes
to the handoff service (through the durable outbox; no service runs here,
so every case waits in the outbox, which is what a caller relies on when
the service is down)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import outbox
from actions.handoff import ActionComplaint, conversation_id
from actions.people import ActionConnectPerson, ActionFallback
from actions.routing import ActionRoute
from council.references import is_reference

SLOTS = {"postcode": None, "service": None, "failed_turns": 0.0, "offer": None, "pending_clarification": None,
         "handoffs": None}
NUMBER = "+447700900456"


def tracker(text: str, intent: str, *, sender: str = "CA" + "7" * 32, channel: str = "chat",
            metadata: dict[str, Any] | None = None, **slots: Any) -> Tracker:
    events = [
        {"event": "session_started", "timestamp": 1763900000.0},
        {"event": "bot", "text": "Hello, what can I help you with?"},
        {"event": "user", "text": "hello there"},
        {"event": "bot", "text": "What can I help you with?"},
        {"event": "user", "text": text},
    ]
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95},
              "intent_ranking": [{"name": intent, "confidence": 0.95}], "entities": [],
              "metadata": {"channel": channel, **(metadata or {})}}
    return Tracker(sender, {**SLOTS, **slots}, latest, events, False, None, {}, "action_listen")


async def run(action: Any, current: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, current, {})
    return dispatcher.messages, events


def handoffs(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"]["council"] for m in messages
            if m.get("custom") and m["custom"]["council"]["event"] == "handoff"]


def queued(current: Tracker, reason: str) -> dict[str, Any]:
    """The case as the outbox holds it for the service."""
    rows = sqlite3.connect(outbox.default_outbox().path).execute(
        "SELECT payload FROM outbox WHERE key = ?", (f"{conversation_id(current)}|{reason}",)).fetchall()
    assert len(rows) == 1
    return json.loads(rows[0][0])


async def test_a_complaint_is_stored_then_its_reference_told(weekday_open: None) -> None:
    current = tracker("I want to make a formal complaint", "complaint")
    messages, events = await run(ActionComplaint(), current)
    assert [m["response"] for m in messages if m["response"]] == ["utter_complaint", "utter_handoff"]
    (event,) = handoffs(messages)
    told = next(m for m in messages if m["response"] == "utter_handoff")
    assert is_reference(event["reference"]) and told["reference"] == event["reference"]
    assert told["centre"] == "Lancaster Town Hall" and "photo ID" in told["bring"]
    case = queued(current, "complaint")
    assert case["reference"] == event["reference"] and case["channel"] == "chat"
    assert case["transcript"][0] == {"who": "bot", "text": "Hello, what can I help you with?"}
    assert case["transcript"][-1] == {"who": "caller", "text": "I want to make a formal complaint"}
    assert SlotSet("handoffs", {"complaint": event["reference"]}) in events


async def test_the_same_case_twice_tells_the_same_reference(weekday_open: None) -> None:
    current = tracker("complaint", "complaint", sender="CA" + "8" * 32)
    first, _ = await run(ActionComplaint(), current)
    again, _ = await run(ActionComplaint(), current)
    assert handoffs(first)[0]["reference"] == handoffs(again)[0]["reference"]


async def test_on_the_phone_the_reference_is_spelled_out(weekday_open: None) -> None:
    messages, _ = await run(ActionComplaint(), tracker("complaint", "complaint", sender="CA" + "9" * 32,
                                                       channel="voice", metadata={"caller": NUMBER}))
    told = next(m for m in messages if m["response"] == "utter_handoff")
    assert told["reference"].startswith("L A N, ") and " for " in told["reference"]
    assert queued(tracker("", "", sender="CA" + "9" * 32), "complaint")["caller_number"] == NUMBER


async def test_a_text_conversation_keeps_the_number_out_of_its_id(weekday_open: None) -> None:
    current = tracker("complaint", "complaint", sender=NUMBER, channel="sms")
    await run(ActionComplaint(), current)
    assert NUMBER not in conversation_id(current) and "900456" not in conversation_id(current)
    assert queued(current, "complaint")["caller_number"] == NUMBER


async def test_a_person_out_of_hours_gets_a_case_for_the_right_centre(saturday_night: None) -> None:
    current = tracker("a person please", "request_human", sender="CA" + "a" * 32, postcode="LA4 5AB",
                      service="council_housing")
    messages, _ = await run(ActionConnectPerson(), current)
    told = next(m for m in messages if m["response"] == "utter_handoff")
    assert told["centre"] == "the Cable Street housing office"  # council housing, whatever the postcode
    case = queued(current, "person_requested")
    assert (case["service"], case["postcode"]) == ("council_housing", "LA4 5AB")


async def test_arrears_are_explained_and_passed_to_staff(weekday_open: None) -> None:
    current = tracker("I've fallen behind with my council tax and need a payment plan", "council_tax",
                      sender="CA" + "b" * 32)
    messages, _ = await run(ActionRoute(), current)
    assert messages[0]["response"] == "utter_service"
    (event,) = handoffs(messages)
    assert event["reason"] == "cannot_complete" and event["priority"] == "normal"
    told = next(m for m in messages if m["response"] == "utter_handoff")
    assert "council tax bill" in told["bring"]
    plain, _ = await run(ActionRoute(), tracker("how do I pay my council tax", "council_tax", sender="CA" + "c" * 32))
    assert handoffs(plain) == []


async def test_two_failures_out_of_hours_leave_a_case(saturday_night: None) -> None:
    current = tracker("zzz", "nlu_fallback", sender="CA" + "d" * 32, failed_turns=1.0)
    messages, _ = await run(ActionFallback(), current)
    assert handoffs(messages)[0]["reason"] == "not_understood"


async def test_a_case_that_cannot_be_kept_promises_nothing(weekday_open: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(payload: dict[str, Any]) -> str:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(outbox, "submit", broken)
    messages, events = await run(ActionComplaint(), tracker("complaint", "complaint", sender="CA" + "e" * 32))
    assert [m["response"] for m in messages if m["response"]] == ["utter_complaint", "utter_handoff_failed"]
    assert handoffs(messages) == [] and events == []
