"""What the simulated calls share: Twilio's fields, timeouts and verbs, the
result of a call, signing a request as Twilio does."""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime

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
