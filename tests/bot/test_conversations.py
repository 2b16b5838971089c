"""Whole conversations through the real stack: the trained model in a Rasa
Agent, the real action server behind it. What the person reads is checked,
and bad input always gets a sensible, polite reply (never a crash or a
stack trace)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.model


class Conversation:
    def __init__(self, agent: Any, channel: str = "chat") -> None:
        self.agent = agent
        self.sender = f"test-{uuid.uuid4().hex[:8]}"
        self.channel = channel

    async def say(self, text: str) -> list[dict[str, Any]]:
        from rasa.core.channels.channel import UserMessage

        message = UserMessage(text, sender_id=self.sender, metadata={"channel": self.channel})
        replies = await self.agent.handle_message(message)
        return replies or []


def texts(replies: list[dict[str, Any]]) -> str:
    return " ".join(r.get("text", "") for r in replies if r.get("text"))


def events(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["custom"]["council"] for r in replies if isinstance(r.get("custom"), dict) and "council" in r["custom"]]


async def test_council_tax_by_chat(agent_open: Any) -> None:
    replies = await Conversation(agent_open).say("how do I pay my council tax")
    assert "Lancaster City Council" in texts(replies)
    assert "01632 960101" in texts(replies)
    assert events(replies) == [{"event": "route", "service": "council_tax", "authority": "city",
                                "topic": "council_tax_payment"}]


async def test_pothole_spoken_names_the_county(agent_open: Any) -> None:
    replies = await Conversation(agent_open, "voice").say("um theres a massive pot hole on our road")
    assert "Lancashire County Council" in texts(replies)
    assert "lancashire dot gov dot uk" in texts(replies)


async def test_which_council_question(agent_open: Any) -> None:
    replies = await Conversation(agent_open).say("which council do I contact about street lights?")
    assert texts(replies).startswith("That's Lancashire County Council.")


async def test_clarify_then_route(agent_open: Any) -> None:
    chat = Conversation(agent_open)
    asked = await chat.say("I got a parking fine")
    assert "street or road, or in a council car park" in texts(asked)
    assert [b["payload"] for b in asked[0]["buttons"]] == ['/on_street_parking{"topic":"on_street_parking_fine"}',
                                                          '/car_parks{"topic":"car_park_fine"}']
    routed = await chat.say("it was in the car park on the quay")
    assert events(routed)[0]["service"] == "car_parks"


async def test_clarify_repair_private_landlord(agent_open: Any) -> None:
    chat = Conversation(agent_open, "voice")
    asked = await chat.say("my boiler is broken")
    assert "council, or from a private landlord" in texts(asked)
    routed = await chat.say("a private landlord")
    assert events(routed)[0]["service"] == "environmental_health"


async def test_two_failures_then_a_person(agent_open: Any) -> None:
    chat = Conversation(agent_open)
    first = await chat.say("flibber jabber wonk")
    assert "didn't quite catch that" in texts(first)
    second = await chat.say("zorp blim quax")
    assert "Would you like to speak to someone?" in texts(second), texts(second)
    connected = await chat.say("yes please")
    assert "01632 960000" in texts(connected)  # in writing: the number to call now, and a case for staff
    assert [e["event"] for e in events(connected)] == ["handoff"]
    assert events(connected)[0]["reason"] == "not_understood"


async def test_person_on_request_out_of_hours(agent_night: Any) -> None:
    replies = await Conversation(agent_night).say("can I speak to a real person")
    assert "closed at the moment and opens at 8am on Monday" in texts(replies)
    assert "Your reference is LAN-" in texts(replies)
    assert [e["event"] for e in events(replies)] == ["handoff"]


async def test_telecare_at_3am_reaches_the_24x7_line(agent_night: Any) -> None:
    chat = Conversation(agent_night, "voice")
    replies = await chat.say("my mums pendant alarm keeps going off")
    assert "24 hours a day" in texts(replies)
    assert [e["event"] for e in events(replies)] == ["route", "handoff"]  # a high-priority case too
    connected = await chat.say("yes")
    assert events(connected) == [{"event": "transfer", "service": "telecare_alarms", "phone": "01632 960300",
                                  "reason": "person_requested"}]


async def test_a_complaint_leaves_a_case_with_a_reference(agent_open: Any) -> None:
    replies = await Conversation(agent_open).say("I want to make a formal complaint about how the council treated me")
    assert "Your reference is LAN-" in texts(replies)
    assert events(replies)[0]["reason"] == "complaint"


async def test_emergency_gets_999_and_nothing_else(agent_open: Any) -> None:
    replies = await Conversation(agent_open, "voice").say("my neighbours house is on fire")
    assert len(replies) == 2
    assert "hang up and dial 999" in replies[0]["text"]
    assert events(replies) == [{"event": "hangup", "reason": "emergency"}]


async def test_out_of_scope_is_honest(agent_open: Any) -> None:
    replies = await Conversation(agent_open).say("I need an appointment with my GP")
    assert "run by the NHS. It is not run by the councils" in texts(replies)  # the topic's signpost
    assert "NHS 111" in texts(replies) and not [e for e in events(replies) if e["event"] == "route"]


async def test_postcode_outside_district(agent_open: Any) -> None:
    replies = await Conversation(agent_open).say("my postcode is PR1 2AB")
    assert "Preston City Council" in texts(replies) and "Lancashire County Council" in texts(replies)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "didn't get any words"),
        ("    \t  ", "didn't get any words"),
        ("😀😀😀🙏", "didn't get any words"),
        ("\x00\x01\x02\x1b[31m\x7f\x00", "didn't get any words"),
        ("Dzień dobry, gdzie mogę zapłacić podatek od nieruchomości?", "only speak English"),
        ("میں کونسل ٹیکس کیسے ادا کروں", "only speak English"),
        (("I moved out of my flat last month and my council tax bill still comes to the old address. " * 120)[:10000],
         "Council Tax"),
        ("x" * 10000, "didn't get any words"),
    ],
    ids=["empty", "whitespace", "emoji", "binary", "polish", "urdu", "10k-with-topic", "10k-junk"],
)
async def test_bad_input_gets_a_sensible_reply(agent_open: Any, text: str, expected: str) -> None:
    replies = await Conversation(agent_open).say(text)
    said = texts(replies)
    assert expected in said, said
    assert "Traceback" not in said and "Error" not in said
