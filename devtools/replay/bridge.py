"""Replay through a running bridge: conversations as phone calls and texts from
the call simulator."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any, Sequence

from council.clock import LONDON, parse
from devtools.replay.common import FICTIONAL_CALLER
from devtools.replay.compare import Divergence, compare_heard
from devtools.replay.files import Conversation
from devtools.replay.observed import Observed
from devtools.replay.results import Result


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
    return [heard_turn(lines) for lines in by_turn(conversation, out.lines)]


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


def heard_turn(lines: Sequence[str]) -> Observed:
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


def other_time(when: str | None, clock: str | None) -> str:
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
    real one) is not at (see other_time)."""
    results = []
    for conversation in conversations:
        if conversation.channel == "chat":
            results.append(Result(conversation, "skip", reason="web chat does not go through the phone line"))
            continue
        reason = other_time(conversation.when, clock)
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
