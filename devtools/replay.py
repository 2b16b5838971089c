"""Conversation replay: recorded conversations as test files, replayed
against the current model before anything ships.

A conversation file (YAML, under tests/conversations/) holds what the
resident said or keyed, turn by turn, and what must come back:

    name: missed bin by text
    channel: sms                 # chat | sms | voice
    when: "2026-12-02T10:30"     # the clock during the conversation (London)
    match: text                  # text: replies word for word (default);
                                 # name: response names only (wording may change)
    turns:
      - say: my bin wasnt collected
        expect:
          intent: missed_bin
          route: missed_bin      # the service routed to; absent: none
          responses:
            - name: utter_...    # the domain response, or null for free text
              text: ...
          transfer: {service: ..., phone: ...}     # absent: must not happen
          handoff: {reason: ..., priority: ...}    # absent: must not happen
          hangup: emergency                        # absent: must not happen
      - keys: "31"               # voice: keys pressed from the main menu...
        say: /council_tax        # ...and what the bridge sent the bot for them

`run` replays each file in-process (the model in a Rasa Agent, the custom
actions called through the Rasa SDK's executor without a server) or, with
`--stack URL`, as phone calls and texts to a running bridge through the
call simulator, and reports the first turn that diverged, expected beside
actual. `record` writes such files from the tracker store, with callers'
numbers and names replaced, or fills in a file's expectations from what the
current bot does (`--fill`), for a developer to review before committing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
import uuid
import xml.etree.ElementTree as ET
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

import yaml

from council.clock import LONDON, parse
from plumbing.paths import ROOT

CONVERSATIONS_DIR = ROOT / "tests" / "conversations"
CHANNELS = ("chat", "sms", "voice")
MATCHES = ("text", "name")
OUTCOMES = ("transfer", "handoff", "hangup")
# Ofcom's drama ranges: numbers that can never reach a real person.
FICTIONAL_MOBILE = "07700 900123"
FICTIONAL_CALLER = "+447700900123"
FICTIONAL_NAME = "Sam Taylor"
FICTIONAL_EMAIL = "resident@example.com"
HEADER = ("# A recorded conversation, replayed by `python -m devtools replay run`. Callers' numbers\n"
          "# and names were replaced before it was written. Review it before committing.\n")

_REFERENCE = re.compile(r"\bLAN-[0-9A-Z]{3}-[0-9A-Z]{3}\b")
# council.references.spoken: "L A N, seven, K for Kilo, ..." (six characters).
_SPOKEN_REFERENCE = re.compile(r"\bL A N(?:, (?:[A-Z] for [A-Za-z-]+|[a-z]+)){6}")


class ConversationFileError(ValueError):
    """A conversation file that cannot be replayed; the message says where."""


# --------------------------------------------------------------- the files


@dataclass(frozen=True)
class Turn:
    say: str | None
    keys: str | None
    expect: Mapping[str, Any]
    match: str

    @property
    def said(self) -> str:
        """The turn as a report names it."""
        return f"keys {self.keys}" if self.keys is not None else self.say or ""


@dataclass(frozen=True)
class Conversation:
    path: Path
    name: str
    channel: str
    when: str | None
    match: str
    turns: tuple[Turn, ...]

    @property
    def label(self) -> str:
        try:
            return str(self.path.relative_to(ROOT))
        except ValueError:
            return str(self.path)


def load(path: Path) -> Conversation:
    """Read and check one conversation file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConversationFileError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(raw, dict):
        raise ConversationFileError(f"{path}: expected a mapping with name, channel and turns")

    def fail(problem: str) -> ConversationFileError:
        return ConversationFileError(f"{path}: {problem}")

    channel = raw.get("channel", "chat")
    if channel not in CHANNELS:
        raise fail(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    match = raw.get("match", "text")
    if match not in MATCHES:
        raise fail(f"match must be one of {', '.join(MATCHES)}, not {match!r}")
    when = raw.get("when")
    if when is not None:
        try:
            parse(str(when))
        except ValueError as exc:
            raise fail(f"when: {exc}") from None
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise fail("turns must be a non-empty list")
    parsed = []
    for number, item in enumerate(turns, 1):
        if not isinstance(item, dict):
            raise fail(f"turn {number} must be a mapping")
        say, keys = item.get("say"), item.get("keys")
        if keys is not None:
            keys = str(keys)
            if channel != "voice" or not re.fullmatch(r"[0-9*#]+", keys):
                raise fail(f"turn {number}: keys are digits, * or #, on the voice channel only")
        if say is None and keys is None:
            raise fail(f"turn {number} needs `say` (what was said or sent) or `keys`")
        expect = item.get("expect", {}) or {}
        if not isinstance(expect, dict):
            raise fail(f"turn {number}: expect must be a mapping")
        unknown = set(expect) - {"intent", "route", "responses", *OUTCOMES}
        if unknown:
            raise fail(f"turn {number}: unknown expectation(s) {', '.join(sorted(unknown))}")
        turn_match = item.get("match", match)
        if turn_match not in MATCHES:
            raise fail(f"turn {number}: match must be one of {', '.join(MATCHES)}")
        parsed.append(Turn(None if say is None else str(say), keys, expect, turn_match))
    return Conversation(path, str(raw.get("name") or path.stem), channel,
                        None if when is None else str(when), match, tuple(parsed))


def discover(paths: Sequence[str | Path]) -> list[Path]:
    """The conversation files named or under the directories named (default
    tests/conversations/), sorted."""
    found: list[Path] = []
    for given in paths or [CONVERSATIONS_DIR]:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.yml") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise ConversationFileError(f"{path}: no such file or directory")
    return found


# ----------------------------------------------------- what the bot did


@dataclass
class Observed:
    """What one turn produced, in the terms a conversation file uses."""

    intent: str | None = None
    route: str | None = None
    responses: list[dict[str, Any]] = field(default_factory=list)
    transfer: dict[str, Any] | None = None
    handoff: dict[str, Any] | None = None
    hangup: str | None = None
    heard: list[str] = field(default_factory=list)  # --stack: what the caller heard or read

    def expectation(self) -> dict[str, Any]:
        """This turn written as an `expect` block."""
        written: dict[str, Any] = {"intent": self.intent}
        if self.route:
            written["route"] = self.route
        written["responses"] = self.responses
        for name in OUTCOMES:
            value = getattr(self, name)
            if value is not None:
                written[name] = value
        return written


def _council(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    custom = (data or {}).get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("council"), dict):
        return custom["council"]
    return None


def _apply_bot_event(observed: Observed, event: Mapping[str, Any]) -> None:
    payload = _council(event.get("data"))
    if payload is not None:
        kind = payload.get("event")
        if kind == "route":
            observed.route = payload.get("service")
        elif kind == "transfer":
            observed.transfer = {"service": payload.get("service"), "phone": payload.get("phone")}
        elif kind == "handoff":
            observed.handoff = {"reason": payload.get("reason"), "priority": payload.get("priority")}
        elif kind == "hangup":
            observed.hangup = payload.get("reason")
        return
    text = event.get("text")
    buttons = (event.get("data") or {}).get("buttons") or []
    if text is None and not buttons:
        return
    reply: dict[str, Any] = {"name": (event.get("metadata") or {}).get("utter_action"), "text": text}
    if buttons:
        reply["buttons"] = [button.get("payload") for button in buttons]
    observed.responses.append(reply)


def split_turns(events: Iterable[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], Observed]]:
    """A tracker's events (as dictionaries) as turns: each user message with
    what the bot did until the next one. Starts at the latest session."""
    events = list(events)
    starts = [i for i, event in enumerate(events) if event.get("event") == "session_started"]
    if starts:
        events = events[starts[-1]:]
    turns: list[tuple[Mapping[str, Any], Observed]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            turns.append((event, Observed(intent=intent)))
        elif kind == "bot" and turns:
            _apply_bot_event(turns[-1][1], event)
    return turns


# --------------------------------------------------------------- comparing


def normalise(text: str | None) -> str | None:
    """Text as compared: whitespace collapsed, case references (new for every
    conversation) replaced by a marker, written or spoken."""
    if text is None:
        return None
    text = _SPOKEN_REFERENCE.sub("<reference>", " ".join(text.split()))
    return _REFERENCE.sub("<reference>", text)


@dataclass(frozen=True)
class Divergence:
    turn: int  # 1-based
    field: str
    expected: Any
    actual: Any
    said: str

    def side_by_side(self, width: int = 60) -> str:
        """The divergence as two columns, expected | actual."""
        left = _lines(self.expected, width)
        right = _lines(self.actual, width)
        rows = [f"turn {self.turn} ({self.said!r}): {self.field} differs", f"{'expected':<{width}} | actual"]
        rows.append(f"{'-' * width}-+-{'-' * width}")
        for index in range(max(len(left), len(right))):
            a = left[index] if index < len(left) else ""
            b = right[index] if index < len(right) else ""
            rows.append(f"{a:<{width}} | {b}")
        return "\n".join(rows)


def _lines(value: Any, width: int) -> list[str]:
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_wrap(f"- {_short(item)}", width))
        return out or ["(none)"]
    return _wrap("(none)" if value is None else _short(value), width)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v is not None)
    return str(value)


def _wrap(text: str, width: int) -> list[str]:
    lines = []
    while len(text) > width:
        # Break at a space after the continuation indent: a word longer than
        # the column (a long web address) is cut, never looped on.
        cut = text.rfind(" ", 3, width)
        cut = cut if cut > 2 else width
        lines.append(text[:cut])
        text = "  " + text[cut:].lstrip()
    return lines + [text]


def _replies(responses: Sequence[Mapping[str, Any]], match: str) -> list[Any]:
    if match == "name":
        return [reply.get("name") or normalise(reply.get("text")) for reply in responses]
    return [{"text": normalise(reply.get("text")), **({"buttons": list(reply["buttons"])} if reply.get("buttons")
                                                       else {})} for reply in responses]


def compare_turn(number: int, turn: Turn, observed: Observed) -> Divergence | None:
    """The first way `observed` differs from what `turn` expects, in-process:
    the intent, the route, the replies, then transfer, handoff and hang-up."""
    expect, said = turn.expect, turn.said
    if "intent" in expect and expect["intent"] != observed.intent:
        return Divergence(number, "intent", expect["intent"], observed.intent, said)
    if expect.get("route") != observed.route:
        return Divergence(number, "route", expect.get("route"), observed.route, said)
    if "responses" in expect:
        wanted = _replies(expect["responses"] or [], turn.match)
        got = _replies(observed.responses, turn.match)
        if wanted != got:
            return Divergence(number, "responses", wanted, got, said)
    for name in OUTCOMES:
        if expect.get(name) != getattr(observed, name):
            return Divergence(number, name, expect.get(name), getattr(observed, name), said)
    return None


def compare_heard(number: int, turn: Turn, observed: Observed, *, phone: bool = True) -> Divergence | None:
    """Through the phone line (--stack): every expected reply was heard or
    read, in order (as the bridge speaks or texts it), and the call was put
    through or hung up as expected. Intents, routes and handoffs are not
    visible there; the in-process replay checks them. A text conversation
    (`phone` false) has no line to hang up."""
    from council.phones import to_e164
    from telephony_bridge.twiml import speakable

    said = turn.said
    heard = normalise(" ".join(observed.heard)) or ""
    if turn.match == "text":
        position = 0
        for reply in turn.expect.get("responses") or []:
            text = normalise(reply.get("text"))
            if not text:
                continue
            # The phone line reads numbers digit by digit; a text keeps them.
            found = [at for at in (heard.find(text, position), heard.find(normalise(speakable(text)) or text, position))
                     if at >= 0]
            if not found:
                return Divergence(number, "heard", text, heard, said)
            position = min(found)
    expected_hangup = turn.expect.get("hangup") if phone else None
    if bool(expected_hangup) != bool(observed.hangup):
        return Divergence(number, "hangup", expected_hangup, observed.hangup, said)
    transfer = turn.expect.get("transfer")
    got = observed.transfer
    dialled = to_e164(str(got.get("phone"))) if got else None
    if (transfer is None) != (got is None) or (transfer and to_e164(str(transfer.get("phone"))) != dialled):
        return Divergence(number, "transfer", transfer, got, said)
    return None


# ---------------------------------------------------------------- results


@dataclass
class Result:
    conversation: Conversation
    status: str  # "pass" | "fail" | "skip" | "error"
    divergence: Divergence | None = None
    reason: str = ""
    seconds: float = 0.0
    observed: list[Observed] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("pass", "skip")


def summary_table(results: Sequence[Result]) -> str:
    """One line a conversation, then the totals."""
    width = max([len(r.conversation.label) for r in results] + [12])
    lines = [f"{'conversation':<{width}}  {'channel':<7}  {'turns':>5}  result", "-" * (width + 30)]
    for result in results:
        detail = result.status.upper()
        if result.divergence is not None:
            detail += f" at turn {result.divergence.turn} ({result.divergence.field})"
        elif result.reason:
            detail += f": {result.reason}"
        lines.append(f"{result.conversation.label:<{width}}  {result.conversation.channel:<7}  "
                     f"{len(result.conversation.turns):>5}  {detail}")
    counts = {status: sum(r.status == status for r in results) for status in ("pass", "fail", "error", "skip")}
    lines.append("-" * (width + 30))
    lines.append(f"{len(results)} conversations: {counts['pass']} passed, {counts['fail']} diverged, "
                 f"{counts['error']} could not run, {counts['skip']} skipped")
    return "\n".join(lines)


def junit_xml(results: Sequence[Result], suite: str = "conversation-replay") -> str:
    """JUnit XML, one test case a conversation, for CI to show."""
    failures = sum(r.status == "fail" for r in results)
    errors = sum(r.status == "error" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    total = sum(r.seconds for r in results)
    cases = []
    for result in results:
        attrs = (f"classname={quoteattr(suite + '.' + result.conversation.channel)} "
                 f"name={quoteattr(result.conversation.label)} time=\"{result.seconds:.3f}\"")
        if result.status == "fail" and result.divergence is not None:
            message = f"turn {result.divergence.turn}: {result.divergence.field} differs"
            body = (f"<failure message={quoteattr(message)}>"
                    f"{escape(result.divergence.side_by_side())}</failure>")
        elif result.status == "error":
            body = f"<error message={quoteattr(result.reason)}/>"
        elif result.status == "skip":
            body = f"<skipped message={quoteattr(result.reason)}/>"
        else:
            body = ""
        cases.append(f"  <testcase {attrs}>{body}</testcase>")
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuite name={quoteattr(suite)} tests=\"{len(results)}\" "
            f"failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total:.3f}\">\n"
            + "\n".join(cases) + "\n</testsuite>\n")


# --------------------------------------------------------- in-process replay


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    """These environment variables for the length of the block, then as
    they were (the actions read theirs on every call, in this process)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def in_process_actions() -> Any:
    """An action endpoint that runs the project's custom actions in this
    process through the Rasa SDK's own executor: the same code the action
    server runs, without a server."""
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

    class InProcessActions(EndpointConfig):
        def __init__(self) -> None:
            super().__init__(url="in-process://actions")
            self.executor = ActionExecutor()
            self.executor.register_package("actions")

        async def request(self, method: str = "post", subpath: str | None = None,
                          content_type: str | None = "application/json", compress: bool = False,
                          **kwargs: Any) -> Any:
            call = json.loads(json.dumps(kwargs.get("json") or {}))  # as the server would receive it
            try:
                return await self.executor.run(call)
            except ActionExecutionRejection as exc:
                raise ClientResponseError(400, "", json.dumps({"error": exc.message,
                                                               "action_name": exc.action_name})) from None
            except ActionNotFoundException as exc:
                raise ClientResponseError(404, "", json.dumps({"error": exc.message,
                                                               "action_name": exc.action_name})) from None

    return InProcessActions()


class InProcessBot:
    """The current model in a Rasa Agent with the actions in-process; each
    conversation gets a new sender id and its own clock."""

    def __init__(self, model: Path) -> None:
        from rasa.core.agent import Agent

        self.agent = Agent.load(str(model), action_endpoint=in_process_actions())

    async def play(self, conversation: Conversation) -> list[Observed]:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        sender = f"replay-{uuid.uuid4().hex[:12]}"
        metadata: dict[str, Any] = {"channel": conversation.channel}
        if conversation.channel == "voice":
            metadata["caller"] = FICTIONAL_CALLER
        observed: list[Observed] = []
        with _environ(**({"FAKE_NOW": conversation.when} if conversation.when else {})):
            for turn in conversation.turns:
                text = turn.say if turn.say is not None else ""
                extra = {"keys": turn.keys} if turn.keys else {}
                await self.agent.handle_message(UserMessage(
                    text, CollectingOutputChannel(), sender_id=sender, input_channel="rest",
                    metadata={**metadata, **extra}))
                tracker = await self.agent.tracker_store.retrieve(sender)
                turns = split_turns(event.as_dict() for event in tracker.events) if tracker else []
                observed.append(turns[-1][1] if turns else Observed())
        return observed


async def replay_in_process(conversations: Sequence[Conversation], bot: InProcessBot) -> list[Result]:
    results = []
    for conversation in conversations:
        started = time.perf_counter()
        try:
            observed = await bot.play(conversation)
        except Exception as exc:  # noqa: BLE001 - one broken conversation must not hide the others
            results.append(Result(conversation, "error", reason=f"{type(exc).__name__}: {exc}",
                                  seconds=time.perf_counter() - started))
            continue
        divergence = next((d for d in (compare_turn(i, turn, seen) for i, (turn, seen)
                                       in enumerate(zip(conversation.turns, observed), 1)) if d), None)
        results.append(Result(conversation, "fail" if divergence else "pass", divergence,
                              seconds=time.perf_counter() - started, observed=observed))
    return results


# ------------------------------------------------------- through the bridge


async def _call_through_bridge(conversation: Conversation, url: str, token: str,
                               public_url: str | None) -> list[Observed]:
    """One phone call: each turn's words or keys, then what was heard until
    the bridge wanted the next input."""
    from devtools.simulator import run_call

    async def lines() -> Any:
        for turn in conversation.turns:
            if turn.keys is not None:
                for key in turn.keys:
                    yield f"#{key}"
            else:
                yield turn.say or ""

    out = _Transcript()
    await run_call(url, lines(), auth_token=token, public_base_url=public_url, out=out)  # type: ignore[arg-type]
    return [_heard(lines) for lines in by_turn(conversation, out.lines)]


class _Transcript:
    """Collects the simulator's transcript lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.extend(line for line in text.splitlines() if line)

    def flush(self) -> None:
        pass


def by_turn(conversation: Conversation, transcript: Sequence[str]) -> list[list[str]]:
    """A simulator transcript cut into each turn's answer: what came after
    the turn's last input (its last key, for several keys) and before the
    next turn's first. A call that ended early has fewer answers than turns."""
    inputs = [i for i, line in enumerate(transcript) if line.startswith(("you: ", "keys: ")) or line == "silence"]
    answers: list[list[str]] = []
    first = 0
    for turn in conversation.turns:
        last = first + (len(turn.keys) if turn.keys is not None else 1) - 1
        if last >= len(inputs):
            break
        following = inputs[last + 1] if last + 1 < len(inputs) else len(transcript)
        answers.append(list(transcript[inputs[last] + 1:following]))
        first = last + 1
    return answers


def _heard(lines: Sequence[str]) -> Observed:
    observed = Observed()
    for line in lines:
        if line.startswith("bot: "):
            observed.heard.append(line[5:])
        elif line.startswith("dial: "):
            observed.transfer = {"phone": line[6:].split(" -> ")[0].strip()}
        elif line == "hangup: bridge" and observed.transfer is None:
            observed.hangup = "bridge"  # after a transfer it is only the call ending
    return observed


async def _text_through_bridge(conversation: Conversation, url: str, token: str,
                               public_url: str | None) -> list[Observed]:
    """One text conversation: each message as Twilio would post it, signed."""
    import aiohttp

    from devtools.simulator import DEFAULT_CALLED, new_sid, signed_headers

    target = url.rstrip("/") + "/sms/incoming"
    signed_for = (public_url or url).rstrip("/") + "/sms/incoming"
    observed = []
    async with aiohttp.ClientSession() as session:
        for turn in conversation.turns:
            params = {"MessageSid": new_sid("SM"), "AccountSid": new_sid("AC"), "From": FICTIONAL_CALLER,
                      "To": DEFAULT_CALLED, "Body": turn.say or "", "NumMedia": "0"}
            async with session.post(target, data=params, headers=signed_headers(token, signed_for, params)) as reply:
                body = await reply.text()
            parts = [" ".join("".join(m.itertext()).split()) for m in ET.fromstring(body).iter("Message")]
            # A long reply comes in numbered parts ("1/2 ...", telephony_bridge.sms.split_message).
            observed.append(Observed(heard=[re.sub(r"^\(?\d+/\d+\)?\s+", "", part) for part in parts]))
    return observed


def _other_time(when: str | None, clock: str | None) -> str:
    """Why a conversation cannot be replayed against a stack whose clock is
    `clock` (None: the real one), or '' when it can. Lines closed when it
    was recorded: the answers name when they open, so only the same moment
    will do. Every line open: any moment at which every line is open."""
    if not when:
        return ""
    recorded = parse(when)
    if clock:
        return "" if parse(clock) == recorded else f"recorded at {when}; the stack's clock is {clock}"
    from council import hours
    from council.catalogue import default_catalogue

    catalogue = default_catalogue()

    def all_open(moment: datetime) -> bool:
        return all(hours.is_open(schedule, catalogue.bank_holidays, moment)
                   for schedule in catalogue.schedules.values())

    if all_open(recorded) and all_open(datetime.now(LONDON)):
        return ""
    return f"recorded at {when}, when not every line was open: give --clock (the stack's FAKE_NOW) to replay it"


async def replay_stack(conversations: Sequence[Conversation], url: str, *, token: str,
                       public_url: str | None = None, clock: str | None = None) -> list[Result]:
    """Phone and text conversations through a running bridge. Chat has no
    phone line and is skipped, as is a conversation whose answers depend on
    a time the stack's clock (`clock`, the FAKE_NOW it runs with; None: the
    real one) is not at (see _other_time)."""
    results = []
    for conversation in conversations:
        if conversation.channel == "chat":
            results.append(Result(conversation, "skip", reason="web chat does not go through the phone line"))
            continue
        reason = _other_time(conversation.when, clock)
        if reason:
            results.append(Result(conversation, "skip", reason=reason))
            continue
        started = time.perf_counter()
        try:
            play = _call_through_bridge if conversation.channel == "voice" else _text_through_bridge
            observed = await play(conversation, url, token, public_url)
        except Exception as exc:  # noqa: BLE001 - reported per conversation
            results.append(Result(conversation, "error", reason=f"{type(exc).__name__}: {exc}",
                                  seconds=time.perf_counter() - started))
            continue
        phone = conversation.channel == "voice"
        divergence = next((d for d in (compare_heard(i, turn, seen, phone=phone) for i, (turn, seen)
                                       in enumerate(zip(conversation.turns, observed), 1)) if d), None)
        if divergence is None and len(observed) < len(conversation.turns):
            divergence = Divergence(len(observed) + 1, "call", "the call still open", "the call had ended",
                                    conversation.turns[len(observed)].say or "")
        results.append(Result(conversation, "fail" if divergence else "pass", divergence,
                              seconds=time.perf_counter() - started, observed=observed))
    return results


# ------------------------------------------------------------------ record

_NAME_INTRO = re.compile(
    r"\b(my name is|my name's|name's|this is|i'm called|i am called|call me|it's)\s+"
    r"([A-Za-z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?)", re.IGNORECASE)
_NOT_NAMES = {"about", "a", "an", "the", "my", "not", "just", "calling", "ringing", "regarding", "for", "to",
              "urgent", "lancaster", "council", "me", "still", "happening", "again", "really", "on", "at", "back",
              "when", "if", "later", "please", "tomorrow", "today", "now", "in", "i", "we", "so", "ok", "okay"}
_PHONE = re.compile(r"(?<![\w])(?:\+44\s?|0)(?:\d[\s-]?){9,10}(?![\w])")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")


def scrub(text: str, replaced: dict[str, str] | None = None) -> str:
    """`text` with phone numbers, e-mail addresses, names given ("my name
    is ...") and card or bank numbers replaced by fictional ones. Each value
    found is added to `replaced` so the bot's echo of it can be replaced too."""
    from council.redaction import redact

    replaced = {} if replaced is None else replaced

    def keep(original: str, fictional: str) -> str:
        replaced[original] = fictional
        return fictional

    text = _PHONE.sub(lambda m: keep(m.group(0), FICTIONAL_MOBILE), text)
    text = _EMAIL.sub(lambda m: keep(m.group(0), FICTIONAL_EMAIL), text)

    def name(match: re.Match[str]) -> str:
        words = match.group(2).split()
        if words[0].lower() in _NOT_NAMES:
            return match.group(0)
        words = [w for w in words if w.lower() not in _NOT_NAMES] or words[:1]
        original = " ".join(words)
        fictional = FICTIONAL_NAME if len(words) > 1 else FICTIONAL_NAME.split()[0]
        return match.group(0).replace(original, keep(original, fictional), 1)

    text = _NAME_INTRO.sub(name, text)
    return redact(text)


def _apply(replaced: Mapping[str, str], text: str | None) -> str | None:
    if text is None:
        return None
    for original, fictional in replaced.items():
        text = text.replace(original, fictional)
    return text


def conversation_document(events: Sequence[Mapping[str, Any]], *, name: str | None = None,
                          when: str | None = None, match: str = "text") -> dict[str, Any]:
    """A tracker's events as a conversation file's contents, callers'
    details replaced."""
    turns = split_turns(events)
    if not turns:
        raise ValueError("the conversation has no message from a resident")
    first = turns[0][0]
    metadata = first.get("metadata") or {}
    channel = metadata.get("channel") if metadata.get("channel") in CHANNELS else "chat"
    if when is None and first.get("timestamp"):
        moment = datetime.fromtimestamp(float(first["timestamp"]), tz=timezone.utc).astimezone(LONDON)
        when = moment.strftime("%Y-%m-%dT%H:%M")
    replaced: dict[str, str] = {}
    written = []
    for user, observed in turns:
        text = scrub(str(user.get("text") or ""), replaced)
        for reply in observed.responses:
            reply["text"] = _apply(replaced, reply.get("text"))
        item: dict[str, Any] = {}
        keys = (user.get("metadata") or {}).get("keys")
        if channel == "voice" and keys and re.fullmatch(r"[0-9*#]+", str(keys)):
            item["keys"] = str(keys)
        item["say"] = text
        item["expect"] = observed.expectation()
        written.append(item)
    first_route = next((o.route for _, o in turns if o.route), None)
    title = name or f"{channel}: {first_route or turns[0][1].intent or 'conversation'}"
    document: dict[str, Any] = {"name": title, "channel": channel}
    if when:
        document["when"] = when
    document["match"] = match
    document["turns"] = written
    return document


def dump(document: Mapping[str, Any]) -> str:
    return HEADER + yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)


def file_name(document: Mapping[str, Any]) -> str:
    """A name from the channel and the first route, never the sender id."""
    first = document["turns"][0]["expect"]
    topic = first.get("route") or first.get("intent") or "conversation"
    digest = hashlib.sha256(dump(document).encode()).hexdigest()[:6]
    return f"{document['channel']}-{re.sub(r'[^a-z0-9_]+', '_', str(topic).lower())}-{digest}.yml"


def tracker_store_url(env: Mapping[str, str] | None = None) -> str:
    """Where Rasa keeps conversations: TRACKER_STORE_URL as `bot serve`
    reads it, a relative SQLite path taken from the repository root."""
    from sqlalchemy.engine import make_url

    from bot.serve import DEFAULT_TRACKER_STORE_URL, MEMORY

    env = os.environ if env is None else env
    url = env.get("TRACKER_STORE_URL", "").strip() or DEFAULT_TRACKER_STORE_URL
    if url == MEMORY:
        raise ValueError("TRACKER_STORE_URL=memory: the Rasa server keeps no conversations to record")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
        return f"sqlite:///{ROOT / parsed.database}"
    return url


def stored_conversations(url: str, *, ids: Sequence[str] = (), last: int | None = None,
                         handoffs: bool = False) -> list[tuple[str, list[dict[str, Any]]]]:
    """Conversations from Rasa's SQL tracker store, newest first: those with
    the sender ids given, else the last `last` (all when None); with
    `handoffs`, only those in which a case was made."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            table = sa.Table("events", sa.MetaData(), autoload_with=connection)
            if ids:
                senders = list(ids)
            else:
                from devtools.stack import WARM_UP_SENDER

                query = (sa.select(table.c.sender_id, sa.func.max(table.c.timestamp).label("latest"))
                         .where(table.c.sender_id != WARM_UP_SENDER)
                         .group_by(table.c.sender_id).order_by(sa.desc("latest")))
                senders = [row.sender_id for row in connection.execute(query)]
            found = []
            for sender in senders:
                rows = connection.execute(sa.select(table.c.data).where(table.c.sender_id == sender)
                                          .order_by(table.c.id)).all()
                events = [json.loads(row.data) for row in rows]
                if not events:
                    continue
                if handoffs and not any(o.handoff for _, o in split_turns(events)):
                    continue
                if not any(e.get("event") == "user" for e in events):
                    continue
                found.append((sender, events))
                if last is not None and not ids and len(found) >= last:
                    break
            return found
    finally:
        engine.dispose()


async def fill(paths: Sequence[Path], bot: InProcessBot) -> list[Path]:
    """Write into each file what the current bot does for its turns (for a
    new conversation written by hand, or after an intended change)."""
    written = []
    for path in paths:
        conversation = load(path)
        observed = await bot.play(conversation)
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for item, seen in zip(raw["turns"], observed):
            item["expect"] = seen.expectation()
        path.write_text(dump(raw), encoding="utf-8")
        written.append(path)
    return written


# ------------------------------------------------------------ the commands


def command_run(paths: Sequence[str], *, model: Path | None, stack: str | None, token: str | None,
                public_url: str | None, clock: str | None, junit: str | None) -> int:
    """`python -m devtools replay run`: 0 when every conversation passed, 1 on
    any divergence or conversation that could not run, 2 on a bad file."""
    try:
        conversations = [load(path) for path in discover(paths)]
    except ConversationFileError as exc:
        print(exc)
        return 2
    if not conversations:
        print("No conversation files found.")
        return 2
    if stack:
        from devtools.simulator import DEVELOPMENT_TOKEN

        results = asyncio.run(replay_stack(conversations, stack, token=token or DEVELOPMENT_TOKEN,
                                           public_url=public_url, clock=clock or os.environ.get("FAKE_NOW") or None))
    else:
        assert model is not None
        results = asyncio.run(_replay_here(conversations, model))
    for result in results:
        if result.divergence is not None:
            print(f"\n{result.conversation.label}: {result.conversation.name}")
            print(result.divergence.side_by_side())
        elif result.status == "error":
            print(f"\n{result.conversation.label}: could not run: {result.reason}")
    print()
    print(summary_table(results))
    if junit:
        Path(junit).parent.mkdir(parents=True, exist_ok=True)
        Path(junit).write_text(junit_xml(results), encoding="utf-8")
        print(f"JUnit XML: {junit}")
    return 0 if all(result.ok for result in results) else 1


async def _replay_here(conversations: Sequence[Conversation], model: Path) -> list[Result]:
    async with _no_real_cases():
        return await replay_in_process(conversations, InProcessBot(model))


@asynccontextmanager
async def _no_real_cases() -> AsyncIterator[None]:
    """Cases a replayed conversation makes go to a throw-away outbox aimed
    at a port nothing listens on: a replay must never reach staff's queue."""
    import socket
    import tempfile

    from actions import outbox

    with tempfile.TemporaryDirectory(prefix="replay-") as scratch, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with _environ(HANDOFF_OUTBOX=str(Path(scratch) / "outbox.db"),
                      HANDOFF_URL=f"http://127.0.0.1:{sock.getsockname()[1]}"):
            outbox._default = None  # made again, from the settings above
            try:
                yield
            finally:
                if outbox._default is not None:
                    await outbox._default.stop()
                    outbox._default = None


def command_record(*, ids: Sequence[str], last: int | None, handoffs: bool, out: Path, when: str | None,
                   match: str, fill_paths: Sequence[str], model: Path | None, store: str | None = None) -> int:
    """`python -m devtools replay record`: stored conversations into files, or
    `--fill` the expectations of files written by hand."""
    if fill_paths:
        assert model is not None
        try:
            paths = discover(fill_paths)
            for path in paths:
                load(path)
        except ConversationFileError as exc:
            print(exc)
            return 2
        for path in asyncio.run(_fill_here(paths, model)):
            print(f"filled {path}")
        return 0
    try:
        url = store or tracker_store_url()
        stored = stored_conversations(url, ids=ids, last=last if last is not None else (None if ids else 1),
                                      handoffs=handoffs)
    except Exception as exc:  # noqa: BLE001 - said plainly, not as a trace
        print(f"Could not read the tracker store: {type(exc).__name__}: {exc}")
        return 1
    if not stored:
        print("No stored conversation matched.")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for _, events in stored:
        try:
            document = conversation_document(events, when=when, match=match)
        except ValueError as exc:
            print(f"skipped a conversation: {exc}")
            continue
        path = out / file_name(document)
        path.write_text(dump(document), encoding="utf-8")
        print(f"wrote {path}")
    return 0


async def _fill_here(paths: Sequence[Path], model: Path) -> list[Path]:
    async with _no_real_cases():
        return await fill(paths, InProcessBot(model))
