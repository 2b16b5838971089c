"""One message of a web chat: checked, limited, kept (redacted), sent to
the bot, and its answer kept as turns the page shows.

A typed message is sent as text, never as one of Rasa's "/intent"
payloads; a button sends the payload the bot offered with it, looked up
here by its place, so a page cannot send the bot a payload it never
offered. Every failure is a polite turn that says what to do next, with
the contact centre's number: nothing is lost and no error reaches the page.
"""

from __future__ import annotations

import logging

from council.catalogue import Catalogue
from plumbing.bot_client import BotClient, BotReply, BotUnavailable
from plumbing.rate_limit import CallerLimit
from webchat.sessions import SessionKeys
from webchat.transcripts import BOT, Transcripts, Turn

log = logging.getLogger("webchat.conversation")

CHANNEL = "chat"
MAX_MESSAGE_CHARS = 500
EMPTY = 'Please type your question, for example "my bin was not collected".'
TOO_LONG = ("That message is too long for me to read. Please say it in fewer words "
            f"(up to {MAX_MESSAGE_CHARS} letters and spaces).")
STALE_CHOICE = "That choice is no longer on offer. Please type what you need, in a few words."
BUSY = ("You have sent a lot of messages in a short time. Please wait a few minutes and try again, "
        "or call {phone}.")
DOWN = "Sorry, the chat cannot answer right now. Please try again in a few minutes, call {phone}, or go to {web}."
NOT_UNDERSTOOD = "Sorry, I didn't catch that. Tell me in a few words what you need."
WELCOME = ("Hello. I can help with services from Lancaster City Council and Lancashire County Council. "
           'Tell me in a few words what you need, for example "my bin was not collected".')


def bot_turns(reply: BotReply) -> list[Turn]:
    """The bot's answer as turns: one a message, the buttons and any case
    reference on the last."""
    texts = list(reply.texts) or ([] if reply.buttons else [NOT_UNDERSTOOD])
    handoff = reply.event("handoff")
    reference = handoff.get("reference") if handoff and isinstance(handoff.get("reference"), str) else None
    turns = [Turn(BOT, text) for text in texts[:-1]]
    payloads = reply.button_payloads if len(reply.button_payloads) == len(reply.buttons) else reply.buttons
    turns.append(Turn(BOT, texts[-1] if texts else "", tuple(reply.buttons), tuple(payloads), reference))
    return turns


class Chat:
    def __init__(self, bot: BotClient, keys: SessionKeys, transcripts: Transcripts, catalogue: Catalogue,
                 per_session: CallerLimit, per_address: CallerLimit) -> None:
        self._bot, self._keys, self._transcripts, self._catalogue = bot, keys, transcripts, catalogue
        self._per_session, self._per_address = per_session, per_address

    def _say(self, session_id: str, text: str) -> list[Turn]:
        turn = Turn(BOT, text)
        self._transcripts.add_bot(session_id, turn)
        return [turn]

    def _contact(self, template: str) -> str:
        centre = self._catalogue.contact_centre
        return template.format(phone=centre.phone, web=centre.web)

    async def send(self, session_id: str, address: str, message: str | None = None,
                   choice: str | None = None) -> list[Turn]:
        """The turns this message adds to the page (the resident's, then the bot's)."""
        if choice is not None:
            titles, payloads = self._transcripts.last_buttons(session_id)
            index = int(choice) if choice.isdigit() and len(choice) < 4 else -1
            if not 0 <= index < len(titles):
                return self._say(session_id, STALE_CHOICE)
            shown, sent = titles[index], payloads[index]
        else:
            shown = " ".join((message or "").split())
            if not shown:
                return self._say(session_id, EMPTY)
            if len(shown) > MAX_MESSAGE_CHARS:
                return self._say(session_id, TOO_LONG)
            sent = shown.lstrip("/").strip() or shown
        resident = self._transcripts.add_resident(session_id, shown)
        if not (self._per_session.allow(session_id) and self._per_address.allow(address)):
            log.warning("chat message not answered: over the limit")
            return [resident, *self._say(session_id, self._contact(BUSY))]
        try:
            reply = await self._bot.send(self._keys.conversation_id(session_id), sent, {"channel": CHANNEL})
        except BotUnavailable as exc:
            log.warning("bot unavailable for a chat message: %s", exc)
            return [resident, *self._say(session_id, self._contact(DOWN))]
        answer = bot_turns(reply)
        for turn in answer:
            self._transcripts.add_bot(session_id, turn)
        return [resident, *answer]
