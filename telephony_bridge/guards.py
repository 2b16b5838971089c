"""What every Twilio request must pass before the bridge does any real work
on it, cheapest check first, so that a flood of junk costs almost nothing
and genuine calls keep their answer times:

1. POST only (405);
2. an X-Twilio-Signature header shaped like one (base64 of an HMAC-SHA1,
   28 characters), else 403 without reading the body;
3. a declared body no larger than Twilio's requests ever are, else 413
   without reading it (a body sent without a length is cut off at the same
   size by aiohttp's own limit, `client_max_size`);
4. a form of at most MAX_FIELDS fields (400);
5. only then the signature itself (an HMAC over at most MAX_BODY_BYTES: a
   few microseconds, so it stays on the event loop);
6. and a signed field longer than MAX_FIELD_CHARS is cut to that length
   rather than refused: it came from Twilio, and a caller is waiting.

Refusals close the connection instead of reading what is left of the body.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from aiohttp import web

SIGNATURE_HEADER = "X-Twilio-Signature"
# Twilio's largest webhook is an incoming text: a 1,600-character body sent
# as UTF-8 and percent-encoded (up to 9 bytes a character for emoji) plus
# about forty other fields, under 16 KiB; a voice turn is under 2 KiB.
MAX_BODY_BYTES = 32 * 1024
MAX_FIELDS = 100  # a text with ten pictures has about sixty
MAX_FIELD_CHARS = 4_000  # SpeechResult and Body are the long ones (Body at most 1,600)
_SIGNATURE_SHAPE = re.compile(r"[A-Za-z0-9+/]{27}=")


# What each refusal's `problem` means, as logged.
PROBLEMS = {"method": "not a POST", "missing": "signature missing", "malformed": "signature malformed",
            "mismatch": "signature does not match", "too_large": "body too large",
            "too_many_fields": "too many form fields"}


class Refused(Exception):
    """A request that fails a guard: the status and a short reason (logged
    and counted, never with the body)."""

    def __init__(self, status: int, problem: str) -> None:
        super().__init__(problem)
        self.status = status
        self.problem = problem


def check_headers(request: web.Request) -> str:
    """The signature header, once the method, the header's shape and the
    declared length have passed (nothing of the body read yet)."""
    if request.method != "POST":
        raise Refused(405, "method")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise Refused(403, "missing")
    if not _SIGNATURE_SHAPE.fullmatch(signature):
        raise Refused(403, "malformed")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Refused(413, "too_large")
    return signature


async def read_form(request: web.Request) -> dict[str, str]:
    """The form fields, read within the size limits."""
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "too_large") from None
    try:
        return decode_form(body)
    except ValueError:
        raise Refused(400, "too_many_fields") from None


def capped(fields: dict[str, str]) -> dict[str, str]:
    """The fields with none longer than MAX_FIELD_CHARS (after the signature
    check, which needs them whole)."""
    return {name: value[:MAX_FIELD_CHARS] for name, value in fields.items()}


def decode_form(body: bytes) -> dict[str, str]:
    """Form fields of a urlencoded body. Twilio sends UTF-8; anything else
    (raw or percent-encoded) is read as Latin-1, so that no byte is lost or
    turned into an error. More than MAX_FIELDS fields raise ValueError."""
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict",
                              max_num_fields=MAX_FIELDS))
    except UnicodeDecodeError:
        return dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1",
                              max_num_fields=MAX_FIELDS))


def refusal(refused: Refused) -> web.Response:
    texts = {405: "Method not allowed.\n", 403: "Forbidden: the request is not signed by Twilio.\n",
             413: "Request too large.\n", 400: "Bad request.\n"}
    response = web.Response(status=refused.status, text=texts.get(refused.status, "Refused.\n"))
    if refused.status == 405:
        response.headers["Allow"] = "POST"
    response.force_close()  # do not read the rest of a body we refused
    return response
