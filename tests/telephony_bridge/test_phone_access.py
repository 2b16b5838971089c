"""A phone line everyone can use, without the trained model: every council
service by keypad alone; at every prompt star (or "repeat that") says the
last thing again, 0 reaches a person, and "I need more time" lengthens the
timeouts for the rest of the call; the keys keep one meaning everywhere.
(By speech alone to every service, through the real bot:
test_bridge_calls.py.)"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from council.catalogue import default_catalogue
from devtools.simulator import CallResult, run_call
from telephony_bridge.menu import PERSON_KEY, default_menu
from telephony_bridge.voice import KEYS_HELP, MORE_TIME, MORE_TIME_OK, NOT_ABOUT_TIME, REPEAT
from tests.bridge_harness import TOKEN, Bridge, running_bridge, settings

from .test_bridge import CLARIFY, QUESTION, fake_bot, post_signed, twilio_fields

pytestmark = pytest.mark.usefixtures("weekday_open")
MENU = default_menu()
CATALOGUE = default_catalogue()


def key_path(service: str, path: str = "") -> str | None:
    """The keys from the main menu to `service`."""
    for option in MENU.options(path):
        if option.service == service:
            return path + option.digit
        if option.submenu:
            found = key_path(service, path + option.digit)
            if found:
                return found
    return None


@asynccontextmanager
async def routing_bot() -> AsyncIterator[tuple[str, list[dict]]]:
    """Routes a "/service" payload there; asks its two-way question for
    anything said; hands a person request to the contact centre."""
    received: list[dict] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        message = body["message"]
        if message == "/request_human":
            return web.json_response([{"text": "I'll put you through to the council contact centre now."},
                                      {"custom": {"council": {"event": "transfer", "phone": "01632 960000"}}}])
        if message.startswith("/"):
            service = message[1:]
            return web.json_response([{"text": f"That is {service}."},
                                      {"custom": {"council": {"event": "route", "service": service}}}])
        return web.json_response([QUESTION, CLARIFY])

    async with fake_bot(handler) as url:
        yield url, received


@pytest.fixture
async def line(tmp_path: Path) -> AsyncIterator[tuple[Bridge, list[dict]]]:
    async with routing_bot() as (url, received), running_bridge(settings(url, tmp_path)) as bridge:
        yield bridge, received


async def call(bridge: Bridge, *lines: str) -> CallResult:
    result = await run_call(bridge.url, list(lines), auth_token=TOKEN)
    assert result.errors == [], result.transcript
    return result


def test_every_council_service_has_a_way_through_the_keypad() -> None:
    routable = {service.id for service in CATALOGUE.services.values() if service.routable}
    assert {service for service in routable if key_path(service) is None} == set()


@pytest.mark.parametrize("service", sorted(s.id for s in CATALOGUE.services.values() if s.routable))
async def test_keys_alone_reach_each_service(line: tuple[Bridge, list[dict]], service: str) -> None:
    bridge, received = line
    keys = key_path(service)
    assert keys is not None
    # hash opens the keypad menu from the first prompt, then one key a menu
    result = await call(bridge, "##", *(f"#{key}" for key in keys))
    assert received[-1]["message"] == f"/{service}"
    assert f"That is {service}." in result.said[-1] or any(f"That is {service}." in s for s in result.said)


async def test_star_repeats_the_last_thing_said_at_every_kind_of_prompt(line: tuple[Bridge, list[dict]]) -> None:
    bridge, _ = line
    result = await call(bridge, "#*", "my bin", "#*", "repeat that please", "##", "#2", "#*")
    said = result.said
    greeting = said[:said.index(KEYS_HELP) + 1]
    assert KEYS_HELP in greeting
    # at the first prompt: the greeting again; after the bot's question: the question
    after_first_star = said[len(greeting):len(greeting) * 2]
    assert after_first_star == greeting
    question = QUESTION["text"]
    assert [s for s in said if s == question] == [question] * 3  # asked, then star, then "repeat that please"
    assert said[-1].startswith("For bins and recycling, press 1")  # in a submenu: that menu


async def test_zero_reaches_a_person_from_every_kind_of_prompt(line: tuple[Bridge, list[dict]]) -> None:
    bridge, received = line
    for before in ([], ["my bin"], ["##"], ["##", "#2"]):
        result = await call(bridge, *before, f"#{PERSON_KEY}", "!dial completed")
        assert result.dials == ["+441632960000"], before
        assert received[-1]["message"] == "/request_human"


def gather_of(twiml: str) -> ET.Element:
    gather = ET.fromstring(twiml).find("Gather")
    assert gather is not None
    return gather


async def test_more_time_lengthens_the_timeouts_for_the_rest_of_the_call(line: tuple[Bridge, list[dict]]) -> None:
    bridge, _ = line
    status, first = await post_signed(bridge, "/voice/incoming", twilio_fields())
    assert gather_of(first).get("timeout") == "6" and gather_of(first).get("speechTimeout") == "auto"
    status, answer = await post_signed(bridge, "/voice/turn", twilio_fields(SpeechResult="I need more time"))
    gather = gather_of(answer)
    assert status == 200 and MORE_TIME_OK in " ".join(gather.itertext())
    assert gather.get("timeout") == "12" and gather.get("speechTimeout") == "3"
    action = urlsplit(gather.get("action", ""))
    assert parse_qs(action.query)["slow"] == ["1"]
    # the next turn, whatever it is, keeps the longer timeouts
    status, later = await post_signed(bridge, f"/voice/turn?{action.query}", twilio_fields(SpeechResult="my bin"))
    assert gather_of(later).get("timeout") == "12"
    status, menu = await post_signed(bridge, f"/voice/turn?{action.query}", twilio_fields(Digits="#"))
    assert gather_of(menu).get("timeout") == "12"


@pytest.mark.parametrize("said, repeat, more_time", [
    ("repeat that", True, False), ("Sorry, can you repeat that please?", True, False),
    ("say that again", True, False), ("pardon", True, False), ("what did you say", True, False),
    ("I need a repeat prescription", False, False), ("repeat collection of my bins please", False, False),
    ("I need more time", False, True), ("hang on", False, True), ("slow down please", False, True),
    ("can you give me a minute", False, True),
    ("I need more time to pay my council tax", False, False), ("the bin men were too fast", False, True),
])
def test_what_counts_as_asking_to_repeat_or_for_more_time(said: str, repeat: bool, more_time: bool) -> None:
    assert bool(REPEAT.match(said)) is repeat
    asked = len(said.split()) <= 8 and bool(MORE_TIME.search(said)) and not NOT_ABOUT_TIME.search(said)
    assert asked is more_time


def test_zero_means_a_person_in_every_menu_and_the_menus_say_so() -> None:
    paths = {""} | {option_path for option_path in _all_paths("")}
    for path in paths:
        assert MENU.choose(path, PERSON_KEY).kind == "person", path
        assert "press 0" in MENU.prompt(path), path
        assert "press star" in MENU.prompt(path), path


def _all_paths(path: str) -> list[str]:
    found = []
    for option in MENU.options(path):
        if option.submenu:
            found.append(path + option.digit)
            found += _all_paths(path + option.digit)
    return found
