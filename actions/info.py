"""Answers that are not a route: opening hours, which council does what,
whether a postcode is ours, and honest signposts for what no council does."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.routing import current_route, route_pending_answer
from council import hours
from council.catalogue import default_catalogue
from council.clock import now
from council.postcodes import default_postcodes
from council.signposts import default_signposts
from council.topics import default_topics


def _now_sentence(schedule_id: str) -> str:
    """'It's open now, until 6pm.' / 'It's closed today for Boxing Day and
    opens at 8am tomorrow.' / 'It's closed now and opens at 8am on Monday.'"""
    catalogue = default_catalogue()
    schedule = catalogue.schedules[schedule_id]
    current = now()
    if schedule.always_open:
        return ""
    closes = hours.closing_time(schedule, catalogue.bank_holidays, current)
    if closes is not None:
        return f"It's open now, until {hours.say_time(closes.time())}."
    when = context.opens_when(schedule_id)
    holiday = catalogue.bank_holidays.get(current.date())
    if holiday and schedule.closed_on_bank_holidays:
        return f"It's closed today for {holiday} and opens {when}."
    return f"It's closed now and opens {when}."


class ActionOpeningHours(Action):
    """Hours of a named centre, else of the service being discussed, else of
    the contact centre, with whether it is open right now."""

    def name(self) -> Text:
        return "action_opening_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        catalogue = default_catalogue()
        centre_id = context.entity(tracker, "centre")
        service_id = tracker.get_slot("service")
        if centre_id in catalogue.centres:
            centre = catalogue.centres[centre_id]
            place, schedule_id = context.capitalised(centre.name), centre.hours
        elif service_id in catalogue.services and catalogue.services[service_id].routable:
            service = catalogue.services[service_id]
            place, schedule_id = f"The {service.name} line", service.hours
        else:
            contact = catalogue.contact_centre
            place, schedule_id = context.capitalised(contact.name), contact.hours
        dispatcher.utter_message(
            response="utter_opening_hours",
            place=place,
            hours=hours.describe(catalogue.schedules[schedule_id]),
            now=_now_sentence(schedule_id),
        )
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("offer", "anything_else")]


class ActionWhichCouncil(Action):
    """'Which council should I contact?' with no topic yet."""

    def name(self) -> Text:
        return "action_which_council"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_which_council_general")
        return [SlotSet("offer", None)]


class ActionCheckPostcode(Action):
    """Is the postcode in the Lancaster district? If not, who serves it."""

    def name(self) -> Text:
        return "action_check_postcode"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        catalogue = default_catalogue()
        postcode = context.entity(tracker, "postcode")
        if not postcode:
            dispatcher.utter_message(response="utter_postcode_not_understood")
            return []
        service_id = tracker.get_slot("service")
        service = catalogue.services.get(service_id) if service_id else None
        if context.postcode_note(dispatcher, postcode):
            centre = context.nearest_centre(service, postcode, catalogue)
            dispatcher.utter_message(
                response="utter_postcode_in_district",
                postcode=postcode,
                district=default_postcodes().district_name,
                centre=centre.name if centre else catalogue.contact_centre.name,
            )
        if service is None:
            dispatcher.utter_message(response="utter_ask_how_help")
            return [SlotSet("postcode", postcode), SlotSet("offer", None)]
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("postcode", postcode), SlotSet("offer", "anything_else")]


class ActionOutOfScope(Action):
    """Say honestly that no council here does it, and where to go instead."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        pending = await route_pending_answer(tracker, dispatcher)
        if pending is not None:
            return pending
        topic = default_topics().get(current_route(tracker).topic)
        if topic is not None and not topic.routable:
            signpost_id = topic.id
            dispatcher.utter_message(response="utter_signpost", signpost=topic.say)
        else:
            signpost_id, signpost = default_signposts().pick(context.latest_text(tracker))
            dispatcher.utter_message(response="utter_out_of_scope", signpost=signpost)
        dispatcher.utter_message(json_message=context.council_payload("signpost", signpost=signpost_id))
        dispatcher.utter_message(response="utter_anything_else")
        return [SlotSet("offer", "anything_else"), SlotSet("failed_turns", 0.0)]
