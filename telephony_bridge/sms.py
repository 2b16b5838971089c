"""Text messages: the same bot, the sender's number as the conversation,
the answer as one or more SMS parts that read well on a phone."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Iterable, Iterator, Mapping

from council.catalogue import Catalogue
from plumbing.bot_client import BotClient, BotReply, BotUnavailable
from plumbing.masking import mask
from telephony_bridge import twiml

log = logging.getLogger("telephony_bridge.sms")

# Two concatenated SMS segments: long enough for a whole answer, short enough
# that no handset shows it out of order or truncated.
PART_CHARS = 306
MAX_BODY_CHARS = 1600  # Twilio's own limit on an incoming message
EMPTY = "Sorry, that message was empty. Tell me in a few words what you need, for example \"missed bin\"."
DOWN = ("Sorry, I can't answer texts right now. Please try again in a few minutes, call {phone}, "
        "or go to {web}.")


def split_message(text: str, limit: int = PART_CHARS) -> list[str]:
    """Split at sentence ends, then at spaces; never inside a word, a number
    or a web address. Parts are numbered "1/3 " when there is more than one."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return [text] if text else []
    body = limit - len("9/9 ")
    pieces = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        pieces.extend([sentence] if len(sentence) <= body else _pack(_words(sentence, body), body))
    parts = _pack(pieces, body)
    return [f"{index}/{len(parts)} {part}" for index, part in enumerate(parts, 1)]


def _pack(pieces: Iterable[str], limit: int) -> list[str]:
    """Join pieces, in order and with spaces, into as few strings of at most
    `limit` characters as fit (each piece must itself fit)."""
    parts: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current} {piece}".strip()
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


def _words(sentence: str, limit: int) -> Iterator[str]:
    """The words of a sentence, a pathological unbroken string cut to fit."""
    for word in sentence.split(" "):
        while len(word) > limit:
            yield word[:limit]
            word = word[limit:]
        if word:
            yield word


def _lower_first(label: str) -> str:
    """'On a street or road' -> 'on a street or road' (but 'Blue Badge' stays)."""
    first = label.split(" ", 1)[0]
    return label[:1].lower() + label[1:] if first[1:].islower() or len(first) == 1 else label


def reply_text(reply: BotReply) -> str:
    """What the bot said, with any buttons as words the texter can send back."""
    texts = list(reply.texts)
    if reply.event("clarify") is not None and len(reply.buttons) == 2:
        texts.append(f"Reply 1 for {_lower_first(reply.buttons[0])}, or 2 for {_lower_first(reply.buttons[1])}.")
    elif reply.buttons:
        texts.append("Reply with one of: " + "; ".join(reply.buttons) + ".")
    return " ".join(texts)


def conversation_id(key: str, sender: str) -> str:
    """The id a texter's conversation goes by in Rasa and every store: a keyed
    hash of the number, so a conversation's id is not the person's number.
    The number itself travels in the message's metadata, which the actions
    read to text a case reference and the tracker store keeps masked."""
    digest = hmac.new(key.encode("utf-8"), sender.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"sms-{digest[:24]}"


async def answer(bot: BotClient, catalogue: Catalogue, params: Mapping[str, str], key: str) -> str:
    """The MessagingResponse TwiML for one incoming text; `key` keys the
    conversation id (Settings.sender_id_key)."""
    sender = params.get("From", "")
    body = " ".join(params.get("Body", "").split())[:MAX_BODY_CHARS]
    if not body:
        return twiml.messages([EMPTY])
    try:
        reply = await bot.send(conversation_id(key, sender), body, {"channel": "sms", "caller": sender})
    except BotUnavailable as exc:
        log.warning("bot unavailable for a text: %s", exc, extra={"caller": mask(sender)})
        contact = catalogue.contact_centre
        return twiml.messages([DOWN.format(phone=contact.phone, web=contact.web)])
    text = reply_text(reply) or "Sorry, I didn't catch that. Tell me in a few words what you need."
    return twiml.messages(split_message(text))
