"""Rasa's SQL tracker store with the privacy layer in front of it.

Every event is redacted before it is written: a resident's message (its
text and the copy of it in the parse data, entity values included), the
bot's replies and text slot values lose card and bank numbers, National
Insurance numbers, e-mail addresses and dates of birth (council.redaction),
and a caller's full number in the metadata becomes its masked form. The
resident's last few messages are redacted as one run of speech, so a card
number typed across two texts is found: the earlier message's stored row is
rewritten when the later one completes the number.

Only what is stored changes. While Rasa handles a message, the tracker in
memory still holds it as said (the action that texts a case reference reads
the caller's number from it); the next message finds the stored, redacted
conversation. No event broker is supported: the events it would stream are
the unredacted ones, so `save` streams none.

bot/serve.py names this class as the tracker store's type.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from council.redaction import redact, redact_turns
from plumbing.masking import mask

# How many of the resident's stored messages a new one is read together with.
LOOKBACK = 3
# Metadata the bridge sends that holds a full number.
NUMBER_KEYS = ("caller", "From", "from")


def _masked_metadata(metadata: Any) -> Any:
    if not isinstance(metadata, dict):
        return metadata
    return {key: (mask(value) if key in NUMBER_KEYS and isinstance(value, str) and "*" not in value else value)
            for key, value in metadata.items()}  # "*": masked already (a row rewritten)


REMOVED = "[removed]"


def _entity_value(value: str, text: str) -> str:
    """An entity's value as stored: kept when the redacted message still
    says it, else its own redaction when the message says that, else gone
    (half of a number the message's neighbour completed)."""
    if value in text:
        return value
    alone = redact(value)
    return alone if alone in text else REMOVED


def _scrub_parse_data(parse_data: Any, text: str) -> Any:
    if not isinstance(parse_data, dict):
        return parse_data
    cleaned = dict(parse_data)
    if "text" in cleaned:
        cleaned["text"] = text
    if "metadata" in cleaned:
        cleaned["metadata"] = _masked_metadata(cleaned["metadata"])
    if isinstance(cleaned.get("entities"), list):
        cleaned["entities"] = [_scrub_entity(entity, text) for entity in cleaned["entities"]]
    return cleaned


def _scrub_entity(entity: Any, text: str) -> Any:
    if not isinstance(entity, dict):
        return entity
    entity = dict(entity)
    for key in ("value", "text"):
        if isinstance(entity.get(key), str):
            entity[key] = _entity_value(entity[key], text)
    return entity


def scrub(data: Dict[str, Any], user_text: Optional[str] = None) -> Dict[str, Any]:
    """An event's stored form (Event.as_dict()) with personal data removed;
    `user_text` is a resident's message already redacted (with its neighbours)."""
    data = dict(data)
    kind = data.get("event")
    if kind == "user":
        text = user_text if user_text is not None else redact(data.get("text") or "")
        data["text"] = text
        data["parse_data"] = _scrub_parse_data(data.get("parse_data"), text)
        data["metadata"] = _masked_metadata(data.get("metadata"))
    elif kind == "bot" and isinstance(data.get("text"), str):
        data["text"] = redact(data["text"])
    elif kind == "slot" and isinstance(data.get("value"), str):
        data["value"] = redact(data["value"])
    elif kind == "slot" and isinstance(data.get("value"), dict):
        # session_started_metadata: the first message's metadata, number and all.
        data["value"] = _masked_metadata(data["value"])
    if isinstance(data.get("metadata"), dict):
        data["metadata"] = _masked_metadata(data["metadata"])
    return data


class RedactingSQLTrackerStore(SQLTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            new: List[Event] = list(self._additional_events(session, tracker))
            everything = list(tracker.events)
            stored = everything[:len(everything) - len(new)]
            earlier = [event for event in stored if isinstance(event, UserUttered)][-LOOKBACK:]
            arriving = [event for event in new if isinstance(event, UserUttered)]
            texts = redact_turns([event.text or "" for event in earlier + arriving])
            for event, text in zip(earlier, texts):
                if text != (event.text or ""):
                    self._rewrite_user_row(session, tracker.sender_id, event, text)
            cleaned = {id(event): text for event, text in zip(arriving, texts[len(earlier):])}
            for event in new:
                data = scrub(event.as_dict(), cleaned.get(id(event)))
                # The columns as SQLTrackerStore.save fills them.
                intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=intent, action_name=data.get("name"), data=json.dumps(data)))
            session.commit()

    def _rewrite_user_row(self, session: Any, sender_id: str, event: UserUttered, text: str) -> None:
        """The stored row of an earlier message, redacted again now that the
        message after it completed a number."""
        rows = (session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.type_name == "user",
                        self.SQLEvent.timestamp == event.timestamp).all())
        for row in rows:
            row.data = json.dumps(scrub(json.loads(row.data), text))
        # The tracker in memory too, so a later save in this process agrees.
        event.text = text
        if isinstance(event.parse_data, dict):
            event.parse_data = _scrub_parse_data(event.parse_data, text)  # type: ignore[assignment]
