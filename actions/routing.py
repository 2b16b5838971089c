"""Routing: tell the person which council provides the service they need, what
happens next and how to reach it; ask one question first when their words fit
two services residents often confuse."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.handoff import follow_up
from bot.catalogue import default_catalogue
from bot.clarifications import Clarification, default_clarifications

WHICH_COUNCIL = "which_council"


async def explain_service(service_id: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """Say who provides the service, what to do and how to reach it now.
    Returns the events that record the route and what "yes" will mean next."""
    catalogue = default_catalogue()
    service = catalogue.service(service_id)
    channel = context.channel(tracker)
    web = context.web_for(service.web, channel)
    if context.entity(tracker, WHICH_COUNCIL):
        dispatcher.utter_message(response="utter_which_council_answer", authority_name=service.authority_name)
    dispatcher.utter_message(response="utter_service", say=service.say)
    schedule = catalogue.schedules[service.hours]
    if schedule.always_open:
        dispatcher.utter_message(response="utter_line_24x7", phone=service.phone)
    elif context.is_open(service.hours):
        dispatcher.utter_message(response="utter_line_open", name=service.name, phone=service.phone, web=web)
    else:
        when = context.opens_when(service.hours)
        dispatcher.utter_message(response="utter_line_closed", name=service.name, when=when, web=web)
        if service.out_of_hours_phone:
            dispatcher.utter_message(response="utter_out_of_hours_line", phone=service.out_of_hours_phone)
    postcode = tracker.get_slot("postcode")
    if postcode:
        context.postcode_note(dispatcher, postcode)
    dispatcher.utter_message(
        json_message=context.council_payload("route", service=service.id, authority=service.authority)
    )
    case_events = await follow_up(service.id, tracker, dispatcher)
    if service.urgent:
        dispatcher.utter_message(response="utter_offer_connect")
        offer = "person"
    else:
        dispatcher.utter_message(response="utter_anything_else")
        offer = "anything_else"
    return [
        SlotSet("service", service.id),
        SlotSet("pending_clarification", None),
        SlotSet("failed_turns", 0.0),
        SlotSet("offer", offer),
        *case_events,
    ]


def ask(clarification: Clarification, tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """Ask the one question that tells the two services apart."""
    buttons = [{"title": option.label, "payload": f"/{option.service}"} for option in clarification.options]
    if context.channel(tracker) == context.VOICE:
        buttons = []  # read out, not shown: the question itself names both options
    dispatcher.utter_message(response="utter_clarify", question=clarification.question, buttons=buttons)
    return [SlotSet("pending_clarification", clarification.id), SlotSet("offer", None)]


def answer_to_pending(tracker: Tracker) -> str | None:
    """When the bot has just asked a clarifying question, the service the
    latest message picks (always one of the two); None if nothing is pending."""
    pending = tracker.get_slot("pending_clarification")
    clarification = default_clarifications().items.get(pending) if pending else None
    if clarification is None:
        return None
    intent = context.latest_intent(tracker)
    if intent in default_catalogue().routable_ids:
        return intent  # one of the options, or the person moved on to another service
    return clarification.resolve(context.latest_text(tracker), context.ranking(tracker))


async def route_pending_answer(tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType] | None:
    """If a clarifying question is pending, route by the answer and return
    the events; else None. Every action that can follow the question calls it."""
    answered = answer_to_pending(tracker)
    return await explain_service(answered, tracker, dispatcher) if answered else None


def _close_call(tracker: Tracker, service_id: str) -> Clarification | None:
    """A clarification when the NLU's two best services are a confusable pair
    and nearly tied."""
    clarifications = default_clarifications()
    services = [r for r in context.ranking(tracker) if r.get("name") in default_catalogue().routable_ids]
    if len(services) < 2 or services[0].get("name") != service_id:
        return None
    first, second = services[0], services[1]
    if float(first.get("confidence", 0)) - float(second.get("confidence", 0)) >= clarifications.margin:
        return None
    return clarifications.for_pair(str(first["name"]), str(second["name"]))


class ActionRoute(Action):
    """Service intents and clarify_* intents."""

    def name(self) -> Text:
        return "action_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        pending = await route_pending_answer(tracker, dispatcher)
        if pending is not None:
            return pending
        intent = context.latest_intent(tracker) or ""
        clarification = default_clarifications().by_intent(intent)
        if clarification is None and intent in default_catalogue().routable_ids:
            clarification = _close_call(tracker, intent)
            if clarification is None:
                return await explain_service(intent, tracker, dispatcher)
        if clarification is not None:
            return ask(clarification, tracker, dispatcher)
        # Only reachable if a rule sends another intent here: be useful anyway.
        dispatcher.utter_message(response="utter_ask_how_help")
        return []
