"""A new case checked and completed into the row the store writes: its
reason, channel and priority, the service and council it is for, the centre
that sees the person, the caller's number apart from its masked form, and the
transcript redacted. Notes and conflict messages are worded here too."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from council.catalogue import Catalogue, Service
from council.centres import nearest_centre
from council.redaction import redact
from council.references import normalise
from handoff.cases import (
    CHANNELS,
    FINISHED,
    MAX_NOTE_CHARS,
    PRIORITIES,
    REASONS,
    Case,
    InvalidCase,
    NewCase,
    checked_choice,
    checked_moment,
    checked_number,
    checked_text,
    checked_transcript,
)

# How far ahead of this service's clock a case made elsewhere may say it was
# made (the actions' clock may run a little fast).
CLOCK_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Prepared:
    """A NewCase checked and completed: what goes into the row."""

    row: dict[str, Any]
    number: str | None
    reference_given: bool
    turns: int = field(default=0)


def _service(service_id: Any, catalogue: Catalogue) -> Service | None:
    if service_id is None:
        return None
    if not isinstance(service_id, str) or service_id not in catalogue.services:
        raise InvalidCase("service", f"{service_id!r} is not a service id of the catalogue")
    return catalogue.services[service_id]

def _centre(service: Service | None, postcode: str | None, catalogue: Catalogue) -> str:
    centre = nearest_centre(service, postcode, catalogue)
    if centre is None:
        # A service with no counter of its own (out of scope): the
        # district's general centre still sees the person.
        centre = nearest_centre(None, postcode, catalogue)
    if centre is None:
        raise InvalidCase("centre", "the catalogue has no centre to send the case to")
    return centre.id

def prepare(new: NewCase, catalogue: Catalogue, now: datetime) -> Prepared:
    """A NewCase checked and completed into its row (`now` when it gives no
    created_at); InvalidCase names the first field that fails."""
    if not isinstance(new, NewCase):
        raise InvalidCase("case", "must be a NewCase")
    conversation_id = checked_text("conversation_id", new.conversation_id, 128)
    reason = checked_choice("reason", new.reason, REASONS)
    channel = checked_choice("channel", new.channel, CHANNELS)
    priority = new.priority
    if priority is None:
        priority = "high" if reason == "urgent" else "normal"
    priority = checked_choice("priority", priority, PRIORITIES)
    reference = None
    if new.reference is not None:
        reference = normalise(new.reference) if isinstance(new.reference, str) else None
        if reference is None:
            raise InvalidCase("reference", "is not a valid case reference (like LAN-7K3-Q9X)")
    postcode = checked_text("postcode", new.postcode, 16, optional=True)
    service = _service(new.service, catalogue)
    number, masked = checked_number(new.caller_number)
    created = checked_moment("created_at", new.created_at) if new.created_at is not None else now
    if created > now + CLOCK_SLACK:
        raise InvalidCase("created_at", "is in the future")
    transcript = checked_transcript(new.transcript)
    row = {
        "reference": reference,
        "conversation_id": conversation_id,
        "reason": reason,
        "channel": channel,
        "caller_masked": masked,
        "service": service.id if service else None,
        "authority": service.authority if service else None,
        "priority": priority,
        "centre": _centre(service, postcode, catalogue),
        "transcript": json.dumps(transcript, ensure_ascii=False),
        "status": "open",
        "created_at": created,
        "updated_at": created,
        "version": 1,
    }
    return Prepared(row, number, reference is not None, len(transcript))


def note_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidCase("text", "a note must be non-empty text")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidCase("text", f"a note must be at most {MAX_NOTE_CHARS} characters")
    return redact(text)


def conflict(case: Case, change: str) -> str:
    if case.status in FINISHED:
        return f"case {case.reference} is already {case.status.replace('_', ' ')}"
    if case.status == "claimed":
        return f"case {case.reference} is already claimed by {case.claimed_by}"
    return f"case {case.reference} cannot {change} now (status {case.status})"
