"""Conversation files: reading one (checked, with a message saying where it is
wrong) and finding them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from council.clock import parse
from devtools.replay.common import CHANNELS, CONVERSATIONS_DIR, MATCHES, OUTCOMES, ConversationFileError
from plumbing.paths import ROOT


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
