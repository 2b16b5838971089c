"""The safety net: words of self-harm get the crisis signpost first,
whatever else the message is about; an emergency keeps its 999 answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.validation import consistency_problems
from council.catalogue import CatalogueError
from council.safety import default_safety, load_safety, normalise
from council.topics import default_topics


def test_apostrophes_case_and_punctuation_do_not_hide_a_phrase() -> None:
    assert normalise("I DON\u2019T want to be here any more!!") == "i dont want to be here any more"
    net = default_safety()
    assert net.at_risk("honestly I don't want to be here any more, the flat is damp and nobody listens")
    assert net.at_risk("feeling suicidal since the eviction letter")
    assert net.at_risk("i keep thinking about ending my life")


def test_whole_words_only_and_third_parties_go_on_as_their_enquiry() -> None:
    net = default_safety()
    assert not net.at_risk("my son self harms and the school says to call social services")
    assert not net.at_risk("i hurt my back lifting the bin")
    assert not net.at_risk("the bin men keep cutting across my lawn")


def test_the_crisis_topic_is_an_out_of_scope_topic_and_the_data_validates() -> None:
    topic = default_topics().get(default_safety().topic)
    assert topic is not None and not topic.routable
    assert "116 123" in topic.say and "111" in topic.say
    assert not [p for p in consistency_problems() if "safety.yml" in p]


def _parsed(text: str, intent: str) -> Any:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import CrisisSafetyNet

    message = Message.build(text=text)
    message.set("intent", {"name": intent, "confidence": 0.7})
    message.set("intent_ranking", [{"name": intent, "confidence": 0.7}, {"name": "out_of_scope", "confidence": 0.2}])
    return CrisisSafetyNet().process([message])[0]


def test_the_net_overrides_any_intent_but_an_emergency() -> None:
    caught = _parsed("nobody has fixed the damp and i want to die", "council_housing")
    assert caught.get("intent") == {"name": "out_of_scope", "confidence": 1.0}
    assert [r["name"] for r in caught.get("intent_ranking")] == ["out_of_scope", "council_housing"]
    assert caught.get("topic")["name"] == default_safety().topic
    now = _parsed("i'm on the bridge and going to kill myself now", "emergency")
    assert now.get("intent")["name"] == "emergency" and now.get("topic") is None
    plain = _parsed("nobody has fixed the damp", "council_housing")
    assert plain.get("intent")["name"] == "council_housing"
    button = _parsed('/council_housing{"topic": "damp"}', "council_housing")
    assert button.get("intent")["name"] == "council_housing"


def _first(text: str, ranking: list[tuple[str, float]], floor: float = 0.2) -> Any:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.components import EmergencyFirst

    message = Message.build(text=text)
    message.set("intent", {"name": ranking[0][0], "confidence": ranking[0][1]})
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
    return EmergencyFirst(floor).process([message])[0]


def test_a_possible_emergency_comes_first_even_when_another_service_led() -> None:
    fire = _first("next door is on fire", [("environmental_health", 0.48), ("emergency", 0.45)])
    assert fire.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert [r["name"] for r in fire.get("intent_ranking")] == ["emergency", "environmental_health"]
    unsure = _first("man in the water", [("nlu_fallback", 0.3), ("out_of_scope", 0.28), ("emergency", 0.24)])
    assert unsure.get("intent")["name"] == "emergency"
    smoke = _first("bonfire smoke again", [("environmental_health", 0.9), ("emergency", 0.1)])
    assert smoke.get("intent")["name"] == "environmental_health"
    button = _first("/environmental_health", [("environmental_health", 0.5), ("emergency", 0.5)])
    assert button.get("intent")["name"] == "environmental_health"


def test_the_emergency_floor_must_be_a_share() -> None:
    from bot.nlu.components import EmergencyFirst

    with pytest.raises(ValueError, match="floor must be above 0"):
        EmergencyFirst.create({"floor": 0}, None, None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("text, problem", [
    ("topic: x\n", "needs a topic"),
    ("topic: x\nphrases: [\"Don't want to live\"]\n", "must be written as 'dont want to live'"),
    ("topic: x\nphrases: [suicidal, suicidal]\n", "given twice"),
    ("topic: x\nphrases: [\"\"]\n", "phrase 1 is empty"),
    ("topic: [\n", "not valid YAML"),
])
def test_a_broken_safety_file_is_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "safety.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError, match="safety.yml.*" + problem.replace("[", r"\[")):
        load_safety(path)


@pytest.mark.model
async def test_a_housing_story_with_words_of_self_harm_gets_the_crisis_signpost(router: Any) -> None:
    route = await router.route("they're evicting me next week and honestly i don't want to be here anymore")
    assert (route.service, route.topic) == ("out_of_scope", default_safety().topic)
    ordinary = await router.route("they're evicting me next week and i've got nowhere to go")
    assert ordinary.service != "out_of_scope"


@pytest.mark.model
async def test_the_resident_hears_samaritans_and_111(agent_open: Any) -> None:
    from tests.bot.test_conversations import Conversation, texts

    replies = await Conversation(agent_open).say("my carer has stopped coming and i feel like ending it all")
    said = texts(replies)
    assert "116 123" in said and "111" in said


@pytest.mark.model
async def test_a_fire_told_with_smoke_and_neighbours_is_an_emergency_not_bonfire_smoke(router: Any) -> None:
    route = await router.route("smoke coming out of next doors roof and i can see flames, i think shes still in there")
    assert (route.service, route.topic) == ("out_of_scope", "oos_emergency")
    smoke = await router.route("my neighbour has a bonfire every sunday and the smoke comes in my windows")
    assert smoke.topic == "bonfire_smoke"
