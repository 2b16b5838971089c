"""A call simulator: phones a running bridge exactly as Twilio would.

It sends Twilio's webhook requests (form fields, `X-Twilio-Signature`),
executes the TwiML that comes back verb by verb, takes the caller's side
from a script or the keyboard, and writes a transcript, one event a line:

    bot: <said text>      you: <speech>      keys: <digits>      silence
    play: <url>           pause: <n>s        skip: <Verb>        unheard: <why>
    callerid: <number>    dial: <number> -> <outcome>
    hangup: bridge        hangup: caller     error: <text>

Caller lines (script or keyboard): plain text is speech, `#123` presses keys,
an empty line or `...` is silence, `!dial busy|no-answer|failed|completed`
sets the outcome of the next <Dial>, `!confidence 0.4` the confidence of the
next speech, `!hangup` hangs up, and `;` starts a comment.

    python -m devtools call --script FILE [--url http://127.0.0.1:8080]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import AsyncIterator, Iterable, Iterator, TextIO
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp
from twilio.request_validator import RequestValidator

from plumbing.settings import DEVELOPMENT_TWILIO_TOKEN

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_CALLER = "+447700900123"
DEFAULT_CALLED = "+441632960000"
# The bridge accepts this token outside production (see telephony_bridge.settings),
# so a first simulated call works with nothing configured.
DEVELOPMENT_TOKEN = DEVELOPMENT_TWILIO_TOKEN
DEFAULT_CONFIDENCE = 0.92
DIAL_OUTCOMES = ("completed", "busy", "no-answer", "failed")
ANSWERED_DIAL_SECONDS = 30
TWILIO_TIMEOUT_S = 15.0  # Twilio gives up on a voice webhook after 15 s
TWIML_CONTENT_TYPES = {"text/xml", "application/xml", "text/html"}
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

# Verbs Twilio knows but this simulator does not act out: shown, then passed over.
UNSIMULATED_VERBS = {"Record", "Enqueue", "Leave", "Connect", "Refer", "Pay", "Prompt", "Start", "Stop", "Sms", "Echo"}
DIAL_NOUNS = {"Number", "Client", "Sip", "Conference", "Queue", "Application"}
GATHER_NESTABLE = {"Say", "Play", "Pause"}

# Call-progress events of a dialled leg for each outcome, as (event, CallStatus):
# only an answered leg reports "answered", and the terminal "completed" event
# carries the leg's final status.
PROGRESS_EVENTS: dict[str, list[tuple[str, str]]] = {
    "completed": [("initiated", "initiated"), ("ringing", "ringing"), ("answered", "in-progress"),
                  ("completed", "completed")],
    "no-answer": [("initiated", "initiated"), ("ringing", "ringing"), ("completed", "no-answer")],
    "busy": [("initiated", "initiated"), ("completed", "busy")],
    "failed": [("initiated", "initiated"), ("completed", "failed")],
}

COUNTRY_PREFIXES = (("+44", "GB"), ("+353", "IE"), ("+1", "US"))
# Twilio sends these geographic fields for every call, empty for UK numbers;
# they are signed like any other field, so a bridge must not drop blank values.
GEO_FIELDS = ("City", "State", "Zip")


@dataclass
class CallResult:
    call_sid: str
    transcript: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    dials: list[str] = field(default_factory=list)
    ended_by: str = ""  # "bridge" | "caller" | "error"
    errors: list[str] = field(default_factory=list)
    requests: int = 0


def signed_headers(auth_token: str, url: str, params: dict[str, str]) -> dict[str, str]:
    """The header Twilio adds to a request for `url` with form `params`
    (for a GET, pass the full URL with its query and no params)."""
    return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params)}


def new_sid(prefix: str) -> str:
    """A Twilio-shaped id: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def collapse(text: str) -> str:
    return " ".join(text.split())


def element_text(element: ET.Element) -> str:
    # itertext: a <Say> may hold SSML (<break/>, <emphasis>), whose words still count.
    return collapse("".join(element.itertext()))


def country_of(number: str) -> str:
    return next((country for prefix, country in COUNTRY_PREFIXES if number.startswith(prefix)), "")


def is_diallable(number: str) -> bool:
    """What Twilio will dial: E.164, or a bare US number. A UK national
    number such as '01632 960101' fails the dial."""
    digits = re.sub(r"[\s().-]", "", number)
    if digits.startswith("+"):
        return bool(re.fullmatch(r"\+[1-9]\d{6,14}", digits))
    return bool(re.fullmatch(r"1?[2-9]\d{9}", digits))


def twilio_timestamp() -> str:
    return format_datetime(datetime.now(timezone.utc))


# ---------------------------------------------------------------- the caller


class ScriptError(ValueError):
    """A caller line that is neither input nor a known directive."""


@dataclass(frozen=True)
class CallerInput:
    kind: str  # "speech" | "digits" | "silence" | "hangup"
    text: str = ""
    confidence: float = DEFAULT_CONFIDENCE


@dataclass(frozen=True)
class Directive:
    name: str  # "dial" | "confidence"
    value: str


def parse_line(raw: str) -> CallerInput | Directive | None:
    """One caller line; None for a comment."""
    line = raw.strip()
    if line.startswith(";"):
        return None
    if line in ("", "..."):
        return CallerInput("silence")
    if line.startswith("#"):
        keys = line[1:].replace(" ", "")
        return CallerInput("digits", keys) if keys else CallerInput("silence")
    if line.startswith("!"):
        return _parse_directive(line[1:].split())
    return CallerInput("speech", collapse(line))


def _parse_directive(words: list[str]) -> CallerInput | Directive:
    name, args = (words[0].lower(), words[1:]) if words else ("", [])
    if name == "hangup" and not args:
        return CallerInput("hangup")
    if name == "dial" and len(args) == 1 and args[0] in DIAL_OUTCOMES:
        return Directive("dial", args[0])
    if name == "confidence" and len(args) == 1:
        try:
            value = float(args[0])
        except ValueError:
            value = -1.0
        if 0.0 <= value <= 1.0:
            return Directive("confidence", args[0])
    raise ScriptError(
        f"not a caller line: !{' '.join(words)} (use !dial {'|'.join(DIAL_OUTCOMES)}, "
        "!confidence 0.0-1.0 or !hangup)"
    )


class _LineSource:
    """Caller lines from a list, an async iterator or the keyboard, with
    one line of look-ahead so directives can be read without taking input."""

    def __init__(self, lines: Iterable[str] | AsyncIterator[str] | None) -> None:
        self._pushed: list[str] = []
        self._sync: Iterator[str] | None = None
        self._async: AsyncIterator[str] | None = None
        # Only a person at a keyboard gets a prompt; looking ahead there would
        # stop the call to wait for them, so it is only done for scripts.
        self.interactive = lines is None and sys.stdin.isatty()
        if lines is not None and hasattr(lines, "__anext__"):
            self._async = lines  # type: ignore[assignment]
        elif lines is not None:
            self._sync = iter(lines)  # type: ignore[arg-type]

    async def next(self) -> str | None:
        if self._pushed:
            return self._pushed.pop()
        if self._async is not None:
            try:
                return await self._async.__anext__()
            except StopAsyncIteration:
                return None
        if self._sync is not None:
            return next(self._sync, None)
        return self._read_stdin()

    def push_back(self, line: str) -> None:
        self._pushed.append(line)

    def _read_stdin(self) -> str | None:
        # A blocking read on purpose: nothing else runs while the caller
        # thinks, and Ctrl-C then lands here (a thread would swallow it).
        try:
            if self.interactive:
                return input("you> ")
            line = sys.stdin.readline()
            return line if line else None
        except (EOFError, KeyboardInterrupt):
            return None


class _Caller:
    """Turns caller lines into inputs, applying directives as they are read."""

    def __init__(self, source: _LineSource, transcript: "_Transcript") -> None:
        self._source = source
        self._transcript = transcript
        # Outcomes for the coming <Dial>s in order: a fallback dial straight
        # after a failed one takes the next `!dial` line.
        self._dial_outcomes: list[str] = []
        self._confidence: float | None = None

    async def next_input(self) -> CallerInput:
        """The caller's next input; running out of lines is hanging up."""
        while True:
            raw = await self._source.next()
            if raw is None:
                return CallerInput("hangup")
            parsed = parse_line(raw)
            if isinstance(parsed, CallerInput):
                return self._take(parsed)
            if parsed is not None:
                self._apply(parsed)

    async def read_directives(self) -> None:
        """Apply the directive lines that come next in a script, so a
        `!dial` written just after the words that lead to a <Dial> counts."""
        if self._source.interactive:
            return
        while (raw := await self._source.next()) is not None:
            parsed = parse_line(raw)
            if isinstance(parsed, CallerInput):
                self._source.push_back(raw)
                return
            if parsed is not None:
                self._apply(parsed)

    def dial_outcome(self) -> str:
        return self._dial_outcomes.pop(0) if self._dial_outcomes else "completed"

    def _apply(self, directive: Directive) -> None:
        if directive.name == "dial":
            self._dial_outcomes.append(directive.value)
        else:
            self._confidence = float(directive.value)

    def _take(self, given: CallerInput) -> CallerInput:
        if given.kind == "speech":
            confidence = DEFAULT_CONFIDENCE if self._confidence is None else self._confidence
            self._confidence = None
            self._transcript.write(f"you: {given.text}")
            return CallerInput("speech", given.text, confidence)
        if given.kind == "digits":
            self._transcript.write(f"keys: {given.text}")
        elif given.kind == "silence":
            self._transcript.write("silence")
        return given


# ---------------------------------------------------------------- the call


class _Transcript:
    def __init__(self, result: CallResult, out: TextIO | None) -> None:
        self._result = result
        self._out = out

    def write(self, line: str) -> None:
        self._result.transcript.append(line)
        if self._out is not None:
            self._out.write(line + "\n")
            self._out.flush()

    def say(self, text: str) -> None:
        self._result.said.append(text)
        self.write(f"bot: {text}")

    def error(self, text: str) -> None:
        self._result.errors.append(text)
        self.write(f"error: {text}")


class _CallError(Exception):
    """Twilio would give up on the call: the message says why."""


class _CallOver(Exception):
    def __init__(self, by: str) -> None:
        super().__init__(by)
        self.by = by


@dataclass(frozen=True)
class _Document:
    url: str  # the public URL it was fetched from: relative URLs resolve against it
    verbs: list[ET.Element]


@dataclass(frozen=True)
class _Reply:
    status: int
    content_type: str
    body: bytes


class _Call:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        base_url: str,
        public_base_url: str | None,
        auth_token: str,
        caller: str,
        called: str,
        account_sid: str | None,
        status_path: str,
        max_requests: int,
        caller_side: _Caller,
        transcript: _Transcript,
        result: CallResult,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._public = (public_base_url or base_url).rstrip("/")
        self._token = auth_token
        self._caller_number = caller
        self._called_number = called
        self._account_sid = account_sid or new_sid("AC")
        self._status_path = status_path
        self._max_requests = max_requests
        self._caller = caller_side
        self._transcript = transcript
        self._result = result
        self._call_status = "ringing"  # until Twilio answers by running a verb
        self._started = time.monotonic()
        self._simulated_s = 0  # time spent on simulated dials counts as call time
        self._sequence = 0

    # ---- the call from start to end

    async def run(self) -> None:
        final_status = "completed"
        try:
            document = await self._fetch(self._public + "/voice/incoming", "POST", {})
            while True:
                document = await self._execute(document)
        except _CallOver as over:
            self._result.ended_by = over.by
            self._transcript.write(f"hangup: {over.by}")
            if self._call_status in ("busy", "no-answer"):
                final_status = self._call_status
        except _CallError as exc:
            self._result.ended_by = "error"
            self._transcript.error(str(exc))
        except ScriptError as exc:
            self._result.ended_by = "error"
            self._transcript.error(str(exc))
        await self._send_call_status(final_status)

    async def _execute(self, document: _Document) -> _Document:
        """Run a document's verbs; the next document, or _CallOver."""
        for verb in document.verbs:
            if verb.tag != "Reject":
                self._call_status = "in-progress"
            following = await self._run_verb(verb, document)
            if following is not None:
                return following
        raise _CallOver("bridge")  # Twilio hangs up at the end of a document

    async def _run_verb(self, verb: ET.Element, document: _Document) -> _Document | None:
        if verb.tag == "Say":
            self._say(verb)
        elif verb.tag in ("Play", "Pause"):
            self._marker(verb)
        elif verb.tag == "Gather":
            return await self._gather(verb, document)
        elif verb.tag == "Redirect":
            return await self._redirect(verb, document)
        elif verb.tag == "Dial":
            return await self._dial(verb, document)
        elif verb.tag == "Hangup":
            raise _CallOver("bridge")
        elif verb.tag == "Reject":
            self._reject(verb)
        elif verb.tag in UNSIMULATED_VERBS:
            self._transcript.write(f"skip: <{verb.tag}>")
        else:
            raise _CallError(f"<{verb.tag}> is not a TwiML voice verb in {document.url} (Twilio error 12200)")
        return None

    # ---- verbs

    def _say(self, verb: ET.Element) -> None:
        text = element_text(verb)
        if text:
            self._transcript.say(text)

    def _marker(self, verb: ET.Element) -> None:
        if verb.tag == "Play":
            self._transcript.write(f"play: {element_text(verb) or verb.get('digits', '')}")
        else:
            self._transcript.write(f"pause: {verb.get('length', '1')}s")

    def _reject(self, verb: ET.Element) -> None:
        # Rejected before answering, the call never connects: its status is
        # busy or no-answer. Once answered, <Reject> is just a hang-up.
        if self._call_status == "ringing":
            self._call_status = "busy" if verb.get("reason") == "busy" else "no-answer"
        raise _CallOver("bridge")

    async def _gather(self, verb: ET.Element, document: _Document) -> _Document | None:
        for nested in verb:
            if nested.tag == "Say":
                self._say(nested)
            elif nested.tag in GATHER_NESTABLE:
                self._marker(nested)
        given = await self._caller.next_input()
        if given.kind == "hangup":
            raise _CallOver("caller")
        params = self._heard(verb, given)
        if params is None:
            if verb.get("actionOnEmptyResult", "false").lower() != "true":
                return None  # no input: Twilio goes on to the verb after <Gather>
            params = {}
        action = urljoin(document.url, verb.get("action") or document.url)
        return await self._fetch(action, verb.get("method", "POST").upper(), params)

    def _heard(self, verb: ET.Element, given: CallerInput) -> dict[str, str] | None:
        """What Twilio sends for this input, or None when it heard nothing."""
        modes = verb.get("input", "dtmf").split()  # Twilio's default is keys only
        if given.kind == "speech":
            if "speech" not in modes:
                self._transcript.write("unheard: this <Gather> does not listen for speech (input=\"speech\")")
                return None
            return {"SpeechResult": given.text, "Confidence": str(given.confidence)}
        if given.kind == "digits":
            if "dtmf" not in modes:
                self._transcript.write("unheard: this <Gather> does not listen for keys (input=\"dtmf\")")
                return None
            digits = self._gathered_digits(verb, given.text)
            return {"Digits": digits} if digits else None
        return None

    @staticmethod
    def _gathered_digits(verb: ET.Element, keys: str) -> str:
        # Twilio stops at the finish key (not sent) or after numDigits keys.
        finish = verb.get("finishOnKey", "#")
        if finish and finish in keys:
            keys = keys[: keys.index(finish)]
        limit = verb.get("numDigits", "")
        return keys[: int(limit)] if limit.isdigit() and int(limit) > 0 else keys

    async def _redirect(self, verb: ET.Element, document: _Document) -> _Document:
        target = element_text(verb)
        if not target:
            raise _CallError(f"<Redirect> without a URL in {document.url}")
        return await self._fetch(urljoin(document.url, target), verb.get("method", "POST").upper(), {})

    async def _dial(self, verb: ET.Element, document: _Document) -> _Document | None:
        targets = self._dial_targets(verb)
        if not targets:
            raise _CallError(f"<Dial> with nothing to dial in {document.url}")
        await self._caller.read_directives()
        outcome = self._caller.dial_outcome()
        for number, noun in targets:
            if (noun is None or noun.tag == "Number") and not is_diallable(number):
                self._transcript.error(f"cannot dial {number!r}: not an E.164 number (Twilio error 13223)")
                outcome = "failed"
        caller_id = verb.get("callerId")
        if caller_id:
            self._transcript.write(f"callerid: {caller_id}")
        numbers = [number for number, _ in targets]
        self._result.dials.extend(numbers)
        self._transcript.write(f"dial: {', '.join(numbers)} -> {outcome}")
        duration = ANSWERED_DIAL_SECONDS if outcome == "completed" else 0
        legs = [(number, noun, new_sid("CA")) for number, noun in targets]
        for number, noun, leg_sid in legs:
            if noun is not None and noun.get("statusCallback"):
                await self._report_leg(noun, number, leg_sid, outcome, duration, caller_id, document)
        self._simulated_s += duration
        action = verb.get("action")
        if not action:
            return None  # Twilio goes on with the verb after <Dial>
        params = {"DialCallStatus": outcome, "DialCallSid": legs[0][2], "DialCallDuration": str(duration)}
        return await self._fetch(urljoin(document.url, action), verb.get("method", "POST").upper(), params)

    @staticmethod
    def _dial_targets(verb: ET.Element) -> list[tuple[str, ET.Element | None]]:
        nouns = [child for child in verb if child.tag in DIAL_NOUNS]
        if nouns:
            return [(element_text(noun), noun) for noun in nouns]
        text = collapse(verb.text or "")
        return [(text, None)] if text else []

    async def _report_leg(
        self,
        noun: ET.Element,
        number: str,
        leg_sid: str,
        outcome: str,
        duration: int,
        caller_id: str | None,
        document: _Document,
    ) -> None:
        """The dialled leg's call-progress callbacks, for the events asked for."""
        wanted = set(re.split(r"[\s,]+", noun.get("statusCallbackEvent", "completed").strip()))
        url = urljoin(document.url, noun.get("statusCallback", ""))
        method = noun.get("statusCallbackMethod", "POST").upper()
        sequence = 0
        for event, status in PROGRESS_EVENTS[outcome]:
            if event not in wanted:
                continue
            params = self._leg_params(number, leg_sid, status, caller_id, sequence)
            if event == "completed":
                params["CallDuration"] = str(duration)
            self._check_budget()
            await self._notify(url, method, params)
            sequence += 1

    # ---- requests

    def _call_params(self) -> dict[str, str]:
        params = {
            "AccountSid": self._account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self._result.call_sid,
            "CallStatus": self._call_status,
            "Direction": "inbound",
            "From": self._caller_number,
            "Caller": self._caller_number,
            "To": self._called_number,
            "Called": self._called_number,
        }
        for role, number in (("From", self._caller_number), ("Caller", self._caller_number),
                             ("To", self._called_number), ("Called", self._called_number)):
            params[f"{role}Country"] = country_of(number)
            params.update({f"{role}{geo}": "" for geo in GEO_FIELDS})
        return params

    def _leg_params(self, number: str, leg_sid: str, status: str, caller_id: str | None,
                    sequence: int) -> dict[str, str]:
        shown = caller_id or self._caller_number  # Twilio's default caller id is the caller's own
        return {
            "AccountSid": self._account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": leg_sid,
            "ParentCallSid": self._result.call_sid,
            "CallStatus": status,
            "Direction": "outbound-dial",
            "From": shown,
            "Caller": shown,
            "To": number,
            "Called": number,
            "Timestamp": twilio_timestamp(),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(sequence),
        }

    async def _send_call_status(self, status: str) -> None:
        """The number's status callback, which Twilio sends once the call is over."""
        answered = status == "completed"
        elapsed = int(time.monotonic() - self._started) + self._simulated_s if answered else 0
        params = self._call_params()
        params.update({
            "CallStatus": status,
            "CallDuration": str(elapsed),
            "Timestamp": twilio_timestamp(),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
        })
        await self._notify(self._public + self._status_path, "POST", params)

    def _check_budget(self) -> None:
        if self._result.requests >= self._max_requests:
            raise _CallError(
                f"stopped after {self._result.requests} requests in one call: is the bridge looping?"
            )

    async def _fetch(self, url: str, method: str, extra: dict[str, str]) -> _Document:
        """Fetch TwiML the way Twilio does; anything Twilio would refuse ends the call."""
        self._check_budget()
        params = {**self._call_params(), **extra}
        reply = await self._request(url, method, params)
        if reply.status != 200:
            raise _CallError(f"{method} {url} answered HTTP {reply.status} (Twilio error 11200)")
        if reply.content_type not in TWIML_CONTENT_TYPES and not reply.content_type.endswith("+xml"):
            raise _CallError(f"{method} {url} answered Content-Type {reply.content_type!r}, "
                             "not TwiML (Twilio error 12300)")
        return _Document(url, list(self._parse(url, reply.body)))

    @staticmethod
    def _parse(url: str, body: bytes) -> ET.Element:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise _CallError(f"{url} answered a body that is not XML: {exc} (Twilio error 12100)") from None
        if root.tag != "Response":
            raise _CallError(f"{url} answered <{root.tag}>, not <Response> (Twilio error 12102)")
        return root

    async def _notify(self, url: str, method: str, params: dict[str, str]) -> None:
        """A callback whose answer Twilio ignores, except for a failure it logs."""
        try:
            reply = await self._request(url, method, params)
        except _CallError as exc:
            self._transcript.error(str(exc))
            return
        if not 200 <= reply.status < 300:
            self._transcript.error(f"{method} {url} answered HTTP {reply.status} (Twilio error 11200)")

    async def _request(self, url: str, method: str, params: dict[str, str]) -> _Reply:
        """Send a signed request for public `url`; it travels to the bridge's own address."""
        self._result.requests += 1
        body: bytes | None = None
        headers = {"User-Agent": "TwilioProxy/1.1"}
        if method == "GET":
            # A GET carries its fields in the query, and the signature covers the whole URL.
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
            headers.update(signed_headers(self._token, url, {}))
        else:
            body = urlencode(params).encode("utf-8")
            headers.update(signed_headers(self._token, url, params))
            headers["Content-Type"] = FORM_CONTENT_TYPE
        try:
            async with self._session.request(
                method, self._wire_url(url), data=body, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=TWILIO_TIMEOUT_S),
            ) as response:
                return _Reply(response.status, response.content_type, await response.read())
        except asyncio.TimeoutError:
            raise _CallError(f"{method} {url} gave no answer in {TWILIO_TIMEOUT_S:.0f} s "
                             "(Twilio error 11205)") from None
        except aiohttp.ClientError as exc:
            raise _CallError(f"{method} {url} failed: {exc} (Twilio error 11205)") from None

    def _wire_url(self, public_url: str) -> str:
        # Twilio only knows public URLs; behind a proxy they arrive at the bridge's own address.
        if public_url == self._public or public_url.startswith((self._public + "/", self._public + "?")):
            return self._base + public_url[len(self._public):]
        return public_url


# ---------------------------------------------------------------- entry points


async def run_call(
    base_url: str,
    lines: Iterable[str] | AsyncIterator[str] | None,
    *,
    auth_token: str,
    caller: str = DEFAULT_CALLER,
    called: str = DEFAULT_CALLED,
    public_base_url: str | None = None,
    status_path: str = "/voice/status",
    session: aiohttp.ClientSession | None = None,
    out: TextIO | None = None,
    max_requests: int = 200,
    account_sid: str | None = None,
) -> CallResult:
    """Phone the bridge at `base_url` once, as Twilio would, and return what
    happened. `lines` are the caller's (None: the keyboard, and the transcript
    then goes to stdout unless `out` says otherwise). `public_base_url` is the
    address Twilio would use; requests are signed for it but sent to `base_url`."""
    result = CallResult(call_sid=new_sid("CA"))
    if out is None and lines is None:
        out = sys.stdout
    transcript = _Transcript(result, out)
    source = _LineSource(lines)
    owned = session is None
    session = session or aiohttp.ClientSession()
    try:
        call = _Call(
            session=session, base_url=base_url, public_base_url=public_base_url, auth_token=auth_token,
            caller=caller, called=called, account_sid=account_sid, status_path=status_path,
            max_requests=max_requests, caller_side=_Caller(source, transcript), transcript=transcript,
            result=result,
        )
        await call.run()
    finally:
        if owned:
            await session.close()
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools call",
        description="Phone a running bridge as Twilio would and print the transcript.",
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"where the bridge listens (default {DEFAULT_URL})")
    parser.add_argument("--script", metavar="FILE", help="caller lines to play (default: type them)")
    parser.add_argument("--from", dest="caller", default=DEFAULT_CALLER, help="the caller's number")
    parser.add_argument("--to", dest="called", default=DEFAULT_CALLED, help="the council number called")
    parser.add_argument(
        "--public-url", default=os.environ.get("PUBLIC_BASE_URL") or None,
        help="the address Twilio would use, to sign for (default: env PUBLIC_BASE_URL, else --url)",
    )
    parser.add_argument(
        "--token", default=os.environ.get("TWILIO_AUTH_TOKEN") or DEVELOPMENT_TOKEN,
        help="the auth token that signs requests (default: env TWILIO_AUTH_TOKEN, else the development token)",
    )
    parser.add_argument("--status-path", default="/voice/status", help="the call status callback path")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `call` command: 0 when the call went through, 1 when anything failed."""
    args = _parser().parse_args(argv)
    lines: list[str] | None = None
    if args.script:
        try:
            with open(args.script, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError as exc:
            print(f"error: cannot read the script: {exc}", file=sys.stderr)
            return 1
    result = asyncio.run(run_call(
        args.url, lines, auth_token=args.token, caller=args.caller, called=args.called,
        public_base_url=args.public_url, status_path=args.status_path, out=sys.stdout,
        account_sid=os.environ.get("TWILIO_ACCOUNT_SID") or None,
    ))
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
