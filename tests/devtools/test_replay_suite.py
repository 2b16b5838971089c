"""The recorded conversations in tests/conversations/ replayed against the
trained model: in-process (the model in a Rasa Agent, the custom actions
through the Rasa SDK's executor), and the phone and text ones again as real
calls and texts through the bridge with the Rasa and action servers behind
it. A regression in any recorded conversation fails `make test`."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from council.catalogue import load_catalogue
from council.clock import parse
from devtools import replay
from tests.bridge_harness import TOKEN, running_bridge, settings
from tests.conftest import WEEKDAY_OPEN

pytestmark = pytest.mark.model

RESULTS = Path(__file__).resolve().parents[2] / "var" / "test-results"


def suite() -> list[replay.Conversation]:
    return [replay.load(path) for path in replay.discover([replay.CONVERSATIONS_DIR])]


@pytest.fixture(scope="module")
def bot(model_path: Path) -> replay.InProcessBot:
    return replay.InProcessBot(model_path)


def failures(results: list[replay.Result]) -> str:
    return "\n\n".join(f"{r.conversation.label}: " + (r.divergence.side_by_side() if r.divergence else r.reason)
                       for r in results if not r.ok)


async def test_every_recorded_conversation_replays_in_process(bot: replay.InProcessBot) -> None:
    results = await replay.replay_in_process(suite(), bot)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "replay.xml").write_text(replay.junit_xml(results), encoding="utf-8")
    assert all(result.status == "pass" for result in results), failures(results)


def test_the_suite_covers_what_the_issue_asks() -> None:
    conversations = suite()
    assert len(conversations) >= 40
    turns = [turn for conversation in conversations for turn in conversation.turns]
    routed = {turn.expect.get("route") for turn in turns} - {None}
    catalogue = load_catalogue()
    assert {sid for sid, s in catalogue.services.items() if s.routable} <= routed
    assert {catalogue.services[sid].authority for sid in routed} >= {"city", "county", "joint"}
    assert {c.channel for c in conversations} == set(replay.CHANNELS)
    assert any(turn.keys for turn in turns), "a conversation on the keypad"
    assert any(str(turn.expect.get("intent", "")).startswith("clarify") or
               any(r.get("buttons") for r in turn.expect.get("responses") or []) for turn in turns), "clarification"
    assert any(turn.expect.get("intent") == "nlu_fallback" for turn in turns), "fallback"
    assert any(turn.expect.get("handoff") for turn in turns), "handoff"
    assert any(turn.expect.get("transfer") for turn in turns), "transfer"
    assert any(turn.expect.get("hangup") == "emergency" for turn in turns), "emergency"
    assert any(c.when and not c.when.startswith(WEEKDAY_OPEN[:10]) for c in conversations), "out of hours"


async def test_a_changed_conversation_is_caught_at_its_turn(bot: replay.InProcessBot, tmp_path: Path) -> None:
    source = replay.CONVERSATIONS_DIR / "chat-parking-fine-which-kind-then-the-car-park.yml"
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    document["turns"][1]["expect"]["route"] = "on_street_parking"
    changed = tmp_path / "changed.yml"
    changed.write_text(yaml.safe_dump(document), encoding="utf-8")
    reworded = yaml.safe_load(source.read_text(encoding="utf-8"))
    reworded["turns"][0]["expect"]["responses"][0]["text"] = "Was it on a street, or in a car park?"
    strict = tmp_path / "reworded.yml"
    strict.write_text(yaml.safe_dump(reworded), encoding="utf-8")
    tolerant = tmp_path / "tolerant.yml"
    tolerant.write_text(yaml.safe_dump({**reworded, "match": "name"}), encoding="utf-8")

    results = await replay.replay_in_process([replay.load(p) for p in (changed, strict, tolerant)], bot)
    route, wording, allowed = results
    assert route.status == "fail" and (route.divergence.turn, route.divergence.field) == (2, "route")
    assert (route.divergence.expected, route.divergence.actual) == ("on_street_parking", "car_parks")
    assert wording.status == "fail" and (wording.divergence.turn, wording.divergence.field) == (1, "responses")
    assert allowed.status == "pass"


def test_the_run_command_reports_and_exits_1_on_a_regression(model_path: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    good = replay.CONVERSATIONS_DIR / "chat-council-tax-by-chat.yml"
    shutil.copy(good, tmp_path / "good.yml")
    document = yaml.safe_load(good.read_text(encoding="utf-8"))
    document["turns"][0]["expect"]["route"] = "benefits"
    (tmp_path / "bad.yml").write_text(yaml.safe_dump(document), encoding="utf-8")
    junit = tmp_path / "out" / "replay.xml"

    code = replay.command_run([str(tmp_path)], model=model_path, stack=None, token=None, public_url=None,
                              clock=None, junit=str(junit))
    shown = capsys.readouterr().out
    assert code == 1
    assert "route differs" in shown and "benefits" in shown and "council_tax" in shown
    assert "2 conversations: 1 passed, 1 diverged" in shown
    assert ET.parse(junit).getroot().get("failures") == "1"
    (tmp_path / "bad.yml").unlink()
    assert replay.command_run([str(tmp_path)], model=model_path, stack=None, token=None, public_url=None,
                              clock=None, junit=None) == 0


async def test_phone_and_text_conversations_replay_through_the_bridge(
        rasa_server: Callable[[str], str], weekday_open: None, tmp_path: Path) -> None:
    daytime = [c for c in suite()
               if c.channel != "chat" and c.when and parse(c.when) == parse(WEEKDAY_OPEN)]
    assert len(daytime) >= 10
    async with running_bridge(settings(rasa_server(WEEKDAY_OPEN), tmp_path)) as bridge:
        results = await replay.replay_stack(daytime, bridge.url, token=TOKEN, clock=WEEKDAY_OPEN)
    assert all(result.status == "pass" for result in results), failures(results)


async def test_a_regression_is_caught_through_the_bridge_too(
        rasa_server: Callable[[str], str], weekday_open: None, tmp_path: Path) -> None:
    source = replay.CONVERSATIONS_DIR / "voice-fire-by-phone.yml"
    document: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    del document["turns"][0]["expect"]["hangup"]
    changed = tmp_path / "changed.yml"
    changed.write_text(yaml.safe_dump(document), encoding="utf-8")
    keyed = yaml.safe_load((replay.CONVERSATIONS_DIR / "voice-tip-by-keypad.yml").read_text(encoding="utf-8"))
    keyed["turns"][0]["expect"]["responses"][0]["text"] = "The tip is run by the city council."
    reworded = tmp_path / "reworded.yml"
    reworded.write_text(yaml.safe_dump(keyed), encoding="utf-8")
    async with running_bridge(settings(rasa_server(WEEKDAY_OPEN), tmp_path)) as bridge:
        results = await replay.replay_stack([replay.load(changed), replay.load(reworded)], bridge.url, token=TOKEN,
                                            clock=WEEKDAY_OPEN)
    assert results[0].status == "fail" and results[0].divergence.field == "hangup"
    assert results[1].status == "fail" and results[1].divergence.field == "heard"
    assert results[1].divergence.expected == "The tip is run by the city council."


async def test_a_call_is_recorded_from_the_tracker_store_and_replays(
        rasa_server: Callable[[str], str], weekday_open: None, tmp_path: Path, bot: replay.InProcessBot) -> None:
    """The whole loop: a real call through the bridge (keys, then words that
    give a name and a number), kept in Rasa's SQL tracker store; `record`
    writes it with the caller's details replaced; the file replays, both
    in-process and through the bridge."""
    from devtools.simulator import run_call

    rasa = rasa_server(WEEKDAY_OPEN)
    script = ["#1", "#1", "my name is Priya Sharma and my number is 07700 900456",
              "I want to make a complaint about how I was treated at the council tax office", "!hangup"]
    async with running_bridge(settings(rasa, tmp_path)) as bridge:
        call = await run_call(bridge.url, script, auth_token=TOKEN)
        assert not call.errors
        out = tmp_path / "recorded"
        code = replay.command_record(ids=[call.call_sid], last=None, handoffs=True, out=out, when=WEEKDAY_OPEN,
                                     match="text", fill_paths=[], model=None,
                                     store=rasa_server.tracker_stores[rasa])  # type: ignore[attr-defined]
        assert code == 0
        [written] = list(out.glob("*.yml"))
        text = written.read_text(encoding="utf-8")
        assert "Priya" not in text and "Sharma" not in text and "900456" not in text and call.call_sid not in text
        conversation = replay.load(written)
        assert conversation.channel == "voice" and conversation.turns[0].keys == "11"
        assert conversation.turns[0].expect["route"] == "council_tax"
        assert any(turn.expect.get("handoff") for turn in conversation.turns)
        through_bridge = await replay.replay_stack([conversation], bridge.url, token=TOKEN, clock=WEEKDAY_OPEN)
    assert through_bridge[0].status == "pass", failures(through_bridge)
    in_process = await replay.replay_in_process([conversation], bot)
    assert in_process[0].status == "pass", failures(in_process)
