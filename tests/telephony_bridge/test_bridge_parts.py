"""The bridge's small pure parts: TwiML builders (parsed, not compared as
strings), phone numbers, the state carried in URLs, SMS splitting, settings
and the reading of the bot's answers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from council.phones import is_uk_mobile, to_e164
from plumbing.bot_client import BotUnavailable, parse_reply
from plumbing.masking import mask
from telephony_bridge import twiml
from telephony_bridge.guards import decode_form
from telephony_bridge.settings import DEVELOPMENT_TOKEN, Settings, SettingsError
from telephony_bridge.sms import PART_CHARS, reply_text, split_message
from telephony_bridge.state import TurnState

VOICE = twiml.Voice()


def parse(xml: str) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return root


def test_gather_listens_for_speech_and_keys_and_never_leaves_dead_air() -> None:
    root = parse(twiml.gather(["Hello & welcome <there>", "Call 01632 960101."], "/voice/turn?menu=1&silence=1",
                              "/voice/no-input?menu=1", VOICE, "planning, council tax"))
    gather, redirect = list(root)
    assert gather.tag == "Gather" and redirect.tag == "Redirect"
    assert gather.get("input") == "speech dtmf" and gather.get("speechTimeout") == "auto"
    assert gather.get("numDigits") == "1" and gather.get("finishOnKey") == ""
    assert gather.get("action") == "/voice/turn?menu=1&silence=1"
    assert gather.get("language") == "en-GB" and gather.get("hints") == "planning, council tax"
    says = [say.text for say in gather.findall("Say")]
    assert says == ["Hello & welcome <there>", "Call 0 1 6 3 2, 9 6 0 1 0 1."]
    assert all(say.get("voice") == "Polly.Amy" for say in gather.findall("Say"))
    assert redirect.text == "/voice/no-input?menu=1"


def test_dial_reports_its_outcome_and_its_legs_progress() -> None:
    root = parse(twiml.dial(["Putting you through."], "+441632960101", "/voice/dial-result?transfer=3",
                            "/voice/dial-status?transfer=3", VOICE, timeout_s=25))
    say, dial = list(root)
    assert say.text == "Putting you through."
    assert dial.get("action") == "/voice/dial-result?transfer=3" and dial.get("timeout") == "25"
    number = dial.find("Number")
    assert number is not None and number.text == "+441632960101"
    assert number.get("statusCallback") == "/voice/dial-status?transfer=3"
    assert number.get("statusCallbackEvent") == "initiated ringing answered completed"


def test_hang_up_repeats_what_matters() -> None:
    root = parse(twiml.hang_up(["Dial 999 now."], VOICE, repeat_last=True))
    assert [el.tag for el in root] == ["Say", "Say", "Hangup"]


def test_messages_drop_empty_parts() -> None:
    root = parse(twiml.messages(["one", "  ", "two"]))
    assert [m.text for m in root.findall("Message")] == ["one", "two"]


def test_hints_are_deduplicated_and_bounded() -> None:
    assert twiml.hints(["Planning", "planning", "Council, Tax", ""]) == "planning, council tax"
    assert len(twiml.hints(f"name {i}" for i in range(1000)).split(", ")) == twiml.MAX_HINTS


def test_speakable_cuts_very_long_text_at_a_sentence() -> None:
    text = "This is a sentence. " * 400
    spoken = twiml.speakable(text)
    assert len(spoken) <= twiml.MAX_SAY_CHARS and spoken.endswith(".")


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+447700900123", "+44*******123"), ("07700 900123", "********123"), ("anonymous", "withheld"),
     ("", "unknown"), (None, "unknown"), ("12", "**")],
)
def test_masking_leaves_only_the_last_three_digits(number: str | None, masked: str) -> None:
    assert mask(number) == masked


def test_numbers_are_dialled_in_e164_and_mobiles_recognised() -> None:
    assert to_e164("01632 960101") == "+441632960101"
    assert to_e164("+44 1632 960101") == "+441632960101"
    assert is_uk_mobile("07700 900123") and is_uk_mobile("+447700900123")
    assert not is_uk_mobile("01632 960101") and not is_uk_mobile(None)
    # What a hand-written parser got wrong: the "(0)" of an international
    # form, an international prefix, a pager and an overseas mobile.
    assert to_e164("+44 (0)1524 582000") == "+441524582000"
    assert to_e164("0044 1524 582000") == "+441524582000"
    assert is_uk_mobile("07911 123456")
    assert not is_uk_mobile("07600 123456")  # a pager
    assert not is_uk_mobile("+33 6 12 34 56 78") and not is_uk_mobile("anonymous")


def test_state_survives_the_round_trip_and_tampering_is_dropped() -> None:
    state = TurnState(menu="12", confirm="planning", offer="council_tax", silence=2)
    query = dict(pair.split("=") for pair in state.query().split("&"))
    assert TurnState.from_query(query) == state
    tampered = TurnState.from_query({"menu": "1<script>", "confirm": "../etc", "offer": "x" * 100, "silence": "lots"})
    assert tampered == TurnState()
    assert TurnState.from_query({"silence": "999"}).silence == 9
    assert TurnState().url("/voice/turn") == "/voice/turn"


def test_sms_short_replies_stay_whole() -> None:
    assert split_message("Council Tax is dealt with by Lancaster City Council.") == [
        "Council Tax is dealt with by Lancaster City Council."]
    assert split_message("   ") == []


def test_sms_long_replies_split_at_sentences_and_never_inside_an_address() -> None:
    url = "https://www.lancaster.gov.uk/council-tax/pay-your-council-tax-online"
    text = " ".join(f"Sentence number {i} tells you something useful about {url}." for i in range(12))
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(part) <= PART_CHARS for part in parts)
    assert parts[0].startswith(f"1/{len(parts)} ") and parts[-1].startswith(f"{len(parts)}/{len(parts)} ")
    assert all(part.count(url) == part.count("https://") for part in parts)
    rejoined = " ".join(part.split(" ", 1)[1] for part in parts)
    assert rejoined == " ".join(text.split())


def test_sms_unbroken_junk_is_still_split() -> None:
    parts = split_message("x" * 1000)
    assert all(len(part) <= PART_CHARS for part in parts) and "".join(p.split(" ", 1)[1] for p in parts) == "x" * 1000


def test_bot_answer_is_read_into_texts_buttons_and_council_events() -> None:
    reply = parse_reply([
        {"recipient_id": "a", "text": "Which one?", "buttons": [{"title": "On the street", "payload": "/x"}]},
        {"recipient_id": "a", "custom": {"council": {"event": "route", "service": "council_tax"}}},
        {"recipient_id": "a", "custom": {"other": 1}},
        {"recipient_id": "a", "image": "http://example/img.png"},
    ])
    assert reply.texts == ("Which one?",) and reply.buttons == ("On the street",)
    assert reply.event("route") == {"event": "route", "service": "council_tax"} and reply.event("transfer") is None
    assert reply_text(reply) == "Which one? Reply with one of: On the street."
    assert parse_reply([]).empty


@pytest.mark.parametrize("garbage", [{"text": "hi"}, "hello", None, [1, 2], [["text"]]])
def test_bot_garbage_is_unavailable_not_a_crash(garbage: object) -> None:
    with pytest.raises(BotUnavailable):
        parse_reply(garbage)


def test_forms_that_are_not_utf8_lose_nothing() -> None:
    assert decode_form(b"SpeechResult=caf%E9&CallSid=CA1") == {"SpeechResult": "café", "CallSid": "CA1"}
    assert decode_form("SpeechResult=caf%C3%A9".encode()) == {"SpeechResult": "café"}
    assert decode_form(b"Body=\xff\xfe&x=") == {"Body": "ÿþ", "x": ""}


def test_settings_have_safe_local_defaults_and_fail_naming_the_setting() -> None:
    local = Settings.from_env({})
    assert local.auth_token == DEVELOPMENT_TOKEN and local.rasa_url == "http://127.0.0.1:5005"
    assert local.bot_timeout_s == 3.0 and local.public_base_url is None
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN"):
        Settings.from_env({"COUNCIL_ENV": "production", "PUBLIC_BASE_URL": "https://x.example"})
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"COUNCIL_ENV": "production", "TWILIO_AUTH_TOKEN": "t"})
    with pytest.raises(SettingsError, match="BOT_TIMEOUT_S"):
        Settings.from_env({"BOT_TIMEOUT_S": "soon"})
    with pytest.raises(SettingsError, match="RASA_URL"):
        Settings.from_env({"RASA_URL": "localhost:5005"})
    assert Settings.from_env({"PUBLIC_BASE_URL": "https://calls.example/"}).public_base_url == "https://calls.example"


def test_report_command_reads_the_call_log(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from council.clock import LONDON
    from telephony_bridge.__main__ import main
    from telephony_bridge.calllog import CallLog

    url = f"sqlite:///{tmp_path / 'calls.db'}"
    log = CallLog(url)
    start = datetime(2026, 11, 10, 10, 0, tzinfo=LONDON)
    log.call_started("CA" + "1" * 32, "+447700900123", start)
    log.routed("CA" + "1" * 32, "council_tax", start)
    log.call_status("CA" + "1" * 32, "completed", start, 60)
    log.close()
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["report", "--from", "2026-11-09", "--to", "2026-11-11"]) == 0
    out = capsys.readouterr().out
    assert "100.0%" in out and "+447700900123" not in out
    assert main(["report", "--from", "yesterday"]) == 1


def test_call_and_bench_take_their_own_options(capsys) -> None:  # type: ignore[no-untyped-def]
    from devtools.__main__ import main

    for command in ("call", "bench-bridge", "bench-handoff"):
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0
        assert f"python -m devtools {command}" in capsys.readouterr().out


def test_the_bridge_command_line_has_no_developer_tools(capsys) -> None:  # type: ignore[no-untyped-def]
    from telephony_bridge.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["call", "--help"])
    assert exited.value.code == 2  # not a command of the bridge: it lives in python -m devtools


def test_a_texters_conversation_goes_by_a_keyed_hash_of_the_number() -> None:
    from telephony_bridge.sms import conversation_id

    one = conversation_id("key-one", "+447700900123")
    assert one == conversation_id("key-one", "+447700900123") and one.startswith("sms-")
    assert "7700900123" not in one and one != conversation_id("key-one", "+447700900124")
    assert one != conversation_id("key-two", "+447700900123")
    derived = Settings.from_env({"TWILIO_AUTH_TOKEN": "a-real-token"}).sender_id_key
    again = Settings.from_env({"TWILIO_AUTH_TOKEN": "a-real-token"}).sender_id_key
    assert derived != "a-real-token" and derived == again
    assert Settings.from_env({"TWILIO_AUTH_TOKEN": "t", "SENDER_ID_KEY": "own"}).sender_id_key == "own"
