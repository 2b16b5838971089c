"""Ends of a conversation the bridge must act on: an emergency (say 999 and
free the caller's line) and goodbye (end the call politely)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import context


def say_goodbye(dispatcher: CollectingDispatcher) -> None:
    """Goodbye, and tell the bridge the call can end (a text chat ignores it)."""
    dispatcher.utter_message(response="utter_goodbye")
    dispatcher.utter_message(json_message=context.council_payload("hangup", reason="goodbye"))


class ActionEmergency(Action):
    """999 and nothing else; the bridge hangs up after saying it so the
    caller's line is free to dial 999."""

    def name(self) -> Text:
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_emergency")
        dispatcher.utter_message(json_message=context.council_payload("hangup", reason="emergency"))
        return []


class ActionGoodbye(Action):
    def name(self) -> Text:
        return "action_goodbye"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        say_goodbye(dispatcher)
        return []
