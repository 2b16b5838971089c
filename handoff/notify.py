"""Texting a caller their case reference, so they have it in writing.

The one REST call to Twilio lives here. Without Twilio credentials (local
development) the text is logged instead of sent; either way the log holds the
reference and the masked number, never the full number.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Literal

from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from council import phones
from council.catalogue import Catalogue, default_catalogue
from council.hours import describe
from handoff.settings import HandoffSettings
from plumbing import masking

if TYPE_CHECKING:
    from handoff.cases import Case

log = logging.getLogger("handoff.notify")

Result = Literal["sent", "logged", "skipped", "failed"]
SENDER = "Lancaster and Lancashire councils"
# A stuck Twilio request must not hold a thread (or the shutdown) for long.
TWILIO_TIMEOUT_S = 10.0


def message(case: Case, catalogue: Catalogue) -> str:
    """The text's words: the reference, who will pick the case up and when
    they are open."""
    text = f"{SENDER}: your reference is {case.reference}."
    centre = catalogue.centres.get(case.centre)
    if centre is None:
        return text
    name = centre.name[:1].upper() + centre.name[1:]  # "the Cable Street ..." starts a sentence
    schedule = catalogue.schedules.get(centre.hours)
    hours = f"; open {describe(schedule)}" if schedule is not None else ""
    return f"{text} {name} will pick it up{hours}."


def _send(settings: HandoffSettings, to: str, body: str, http_client: HttpClient | None) -> None:
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=http_client or TwilioHttpClient(timeout=TWILIO_TIMEOUT_S))
    client.messages.create(to=to, from_=settings.twilio_from_number, body=body)


async def text_reference(settings: HandoffSettings, case: Case, caller_number: str | None, *,
                         catalogue: Catalogue | None = None, http_client: HttpClient | None = None) -> Result:
    """Text `case.reference` to the caller. Returns "skipped" (a chat, or a
    number that cannot take a text), "logged" (no Twilio credentials: the
    text went to the log), "sent", or "failed" (Twilio refused or could not
    be reached; logged). Never raises for a failed send: the case is stored
    and staff will pick it up whether or not the text arrives."""
    if case.channel == "chat" or not phones.is_uk_mobile(caller_number):
        return "skipped"
    assert caller_number is not None  # is_uk_mobile said so
    masked = masking.mask(phones.to_e164(caller_number))
    extra = {"caller": masked, "reason": case.reason, "event": "text_reference"}
    try:
        body = message(case, catalogue or default_catalogue())
        if not settings.can_text:
            log.info("reference %s not texted (no Twilio credentials): %s", case.reference, body, extra=extra)
            return "logged"
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _send, settings, phones.to_e164(caller_number), body, http_client)
    except TwilioRestException as exc:
        # Twilio's message can quote the number it refused, so only its codes are logged.
        log.warning("reference %s not texted: Twilio answered %s (error %s)", case.reference, exc.status,
                    exc.code, extra={**extra, "status": exc.status})
        return "failed"
    except Exception as exc:  # noqa: BLE001 - a text is a courtesy; it must never fail a case
        log.warning("reference %s not texted: %s", case.reference, type(exc).__name__, extra=extra)
        return "failed"
    log.info("reference %s texted", case.reference, extra=extra)
    return "sent"
