"""Routing: tell the person about their topic, which council provides the
service, what happens next and how to reach it; ask one question first when
their words fit two services about equally well.

The decision itself is `council.routing.route_from_parse`, the same one
`python -m bot route` and the benchmark use.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.handoff import follow_up
from council.catalogue import default_catalogue
from council.clarifications import PENDING_SEPARATOR, default_clarifications
from council.routing import Route, route_from_parse
from council.topics import Topic, default_topics

WHICH_COUNCIL = "which_council"
CHOOSE = "choose"


def current_route(tracker: Tracker) -> Route:
    """The routing decision for the latest message."""
    return route_from_parse(context.latest_text(tracker), tracker.latest_message)


async def explain_service(service_id: str, topic_id: str | None, tracker: Tracker,
                          dispatcher: CollectingDispatcher) -> List[EventType]:
    """Say what the person needs to know about their topic, who provides it,
    and how to reach the service now. Returns the events that record the
    route and what "yes" will mean next."""
    catalogue = default_catalogue()
    service = catalogue.service(service_id)
    topic = default_topics().get(topic_id)
    if topic is not None and topic.service != service_id:
        topic = None
    channel = context.channel(tracker)
    web = context.web_for(topic.web if topic and topic.web else service.web, channel)
    if context.entity(tracker, WHICH_COUNCIL):
        dispatcher.utter_message(response="utter_which_council_answer", authority_name=service.authority_name)
    dispatcher.utter_message(response="utter_service", say=topic.say if topic else service.say)
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
    payload = {"service": service.id, "authority": service.authority}
    if topic is not None:
        payload["topic"] = topic.id
    dispatcher.utter_message(json_message=context.council_payload("route", **payload))
    case_events = await follow_up(service.id, tracker, dispatcher)
    if service.urgent:
        dispatcher.utter_message(response="utter_offer_connect")
        offer = "person"
    else:
        dispatcher.utter_message(response="utter_anything_else")
        offer = "anything_else"
    return [
        SlotSet("service", service.id),
        SlotSet("topic", topic.id if topic else None),
        SlotSet("pending_clarification", None),
        SlotSet("failed_turns", 0.0),
        SlotSet("offer", offer),
        *case_events,
    ]


def ask(pair: tuple[str, str], tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """Ask the one question that tells the two topics' services apart."""
    topics = default_topics()
    spoken = context.channel(tracker) == context.VOICE
    question = default_clarifications().question(topics.items[pair[0]], topics.items[pair[1]], spoken)
    buttons = [{"title": label, "payload": f'/{topic.service}{{"topic":"{topic.id}"}}'}
               for topic, label in zip(question.topics, question.labels)]
    if spoken:
        buttons = []  # read out, not shown: the question itself names both options and the keys
    dispatcher.utter_message(response="utter_clarify", question=question.text, buttons=buttons)
    # The bridge listens for 1 or 2 after this, instead of the keypad menu.
    dispatcher.utter_message(json_message=context.council_payload(
        "clarify", options=[topic.id for topic in question.topics]))
    return [SlotSet("pending_clarification", question.pending), SlotSet("offer", None)]


def pending_topics(tracker: Tracker) -> list[Topic] | None:
    """The two topics of the question just asked, if one is pending."""
    pending = tracker.get_slot("pending_clarification")
    if not pending or not isinstance(pending, str):
        return None
    topics = [default_topics().get(part) for part in pending.split(PENDING_SEPARATOR)]
    found = [topic for topic in topics if topic is not None]
    return found if len(found) == 2 else None


def answer_to_pending(tracker: Tracker) -> tuple[str, str | None] | None:
    """When the bot has just asked a clarifying question, the (service,
    topic) the latest message picks: always one of the two, unless the person
    moved on to another service. None if nothing is pending."""
    pending = pending_topics(tracker)
    if pending is None:
        return None
    route = current_route(tracker)
    if route.service in {t.service for t in pending} and route.intent != CHOOSE:
        chosen = next(t for t in pending if t.service == route.service)
        return chosen.service, chosen.id
    named = default_clarifications().named_answer(pending, context.latest_text(tracker))
    if named is not None:
        return named.service, named.id
    moved_on = route.service is not None and default_catalogue().services[route.service].routable
    if moved_on and route.intent in default_catalogue().services and route.clarify is None:
        return str(route.service), route.topic
    chosen = default_clarifications().answer(pending, context.latest_text(tracker), context.ranking(tracker))
    return chosen.service, chosen.id


async def route_pending_answer(tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType] | None:
    """If a clarifying question is pending, route by the answer and return
    the events; else None. Every action that can follow the question calls it."""
    answered = answer_to_pending(tracker)
    if answered is None:
        return None
    return await explain_service(*answered, tracker=tracker, dispatcher=dispatcher)


class ActionRoute(Action):
    """Service intents, clarify_* intents and answers to the question."""

    def name(self) -> Text:
        return "action_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        pending = await route_pending_answer(tracker, dispatcher)
        if pending is not None:
            return pending
        route = current_route(tracker)
        if route.clarify is not None:
            return ask(route.clarify, tracker, dispatcher)
        if route.service and default_catalogue().services[route.service].routable:
            return await explain_service(route.service, route.topic, tracker, dispatcher)
        # "the second one" with no question pending, or another intent a rule
        # sent here: be useful anyway.
        dispatcher.utter_message(response="utter_ask_how_help")
        return []
