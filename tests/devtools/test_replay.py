"""Conversation replay without a model: reading and checking the files,
turning tracker events into turns, comparing, the reports, and recording
with callers' details replaced."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import replay

ROUTE = {"custom": {"council": {"event": "route", "service": "council_tax", "authority": "city"}}}


def events_of_a_chat() -> list[dict[str, Any]]:
    return [
        {"event": "action", "name": "action_session_start", "timestamp": 1794306600.0},
        {"event": "session_started", "timestamp": 1794306600.0},
        {"event": "user", "text": "my name is John Smith, call me on 07700 123456 about council tax",
         "timestamp": 1794306600.0, "metadata": {"channel": "sms"},
         "parse_data": {"intent": {"name": "council_tax", "confidence": 0.97}}},
        {"event": "bot", "text": "Council tax is Lancaster City Council.", "data": {},
         "metadata": {"utter_action": "utter_council_tax"}},
        {"event": "bot", "text": None, "data": ROUTE, "metadata": {}},
        {"event": "user", "text": "I want to complain", "timestamp": 1794306660.0, "metadata": {"channel": "sms"},
         "parse_data": {"intent": {"name": "complaint"}}},
        {"event": "bot", "text": "Thanks John Smith, your reference is LAN-7K3-Q9X.", "data": {},
         "metadata": {"utter_action": "utter_handoff_logged"}},
        {"event": "bot", "data": {"custom": {"council": {"event": "handoff", "reference": "LAN-7K3-Q9X",
                                                         "reason": "complaint", "priority": "normal"}}}},
    ]


def write(tmp_path: Path, document: dict[str, Any], name: str = "c.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, {"name": "n", "channel": "voice", "when": "2026-11-10T10:30", "match": "name",
                            "turns": [{"keys": 11, "say": "/council_tax", "expect": {"route": "council_tax"}}]})
    conversation = replay.load(path)
    assert conversation.channel == "voice" and conversation.when == "2026-11-10T10:30"
    assert conversation.turns[0].keys == "11" and conversation.turns[0].match == "name"


@pytest.mark.parametrize("document, complaint", [
    ({"channel": "fax", "turns": [{"say": "x"}]}, "channel must be one of"),
    ({"turns": []}, "turns must be a non-empty list"),
    ({"turns": [{"expect": {}}]}, "needs `say`"),
    ({"turns": [{"keys": "1"}]}, "voice channel only"),
    ({"channel": "voice", "turns": [{"keys": "1a"}]}, "digits"),
    ({"turns": [{"say": "x", "expect": {"routing": "x"}}]}, "unknown expectation(s) routing"),
    ({"when": "next tuesday", "turns": [{"say": "x"}]}, "when:"),
    ({"match": "fuzzy", "turns": [{"say": "x"}]}, "match must be one of"),
])
def test_a_bad_file_is_named_with_what_is_wrong(tmp_path: Path, document: dict[str, Any], complaint: str) -> None:
    path = write(tmp_path, document)
    with pytest.raises(replay.ConversationFileError) as caught:
        replay.load(path)
    assert str(path) in str(caught.value) and complaint in str(caught.value)


def test_events_become_turns_from_the_latest_session() -> None:
    old = [{"event": "session_started"}, {"event": "user", "text": "old", "parse_data": {"intent": {"name": "greet"}}}]
    turns = replay.split_turns(old + events_of_a_chat())
    assert [user["text"][:7] for user, _ in turns] == ["my name", "I want "]
    first, second = turns[0][1], turns[1][1]
    assert (first.intent, first.route, first.handoff) == ("council_tax", "council_tax", None)
    assert first.responses == [{"name": "utter_council_tax", "text": "Council tax is Lancaster City Council."}]
    assert second.handoff == {"reason": "complaint", "priority": "normal"} and second.route is None


def test_references_are_compared_as_a_marker_written_or_spoken() -> None:
    assert replay.normalise("ref  LAN-7K3-Q9X now") == "ref <reference> now"
    spoken = "Your reference is L A N, seven, K for Kilo, three, Q for Quebec, nine, X for X-ray."
    assert replay.normalise(spoken) == "Your reference is <reference>."


def turn(expect: dict[str, Any], match: str = "text") -> replay.Turn:
    return replay.Turn("hello", None, expect, match)


def test_the_first_difference_is_reported_in_order() -> None:
    seen = replay.Observed(intent="council_tax", route="council_tax",
                           responses=[{"name": "utter_a", "text": "Hello there."}])
    same = {"intent": "council_tax", "route": "council_tax",
            "responses": [{"name": "utter_a", "text": "Hello  there."}]}
    assert replay.compare_turn(1, turn(same), seen) is None
    wrong_intent = replay.compare_turn(2, turn({**same, "intent": "benefits", "route": "benefits"}), seen)
    assert (wrong_intent.turn, wrong_intent.field, wrong_intent.expected) == (2, "intent", "benefits")
    assert replay.compare_turn(1, turn({**same, "route": None}), seen).field == "route"
    reworded = {**same, "responses": [{"name": "utter_a", "text": "Hi."}]}
    assert replay.compare_turn(1, turn(reworded), seen).field == "responses"
    assert replay.compare_turn(1, turn(reworded, match="name"), seen) is None  # the file allows rewording
    renamed = {**same, "responses": [{"name": "utter_b", "text": "Hello there."}]}
    assert replay.compare_turn(1, turn(renamed, match="name"), seen).field == "responses"


def test_an_unexpected_transfer_handoff_or_hangup_diverges() -> None:
    expect = {"intent": "x", "route": None, "responses": []}
    for outcome, value in (("transfer", {"service": "x", "phone": "01632 960101"}),
                           ("handoff", {"reason": "complaint", "priority": "normal"}), ("hangup", "emergency")):
        seen = replay.Observed(intent="x", **{outcome: value})
        divergence = replay.compare_turn(1, turn(expect), seen)
        assert divergence is not None and divergence.field == outcome and divergence.actual == value
        assert replay.compare_turn(1, turn({**expect, outcome: value}), seen) is None


def test_side_by_side_shows_expected_and_actual() -> None:
    divergence = replay.Divergence(3, "route", "council_tax", "benefits", "council tax please")
    lines = divergence.side_by_side(width=20).splitlines()
    assert lines[0] == "turn 3 ('council tax please'): route differs"
    assert lines[-1].split("|")[0].strip() == "council_tax" and lines[-1].split("|")[1].strip() == "benefits"


def test_side_by_side_cuts_a_word_longer_than_its_column() -> None:
    address = "https://www.lancaster.gov.uk/housing/council-housing/repairs/repairs-and-maintenance-explained"
    divergence = replay.Divergence(1, "responses", [{"text": f"or go to {address}."}], [], "repair")
    lines = divergence.side_by_side(width=20).splitlines()
    left = "".join(line.split(" | ")[0].strip() for line in lines[3:])
    assert address in left.replace(" ", "")
    assert all(len(line.split(" | ")[0]) <= 20 for line in lines[3:])


def conversation(tmp_path: Path, name: str, channel: str = "chat") -> replay.Conversation:
    return replay.load(write(tmp_path, {"name": name, "channel": channel, "turns": [{"say": "x"}]}, f"{name}.yml"))


def test_summary_and_junit_count_every_outcome(tmp_path: Path) -> None:
    results = [
        replay.Result(conversation(tmp_path, "good"), "pass", seconds=0.5),
        replay.Result(conversation(tmp_path, "bad"), "fail", replay.Divergence(1, "route", "a", "b", "x")),
        replay.Result(conversation(tmp_path, "broken"), "error", reason="ValueError: no"),
        replay.Result(conversation(tmp_path, "chat", "chat"), "skip", reason="web chat"),
    ]
    table = replay.summary_table(results)
    assert "FAIL at turn 1 (route)" in table and "ERROR: ValueError: no" in table
    assert table.splitlines()[-1] == "4 conversations: 1 passed, 1 diverged, 1 could not run, 1 skipped"
    suite = ET.fromstring(replay.junit_xml(results))
    counts = (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped"))
    assert counts == ("4", "1", "1", "1")
    failed = [case for case in suite if case.find("failure") is not None]
    assert len(failed) == 1 and "expected" in failed[0].find("failure").text


def test_a_stack_transcript_is_cut_into_each_turns_answer(tmp_path: Path) -> None:
    path = write(tmp_path, {"channel": "voice", "turns": [{"keys": "11", "say": "/council_tax"}, {"say": "thanks"}]})
    transcript = ["bot: Welcome.", "keys: 1", "bot: For council tax, press 1.", "keys: 1", "bot: Council tax.",
                  "bot: Say yes or press 1.", "you: thanks", "bot: Goodbye.", "hangup: bridge"]
    answers = replay.by_turn(replay.load(path), transcript)
    assert answers == [["bot: Council tax.", "bot: Say yes or press 1."], ["bot: Goodbye.", "hangup: bridge"]]
    heard = replay.heard_turn(answers[1])
    assert heard.heard == ["Goodbye."] and heard.hangup == "bridge"
    transferred = replay.heard_turn(["bot: Putting you through.", "dial: +441632960101 -> completed", "hangup: bridge"])
    assert transferred.transfer == {"phone": "+441632960101"} and transferred.hangup is None


def test_heard_on_the_phone_accepts_numbers_read_digit_by_digit() -> None:
    expect = {"responses": [{"name": "utter_x", "text": "Call 01632 960101 today."}]}
    spoken = replay.Observed(heard=["Call 0 1 6 3 2, 9 6 0 1 0 1 today.", "Say yes or press 1."])
    assert replay.compare_heard(1, turn(expect), spoken) is None
    other = replay.Observed(heard=["Call 0 1 6 3 2, 9 6 0 9 9 9 today."])
    assert replay.compare_heard(1, turn(expect), other).field == "heard"
    assert replay.compare_heard(1, turn({**expect, "hangup": "emergency"}), spoken).field == "hangup"


def test_recording_replaces_numbers_and_names_everywhere() -> None:
    document = replay.conversation_document(events_of_a_chat())
    text = replay.dump(document)
    assert "07700 123456" not in text and "John" not in text and "Smith" not in text
    assert document["channel"] == "sms" and document["when"] == "2026-11-10T10:30"
    first, second = document["turns"]
    assert first["say"] == f"my name is {replay.FICTIONAL_NAME}, call me on {replay.FICTIONAL_MOBILE} about council tax"
    assert first["expect"]["route"] == "council_tax" and "handoff" not in first["expect"]
    assert second["expect"]["responses"][0]["text"] == f"Thanks {replay.FICTIONAL_NAME}, your reference is LAN-7K3-Q9X."
    assert second["expect"]["handoff"] == {"reason": "complaint", "priority": "normal"}
    assert replay.file_name(document).startswith("sms-council_tax-")


def test_scrub_keeps_what_is_not_personal() -> None:
    # A postcode keeps its sector (which council, which centre), not its unit.
    assert replay.scrub("my bin wasn't collected in LA1 1PJ") == "my bin wasn't collected in LA1 1ZZ"
    assert replay.scrub("I'm in LA4, is that you") == "I'm in LA4, is that you"
    assert replay.scrub("this is about my council tax") == "this is about my council tax"
    assert "4111" not in replay.scrub("my card is 4111 1111 1111 1111")
    assert replay.scrub("email me at jo.bloggs@mail.co.uk") == f"email me at {replay.FICTIONAL_EMAIL}"


def test_recorded_keys_are_kept_for_voice_only() -> None:
    events = [{"event": "user", "text": "/council_tax", "metadata": {"channel": "voice", "keys": "11"},
               "parse_data": {"intent": {"name": "council_tax"}}}]
    assert replay.conversation_document(events)["turns"][0]["keys"] == "11"
    events[0]["metadata"]["channel"] = "sms"
    assert "keys" not in replay.conversation_document(events)["turns"][0]


def test_stored_conversations_are_read_from_a_sql_tracker_store(tmp_path: Path) -> None:
    import json

    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                                   "timestamp FLOAT, intent_name TEXT, action_name TEXT, data TEXT)"))
        for sender, events in (("+447700900001", events_of_a_chat()), ("CAabc", events_of_a_chat()[:5]),
                               ("stack-warm-up", events_of_a_chat()[:3])):
            for event in events:
                connection.execute(sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                                           "VALUES (:s, :t, :ts, :d)"),
                                   {"s": sender, "t": event["event"], "ts": event.get("timestamp", 0),
                                    "d": json.dumps(event)})
    engine.dispose()
    assert len(replay.stored_conversations(url)) == 2  # the stack's warm-up message is no conversation
    handoffs = replay.stored_conversations(url, handoffs=True)
    assert [sender for sender, _ in handoffs] == ["+447700900001"]
    assert [sender for sender, _ in replay.stored_conversations(url, ids=["CAabc"])] == ["CAabc"]


def test_a_stack_replays_only_conversations_its_clock_can_answer() -> None:
    weekday, night = "2026-11-10T10:30", "2026-11-14T03:00"
    assert replay.other_time(weekday, "2026-11-10T10:30:00") == ""
    assert "the stack's clock is" in replay.other_time(night, weekday)
    assert replay.other_time(None, weekday) == ""
    assert "give --clock" in replay.other_time(night, None)  # closed lines: only the same moment will do


def test_a_recorded_file_holds_none_of_the_sources_personal_data() -> None:
    said = ("my name is Jo Bloggs, I'm at l a one one p j, that's LA1 1PJ, ring me on oh seven seven oh oh "
            "nine oh oh four five six or 07700 900456, jo.bloggs@mail.co.uk, born 12/03/1956, "
            "NI QQ 12 34 56 C, card 4111 1111 1111 1111")
    events = [{"event": "user", "text": said, "timestamp": 1794306600.0, "metadata": {"channel": "voice"},
               "parse_data": {"intent": {"name": "council_tax", "confidence": 0.9}}},
              {"event": "bot", "text": "Thanks Jo Bloggs.", "data": {}, "metadata": {"utter_action": "utter_x"}}]
    text = replay.dump(replay.conversation_document(events))
    for detail in ("Jo", "Bloggs", "p j", "1PJ", "four five six", "900456", "jo.bloggs", "mail.co.uk",
                   "12/03/1956", "QQ 12", "4111"):
        assert detail not in text, detail
    assert "LA1 1ZZ" in text and replay.FICTIONAL_MOBILE in text
