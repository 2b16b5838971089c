"""The bridge as Twilio sees it, without the trained model: signatures,
every route, and what the caller hears when the bot is down, slow or talks
nonsense, or the call log's database fails. Nothing here may ever answer
Twilio with a 5xx or leave the caller in silence."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from devtools.simulator import run_call, signed_headers
from telephony_bridge.app import init_app
from tests.bridge_harness import CALLER, TOKEN, Bridge, running_bridge, settings
from tests.conftest import WEEKDAY_OPEN, free_port

pytestmark = pytest.mark.usefixtures("weekday_open")

CALL_SID = "CA" + "0" * 32
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def twilio_fields(**extra: str) -> dict[str, str]:
    return {"CallSid": CALL_SID, "AccountSid": "AC" + "1" * 32, "From": CALLER, "To": "+441632960000",
            "CallStatus": "in-progress", "Direction": "inbound", **extra}


async def post_signed(bridge: Bridge, path: str, params: dict[str, str], *, token: str = TOKEN,
                      sign_url: str | None = None, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, str]:
    """POST as Twilio would: signed with `token` over `sign_url` (default the
    URL posted to). `headers` replaces the signature when given."""
    url = bridge.url + path
    signature = signed_headers(token, sign_url or url, params) if headers is None else headers
    data = body if body is not None else aiohttp.FormData(params)
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=data, headers={**signature, **({"Content-Type": FORM} if body else {})}
                                ) as response:
            return response.status, await response.text()


def says(xml: str) -> str:
    return " ".join(" ".join(el.itertext()) for el in ET.fromstring(xml).iter("Say"))


# --- fake bots: the faults a real Rasa server can have ---------------------------

async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.json_response([{"text": "too late"}])


async def _garbage(request: web.Request) -> web.Response:
    return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")


async def _failing(request: web.Request) -> web.Response:
    return web.Response(status=500, text="Traceback (most recent call last): ...")


@asynccontextmanager
async def fake_bot(handler: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", handler)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def down_bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    """A bridge whose bot is not running at all (nothing listens on its port)."""
    async with running_bridge(settings(f"http://127.0.0.1:{free_port()}", tmp_path)) as bridge:
        yield bridge


# --- signatures ----------------------------------------------------------------

async def test_a_signed_call_is_answered(down_bridge: Bridge) -> None:
    status, body = await post_signed(down_bridge, "/voice/incoming", twilio_fields(CallStatus="ringing"))
    assert status == 200
    assert "Lancaster City Council and Lancashire County Council" in says(body)


@pytest.mark.parametrize(
    "forgery",
    ["missing", "wrong token", "other params", "other url", "garbage"],
)
async def test_forged_signatures_are_refused(down_bridge: Bridge, forgery: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    params = twilio_fields(SpeechResult="my card number is 4111 1111 1111 1111")
    kwargs: dict = {
        "missing": {"headers": {}},
        "wrong token": {"token": "not-the-token"},
        "other url": {"sign_url": down_bridge.url + "/voice/turn?menu=1"},
        "garbage": {"headers": {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}},
        "other params": {},
    }[forgery]
    if forgery == "other params":
        url = down_bridge.url + "/voice/turn"
        kwargs = {"headers": signed_headers(TOKEN, url, {**params, "SpeechResult": "hello"})}
    status, body = await post_signed(down_bridge, "/voice/turn", params, **kwargs)
    assert status == 403 and "<Response" not in body
    logged = caplog.text
    assert "4111" not in logged and CALLER not in logged  # refused requests are logged without their body
    assert "signature" in logged


async def test_signatures_are_checked_against_the_public_url_behind_a_proxy(tmp_path: Path) -> None:
    public = "https://calls.council.example"
    config = settings(f"http://127.0.0.1:{free_port()}", tmp_path, public_base_url=public)
    async with running_bridge(config) as bridge:
        params = twilio_fields(CallStatus="ringing")
        ok, _ = await post_signed(bridge, "/voice/turn?menu=1&silence=1", params,
                                  sign_url=public + "/voice/turn?menu=1&silence=1")
        local, _ = await post_signed(bridge, "/voice/turn?menu=1&silence=1", params)
        other_query, _ = await post_signed(bridge, "/voice/turn?menu=1&silence=1", params,
                                           sign_url=public + "/voice/turn?menu=2")
    assert (ok, local, other_query) == (200, 403, 403)


async def test_only_post_and_health_are_served(down_bridge: Bridge) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(down_bridge.url + "/voice/incoming") as response:
            assert response.status == 405
        async with session.get(down_bridge.url + "/healthz") as response:
            assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_every_twilio_route_answers_with_twiml(down_bridge: Bridge) -> None:
    for path, extra in [
        ("/voice/incoming", {}), ("/voice/turn", {"Digits": "1"}), ("/voice/no-input", {}),
        ("/voice/dial-result?transfer=1&service=council_tax", {"DialCallStatus": "busy"}),
        ("/voice/dial-status?transfer=1", {"CallStatus": "ringing", "ParentCallSid": CALL_SID}),
        ("/voice/status", {"CallStatus": "completed", "CallDuration": "42"}),
        ("/sms/incoming", {"Body": "hello", "MessageSid": "SM" + "2" * 32}),
    ]:
        status, body = await post_signed(down_bridge, path, twilio_fields(**extra))
        assert status == 200, path
        assert ET.fromstring(body).tag == "Response", path


# --- never dead air ---------------------------------------------------------------

async def _call(bridge: Bridge, lines: list[str]) -> object:
    return await run_call(bridge.url, lines, auth_token=TOKEN)


async def test_bot_down_gives_an_apology_and_the_keypad_still_works(down_bridge: Bridge) -> None:
    call = await _call(down_bridge, ["how do I pay my council tax", "#1", "#1", "!dial completed"])
    said = " ".join(call.said)  # type: ignore[attr-defined]
    assert "having trouble understanding" in said and "dial 999" in said
    assert "For council tax and benefits, press 1" in said
    assert "Lancaster City Council deals with Council Tax" in said
    assert call.dials == ["+441632960101"]  # type: ignore[attr-defined]
    assert call.errors == []  # type: ignore[attr-defined]
    (record,) = down_bridge.log.calls_between(*_today())
    assert record.transferred and record.first_service == "council_tax"


async def test_bot_down_and_zero_reaches_the_contact_centre(down_bridge: Bridge) -> None:
    call = await _call(down_bridge, ["#0"])
    assert call.dials == ["+441632960000"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("bot", [_slow, _garbage, _failing], ids=["slow", "garbage", "http-500"])
async def test_a_bot_that_is_slow_or_talks_garbage_is_not_passed_on(
    bot: Callable[[web.Request], Awaitable[web.Response]], tmp_path: Path
) -> None:
    async with fake_bot(bot) as url, running_bridge(settings(url, tmp_path, bot_timeout_s=0.5)) as bridge:
        loop = asyncio.get_running_loop()
        started = loop.time()
        call = await _call(bridge, ["I want to pay my council tax"])
        took = loop.time() - started
    said = " ".join(call.said)  # type: ignore[attr-defined]
    assert "having trouble understanding" in said and "press 1" in said
    assert "too late" not in said and "Traceback" not in said and "502" not in said
    assert took < 4  # the 0.5 s budget was kept: the 5 s bot was not waited for
    assert call.errors == []  # type: ignore[attr-defined]


async def test_silence_from_the_start_reads_the_menu_then_says_goodbye(down_bridge: Bridge) -> None:
    """An open line or a robocall: nobody to put through to staff."""
    call = await _call(down_bridge, ["", "", ""])
    said = call.said  # type: ignore[attr-defined]
    assert sum("didn't hear anything" in s for s in said) == 3
    assert any("For council tax and benefits, press 1" in s for s in said)
    assert call.dials == [] and call.ended_by == "bridge"  # type: ignore[attr-defined]
    assert "If you need us, please call again" in said[-1] and "999" in said[-1]


async def test_a_caller_who_spoke_then_went_quiet_finds_a_person(down_bridge: Bridge) -> None:
    call = await _call(down_bridge, ["um hello", "", "", "", "!dial completed"])
    said = call.said  # type: ignore[attr-defined]
    assert sum("didn't hear anything" in s for s in said) == 3
    assert call.dials == ["+441632960000"]  # type: ignore[attr-defined]


async def test_silence_at_night_ends_politely(down_bridge: Bridge, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NOW", "2026-11-14T03:00:00")
    call = await _call(down_bridge, ["hello", "", "", ""])
    assert call.ended_by == "bridge" and call.dials == []  # type: ignore[attr-defined]
    assert "opens at 8am on Monday" in call.said[-2]  # type: ignore[attr-defined]
    assert call.said[-1] == "Thank you for calling. Goodbye."  # type: ignore[attr-defined]


async def test_unknown_keys_and_star_and_hash(down_bridge: Bridge) -> None:
    call = await _call(down_bridge, ["#9", "#4", "#*", "##"])
    said = call.said[3:]  # type: ignore[attr-defined]  # after the greeting's three sentences
    assert said[0] == "Sorry, that key isn't one of the options."
    assert "For council tax and benefits, press 1" in said[1]
    assert "For roads, pavements and potholes, press 1" in said[2]
    assert "For roads, pavements and potholes, press 1" in said[3]  # star repeats the menu it is in
    assert "For council tax and benefits, press 1" in said[4]  # hash goes back to the main menu


async def test_the_call_log_keeps_what_was_heard_and_menu_keys_only(down_bridge: Bridge) -> None:
    call = await _call(down_bridge, ["my card is 4111 1111 1111 1111", "#9", "#4", "#2"])
    turns = [event for event in down_bridge.log.events(call.call_sid)  # type: ignore[attr-defined]
             if event.kind in ("dtmf", "speech")]
    assert [event.keys_pressed for event in turns] == [None, None, "4", "2"]  # 9 is no option: not kept
    assert "having trouble understanding" in turns[0].heard
    assert turns[1].heard.startswith("Sorry, that key isn't one of the options.")
    assert "For roads, pavements and potholes, press 1" in turns[2].heard
    assert turns[3].service == "street_lighting" and "Lancashire County Council" in turns[3].heard
    assert all("4111" not in (event.heard or "") for event in turns)  # the caller's words are never kept


async def test_a_call_log_that_fails_does_not_fail_the_call(tmp_path: Path) -> None:
    class BrokenLog:
        def __getattr__(self, name: str) -> Callable[..., None]:
            def fail(*args: object) -> None:
                raise RuntimeError("database is locked")
            return fail

    config = settings(f"http://127.0.0.1:{free_port()}", tmp_path)
    app = init_app(config, call_log=BrokenLog())  # type: ignore[arg-type]
    async with running_bridge(config, app) as bridge:
        call = await _call(bridge, ["#1", "#1", "!dial no-answer", "!dial busy"])
    assert call.errors == []  # type: ignore[attr-defined]
    assert call.dials == ["+441632960101", "+441632960000"]  # type: ignore[attr-defined]


async def test_nobody_answering_falls_back_to_the_contact_centre_then_offers_more(down_bridge: Bridge) -> None:
    call = await _call(down_bridge, ["#1", "#1", "!dial no-answer", "!dial no-answer"])
    said = " ".join(call.said)  # type: ignore[attr-defined]
    assert call.dials == ["+441632960101", "+441632960000"]  # type: ignore[attr-defined]
    assert "nobody was able to answer" in said and "anything else" in said
    transfers = down_bridge.log.transfers_between(*_today())
    assert [t.dial_status for t in transfers] == ["no-answer", "no-answer"]


async def test_a_fault_in_a_handler_becomes_words_not_a_500(down_bridge: Bridge,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from telephony_bridge import voice

    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError("unexpected")

    monkeypatch.setattr(voice.CallFlow, "_keys", explode)
    status, body = await post_signed(down_bridge, "/voice/turn", twilio_fields(Digits="1"))
    assert status == 200
    assert "something went wrong" in says(body) and "press 1" in says(body)


async def test_huge_and_strange_input_gets_a_polite_answer(down_bridge: Bridge) -> None:
    status, body = await post_signed(down_bridge, "/voice/turn", twilio_fields(SpeechResult="council tax " * 455))
    assert status == 200 and says(body)
    latin1 = "CallSid=CA1&From=%2B447700900123&SpeechResult=caf%E9+au+lait".encode()
    params = {"CallSid": "CA1", "From": CALLER, "SpeechResult": "café au lait"}
    status, body = await post_signed(down_bridge, "/voice/turn", params, body=latin1)
    assert status == 200 and says(body)
    raw = b"CallSid=CA1&SpeechResult=\xff\xfe\x00"
    status, body = await post_signed(down_bridge, "/voice/turn", {"CallSid": "CA1", "SpeechResult": "\xff\xfe\x00"},
                                     body=raw)
    assert status == 200 and says(body)


async def test_sms_when_the_bot_is_down_gives_other_ways(down_bridge: Bridge) -> None:
    status, body = await post_signed(down_bridge, "/sms/incoming", twilio_fields(Body="missed bin"))
    messages = [m.text or "" for m in ET.fromstring(body).iter("Message")]
    assert status == 200 and len(messages) == 1
    assert "01632 960000" in messages[0] and "https://www.lancaster.gov.uk" in messages[0]
    status, body = await post_signed(down_bridge, "/sms/incoming", twilio_fields(Body="   "))
    assert "empty" in ET.fromstring(body).find("Message").text  # type: ignore[union-attr]


def _today() -> tuple:
    from datetime import datetime, timedelta

    from council.clock import LONDON
    moment = datetime.fromisoformat(WEEKDAY_OPEN).replace(tzinfo=LONDON)
    return moment - timedelta(days=1), moment + timedelta(days=1)


async def test_logs_hold_no_caller_number_and_nothing_said(down_bridge: Bridge,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    import json
    import logging

    from plumbing.logs import JsonFormatter

    caplog.set_level(logging.DEBUG)
    await _call(down_bridge, ["my card number is 4111 1111 1111 1111", "#1", "#1", "!dial busy", "!dial busy"])
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records if record.name.startswith("telephony_bridge")]
    logged = "\n".join(lines)
    assert lines and all(json.loads(line)["message"] for line in lines)
    assert "+44*******123" in logged and any('"call": "CA' in line for line in lines)
    assert CALLER not in logged and "4111" not in logged and "card number" not in logged


async def test_a_public_url_with_a_path_prefix(tmp_path: Path) -> None:
    """A proxy that serves the bridge under /phone and strips it on the way in."""
    public = "https://council.example/phone"
    async with running_bridge(settings(f"http://127.0.0.1:{free_port()}", tmp_path, public_base_url=public)) as bridge:
        status, _ = await post_signed(bridge, "/voice/incoming", twilio_fields(), sign_url=public + "/voice/incoming")
    assert status == 200


# --- the bot's question between two options ---------------------------------------

QUESTION = {"text": "Is that about a pothole in a road, or a broken or uneven pavement?",
            "buttons": [{"title": "A pothole in a road", "payload": '/roads_highways{"topic":"pothole"}'},
                        {"title": "A broken or uneven pavement",
                         "payload": '/roads_highways{"topic":"pavement_problem"}'}]}
CLARIFY = {"custom": {"council": {"event": "clarify", "options": ["pothole", "pavement_problem"]}}}


@asynccontextmanager
async def asking_bot() -> AsyncIterator[tuple[str, list[dict]]]:
    """A bot that asks its question first, then routes whatever it is told;
    it keeps what it was sent."""
    received: list[dict] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        if len(received) == 1:
            return web.json_response([QUESTION, CLARIFY])
        return web.json_response([{"text": "Potholes are repaired by Lancashire County Council."},
                                  {"custom": {"council": {"event": "route", "service": "roads_highways",
                                                          "authority": "county", "topic": "pothole"}}}])

    async with fake_bot(handler) as url:
        yield url, received


async def test_keys_one_and_two_answer_the_question_not_the_menu(tmp_path: Path) -> None:
    async with asking_bot() as (url, received), running_bridge(settings(url, tmp_path)) as bridge:
        call = await _call(bridge, ["there's a hole by the kerb on my road", "#2"])
    said = " ".join(call.said)  # type: ignore[attr-defined]
    assert "Is that about a pothole in a road, or a broken or uneven pavement?" in said
    assert "Potholes are repaired by Lancashire County Council." in said
    assert "For council tax and benefits, press 1" not in said  # 2 was the answer, not the menu's option 2
    assert received[1]["message"] == "2" and received[1]["metadata"]["keys"] == "2"
    turns = [e for e in bridge.log.events(call.call_sid) if e.kind == "dtmf"]  # type: ignore[attr-defined]
    assert [e.keys_pressed for e in turns] == ["2"]  # an answer the bridge offered: kept


async def test_a_text_gets_the_question_with_numbered_replies(tmp_path: Path) -> None:
    async with asking_bot() as (url, _), running_bridge(settings(url, tmp_path)) as bridge:
        status, body = await post_signed(bridge, "/sms/incoming",
                                         twilio_fields(Body="hole by the kerb", MessageSid="SM" + "3" * 32))
    assert status == 200
    text = " ".join(ET.fromstring(body).itertext())
    assert "Reply 1 for a pothole in a road, or 2 for a broken or uneven pavement." in text
