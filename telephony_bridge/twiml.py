"""TwiML from small pure functions over the twilio library's builders.

Nothing here knows about requests or the bot: each function takes what the
caller should hear and where Twilio goes next, and returns the XML text.
The library escapes the text; `speakable` makes numbers easy to follow on a
bad line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Iterable, Sequence

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

# UK numbers as the catalogue writes them: 01632 960101, 0800 123 4567.
_UK_NUMBER = re.compile(r"\b0\d{2,4}(?: ?\d{3,4}){1,2}\b")
# Twilio drops hints past 100 characters each; keep the list sensible.
MAX_HINTS = 300
MAX_SAY_CHARS = 3000


@dataclass(frozen=True)
class Voice:
    """How the bridge speaks: a British English voice."""

    voice: str = "Polly.Amy"
    language: str = "en-GB"


def speakable(text: str) -> str:
    """Phone numbers read digit by digit in their groups ("0 1 6 3 2, 9 6 0
    1 0 1"), so a text-to-speech voice does not say "nine hundred and sixty
    thousand"; whitespace collapsed; very long text cut at a sentence."""
    def digits(match: re.Match[str]) -> str:
        return ", ".join(" ".join(group) for group in match.group(0).split())

    spoken = _UK_NUMBER.sub(digits, " ".join(text.split()))
    if len(spoken) > MAX_SAY_CHARS:
        cut = spoken.rfind(". ", 0, MAX_SAY_CHARS)
        spoken = spoken[: cut + 1 if cut > 0 else MAX_SAY_CHARS]
    return spoken


def _say_all(target: VoiceResponse | Gather, texts: Iterable[str], voice: Voice) -> None:
    for text in texts:
        if text.strip():
            target.say(speakable(text), voice=voice.voice, language=voice.language)


def hints(phrases: Iterable[str]) -> str:
    """Twilio's comma-separated speech hints, deduplicated, in order."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        clean = " ".join(str(phrase).replace(",", " ").split())[:100]
        if clean:
            seen.setdefault(clean.lower(), None)
        if len(seen) >= MAX_HINTS:
            break
    return ", ".join(seen)


def gather(
    texts: Sequence[str],
    action: str,
    no_input: str,
    voice: Voice,
    speech_hints: str = "",
    timeout_s: int = 6,
    speech_timeout: str = "auto",
) -> str:
    """Say `texts` inside a <Gather> of speech and keys (so the caller can
    talk over them), then post the answer to `action`. When nothing is
    heard Twilio falls through to the <Redirect> to `no_input`: there is
    never dead air."""
    response = VoiceResponse()
    listen = response.gather(
        input="speech dtmf",
        action=action,
        method="POST",
        speech_timeout=speech_timeout,
        timeout=timeout_s,
        language=voice.language,
        hints=speech_hints or None,
        # No speechModel: Twilio then picks a provider and model that
        # support en-GB and fails over between them (its 2025 guidance).
        action_on_empty_result=False,
        # One key is a whole answer in every menu, so it is sent at once
        # rather than after a pause; '#' is "main menu", not "end of input".
        num_digits=1,
        finish_on_key="",
    )
    _say_all(listen, texts, voice)
    response.redirect(no_input, method="POST")
    return str(response)


def dial(
    texts: Sequence[str],
    number: str,
    action: str,
    status_callback: str,
    voice: Voice,
    timeout_s: int = 20,
    caller_id: str | None = None,
) -> str:
    """Say `texts`, then put the caller through to `number` (E.164). When the
    dialled leg ends Twilio posts DialCallStatus to `action`, which decides
    the fallback; the leg's own progress goes to `status_callback`."""
    response = VoiceResponse()
    _say_all(response, texts, voice)
    connect = response.dial(action=action, method="POST", timeout=timeout_s, caller_id=caller_id)
    connect.number(
        number,
        status_callback=status_callback,
        status_callback_event="initiated ringing answered completed",
        status_callback_method="POST",
    )
    return str(response)


def hang_up(texts: Sequence[str], voice: Voice, repeat_last: bool = False) -> str:
    """Say `texts` (the last one twice when it matters, as for 999) and end the call."""
    response = VoiceResponse()
    spoken = list(texts)
    if repeat_last and spoken:
        spoken.append(spoken[-1])
    _say_all(response, spoken, voice)
    response.hangup()
    return str(response)


def redirect(texts: Sequence[str], url: str, voice: Voice) -> str:
    response = VoiceResponse()
    _say_all(response, texts, voice)
    response.redirect(url, method="POST")
    return str(response)


def messages(parts: Sequence[str]) -> str:
    """An SMS reply: one <Message> a part (empty parts dropped)."""
    response = MessagingResponse()
    for part in parts:
        if part.strip():
            response.message(part)
    return str(response)


def said(twiml_text: str) -> list[str]:
    """The words of every <Say> in a TwiML document, in order: what the
    caller heard (for the call log)."""
    try:
        root = ET.fromstring(twiml_text)
    except ET.ParseError:
        return []
    return [" ".join("".join(say.itertext()).split()) for say in root.iter("Say")]
