"""bot.redacting_tracker_store: what Rasa's SQL tracker store keeps holds no
card number (not even one typed across two texts), National Insurance
number, e-mail address, date of birth or full caller number. A real
SQLTrackerStore on SQLite, and on PostgreSQL when a server answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.redacting_tracker_store import RedactingSQLTrackerStore

CALLER = "+447700900123"
SENDER = "CA0123456789abcdef0123456789abcdef"


def _store(database_url: str, kind: type = RedactingSQLTrackerStore) -> RedactingSQLTrackerStore:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return kind(dialect="sqlite", db=url.database)
    return kind(dialect="postgresql", host=url.host, port=url.port or 5432, db=url.database,
                username=url.username, query=dict(url.query))


def _said(text: str, timestamp: float) -> UserUttered:
    return UserUttered(text, intent={"name": "nlu_fallback", "confidence": 0.3},
                       entities=[{"entity": "number", "value": text, "start": 0, "end": len(text)}],
                       parse_data={"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.3},
                                   "entities": [{"entity": "number", "value": text}]},
                       metadata={"caller": CALLER, "channel": "voice"}, timestamp=timestamp)


def _stored(store: RedactingSQLTrackerStore) -> str:
    with store.session_scope() as session:
        return "\n".join(row.data for row in session.query(store.SQLEvent).all())


async def _conversation(store: RedactingSQLTrackerStore) -> None:
    tracker = DialogueStateTracker(SENDER, slots=[])
    for index, text in enumerate(["my card number is 4111 1111", "1111 1111 and my NI is QQ 12 34 56 C",
                                  "email jo.smith@example.com, born 12/03/1956"]):
        # As Rasa does: fetch what is stored, add the new message, save.
        tracker = await store.retrieve(SENDER) or tracker
        tracker.update(_said(text, 1000.0 + index))
        reply = f"Thanks, I have {text}" if index == 2 else "Go on"  # an echo, of a whole detail
        tracker.update(BotUttered(reply, timestamp=1000.5 + index))
        await store.save(tracker)
    tracker = await store.retrieve(SENDER)
    tracker.update(SlotSet("note", "card 4111 1111 1111 1111", timestamp=2000.0))
    tracker.update(SlotSet("session_started_metadata", {"channel": "voice", "caller": CALLER}, timestamp=2001.0))
    await store.save(tracker)


def test_nothing_personal_reaches_the_tracker_store(database_url: str) -> None:
    store = _store(database_url)
    asyncio.run(_conversation(store))
    kept = _stored(store)
    for detail in ("4111", "1111 1111", "QQ 12", "34 56", "jo.smith", "example.com", "12/03/1956", "7700900123"):
        assert detail not in kept, detail
    assert "[card number removed]" in kept and "[National Insurance number removed]" in kept
    assert "[email address removed]" in kept and "[date of birth removed]" in kept
    assert "+44*******123" in kept  # the masked caller, for whoever reads the conversation
    retrieved = asyncio.run(store.retrieve(SENDER))
    texts = [event.text for event in retrieved.events if isinstance(event, UserUttered)]
    assert texts == ["my card number is [card number removed]", "and my NI is [National Insurance number removed]",
                     "email [email address removed], born [date of birth removed]"]


def test_an_unredacted_store_would_keep_them(database_url: str) -> None:
    """The check can fail: Rasa's own store keeps the card number as typed."""
    from rasa.core.tracker_store import SQLTrackerStore

    plain = _store(database_url, SQLTrackerStore)
    tracker = DialogueStateTracker(SENDER, slots=[])
    tracker.update(_said("my card is 4111 1111 1111 1111", 1.0))
    asyncio.run(plain.save(tracker))
    assert "4111 1111 1111 1111" in _stored(plain)
