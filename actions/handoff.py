"""Passing a conversation to staff at a face-to-face centre: the case is
committed (to the handoff service, or the action server's durable outbox
when it is unreachable) before the person hears its reference."""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context, outbox
from council import hours
from council.catalogue import default_catalogue
from council.centres import nearest_centre
from council.clock import now
from council.handoff_rules import default_handoff_rules
from council.references import new_reference, spoken

log = logging.getLogger(__name__)

SLOT = "handoffs"  # {reason: reference} made in this conversation
SMS = "sms"
PHONE = re.compile(r"\+?\d{7,15}")


def conversation_id(tracker: Tracker) -> str:
    """One id per conversation session, the same on every retry. Hashed:
    a text conversation's sender is the person's phone number, which the
    case keeps only in its own access-logged place."""
    started = next((e.get("timestamp") for e in reversed(tracker.events) if e.get("event") == "session_started"),
                   None)
    digest = hashlib.sha256(f"{tracker.sender_id}|{started}".encode()).hexdigest()[:24]
    return f"conv-{digest}"


def transcript(tracker: Tracker) -> list[dict[str, str]]:
    """What the person said and read or heard, in order."""
    turns = []
    for event in tracker.events:
        text = event.get("text")
        if event.get("event") == "user" and text is not None:
            turns.append({"who": "caller", "text": str(text)})
        elif event.get("event") == "bot" and text:
            turns.append({"who": "bot", "text": str(text)})
    return turns


def caller_number(tracker: Tracker) -> str | None:
    """The number to text the reference to: the bridge passes a caller's in
    the metadata; a text conversation's sender is the number."""
    metadata = tracker.latest_message.get("metadata") or {}
    number = metadata.get("caller") if isinstance(metadata, dict) else None
    if number is None and context.channel(tracker) == SMS:
        number = tracker.sender_id
    if isinstance(number, str) and PHONE.fullmatch(number.replace(" ", "")):
        return number
    return None  # withheld, or not a number at all


async def make_case(tracker: Tracker, dispatcher: CollectingDispatcher, reason: str, *,
                    service_id: str | None = None, priority: str | None = None,
                    brief: bool = False) -> List[EventType]:
    """Store a case (once per reason per conversation) and tell the person
    its reference, which centre will pick it up, when it is open and what to
    bring. `brief`: one sentence, after an answer that already said a lot."""
    catalogue = default_catalogue()
    made = dict(tracker.get_slot(SLOT) or {})
    reference = made.get(reason) or new_reference()
    service = catalogue.services.get(service_id) if service_id else None
    postcode = tracker.get_slot("postcode")
    payload: Dict[str, Any] = {
        "reference": reference,
        "conversation_id": conversation_id(tracker),
        "reason": reason,
        "channel": context.channel(tracker),
        "transcript": transcript(tracker),
        "caller_number": caller_number(tracker),
        "service": service.id if service and service.routable else None,
        "priority": priority,
        "postcode": postcode,
        "created_at": now().isoformat(),
    }
    try:
        status = await outbox.submit({key: value for key, value in payload.items() if value is not None})
    except (OSError, sqlite3.Error):
        log.exception("a case could not be stored", extra={"reason": reason})
        status = "rejected"
    if status == "rejected":  # nothing was kept: promise nothing
        dispatcher.utter_message(response="utter_handoff_failed", phone=catalogue.contact_centre.phone)
        return []
    # A repeat (a retried action) keeps the first case: tell its reference.
    reference = outbox.default_outbox().reference_for(payload["conversation_id"], reason) or reference
    centre = nearest_centre(service if service and service.routable else None, postcode, catalogue)
    said = spoken(reference) if context.channel(tracker) == context.VOICE else reference
    if brief or centre is None:
        dispatcher.utter_message(response="utter_handoff_logged", reference=said)
    else:
        dispatcher.utter_message(
            response="utter_handoff",
            reference=said,
            centre=centre.name,
            hours=hours.describe(catalogue.schedules[centre.hours]),
            bring=default_handoff_rules().what_to_bring(service.id if service else None),
        )
    dispatcher.utter_message(json_message=context.council_payload(
        "handoff", reference=reference, reason=reason, priority=priority or "normal",
        centre=centre.id if centre else None))
    made[reason] = reference
    return [SlotSet(SLOT, made)]


async def follow_up(service_id: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """After a service is explained: a high-priority case for a topic where
    someone may be at risk, or a case when the words show only staff can
    finish it (an arrears arrangement, a repair the person cannot describe)."""
    rules = default_handoff_rules()
    if service_id in rules.high_priority:
        return await make_case(tracker, dispatcher, "urgent", service_id=service_id, priority="high", brief=True)
    if rules.needs_staff(service_id, context.latest_text(tracker)):
        return await make_case(tracker, dispatcher, "cannot_complete", service_id=service_id)
    return []


class ActionComplaint(Action):
    def name(self) -> Text:
        return "action_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_complaint")
        return await make_case(tracker, dispatcher, "complaint", service_id=tracker.get_slot("service"))
