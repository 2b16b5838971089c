"""Reaching a person, and what "yes", "no" and "I didn't understand" mean in
the conversation so far."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.endings import say_goodbye
from actions.handoff import make_case
from actions.routing import ask, current_route, route_pending_answer
from council import hours, reach
from council.catalogue import default_catalogue
from council.language import NO_WORDS

INPUT_PROBLEM = "input_problem"
FAILURES_BEFORE_PERSON = 2


async def connect_person(tracker: Tracker, dispatcher: CollectingDispatcher, reason: str) -> List[EventType]:
    """Put a caller through to the service the conversation is about (or the
    contact centre) when it is open, or to an urgent service's out-of-hours
    line. Anyone nobody can take now, and anyone writing rather than
    calling, also gets a case for staff, with its reference."""
    catalogue = default_catalogue()
    target = reach.for_service(catalogue, tracker.get_slot("service"))
    resets: List[EventType] = [SlotSet("offer", None), SlotSet("failed_turns", 0.0),
                               SlotSet("pending_clarification", None)]
    if target.phone and context.channel(tracker) == context.VOICE:
        dispatcher.utter_message(response="utter_connect", name=target.name)
        dispatcher.utter_message(json_message=context.council_payload(
            "transfer", service=target.service, phone=target.phone, reason=reason))
        return resets
    if target.phone:  # nobody can be put through a text conversation: the number, and a case
        dispatcher.utter_message(response="utter_call_now", name=target.name, phone=target.phone)
    else:
        service = catalogue.services.get(target.service) if target.service else None
        centre = context.nearest_centre(service, tracker.get_slot("postcode"), catalogue)
        dispatcher.utter_message(
            response="utter_connect_closed",
            name=context.capitalised(target.name),
            when=target.opens,
            web=context.web_for(target.web, context.channel(tracker)),
            centre=centre.name if centre else "a council office",
        )
    return resets + await make_case(tracker, dispatcher, reason, service_id=target.service)


class ActionConnectPerson(Action):
    def name(self) -> Text:
        return "action_connect_person"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return await connect_person(tracker, dispatcher, reason="person_requested")


class ActionFallback(Action):
    """The NLU did not understand: answer a pending question if there is one,
    explain unreadable input, ask to rephrase once, then offer a person."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        catalogue = default_catalogue()
        problem = context.entity(tracker, INPUT_PROBLEM)
        if problem and problem != NO_WORDS:
            dispatcher.utter_message(response="utter_not_english", phone=catalogue.contact_centre.phone)
            return [SlotSet("offer", None)]
        if problem is None:
            pending = await route_pending_answer(tracker, dispatcher)
            if pending is not None:
                return pending
            unsure = current_route(tracker).clarify
            if unsure is not None:  # not sure, but not "no idea": one question naming the two likeliest
                return ask(unsure, tracker, dispatcher)
        failures = float(tracker.get_slot("failed_turns") or 0) + 1
        if failures < FAILURES_BEFORE_PERSON:
            dispatcher.utter_message(response="utter_no_words" if problem == NO_WORDS else "utter_rephrase")
            return [SlotSet("failed_turns", failures), SlotSet("offer", None)]
        if context.is_open(catalogue.contact_centre.hours):
            dispatcher.utter_message(response="utter_offer_person")
            return [SlotSet("failed_turns", failures), SlotSet("offer", "person")]
        schedule = catalogue.schedules[catalogue.contact_centre.hours]
        dispatcher.utter_message(
            response="utter_offer_person_closed", hours=hours.describe(schedule), phone=catalogue.contact_centre.phone
        )
        case = await make_case(tracker, dispatcher, "not_understood", service_id=tracker.get_slot("service"))
        return [SlotSet("failed_turns", failures), SlotSet("offer", None), *case]


class ActionAffirm(Action):
    def name(self) -> Text:
        return "action_affirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        pending = await route_pending_answer(tracker, dispatcher)
        if pending is not None:
            return pending
        offer = tracker.get_slot("offer")
        if offer == "person":
            reason = "not_understood" if tracker.get_slot("failed_turns") else "person_requested"
            return await connect_person(tracker, dispatcher, reason=reason)
        if offer == "anything_else":
            dispatcher.utter_message(response="utter_ask_what_else")
        else:
            dispatcher.utter_message(response="utter_ask_how_help")
        return [SlotSet("offer", None)]


class ActionDeny(Action):
    def name(self) -> Text:
        return "action_deny"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        pending = await route_pending_answer(tracker, dispatcher)
        if pending is not None:
            return pending
        offer = tracker.get_slot("offer")
        if offer == "person":
            dispatcher.utter_message(response="utter_ok_try_again")
            return [SlotSet("offer", None), SlotSet("failed_turns", 0.0)]
        if offer == "anything_else":
            say_goodbye(dispatcher)
            return [SlotSet("offer", None)]
        dispatcher.utter_message(response="utter_ask_how_help")
        return [SlotSet("offer", None)]
