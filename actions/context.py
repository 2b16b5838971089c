"""What the actions need to know about the conversation, read from a Tracker,
and the small pieces of wording every action shares."""

from __future__ import annotations

from typing import Any, Mapping

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from council import reach
from council.catalogue import default_catalogue
from council.centres import nearest_centre  # noqa: F401  (re-exported for the actions)
from council.postcodes import default_postcodes
from council.wording import VOICE, web_for  # noqa: F401  (re-exported for the actions)

CHANNELS = ("voice", "sms", "chat")


def channel(tracker: Tracker) -> str:
    """voice, sms or chat: the bridge says which in the message metadata."""
    metadata = tracker.latest_message.get("metadata") or {}
    value = metadata.get("channel") if isinstance(metadata, Mapping) else None
    return value if value in CHANNELS else "chat"


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def ranking(tracker: Tracker) -> list[Mapping[str, Any]]:
    return list(tracker.latest_message.get("intent_ranking") or [])


def entity(tracker: Tracker, name: str) -> str | None:
    return next(tracker.get_latest_entity_values(name), None)


def capitalised(name: str) -> str:
    """'the council contact centre' -> 'The council contact centre'."""
    return name[:1].upper() + name[1:]


def opens_when(schedule_id: str) -> str:
    """'at 8am on Monday', relative to now; '' when it never closes."""
    return reach.opens(default_catalogue(), schedule_id)


def is_open(schedule_id: str) -> bool:
    return reach.is_open(default_catalogue(), schedule_id)


def postcode_note(dispatcher: CollectingDispatcher, postcode: str) -> bool:
    """Tell the person who serves `postcode` when it is not (wholly) in the
    district. Returns True when it is in the district."""
    book = default_postcodes()
    area = book.lookup(postcode)
    district = book.district_name
    if area.status == "in_district":
        return True
    if area.status == "shared":
        dispatcher.utter_message(
            response="utter_postcode_shared", area=postcode, district=district, neighbour=area.district_council
        )
    elif area.status == "neighbour" and area.district_council == area.county_council:
        dispatcher.utter_message(
            response="utter_postcode_unitary", postcode=postcode, district=district, council=area.district_council
        )
    elif area.status == "neighbour":
        dispatcher.utter_message(
            response="utter_postcode_two_tier",
            postcode=postcode,
            district=district,
            district_council=area.district_council,
            county_council=area.county_council,
        )
    else:
        dispatcher.utter_message(response="utter_postcode_unknown", postcode=postcode, district=district)
    return False


def council_payload(event: str, **fields: Any) -> dict[str, Any]:
    """The custom payload the bridge reads: {"council": {"event": ..., ...}}."""
    return {"council": {"event": event, **fields}}
