"""Comparing one turn's expectations with what the bot did or was heard to say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from devtools.replay.common import _REFERENCE, _SPOKEN_REFERENCE, OUTCOMES
from devtools.replay.files import Turn
from devtools.replay.observed import Observed


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
