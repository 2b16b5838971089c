"""The simulated caller: lines of a script or the keyboard (speech, keys,
silence, directives such as how a transfer ends)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import AsyncIterator, Iterable, Iterator, TextIO

from devtools.simulator.common import DEFAULT_CONFIDENCE, DIAL_OUTCOMES, CallResult, collapse


class ScriptError(ValueError):
    """A caller line that is neither input nor a known directive."""


@dataclass(frozen=True)
class CallerInput:
    kind: str  # "speech" | "digits" | "silence" | "hangup"
    text: str = ""
    confidence: float = DEFAULT_CONFIDENCE


@dataclass(frozen=True)
class Directive:
    name: str  # "dial" | "confidence"
    value: str


def parse_line(raw: str) -> CallerInput | Directive | None:
    """One caller line; None for a comment."""
    line = raw.strip()
    if line.startswith(";"):
        return None
    if line in ("", "..."):
        return CallerInput("silence")
    if line.startswith("#"):
        keys = line[1:].replace(" ", "")
        return CallerInput("digits", keys) if keys else CallerInput("silence")
    if line.startswith("!"):
        return parse_directive(line[1:].split())
    return CallerInput("speech", collapse(line))


def parse_directive(words: list[str]) -> CallerInput | Directive:
    name, args = (words[0].lower(), words[1:]) if words else ("", [])
    if name == "hangup" and not args:
        return CallerInput("hangup")
    if name == "dial" and len(args) == 1 and args[0] in DIAL_OUTCOMES:
        return Directive("dial", args[0])
    if name == "confidence" and len(args) == 1:
        try:
            value = float(args[0])
        except ValueError:
            value = -1.0
        if 0.0 <= value <= 1.0:
            return Directive("confidence", args[0])
    raise ScriptError(
        f"not a caller line: !{' '.join(words)} (use !dial {'|'.join(DIAL_OUTCOMES)}, "
        "!confidence 0.0-1.0 or !hangup)"
    )


class LineSource:
    """Caller lines from a list, an async iterator or the keyboard, with
    one line of look-ahead so directives can be read without taking input."""

    def __init__(self, lines: Iterable[str] | AsyncIterator[str] | None) -> None:
        self._pushed: list[str] = []
        self._sync: Iterator[str] | None = None
        self._async: AsyncIterator[str] | None = None
        # Only a person at a keyboard gets a prompt; looking ahead there would
        # stop the call to wait for them, so it is only done for scripts.
        self.interactive = lines is None and sys.stdin.isatty()
        if lines is not None and hasattr(lines, "__anext__"):
            self._async = lines  # type: ignore[assignment]
        elif lines is not None:
            self._sync = iter(lines)  # type: ignore[arg-type]

    async def next(self) -> str | None:
        if self._pushed:
            return self._pushed.pop()
        if self._async is not None:
            try:
                return await self._async.__anext__()
            except StopAsyncIteration:
                return None
        if self._sync is not None:
            return next(self._sync, None)
        return self._read_stdin()

    def push_back(self, line: str) -> None:
        self._pushed.append(line)

    def _read_stdin(self) -> str | None:
        # A blocking read on purpose: nothing else runs while the caller
        # thinks, and Ctrl-C then lands here (a thread would swallow it).
        try:
            if self.interactive:
                return input("you> ")
            line = sys.stdin.readline()
            return line if line else None
        except (EOFError, KeyboardInterrupt):
            return None


class Transcript:
    def __init__(self, result: CallResult, out: TextIO | None) -> None:
        self._result = result
        self._out = out

    def write(self, line: str) -> None:
        self._result.transcript.append(line)
        if self._out is not None:
            self._out.write(line + "\n")
            self._out.flush()

    def say(self, text: str) -> None:
        self._result.said.append(text)
        self.write(f"bot: {text}")

    def error(self, text: str) -> None:
        self._result.errors.append(text)
        self.write(f"error: {text}")


class Caller:
    """Turns caller lines into inputs, applying directives as they are read."""

    def __init__(self, source: LineSource, transcript: Transcript) -> None:
        self._source = source
        self._transcript = transcript
        # Outcomes for the coming <Dial>s in order: a fallback dial straight
        # after a failed one takes the next `!dial` line.
        self._dial_outcomes: list[str] = []
        self._confidence: float | None = None

    async def next_input(self) -> CallerInput:
        """The caller's next input; running out of lines is hanging up."""
        while True:
            raw = await self._source.next()
            if raw is None:
                return CallerInput("hangup")
            parsed = parse_line(raw)
            if isinstance(parsed, CallerInput):
                return self._take(parsed)
            if parsed is not None:
                self._apply(parsed)

    async def read_directives(self) -> None:
        """Apply the directive lines that come next in a script, so a
        `!dial` written just after the words that lead to a <Dial> counts."""
        if self._source.interactive:
            return
        while (raw := await self._source.next()) is not None:
            parsed = parse_line(raw)
            if isinstance(parsed, CallerInput):
                self._source.push_back(raw)
                return
            if parsed is not None:
                self._apply(parsed)

    def dial_outcome(self) -> str:
        return self._dial_outcomes.pop(0) if self._dial_outcomes else "completed"

    def _apply(self, directive: Directive) -> None:
        if directive.name == "dial":
            self._dial_outcomes.append(directive.value)
        else:
            self._confidence = float(directive.value)

    def _take(self, given: CallerInput) -> CallerInput:
        if given.kind == "speech":
            confidence = DEFAULT_CONFIDENCE if self._confidence is None else self._confidence
            self._confidence = None
            self._transcript.write(f"you: {given.text}")
            return CallerInput("speech", given.text, confidence)
        if given.kind == "digits":
            self._transcript.write(f"keys: {given.text}")
        elif given.kind == "silence":
            self._transcript.write("silence")
        return given
