"""Pairs of services residents confuse, and the one question that tells them
apart (data/clarifications.yml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from bot.catalogue import CatalogueError, default_catalogue
from bot.paths import DATA_DIR

ORDINALS = ({"first", "1", "one", "former"}, {"second", "2", "two", "latter", "other"})


@dataclass(frozen=True)
class Option:
    service: str
    label: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Clarification:
    id: str
    question: str
    options: tuple[Option, ...]

    @property
    def intent(self) -> str:
        """The NLU intent for requests that are ambiguous in this way."""
        return f"clarify_{self.id}"

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(option.service for option in self.options)

    def resolve(self, text: str, ranking: Sequence[Mapping[str, object]]) -> str:
        """The option the answer `text` picks: by the options' words, then by
        "the first/second", then by the NLU ranking of the options, then the
        first option. Always returns one of `services`."""
        lowered = text.lower()
        scores = [sum(1 for word in option.words if _contains(lowered, word)) for option in self.options]
        if max(scores) > 0 and scores.count(max(scores)) == 1:
            return self.options[scores.index(max(scores))].service
        tokens = set(re.findall(r"\w+", lowered))
        picked = [index for index, words in enumerate(ORDINALS) if tokens & words]
        if len(picked) == 1 and picked[0] < len(self.options):
            return self.options[picked[0]].service
        for entry in ranking:
            if entry.get("name") in self.services:
                return str(entry["name"])
        return self.options[0].service


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text) is not None


@dataclass(frozen=True)
class Clarifications:
    margin: float
    items: Mapping[str, Clarification]

    def by_intent(self, intent: str) -> Clarification | None:
        return next((c for c in self.items.values() if c.intent == intent), None)

    def for_pair(self, first: str, second: str) -> Clarification | None:
        """The clarification that separates these two services, if any."""
        return next((c for c in self.items.values() if {first, second} == set(c.services)), None)


def load_clarifications(path: Path = DATA_DIR / "clarifications.yml") -> Clarifications:
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    services = default_catalogue().services
    items: dict[str, Clarification] = {}
    for index, entry in enumerate(raw.get("clarifications") or []):
        where = f"clarifications.yml: entry {entry.get('id') or index + 1}"
        if not entry.get("id") or not entry.get("question"):
            raise CatalogueError(f"{where}: needs an id and a question")
        options = []
        for option in entry.get("options") or []:
            if option.get("service") not in services:
                raise CatalogueError(f"{where}: option service {option.get('service')!r} is not in services.yml")
            options.append(Option(option["service"], option["label"], tuple(option.get("words") or ())))
        if len(options) != 2:
            raise CatalogueError(f"{where}: needs exactly two options")
        items[entry["id"]] = Clarification(entry["id"], entry["question"], tuple(options))
    return Clarifications(float(raw.get("ambiguity_margin", 0.25)), items)


@lru_cache(maxsize=None)
def default_clarifications() -> Clarifications:
    return load_clarifications()
