"""The safety net (data/safety.yml): words that say the person writing may
be at risk of harming themselves, answered first with the crisis signpost
whatever else the message is about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from council import DATA_DIR
from council.catalogue import CatalogueError, read_yaml

SAFETY_FILE = DATA_DIR / "safety.yml"
_APOSTROPHES = re.compile(r"['\u2019\u2018`]")
_NOT_A_LETTER = re.compile(r"[^a-z]+")


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, everything but letters one space:
    "I don't want to be here any more!" -> "i dont want to be here any more"."""
    return " ".join(_NOT_A_LETTER.sub(" ", _APOSTROPHES.sub("", text.lower())).split())


@dataclass(frozen=True)
class SafetyNet:
    topic: str
    phrases: tuple[str, ...]

    def at_risk(self, text: str) -> bool:
        """True if a phrase is in `text` as whole words."""
        padded = f" {normalise(text)} "
        return any(f" {phrase} " in padded for phrase in self.phrases)


def load_safety(path: Path = SAFETY_FILE) -> SafetyNet:
    """The net, or CatalogueError naming what is wrong."""
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("topic"), str) or not isinstance(raw.get("phrases"), list):
        raise CatalogueError(f"{path.name}: needs a topic (an id) and a list of phrases")
    phrases = []
    for number, phrase in enumerate(raw["phrases"], start=1):
        cleaned = normalise(phrase) if isinstance(phrase, str) else ""
        if not cleaned:
            raise CatalogueError(f"{path.name}: phrase {number} is empty or not text")
        if cleaned != phrase:
            raise CatalogueError(f"{path.name}: phrase {number} {phrase!r} must be written as {cleaned!r} "
                                 "(lower case, no apostrophes or punctuation)")
        phrases.append(cleaned)
    if len(set(phrases)) != len(phrases):
        raise CatalogueError(f"{path.name}: a phrase is given twice")
    return SafetyNet(raw["topic"], tuple(phrases))


@lru_cache(maxsize=None)
def default_safety() -> SafetyNet:
    return load_safety()
