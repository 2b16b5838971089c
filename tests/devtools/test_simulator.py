"""The call simulator against small fake bridges: what it sends, how it signs,
and how it acts out TwiML the way Twilio does."""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from twilio.request_validator import RequestValidator

from devtools.simulator import CallResult, ScriptError, main, parse_line, run_call, signed_headers
from tests.conftest import free_port

TOKEN = "test-token-for-the-simulator"
PUBLIC = "https://council-bridge.example.org"

Reply = Callable[[dict[str, str]], "str | web.Response"]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]  # the Twilio fields, from the body (POST) or the query (GET)
    signature_valid: bool
    content_type: str


class FakeBridge:
    """An aiohttp app answering each path with TwiML built from the fields
    Twilio sent, recording every request and whether its signature holds."""

    def __init__(self, routes: dict[str, Reply], public_url: str | None = None) -> None:
        self.routes = {"/voice/status": lambda form: "<Response/>", **routes}
        self.public_url = public_url
        self.seen: list[Seen] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = dict(await request.post()) if request.method == "POST" else {}
        origin = self.public_url or str(request.url.origin())
        signature = request.headers.get("X-Twilio-Signature", "")
        valid = RequestValidator(TOKEN).validate(origin + request.path_qs, body, signature)
        form = {**dict(request.query), **body} if request.method == "GET" else body
        self.seen.append(Seen(request.method, request.path, dict(request.query), form, valid,
                              request.headers.get("Content-Type", "")))
        reply = self.routes.get(request.path)
        if reply is None:
            return web.Response(status=404)
        answer = reply(form)
        if isinstance(answer, web.Response):
            return answer
        return web.Response(text=answer, content_type="text/xml")

    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]

    def at(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[FakeBridge], "asyncio.Future[str]"]]:
    servers: list[TestServer] = []

    async def start(bridge: FakeBridge) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", bridge.handle)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


async def call(base: str, lines: list[str], **kwargs: object) -> CallResult:
    async with aiohttp.ClientSession() as session:
        return await run_call(base, lines, auth_token=TOKEN, session=session, **kwargs)  # type: ignore[arg-type]


def twiml(*verbs: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><Response>' + "".join(verbs) + "</Response>"


# ---------------------------------------------------------------- signatures


async def test_signatures_pass_twilios_own_validator(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml('<Gather input="speech" action="/voice/turn?step=1&amp;lang=en">'
                                           '<Say>Hi</Say></Gather>'),
        "/voice/turn": lambda f: twiml('<Gather input="dtmf" method="GET" action="/voice/keys?x=1"/>'),
        "/voice/keys": lambda f: twiml("<Hangup/>"),
    })
    base = await serve(bridge)
    result = await call(base, ["bins please", "#42"])
    assert bridge.paths() == ["/voice/incoming", "/voice/turn", "/voice/keys", "/voice/status"]
    assert all(seen.signature_valid for seen in bridge.seen), bridge.seen
    assert bridge.at("/voice/turn")[0].query == {"step": "1", "lang": "en"}
    keys = bridge.at("/voice/keys")[0]
    assert keys.method == "GET" and keys.form["Digits"] == "42" and keys.form["x"] == "1"
    assert result.errors == []


async def test_signatures_are_for_the_public_url_behind_a_proxy(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml(f'<Redirect>{PUBLIC}/voice/next?n=2</Redirect>'),
        "/voice/next": lambda f: twiml("<Say>Goodbye</Say>"),
    }, public_url=PUBLIC)
    base = await serve(bridge)
    result = await call(base, [], public_base_url=PUBLIC)
    # An absolute public URL in the TwiML still reaches the bridge's own address.
    assert bridge.paths() == ["/voice/incoming", "/voice/next", "/voice/status"]
    assert all(seen.signature_valid for seen in bridge.seen)
    assert result.said == ["Goodbye"]

    # Signed for the local address, the same requests fail a check against the public one.
    unproxied = FakeBridge({"/voice/incoming": lambda f: twiml("<Hangup/>")}, public_url=PUBLIC)
    await call(await serve(unproxied), [])
    assert not any(seen.signature_valid for seen in unproxied.seen)


def test_signed_headers_match_the_twilio_library() -> None:
    params = {"CallSid": "CA" + "0" * 32, "Digits": "1", "FromCity": ""}
    url = "https://example.org/voice/gather?step=2"
    header = signed_headers(TOKEN, url, params)["X-Twilio-Signature"]
    assert RequestValidator(TOKEN).validate(url, params, header)
    assert not RequestValidator(TOKEN).validate(url, {**params, "Digits": "2"}, header)


# ---------------------------------------------------------------- what Twilio sends


async def test_first_request_looks_like_twilios(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml('<Gather input="speech" action="/voice/turn"/>'),
        "/voice/turn": lambda f: twiml("<Hangup/>"),
    })
    result = await call(await serve(bridge), ["hello"], caller="+447700900456")
    first, turn = bridge.seen[0], bridge.seen[1]
    assert first.method == "POST"
    assert first.content_type == "application/x-www-form-urlencoded; charset=utf-8"
    assert re.fullmatch(r"AC[0-9a-f]{32}", first.form["AccountSid"])
    assert re.fullmatch(r"CA[0-9a-f]{32}", first.form["CallSid"]) and first.form["CallSid"] == result.call_sid
    assert first.form["ApiVersion"] == "2010-04-01"
    assert first.form["CallStatus"] == "ringing"
    assert first.form["Direction"] == "inbound"
    assert first.form["From"] == first.form["Caller"] == "+447700900456"
    assert first.form["To"] == first.form["Called"] == "+441632960000"
    assert first.form["FromCountry"] == "GB"
    assert first.form["FromCity"] == ""  # sent empty, and signed
    assert turn.form["CallStatus"] == "in-progress"
    assert turn.form["CallSid"] == result.call_sid and turn.form["AccountSid"] == first.form["AccountSid"]


async def test_each_call_has_its_own_sid(serve) -> None:
    bridge = FakeBridge({"/voice/incoming": lambda f: twiml("<Hangup/>")})
    base = await serve(bridge)
    first, second = await call(base, []), await call(base, [])
    assert first.call_sid != second.call_sid


# ---------------------------------------------------------------- Gather and Redirect


def two_turn_bridge() -> FakeBridge:
    def turn(form: dict[str, str]) -> str:
        if "SpeechResult" in form:
            return twiml(f"<Say>You said {form['SpeechResult']}.</Say>", "<Redirect>menu</Redirect>")
        return twiml(f"<Say>You pressed {form.get('Digits')}.</Say>", "<Hangup/>", "<Say>never said</Say>")

    return FakeBridge({
        "/voice/incoming": lambda f: twiml(
            "<Say>Welcome to   the council.</Say>",
            '<Gather input="speech dtmf" action="turn"><Say>How can I help?</Say></Gather>',
        ),
        "/voice/turn": turn,
        "/voice/menu": lambda f: twiml(
            '<Gather input="dtmf speech" action="/voice/turn" numDigits="1"><Say>Press 1 for bins.</Say></Gather>'
        ),
    })


async def test_speech_and_digits_reach_the_action(serve) -> None:
    bridge = two_turn_bridge()
    script = ["; a comment is skipped", "!confidence 0.4", "my bin was   missed", "#12"]
    result = await call(await serve(bridge), script)
    assert bridge.paths() == ["/voice/incoming", "/voice/turn", "/voice/menu", "/voice/turn", "/voice/status"]
    speech, digits = bridge.at("/voice/turn")
    assert speech.form["SpeechResult"] == "my bin was missed" and speech.form["Confidence"] == "0.4"
    assert "Digits" not in speech.form
    assert digits.form["Digits"] == "1"  # numDigits="1" stops after one key
    assert "SpeechResult" not in digits.form
    assert result.transcript == [
        "bot: Welcome to the council.",
        "bot: How can I help?",
        "you: my bin was missed",
        "bot: You said my bin was missed.",
        "bot: Press 1 for bins.",
        "keys: 12",
        "bot: You pressed 1.",
        "hangup: bridge",
    ]
    assert result.ended_by == "bridge" and result.errors == []
    assert result.said[-1] == "You pressed 1."


async def test_confidence_applies_to_the_next_speech_only(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml('<Gather input="speech" action="/voice/a"/>'),
        "/voice/a": lambda f: twiml('<Gather input="speech" action="/voice/b"/>'),
        "/voice/b": lambda f: twiml("<Hangup/>"),
    })
    await call(await serve(bridge), ["!confidence 0.3", "first", "second"])
    assert bridge.at("/voice/a")[0].form["Confidence"] == "0.3"
    assert bridge.at("/voice/b")[0].form["Confidence"] == "0.92"


async def test_silence_goes_on_to_the_verb_after_gather(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml(
            '<Gather input="speech" action="/voice/turn"><Say>Go on.</Say></Gather>',
            "<Say>We did not hear you.</Say>",
        ),
    })
    result = await call(await serve(bridge), ["..."])
    assert bridge.paths() == ["/voice/incoming", "/voice/status"]
    assert result.transcript == ["bot: Go on.", "silence", "bot: We did not hear you.", "hangup: bridge"]


async def test_action_on_empty_result_posts_without_input(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml('<Gather input="speech" actionOnEmptyResult="true" action="/voice/turn"/>',
                                           "<Say>not reached</Say>"),
        "/voice/turn": lambda f: twiml("<Say>Still there?</Say>"),
    })
    result = await call(await serve(bridge), [""])
    turn = bridge.at("/voice/turn")[0]
    assert "SpeechResult" not in turn.form and "Digits" not in turn.form
    assert result.said == ["Still there?"]


async def test_gather_without_action_posts_to_its_own_document(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml("<Redirect>/voice/ask?turn=1</Redirect>"),
        "/voice/ask": lambda f: twiml("<Hangup/>") if "Digits" in f else twiml("<Gather/>"),
    })
    await call(await serve(bridge), ["#7"])
    asks = bridge.at("/voice/ask")
    assert len(asks) == 2 and asks[1].query == {"turn": "1"} and asks[1].form["Digits"] == "7"


async def test_finish_key_ends_the_digits(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml('<Gather action="/voice/a"/>'),
        "/voice/a": lambda f: twiml('<Gather finishOnKey="" action="/voice/b"/>'),
        "/voice/b": lambda f: twiml("<Hangup/>"),
    })
    await call(await serve(bridge), ["#12#3", "#45#"])
    assert bridge.at("/voice/a")[0].form["Digits"] == "12"  # "#" ends input and is not sent
    assert bridge.at("/voice/b")[0].form["Digits"] == "45#"  # unless finishOnKey is empty


async def test_speech_is_unheard_by_a_keys_only_gather(serve) -> None:
    # Twilio's <Gather> listens for keys only unless input says otherwise.
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml('<Gather action="/voice/turn"/>', "<Say>Nothing heard.</Say>"),
    })
    result = await call(await serve(bridge), ["council tax"])
    assert bridge.paths() == ["/voice/incoming", "/voice/status"]
    assert result.transcript[0] == "you: council tax"
    assert result.transcript[1].startswith("unheard:")
    assert result.said == ["Nothing heard."]


async def test_caller_hangs_up_when_lines_run_out(serve) -> None:
    bridge = FakeBridge({"/voice/incoming": lambda f: twiml('<Gather input="speech" action="/voice/turn"/>')})
    result = await call(await serve(bridge), [])
    assert result.ended_by == "caller"
    assert result.transcript == ["hangup: caller"]
    assert bridge.paths() == ["/voice/incoming", "/voice/status"]


async def test_async_lines_and_hangup_directive(serve) -> None:
    async def lines() -> AsyncIterator[str]:
        yield "!hangup"
        yield "never read as input"

    bridge = FakeBridge({"/voice/incoming": lambda f: twiml('<Gather input="speech" action="/voice/turn"/>')})
    async with aiohttp.ClientSession() as session:
        result = await run_call(await serve(bridge), lines(), auth_token=TOKEN, session=session)
    assert result.ended_by == "caller" and "/voice/turn" not in bridge.paths()


# ---------------------------------------------------------------- Dial


def dial_bridge() -> FakeBridge:
    number = ('<Number statusCallback="/voice/leg" statusCallbackEvent="initiated ringing answered completed">'
              "+441632960101</Number>")
    return FakeBridge({
        "/voice/incoming": lambda f: twiml('<Gather input="speech" action="/voice/turn"/>'),
        "/voice/turn": lambda f: twiml(
            "<Say>Putting you through.</Say>",
            f'<Dial action="/voice/dialled" callerId="+441632960000">{number}</Dial>',
            "<Say>not reached: the action takes over</Say>",
        ),
        "/voice/leg": lambda f: web.Response(status=204),
        "/voice/dialled": lambda f: twiml(f"<Say>The line was {f['DialCallStatus']}.</Say>"),
    })


async def test_dial_no_answer_reports_progress_and_action(serve) -> None:
    bridge = dial_bridge()
    result = await call(await serve(bridge), ["a person please", "!dial no-answer"])
    legs = bridge.at("/voice/leg")
    assert [leg.form["CallStatus"] for leg in legs] == ["initiated", "ringing", "no-answer"]
    leg_sid = legs[0].form["CallSid"]
    assert re.fullmatch(r"CA[0-9a-f]{32}", leg_sid) and leg_sid != result.call_sid
    assert all(leg.form["ParentCallSid"] == result.call_sid and leg.form["CallSid"] == leg_sid for leg in legs)
    assert all(leg.form["To"] == "+441632960101" and leg.signature_valid for leg in legs)
    dialled = bridge.at("/voice/dialled")[0]
    assert dialled.form["DialCallStatus"] == "no-answer"
    assert dialled.form["DialCallSid"] == leg_sid
    assert dialled.form["DialCallDuration"] == "0"
    assert dialled.form["CallSid"] == result.call_sid
    assert "callerid: +441632960000" in result.transcript
    assert "dial: +441632960101 -> no-answer" in result.transcript
    assert result.dials == ["+441632960101"]
    assert result.said[-1] == "The line was no-answer."
    assert result.errors == []


async def test_dial_directive_before_the_words_also_counts(serve) -> None:
    bridge = dial_bridge()
    result = await call(await serve(bridge), ["!dial busy", "a person please"])
    assert [leg.form["CallStatus"] for leg in bridge.at("/voice/leg")] == ["initiated", "busy"]
    assert "dial: +441632960101 -> busy" in result.transcript


async def test_answered_dial_defaults_and_continues_without_action(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml(
            '<Dial><Number statusCallback="/voice/leg">+441632960102</Number></Dial>',
            "<Say>Thanks for calling.</Say>",
        ),
        "/voice/leg": lambda f: twiml(),
    })
    result = await call(await serve(bridge), [])
    legs = bridge.at("/voice/leg")
    # statusCallbackEvent defaults to "completed" alone
    assert [leg.form["CallStatus"] for leg in legs] == ["completed"] and legs[0].form["CallDuration"] == "30"
    assert result.transcript == ["dial: +441632960102 -> completed", "bot: Thanks for calling.", "hangup: bridge"]
    status = bridge.at("/voice/status")[0]
    assert int(status.form["CallDuration"]) >= 30  # the dialled half-minute counts as call time


async def test_dialling_a_national_number_fails_as_on_twilio(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml('<Dial action="/voice/dialled">01632 960101</Dial>'),
        "/voice/dialled": lambda f: twiml(f"<Say>{f['DialCallStatus']}</Say>"),
    })
    result = await call(await serve(bridge), [])
    assert bridge.at("/voice/dialled")[0].form["DialCallStatus"] == "failed"
    assert any("E.164" in error for error in result.errors)


# ---------------------------------------------------------------- how calls end


async def test_hangup_ends_and_status_callback_comes_last(serve) -> None:
    bridge = FakeBridge({"/voice/incoming": lambda f: twiml("<Say>Bye.</Say>", "<Hangup/>", "<Say>not said</Say>")})
    result = await call(await serve(bridge), ["unused"])
    assert result.transcript == ["bot: Bye.", "hangup: bridge"]
    assert bridge.paths()[-1] == "/voice/status"
    status = bridge.seen[-1]
    assert status.form["CallStatus"] == "completed" and status.form["CallSid"] == result.call_sid
    assert status.form["CallDuration"].isdigit() and status.signature_valid
    assert result.requests == 2


async def test_end_of_document_ends_the_call(serve) -> None:
    bridge = FakeBridge({"/voice/incoming": lambda f: twiml("<Say>Only this.</Say>")})
    result = await call(await serve(bridge), [])
    assert result.ended_by == "bridge" and result.transcript[-1] == "hangup: bridge"
    assert bridge.paths() == ["/voice/incoming", "/voice/status"]


async def test_status_callback_path_is_configurable(serve) -> None:
    bridge = FakeBridge({"/voice/incoming": lambda f: twiml(), "/calls/ended": lambda f: ""})
    await call(await serve(bridge), [], status_path="/calls/ended")
    assert bridge.paths() == ["/voice/incoming", "/calls/ended"]


async def test_reject_before_answer_is_busy(serve) -> None:
    bridge = FakeBridge({"/voice/incoming": lambda f: twiml('<Reject reason="busy"/>')})
    await call(await serve(bridge), [])
    status = bridge.at("/voice/status")[0]
    assert status.form["CallStatus"] == "busy" and status.form["CallDuration"] == "0"


async def test_server_error_ends_the_call(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml('<Gather input="speech" action="/voice/turn"/>', "<Say>x</Say>"),
        "/voice/turn": lambda f: web.Response(status=500, text="boom"),
    })
    result = await call(await serve(bridge), ["hello", "more"])
    assert result.ended_by == "error"
    assert result.transcript[-1].startswith("error: ") and "HTTP 500" in result.transcript[-1]
    assert bridge.paths()[-1] == "/voice/status"


@pytest.mark.parametrize("answer, why", [
    (lambda f: web.Response(text="<Response><Say>unclosed</Response>", content_type="text/xml"), "12100"),
    (lambda f: web.Response(text="<Reply/>", content_type="text/xml"), "12102"),
    (lambda f: web.Response(text="<Response/>", content_type="text/plain"), "12300"),
    (lambda f: twiml("<Speak>hi</Speak>"), "12200"),
])
async def test_invalid_twiml_ends_the_call(serve, answer: Reply, why: str) -> None:
    bridge = FakeBridge({"/voice/incoming": answer})
    result = await call(await serve(bridge), [])
    assert result.ended_by == "error" and len(result.errors) == 1 and why in result.errors[0]


async def test_redirect_loop_stops_at_max_requests(serve) -> None:
    bridge = FakeBridge({
        "/voice/incoming": lambda f: twiml("<Redirect>/voice/loop</Redirect>"),
        "/voice/loop": lambda f: twiml("<Redirect>/voice/loop</Redirect>"),
    })
    result = await call(await serve(bridge), [], max_requests=12)
    assert len(bridge.at("/voice/loop")) == 11
    assert result.ended_by == "error" and "12 requests" in result.errors[0]
    assert bridge.paths()[-1] == "/voice/status" and result.requests == 13


async def test_unreachable_bridge_is_an_error() -> None:
    result = await call(f"http://127.0.0.1:{free_port()}", [])  # nothing listens there
    assert result.ended_by == "error" and result.errors


# ---------------------------------------------------------------- caller lines


@pytest.mark.parametrize("line, parsed", [
    ("hello  there ", ("speech", "hello there")),
    ("#123", ("digits", "123")),
    ("", ("silence", "")),
    ("...", ("silence", "")),
    ("!hangup", ("hangup", "")),
])
def test_caller_lines(line: str, parsed: tuple[str, str]) -> None:
    result = parse_line(line)
    assert (result.kind, result.text) == parsed  # type: ignore[union-attr]


def test_comment_and_bad_directives() -> None:
    assert parse_line("; a note") is None
    for bad in ("!dial maybe", "!confidence 2", "!confidence x", "!dance"):
        with pytest.raises(ScriptError):
            parse_line(bad)


async def test_bad_script_line_ends_the_call(serve) -> None:
    bridge = FakeBridge({"/voice/incoming": lambda f: twiml('<Gather input="speech" action="/voice/turn"/>')})
    result = await call(await serve(bridge), ["!dial sideways"])
    assert result.ended_by == "error" and "!dial sideways" in result.errors[0]


async def test_transcript_is_written_to_out_as_it_happens(serve) -> None:
    out = io.StringIO()
    bridge = FakeBridge({"/voice/incoming": lambda f: twiml("<Say>Hello.</Say>", "<Pause length='2'/>")})
    result = await call(await serve(bridge), [], out=out)
    assert out.getvalue().splitlines() == result.transcript == ["bot: Hello.", "pause: 2s", "hangup: bridge"]


# ---------------------------------------------------------------- the command


async def test_cli_prints_the_transcript(serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bridge = two_turn_bridge()
    base = await serve(bridge)
    script = tmp_path / "call.txt"
    script.write_text("; bins\nmy bin was missed\n#3\n", encoding="utf-8")
    # main() runs its own event loop, so it runs in a thread while this one serves the bridge.
    code = await asyncio.to_thread(main, ["--url", base, "--script", str(script), "--token", TOKEN,
                                          "--from", "+447700900999"])
    printed = capsys.readouterr().out.splitlines()
    assert code == 0
    assert printed[:3] == ["bot: Welcome to the council.", "bot: How can I help?", "you: my bin was missed"]
    assert printed[-2:] == ["bot: You pressed 3.", "hangup: bridge"]
    assert bridge.seen[0].form["From"] == "+447700900999"
    assert all(seen.signature_valid for seen in bridge.seen)


async def test_cli_exits_1_on_errors(serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bridge = FakeBridge({"/voice/incoming": lambda f: web.Response(status=500)})
    base = await serve(bridge)
    script = tmp_path / "call.txt"
    script.write_text("hello\n", encoding="utf-8")
    code = await asyncio.to_thread(main, ["--url", base, "--script", str(script), "--token", TOKEN])
    assert code == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("error: ")


async def test_cli_wrong_token_is_refused_by_a_checking_bridge(serve, tmp_path: Path) -> None:
    def incoming(form: dict[str, str]) -> str | web.Response:
        return twiml("<Hangup/>") if bridge.seen[-1].signature_valid else web.Response(status=403)

    bridge = FakeBridge({"/voice/incoming": incoming})
    base = await serve(bridge)
    script = tmp_path / "call.txt"
    script.write_text("", encoding="utf-8")
    assert await asyncio.to_thread(main, ["--url", base, "--script", str(script), "--token", "wrong"]) == 1
    assert await asyncio.to_thread(main, ["--url", base, "--script", str(script), "--token", TOKEN]) == 0
