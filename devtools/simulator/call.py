"""One simulated call: Twilio's side of the webhooks, acted out against the
bridge's TwiML, with the transcript of what the caller heard."""

from __future__ import annotations

import asyncio
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

import aiohttp

from devtools.simulator.caller import Caller, CallerInput, ScriptError, Transcript
from devtools.simulator.common import (
    ANSWERED_DIAL_SECONDS,
    DIAL_NOUNS,
    FORM_CONTENT_TYPE,
    GATHER_NESTABLE,
    GEO_FIELDS,
    PROGRESS_EVENTS,
    TWILIO_TIMEOUT_S,
    TWIML_CONTENT_TYPES,
    UNSIMULATED_VERBS,
    CallResult,
    collapse,
    country_of,
    element_text,
    is_diallable,
    new_sid,
    signed_headers,
    twilio_timestamp,
)


class CallError(Exception):
    """Twilio would give up on the call: the message says why."""


class CallOver(Exception):
    def __init__(self, by: str) -> None:
        super().__init__(by)
        self.by = by


@dataclass(frozen=True)
class Document:
    url: str  # the public URL it was fetched from: relative URLs resolve against it
    verbs: list[ET.Element]


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


class Call:
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
        caller_side: Caller,
        transcript: Transcript,
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
        except CallOver as over:
            self._result.ended_by = over.by
            self._transcript.write(f"hangup: {over.by}")
            if self._call_status in ("busy", "no-answer"):
                final_status = self._call_status
        except CallError as exc:
            self._result.ended_by = "error"
            self._transcript.error(str(exc))
        except ScriptError as exc:
            self._result.ended_by = "error"
            self._transcript.error(str(exc))
        await self._send_call_status(final_status)

    async def _execute(self, document: Document) -> Document:
        """Run a document's verbs; the next document, or CallOver."""
        for verb in document.verbs:
            if verb.tag != "Reject":
                self._call_status = "in-progress"
            following = await self._run_verb(verb, document)
            if following is not None:
                return following
        raise CallOver("bridge")  # Twilio hangs up at the end of a document

    async def _run_verb(self, verb: ET.Element, document: Document) -> Document | None:
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
            raise CallOver("bridge")
        elif verb.tag == "Reject":
            self._reject(verb)
        elif verb.tag in UNSIMULATED_VERBS:
            self._transcript.write(f"skip: <{verb.tag}>")
        else:
            raise CallError(f"<{verb.tag}> is not a TwiML voice verb in {document.url} (Twilio error 12200)")
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
        raise CallOver("bridge")

    async def _gather(self, verb: ET.Element, document: Document) -> Document | None:
        for nested in verb:
            if nested.tag == "Say":
                self._say(nested)
            elif nested.tag in GATHER_NESTABLE:
                self._marker(nested)
        given = await self._caller.next_input()
        if given.kind == "hangup":
            raise CallOver("caller")
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

    async def _redirect(self, verb: ET.Element, document: Document) -> Document:
        target = element_text(verb)
        if not target:
            raise CallError(f"<Redirect> without a URL in {document.url}")
        return await self._fetch(urljoin(document.url, target), verb.get("method", "POST").upper(), {})

    async def _dial(self, verb: ET.Element, document: Document) -> Document | None:
        targets = self._dial_targets(verb)
        if not targets:
            raise CallError(f"<Dial> with nothing to dial in {document.url}")
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
        document: Document,
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
            raise CallError(
                f"stopped after {self._result.requests} requests in one call: is the bridge looping?"
            )

    async def _fetch(self, url: str, method: str, extra: dict[str, str]) -> Document:
        """Fetch TwiML the way Twilio does; anything Twilio would refuse ends the call."""
        self._check_budget()
        params = {**self._call_params(), **extra}
        reply = await self._request(url, method, params)
        if reply.status != 200:
            raise CallError(f"{method} {url} answered HTTP {reply.status} (Twilio error 11200)")
        if reply.content_type not in TWIML_CONTENT_TYPES and not reply.content_type.endswith("+xml"):
            raise CallError(f"{method} {url} answered Content-Type {reply.content_type!r}, "
                             "not TwiML (Twilio error 12300)")
        return Document(url, list(self._parse(url, reply.body)))

    @staticmethod
    def _parse(url: str, body: bytes) -> ET.Element:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise CallError(f"{url} answered a body that is not XML: {exc} (Twilio error 12100)") from None
        if root.tag != "Response":
            raise CallError(f"{url} answered <{root.tag}>, not <Response> (Twilio error 12102)")
        return root

    async def _notify(self, url: str, method: str, params: dict[str, str]) -> None:
        """A callback whose answer Twilio ignores, except for a failure it logs."""
        try:
            reply = await self._request(url, method, params)
        except CallError as exc:
            self._transcript.error(str(exc))
            return
        if not 200 <= reply.status < 300:
            self._transcript.error(f"{method} {url} answered HTTP {reply.status} (Twilio error 11200)")

    async def _request(self, url: str, method: str, params: dict[str, str]) -> Reply:
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
                return Reply(response.status, response.content_type, await response.read())
        except asyncio.TimeoutError:
            raise CallError(f"{method} {url} gave no answer in {TWILIO_TIMEOUT_S:.0f} s "
                             "(Twilio error 11205)") from None
        except aiohttp.ClientError as exc:
            raise CallError(f"{method} {url} failed: {exc} (Twilio error 11205)") from None

    def _wire_url(self, public_url: str) -> str:
        # Twilio only knows public URLs; behind a proxy they arrive at the bridge's own address.
        if public_url == self._public or public_url.startswith((self._public + "/", self._public + "?")):
            return self._base + public_url[len(self._public):]
        return public_url
