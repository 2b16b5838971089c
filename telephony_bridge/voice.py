"""The call flow: each Twilio voice webhook becomes one `CallFlow` method
that returns the TwiML for what the caller hears next.

Order of precedence in a turn: the keys and words that work at every
prompt (star or "repeat that" says the last thing again, 0 asks for a
person, "I need more time" lengthens the timeouts for the rest of the call),
then a pending yes/no question, then keys (the menu), then speech (the
directory when the caller asks to be put through to someone, else the
bot). Whatever fails, the caller hears something useful: the bot down or
slow gives an apology and the keypad menu; silence gives a reprompt, then
the menu, then a person.

The keys keep one meaning everywhere: star repeats, hash is the keypad's
main menu, 0 is a person (or, when the lines are closed, what to do
instead), and 1 and 2 answer the question just asked.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

from council import reach
from council.catalogue import Catalogue
from council.clock import now
from council.phones import to_e164
from council.wording import web_for
from plumbing.bot_client import BotClient, BotReply, BotUnavailable
from plumbing.masking import mask
from telephony_bridge import twiml
from telephony_bridge.calllog import CallLog
from telephony_bridge.dial_requests import dial_request
from telephony_bridge.directory import CONNECT, Directory, Entry
from telephony_bridge.last_said import LastSaid
from telephony_bridge.menu import Menu
from telephony_bridge.state import FRESH, TurnState

log = logging.getLogger("telephony_bridge.voice")

TURN = "/voice/turn"
NO_INPUT = "/voice/no-input"
DIAL_RESULT = "/voice/dial-result"
DIAL_STATUS = "/voice/dial-status"

WELCOME = "Hello, you're through to Lancaster City Council and Lancashire County Council."
ASK = ("In a few words, tell me what you're calling about, or say the name of the department or person you want. "
       "To use your keypad instead, press hash.")
KEYS_HELP = "At any time, press star to hear something again, or 0 for a person. If you need more time, just say so."
MORE_TIME_OK = "Of course. I'll wait longer for you from now on."
CLOSED = ("Our phone lines are closed at the moment and open {when}, but I can still help you find what you need, "
          "and telecare and community alarm calls are answered 24 hours a day. You can also text this number, "
          "or go to {web}, at any time.")
DANGER = "If someone is in danger, hang up and dial 999."
BOT_DOWN = "Sorry, I'm having trouble understanding at the moment, so let's use your keypad."
NOT_HEARD = "Sorry, I didn't hear anything."
NOT_CAUGHT = "Sorry, I didn't catch that. Could you say it again in a few words?"
NO_SUCH_KEY = "Sorry, that key isn't one of the options."
NOT_IN_DIRECTORY = "Sorry, I couldn't find that name in our directory."
NOBODY_ANSWERED = "Sorry, nobody was able to answer just now."
GOODBYE = "Thank you for calling. Goodbye."
SILENT_GOODBYE = ("I'll end the call now. If you need us, please call again, or text this number. "
                  "If someone is in danger, dial 999. Goodbye.")
YES = re.compile(r"\b(yes|yeah|yep|yup|correct|right|please|that's it|that one|ok|okay|sure)\b", re.I)
NO = re.compile(r"\b(no|nope|wrong|not that|neither)\b", re.I)
# The whole of what was said, not a word in a longer request ("repeat
# prescription" is a real question for someone else).
REPEAT = re.compile(r"^(?:sorry|please|pardon)?[ ,]*(?:(?:can|could|would) you )?(?:please )?"
                    r"(?:repeat(?: that| it| yourself| the options| the question)?|say (?:that|it) again"
                    r"|pardon(?: me)?|what did you say|come again|i didn'?t (?:hear|catch) (?:that|you|it))"
                    r"(?: again)?(?: please)?[?.!]*$", re.I)
MORE_TIME = re.compile(r"\b(?:more time|slow(?:er| down)|too fast|hold on|hang on|give me (?:a )?(?:minute|moment|"
                       r"second|sec)|wait a (?:minute|moment|second|sec)|not so fast)\b", re.I)
# "I need more time to pay" is a council tax question, not a request to wait.
NOT_ABOUT_TIME = re.compile(r"\b(?:pay|paying|bill|rent|tax|debt|arrears|owe|fine|appeal|deadline)\b", re.I)
MORE_TIME_WORDS = 8
# Gather timeouts: seconds of silence before Twilio gives up, then (for a
# caller who asked for more time) seconds of pause that end what they say.
TIMEOUT_S, SLOW_TIMEOUT_S, SLOW_SPEECH_TIMEOUT = 6, 12, "3"
SILENCES_BEFORE_MENU = 2
SILENCES_BEFORE_PERSON = 3
# Whether the caller has said or pressed anything on this call, for the turn
# being answered: every next URL carries it (TurnState.engaged), so that
# silence from the very start (a robocall, an open line) ends with the menu
# and a goodbye instead of tying up a member of staff.
_ENGAGED: contextvars.ContextVar[bool] = contextvars.ContextVar("engaged", default=False)
# The same for a caller who asked for more time, and the call being answered
# (what the bridge says is remembered under it, to repeat).
_SLOW: contextvars.ContextVar[bool] = contextvars.ContextVar("slow", default=False)
_CALL: contextvars.ContextVar[str] = contextvars.ContextVar("call", default="")


@dataclass(frozen=True)
class Answer:
    """What a turn produced: the TwiML, and what the call log should record."""

    twiml: str
    outcome: str
    service: str | None = None
    keys: str | None = None  # the keys that chose something the bridge offered (kept in the call log)


class CallFlow:
    """Everything a turn needs, built once per application."""

    def __init__(self, catalogue: Catalogue, menu: Menu, directory: Directory, bot: BotClient,
                 calls: "AsyncCallLog", voice: twiml.Voice, speech_hints: str, dial_timeout_s: int) -> None:
        self.catalogue = catalogue
        self.menu = menu
        self.directory = directory
        self.bot = bot
        self.calls = calls
        self.voice = voice
        self.hints = speech_hints
        self.dial_timeout_s = dial_timeout_s
        self.last_said: LastSaid[tuple[tuple[str, ...], TurnState]] = LastSaid()

    # --- what Twilio calls -------------------------------------------------

    async def incoming(self, params: Mapping[str, str]) -> str:
        call = params.get("CallSid", "")
        await self.calls.run("call_started", call, params.get("From"), now())
        texts = [WELCOME]
        contact = self.catalogue.contact_centre
        if not reach.contact_centre_open(self.catalogue):
            texts.append(CLOSED.format(when=reach.contact_centre_opens(self.catalogue),
                                       web=web_for(contact.web, "voice")))
        texts += [ASK, KEYS_HELP]
        log.info("call answered", extra={"call": call, "caller": mask(params.get("From"))})
        token = _CALL.set(call)
        try:
            return self._listen(texts, FRESH)
        finally:
            _CALL.reset(token)

    async def turn(self, params: Mapping[str, str], state: TurnState) -> str:
        digits = re.sub(r"[^0-9*#]", "", params.get("Digits", ""))[:8]
        speech = " ".join(params.get("SpeechResult", "").split())
        engaged = _ENGAGED.set(state.engaged or bool(digits or speech))
        slow = _SLOW.set(state.slow)
        call = _CALL.set(params.get("CallSid", ""))
        try:
            return await self._turn(params, state, digits, speech)
        finally:
            _ENGAGED.reset(engaged)
            _SLOW.reset(slow)
            _CALL.reset(call)

    async def _turn(self, params: Mapping[str, str], state: TurnState, digits: str, speech: str) -> str:
        started = time.perf_counter()
        call = params.get("CallSid", "")
        if digits:
            kind, answer = "dtmf", await self._keys(call, state.heard(), digits)
        elif speech:
            kind, answer = "speech", await self._speech(call, state.heard(), speech, params.get("Confidence"),
                                                        params.get("From"))
        else:
            kind, answer = "no_input", self._silence(call, state)
        latency_ms = (time.perf_counter() - started) * 1000
        # Only the keys that chose something the bridge offered (a menu
        # option, yes or no, 1 to be put through) are kept, never the rest of
        # what was keyed: a card number typed at the menu starts "4".
        await self.calls.run("turn", call, kind, now(), latency_ms, answer.outcome, answer.service, answer.keys,
                             " ".join(twiml.said(answer.twiml)))
        return answer.twiml

    async def no_input(self, params: Mapping[str, str], state: TurnState) -> str:
        return await self.turn({**params, "Digits": "", "SpeechResult": ""}, state)

    async def dial_result(self, params: Mapping[str, str], query: Mapping[str, str]) -> str:
        call = params.get("CallSid", "")
        status = params.get("DialCallStatus", "failed")
        transfer = _int(query.get("transfer"))
        service = query.get("service") or None
        if transfer is not None:
            await self.calls.run("transfer_result", call, transfer, status, now())
        if status in ("completed", "answered"):
            return twiml.hang_up([GOODBYE], self.voice)
        contact = self.catalogue.contact_centre
        already_fallback = query.get("fallback") == "1"
        if not already_fallback and service and reach.contact_centre_open(self.catalogue):
            target = reach.for_service(self.catalogue, None)
            return await self._dial(call, target, [NOBODY_ANSWERED, "I'll try the contact centre for you."],
                                    reason="no_answer_fallback", fallback=True)
        target = reach.for_service(self.catalogue, service)
        texts = [NOBODY_ANSWERED,
                 f"You can try again later on {target.phone or contact.phone}, or go to "
                 f"{web_for(target.web or contact.web, 'voice')} at any time.",
                 "Is there anything else I can help with?"]
        return self._listen(texts, replace(FRESH, engaged=True))

    async def dial_status(self, params: Mapping[str, str], query: Mapping[str, str]) -> None:
        transfer = _int(query.get("transfer"))
        call = params.get("ParentCallSid") or params.get("CallSid", "")
        if transfer is not None and params.get("CallStatus"):
            await self.calls.run("transfer_leg_status", call, transfer, params["CallStatus"], now())

    async def status(self, params: Mapping[str, str]) -> None:
        if params.get("CallStatus") in ("completed", "busy", "failed", "no-answer", "canceled"):
            self.last_said.forget(params.get("CallSid", ""))
        if params.get("CallStatus"):
            await self.calls.run("call_status", params.get("CallSid", ""), params["CallStatus"], now(),
                                 _int(params.get("CallDuration")))

    # --- the turn, by what the caller did -----------------------------------

    async def _keys(self, call: str, state: TurnState, digits: str) -> Answer:
        if digits[0] == self.menu.repeat_key and state.menu is None:
            return self._repeat(call, state, "*")
        if state.choose and digits in ("1", "2"):
            # The answer to the bot's question between two options.
            return replace(await self._ask_bot(call, digits, FRESH, metadata=_keyed(digits)), keys=digits)
        if state.confirm and digits[0] in "12":
            return replace(await self._confirmed(call, state, digits[0] == "1"), keys=digits[0])
        if state.offer and digits == "1":
            answer = await self._ask_bot(call, "/request_human", state, fallback_service=state.offer, person=True,
                                         metadata=_keyed("1"))
            return replace(answer, keys="1")
        choice = self.menu.choose(state.menu or "", digits)
        if choice.kind == "service" and choice.service:
            keys = choice.path + next(o.digit for o in self.menu.options(choice.path) if o.service == choice.service)
            answer = await self._ask_bot(call, f"/{choice.service}",
                                         replace(state, menu=None, confirm=None, offer=None),
                                         fallback_service=choice.service, metadata=_keyed(keys))
            return replace(answer, keys=choice.keys)
        if choice.kind == "person":
            # 0 from any prompt lands here too: a question's 1 or 2 and a
            # directory's yes or no fall through to the menu, which keeps 0
            # for a person in every menu (telephony_bridge/menu.py).
            keys = choice.path + choice.keys[-1]
            answer = await self._ask_bot(call, "/request_human", FRESH, fallback_service=None, person=True,
                                         metadata=_keyed(keys))
            return replace(answer, keys=choice.keys)
        texts = [self.menu.prompt(choice.path)]
        if choice.kind == "invalid":
            texts.insert(0, NO_SUCH_KEY)
        return Answer(self._listen(texts, TurnState(menu=choice.path)), "menu", keys=choice.keys or None)

    async def _speech(self, call: str, state: TurnState, text: str, confidence: str | None,
                      caller: str | None) -> Answer:
        if REPEAT.match(text):
            return self._repeat(call, state, None)
        if (len(text.split()) <= MORE_TIME_WORDS and MORE_TIME.search(text)
                and not NOT_ABOUT_TIME.search(text)):
            _SLOW.set(True)
            return self._repeat(call, state, None, first=MORE_TIME_OK)
        if state.confirm:
            if YES.search(text) and not NO.search(text):
                return await self._confirmed(call, state, True)
            if NO.search(text):
                return await self._confirmed(call, state, False)
        asked = dial_request(text)
        match = self.directory.match(asked or text)
        wanted = match is not None and (
            asked is not None or state.menu is not None
            or (match.entry.kind == "person" and match.score >= CONNECT)
        )
        if wanted and match is not None:
            if match.score >= CONNECT:
                return await self._connect_entry(call, match.entry)
            question = f"Did you want {match.entry.name}? Say yes or press 1, or say no or press 2."
            return Answer(self._listen([question], TurnState(confirm=match.entry.id)), "directory_confirm")
        if asked is not None and state.menu is not None:
            return Answer(self._listen([NOT_IN_DIRECTORY, self.menu.prompt("")], TurnState(menu="")), "directory")
        metadata: dict[str, Any] = {"channel": "voice"}
        if confidence:
            metadata["speech_confidence"] = _float(confidence)
        if caller:
            metadata["caller"] = caller
        return await self._ask_bot(call, text, FRESH, metadata=metadata)

    def _repeat(self, call: str, state: TurnState, keys: str | None, first: str | None = None) -> Answer:
        """Say the last thing said on this call again, with the same
        question open (after `first`, when given); when this replica does
        not have it, the question of the prompt the caller is at."""
        said = self.last_said.recall(call)
        fallback = (self.menu.prompt(state.menu),) if state.menu is not None else (ASK,)
        texts, again = said if said is not None else (fallback, state)
        return Answer(self._listen([*([first] if first else []), *texts], again, remember=texts), "repeat",
                      keys=keys)

    def _silence(self, call: str, state: TurnState) -> Answer:
        count = state.silence + 1
        if count < SILENCES_BEFORE_MENU:
            again = replace(state, silence=count)
            return Answer(self._listen([NOT_HEARD, ASK], again), "reprompt")
        if count < SILENCES_BEFORE_PERSON:
            texts = [NOT_HEARD, "Here are the options.", self.menu.prompt("")]
            return Answer(self._listen(texts, TurnState(menu="", silence=count)), "menu")
        if not state.engaged:
            # Nothing said or pressed since the call began: nobody to put through.
            return Answer(twiml.hang_up([NOT_HEARD, SILENT_GOODBYE], self.voice), "silent_goodbye")
        return Answer(self._closed_or_goodbye(reach.for_service(self.catalogue, None)), "person")

    async def _confirmed(self, call: str, state: TurnState, yes: bool) -> Answer:
        entry = self._entry(state.confirm)
        if yes and entry is not None:
            return await self._connect_entry(call, entry)
        return Answer(self._listen(["All right.", self.menu.prompt("")], TurnState(menu="")), "menu")

    # --- the bot ------------------------------------------------------------

    async def _ask_bot(self, call: str, text: str, state: TurnState, *, fallback_service: str | None = None,
                       person: bool = False, metadata: Mapping[str, Any] | None = None) -> Answer:
        try:
            reply = await self.bot.send(call, text, metadata or {"channel": "voice"})
        except BotUnavailable as exc:
            log.warning("bot unavailable: %s", exc, extra={"call": call})
            return await self._without_bot(call, text, fallback_service, person)
        return await self._render(call, reply, state)

    async def _without_bot(self, call: str, text: str, service_id: str | None, person: bool) -> Answer:
        """The bridge's own answer when the bot cannot give one."""
        if person or (service_id and text.startswith("/")):
            target = reach.for_service(self.catalogue, service_id)
            texts: list[str] = []
            if service_id and not person:
                texts.append(self.catalogue.service(service_id).say)
                await self.calls.run("routed", call, service_id, now())
            if target.phone:
                return Answer(await self._dial(call, target, texts, reason="menu"), "bot_unavailable", service_id)
            texts.append(self._closed_text(target))
            return Answer(self._listen(texts + ["Is there anything else I can help with?"], TurnState(menu="")),
                          "bot_unavailable", service_id)
        texts = [BOT_DOWN, DANGER, self.menu.prompt("")]
        return Answer(self._listen(texts, TurnState(menu="")), "bot_unavailable")

    async def _render(self, call: str, reply: BotReply, state: TurnState) -> Answer:
        texts = list(reply.texts)
        route = reply.event("route")
        service = str(route["service"]) if route and route.get("service") else None
        if service:
            await self.calls.run("routed", call, service, now())
        hangup = reply.event("hangup")
        if hangup is not None:
            emergency = hangup.get("reason") == "emergency"
            if emergency:
                await self.calls.run("emergency", call, now())
            return Answer(twiml.hang_up(texts or [GOODBYE], self.voice, repeat_last=emergency),
                          "emergency" if emergency else "goodbye", service)
        handoff = reply.event("handoff")
        if handoff is not None:
            await self.calls.run("handed_off", call, handoff.get("reference"), now())
        transfer = reply.event("transfer")
        if transfer is not None and transfer.get("phone"):
            sid = transfer.get("service") or None
            target = reach.Target(name="", phone=str(transfer["phone"]), service=sid)
            twiml_text = await self._dial(call, target, texts, reason=str(transfer.get("reason") or "bot"))
            return Answer(twiml_text, "transfer", sid)
        if reply.empty:
            return Answer(self._listen([NOT_CAUGHT], state), "bot_empty")
        if reply.event("clarify") is not None:
            return Answer(self._listen(texts, TurnState(choose=True)), "bot_question")
        offer = None
        if service:
            target = reach.for_service(self.catalogue, service)
            if target.phone:
                offer = service
                texts = _with_offer(texts, target)
        return Answer(self._listen(texts, TurnState(offer=offer)), "bot", service)

    # --- putting people through -----------------------------------------------

    async def _connect_entry(self, call: str, entry: Entry) -> Answer:
        service = self.catalogue.services.get(entry.service) if entry.service else None
        web = service.web if service else self.catalogue.contact_centre.web
        target = reach.line(self.catalogue, entry.name, entry.phone, entry.hours, service, web,
                            entry.out_of_hours_phone)
        await self.calls.run("routed", call, entry.service, now())
        if target.phone:
            intro = f"Putting you through to {entry.name}." if not target.out_of_hours else (
                f"{entry.name} is closed at the moment, so I'll put you through to the out-of-hours team.")
            return Answer(await self._dial(call, target, [intro], reason="directory"), "directory", entry.service)
        texts = [self._closed_text(target), "Is there anything else I can help with?"]
        return Answer(self._listen(texts, FRESH), "directory", entry.service)

    async def _dial(self, call: str, target: reach.Target, texts: Sequence[str], reason: str,
                    fallback: bool = False) -> str:
        assert target.phone is not None
        transfer = await self.calls.run("transfer_started", call, to_e164(target.phone), target.service, reason,
                                        now())
        query = f"transfer={transfer if transfer is not None else ''}"
        if target.service:
            query += f"&service={target.service}"
        if fallback:
            query += "&fallback=1"
        log.info("transfer", extra={"call": call, "service": target.service, "reason": reason})
        return twiml.dial(texts, to_e164(target.phone), f"{DIAL_RESULT}?{query}", f"{DIAL_STATUS}?{query}",
                          self.voice, timeout_s=self.dial_timeout_s)

    def _closed_text(self, target: reach.Target) -> str:
        name = target.name[:1].upper() + target.name[1:]
        web = web_for(target.web or self.catalogue.contact_centre.web, "voice")
        return f"{name} is closed at the moment and opens {target.opens}. You can go to {web} at any time."

    def _closed_or_goodbye(self, target: reach.Target) -> str:
        if target.phone:
            return twiml.dial([NOT_HEARD, "Let me put you through to someone."], to_e164(target.phone),
                              f"{DIAL_RESULT}?fallback=1", f"{DIAL_STATUS}", self.voice,
                              timeout_s=self.dial_timeout_s)
        return twiml.hang_up([NOT_HEARD, self._closed_text(target), GOODBYE], self.voice)

    # --- helpers ----------------------------------------------------------------

    def apology(self, texts: Sequence[str]) -> str:
        """Words and the keypad menu, needing nothing but the menu data: what
        the caller hears when something unexpected failed."""
        return self._listen([*texts, self.menu.prompt("")], TurnState(menu=""))

    def _listen(self, texts: Sequence[str], state: TurnState, remember: Sequence[str] | None = None) -> str:
        """Say `texts` and listen; what is said (or `remember`, the part of
        it worth repeating) is kept for "repeat that"."""
        if _ENGAGED.get():
            state = replace(state, engaged=True)
        if _SLOW.get():
            state = replace(state, slow=True)
        self.last_said.remember(_CALL.get(), (tuple(texts if remember is None else remember), state))
        timeout_s, speech_timeout = (SLOW_TIMEOUT_S, SLOW_SPEECH_TIMEOUT) if state.slow else (TIMEOUT_S, "auto")
        return twiml.gather(texts, state.url(TURN), state.url(NO_INPUT), self.voice, self.hints,
                            timeout_s=timeout_s, speech_timeout=speech_timeout)

    def _entry(self, entry_id: str | None) -> Entry | None:
        try:
            return self.directory.get(entry_id) if entry_id else None
        except KeyError:
            return None


def _keyed(keys: str) -> dict[str, Any]:
    """Metadata for a message the keypad chose: the keys from the main menu,
    kept with the conversation so a recorded call can be replayed key by key."""
    return {"channel": "voice", "keys": keys}


def _with_offer(texts: list[str], target: reach.Target) -> list[str]:
    """Add 'press 1' to the bot's answer, before its closing question."""
    if texts and "put you through" in texts[-1]:
        return texts[:-1] + [texts[-1] + " Say yes or press 1."]
    offer = f"To be put through to {target.name} now, press 1."
    if texts and texts[-1].endswith("?"):
        return texts[:-1] + [offer, texts[-1]]
    return texts + [offer]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _float(value: str) -> float | None:
    try:
        return max(0.0, min(1.0, float(value)))
    except ValueError:
        return None


class AsyncCallLog:
    """The call log's writes, off the event loop and never holding a caller.

    Writes run one at a time, in order, on a thread of their own (so a
    stalled database cannot take the threads anything else needs). A turn
    waits at most `deadline_s` for its write; past that the caller is
    answered and the write stays queued, to be made when the database
    answers again, and until the queue has drained later writes do not wait
    at all. A write that fails is logged and dropped; beyond `max_queued`
    writes waiting, new ones are dropped. `on_late` and `on_dropped` count
    them (metrics)."""

    def __init__(self, call_log: CallLog | None, deadline_s: float = 0.25, max_queued: int = 10_000,
                 on_late: Callable[[str], None] | None = None,
                 on_dropped: Callable[[str, str], None] | None = None) -> None:
        self._log = call_log
        self._deadline_s = deadline_s
        self._max_queued = max_queued
        self._on_late = on_late or (lambda method: None)
        self._on_dropped = on_dropped or (lambda method, why: None)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="calllog")
        self._queued = 0
        self._stalled = False

    async def run(self, method: str, *args: Any) -> Any:
        """Make one write (a CallLog method and its arguments); its result,
        or None when it failed, was dropped or was not made in time."""
        if self._log is None:
            return None
        if self._queued >= self._max_queued:
            self._on_dropped(method, "queue_full")
            log.error("call log write dropped: %d writes already waiting", self._queued, extra={"event": method})
            return None
        self._queued += 1
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._write, method, args)
        future.add_done_callback(self._done)
        if self._stalled:
            self._on_late(method)
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._deadline_s)
        except asyncio.TimeoutError:
            self._stalled = True
            self._on_late(method)
            log.warning("call log write late: answering the caller, writing later", extra={"event": method})
            return None

    def _write(self, method: str, args: tuple[Any, ...]) -> Any:
        try:
            return getattr(self._log, method)(*args)
        except ValueError as refused:
            # A value the call log will not store (a crafted CallStatus, say):
            # not a fault of the database, and no stack trace for it. The
            # messages name the field, never the value.
            self._on_dropped(method, "refused")
            log.warning("call log refused a value", extra={"event": method, "why": str(refused)[:120]})
            return None
        except Exception:  # noqa: BLE001 - the call must go on whatever the database does
            self._on_dropped(method, "failed")
            log.exception("call log write failed", extra={"call": args[0] if args else None, "event": method})
            return None

    def _done(self, _future: "asyncio.Future[Any]") -> None:
        self._queued -= 1
        if self._queued == 0:
            self._stalled = False

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait (up to `timeout_s`) for the queued writes, then stop the thread."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._queued and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        self._executor.shutdown(wait=False)
