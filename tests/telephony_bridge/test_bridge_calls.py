"""Whole phone calls and texts through the real stack: the call simulator
phones the bridge, which talks to a real Rasa server (the model trained in
this test run) and the real action server, at a fixed time of day."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import AsyncIterator, Callable

import aiohttp
import pytest

from council.catalogue import default_catalogue
from council.clock import LONDON
from devtools.simulator import CallResult, run_call, signed_headers
from telephony_bridge.calllog import CallRecord
from telephony_bridge.report import service_levels
from tests.bridge_harness import CALLER, TOKEN, Bridge, running_bridge, settings
from tests.conftest import SATURDAY_NIGHT, WEEKDAY_OPEN

pytestmark = pytest.mark.model


@dataclass
class Line:
    """A bridge in front of the real bot at one moment in the week."""

    bridge: Bridge
    when: str

    async def call(self, *lines: str) -> CallResult:
        result = await run_call(self.bridge.url, list(lines), auth_token=TOKEN)
        assert result.errors == [], result.transcript
        return result

    def record(self, call: CallResult) -> CallRecord:
        moment = datetime.fromisoformat(self.when).replace(tzinfo=LONDON)
        calls = self.bridge.log.calls_between(moment - timedelta(days=1), moment + timedelta(days=1))
        return next(c for c in calls if c.call_sid == call.call_sid)


async def _line(when: str, rasa_server: Callable[[str], str], tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Line]:
    monkeypatch.setenv("FAKE_NOW", when)  # the bridge's clock; the bot's is its servers'
    async with running_bridge(settings(rasa_server(when), tmp_path, bot_timeout_s=10.0)) as bridge:
        yield Line(bridge, when)


@pytest.fixture
async def daytime(rasa_server: Callable[[str], str], tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Line]:
    async for line in _line(WEEKDAY_OPEN, rasa_server, tmp_path, monkeypatch):
        yield line


@pytest.fixture
async def night(rasa_server: Callable[[str], str], tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Line]:
    async for line in _line(SATURDAY_NIGHT, rasa_server, tmp_path, monkeypatch):
        yield line


def heard(call: CallResult) -> str:
    return " ".join(call.said)


async def test_council_tax_by_speech(daytime: Line) -> None:
    call = await daytime.call("um how do i pay my council tax", "put me through please", "!dial completed")
    said = heard(call)
    assert "Lancaster City Council sends your Council Tax bill" in said  # the topic's answer
    assert "To be put through to the Council Tax team now, press 1." in said
    assert call.dials == ["+441632960101"]
    record = daytime.record(call)
    assert record.first_service == "council_tax" and record.transferred and record.reached_at is not None


async def test_council_tax_by_keypad(daytime: Line) -> None:
    call = await daytime.call("##", "#1", "#1", "#1", "!dial completed")  # hash: the keypad menu
    said = heard(call)
    assert "For council tax and benefits, press 1" in said and "For council tax, press 1" in said
    assert "Lancaster City Council deals with Council Tax" in said
    assert call.dials == ["+441632960101"]
    assert call.said[-1] == "Thank you for calling. Goodbye."
    assert daytime.record(call).first_service == "council_tax"


@pytest.mark.parametrize(
    ("speech", "number"),
    [("put me through to planing please", "+441632960108"),
     ("sara jones in licencing please", None),
     ("can i speak to someone in counsel tax", "+441632960101")],
)
async def test_speech_dial_with_a_misheard_name(daytime: Line, speech: str, number: str | None) -> None:
    from telephony_bridge.directory_file import default_directory

    call = await daytime.call(speech, "!dial completed")
    if number is None:
        number = "+44" + default_directory().get("sarah_jones").phone.replace(" ", "")[1:]
    assert call.dials == [number], call.transcript
    assert "Putting you through to" in heard(call)


async def test_speech_dial_asks_when_unsure(daytime: Line) -> None:
    call = await daytime.call("put me through to housing", "yes", "!dial completed")
    assert "Did you want" in heard(call) and "Say yes or press 1" in heard(call)
    assert len(call.dials) == 1


async def test_out_of_hours_says_when_lines_open_and_what_to_do_now(night: Line) -> None:
    call = await night.call("I need to talk to someone about my council tax bill", "#0")
    said = heard(call)
    assert "lines are closed at the moment and open at 8am on Monday" in said
    assert "text this number" in said and "lancaster dot gov dot uk" in said
    assert "Council Tax" in said
    assert call.dials == []  # nobody to put them through to at 3 a.m. on a Saturday
    assert "opens at 8am on Monday" in call.said[-2] or "opens at 8am on Monday" in said


async def test_telecare_at_3am_reaches_the_24x7_line(night: Line) -> None:
    call = await night.call("my mums pendant alarm keeps going off", "yes", "!dial completed")
    assert "24 hours a day" in heard(call)
    assert call.dials == ["+441632960300"]
    assert night.record(call).first_service == "telecare_alarms"


async def test_telecare_at_3am_by_keypad_goes_straight_through(night: Line) -> None:
    call = await night.call("#5", "#3", "#1", "!dial completed")
    assert call.dials == ["+441632960300"], "\n".join(call.transcript)


async def test_emergency_says_999_and_frees_the_line(daytime: Line) -> None:
    call = await daytime.call("help my neighbours house is on fire")
    assert call.ended_by == "bridge"
    assert sum("hang up and dial 999" in s for s in call.said) == 2
    assert call.dials == []
    record = daytime.record(call)
    assert record.emergency


async def test_goodbye_ends_the_call(daytime: Line) -> None:
    call = await daytime.call("when is my bin collected", "no thanks that's all")
    assert call.ended_by == "bridge" and "Goodbye" in call.said[-1]


async def test_empty_speech_three_times_after_a_question(daytime: Line) -> None:
    call = await daytime.call("when is my bin collected", "", "", "", "!dial completed")
    assert sum("didn't hear anything" in s for s in call.said) == 3
    assert call.dials == ["+441632960000"]


async def test_a_5000_character_speech_result(daytime: Line) -> None:
    speech = ("I have been trying to sort out my council tax bill because it went to the wrong address " * 60)[:5000]
    async with aiohttp.ClientSession() as session:
        url = daytime.bridge.url + "/voice/turn"
        params = {"CallSid": "CA" + "5" * 32, "From": CALLER, "SpeechResult": speech, "Confidence": "0.4"}
        async with session.post(url, data=params, headers=signed_headers(TOKEN, url, params)) as response:
            assert response.status == 200
            said = " ".join(" ".join(s.itertext()) for s in ET.fromstring(await response.text()).iter("Say"))
    assert "Council Tax" in said


async def test_forged_signature_gets_403(daytime: Line) -> None:
    result = await run_call(daytime.bridge.url, ["council tax"], auth_token="someone-elses-token")
    assert result.ended_by == "error" and any("403" in e for e in result.errors)
    assert daytime.bridge.log.calls_between(datetime(2000, 1, 1, tzinfo=LONDON),
                                            datetime(2100, 1, 1, tzinfo=LONDON)) == []


async def test_bot_down_in_the_middle_of_a_call(daytime: Line, tmp_path: Path) -> None:
    from tests.conftest import free_port

    async with running_bridge(settings(f"http://127.0.0.1:{free_port()}", tmp_path / "down")) as bridge:
        steps = ["how do i pay my council tax", "#1", "#1", "!dial completed"]
        result = await run_call(bridge.url, steps, auth_token=TOKEN)
    assert "having trouble" in " ".join(result.said) and result.dials == ["+441632960101"]


async def _text(line: Line, body: str) -> list[str]:
    async with aiohttp.ClientSession() as session:
        url = line.bridge.url + "/sms/incoming"
        params = {"MessageSid": "SM" + "1" * 32, "From": CALLER, "To": "+441632960000", "Body": body}
        async with session.post(url, data=params, headers=signed_headers(TOKEN, url, params)) as response:
            assert response.status == 200
            return [m.text or "" for m in ET.fromstring(await response.text()).iter("Message")]


async def test_sms_runs_the_same_bot_as_one_conversation_per_number(daytime: Line) -> None:
    asked = await _text(daytime, "I got a parking fine")
    assert asked and "Reply 1 for on a street or road, or 2 for in a council car park." in asked[-1]
    answered = " ".join(await _text(daytime, "In a council car park"))  # the same sender: the same conversation
    assert "Lancaster City Council" in answered and "https://" in answered  # written, not spoken, addresses
    person = " ".join(await _text(daytime, "can I speak to a real person"))
    assert "01632 960" in person and "put you through" not in person


async def test_the_report_counts_the_calls(daytime: Line) -> None:
    contained = await daytime.call("when is my bin collected")
    transferred = await daytime.call("#0", "!dial completed")
    moment = datetime.fromisoformat(WEEKDAY_OPEN).replace(tzinfo=LONDON)
    levels = service_levels(daytime.bridge.log, moment - timedelta(hours=1), moment + timedelta(hours=1))
    assert levels.calls == 2 and levels.transferred == 1 and levels.contained == 1
    assert daytime.record(contained).first_service == "bins_recycling"
    assert daytime.record(transferred).transferred


async def test_a_complaint_by_phone_is_handed_off_with_a_spoken_reference(daytime: Line) -> None:
    call = await daytime.call("I want to make a formal complaint about the council", "no thanks")
    said = heard(call)
    assert "Your reference is L A N, " in said and " for " in said
    assert daytime.record(call).handed_off


ROUTABLE = sorted(service.id for service in default_catalogue().services.values() if service.routable)


async def test_speech_alone_reaches_every_council_service(daytime: Line) -> None:
    """A caller who cannot use a keypad names what they want, as the
    greeting invites ("say the name of the department"): each council
    service is reached, routed by the bot or put through by the directory."""
    missed = {}
    for service_id in ROUTABLE:
        service = default_catalogue().service(service_id)
        call = await daytime.call(service.name.lower(), "!dial completed", "goodbye")
        record = daytime.record(call)
        through = service.phone and f"+44{service.phone.replace(' ', '')[1:]}" in call.dials
        if record.first_service != service_id and not through:
            missed[service_id] = (service.name, record.first_service, call.dials)
    assert missed == {}
