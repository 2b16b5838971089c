"""The one question the bot asks when it is unsure between two services
(data/clarifications.yml), and how the answer is read.

The question names the two likeliest topics ("Is that about a pothole in a
road, or a broken or uneven pavement?"); for pairs residents confuse every
day the file gives a question of its own. It is answered by voice, keypad
(1 or 2) or text, and the bot always routes after it: by the option's words,
then "the first/second", then the NLU's own ranking of the two, then the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from council import DATA_DIR
from council.catalogue import CatalogueError, default_catalogue
from council.topics import Topic

ORDINALS = ({"first", "1", "one", "former"}, {"second", "2", "two", "latter", "other"})
PENDING_SEPARATOR = "|"
# A reply to a question of at most this many words that names one option
# answers it, whatever else the NLU hears in it; a longer one may be a new enquiry.
SHORT_ANSWER_WORDS = 6


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
        return self.options[pick([option.words for option in self.options], text, ranking, self.services)].service


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text) is not None


def pick_by_words(words: Sequence[Sequence[str]], text: str) -> int | None:
    """Which of two options an answer names (0 or 1) by an ordinal or by the
    options' words; None if it names neither or both."""
    lowered = text.lower()
    # "the second one", "the other one": the "one" is not "number one".
    tokens = set(re.findall(r"\w+", re.sub(r"\b(first|second|other|former|latter|last) ones?\b", r"\1", lowered)))
    picked = [index for index, ordinal in enumerate(ORDINALS) if tokens & ordinal]
    if len(tokens) <= 4 and len(picked) == 1:
        return picked[0]  # "2", "the second one", "number one please"
    scores = [sum(1 for word in option if _contains(lowered, word)) for option in words]
    if max(scores) > 0 and scores.count(max(scores)) == 1:
        return scores.index(max(scores))
    if len(picked) == 1:
        return picked[0]
    return None


def pick(words: Sequence[Sequence[str]], text: str, ranking: Sequence[Mapping[str, object]],
         services: Sequence[str]) -> int:
    """Which of two options an answer picks (0 or 1), whatever it says."""
    by_words = pick_by_words(words, text)
    if by_words is not None:
        return by_words
    for entry in ranking:
        if entry.get("name") in services:
            return list(services).index(str(entry["name"]))
    return 0


@dataclass(frozen=True)
class Question:
    """What the bot asks and the two topics it asks between."""

    text: str
    topics: tuple[Topic, Topic]
    labels: tuple[str, str]

    @property
    def pending(self) -> str:
        """The slot value that remembers the question until it is answered."""
        return PENDING_SEPARATOR.join(topic.id for topic in self.topics)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Clarifications:
    margin: float
    items: Mapping[str, Clarification]
    # Below the FallbackClassifier's threshold but at least this sure of a
    # service: ask between the two likeliest rather than say "not understood".
    unsure_floor: float = 1.0

    def by_intent(self, intent: str) -> Clarification | None:
        return next((c for c in self.items.values() if c.intent == intent), None)

    def for_pair(self, first: str, second: str) -> Clarification | None:
        """The clarification that separates these two services, if any."""
        return next((c for c in self.items.values() if {first, second} == set(c.services)), None)

    def close_call(self, ranked: Sequence[tuple[str, float]], service: str) -> tuple[str, str] | None:
        """The two likeliest services when `service` leads the ranking
        (service, confidence) by less than the margin; else None."""
        if len(ranked) < 2 or ranked[0][0] != service or ranked[0][1] - ranked[1][1] >= self.margin:
            return None
        return ranked[0][0], ranked[1][0]

    def unsure(self, ranked: Sequence[tuple[str, float]]) -> tuple[str, str] | None:
        """The two likeliest services when the NLU fell back but was at
        least `unsure_floor` sure of the first; else None."""
        if len(ranked) < 2 or ranked[0][1] < self.unsure_floor:
            return None
        return ranked[0][0], ranked[1][0]

    def question(self, first: Topic, second: Topic, spoken: bool) -> Question:
        """The question between two topics: the file's own for a pair of
        services residents confuse, else one built from the topics' labels."""
        curated = self.for_pair(first.service, second.service)
        if curated is not None:
            by_service = {option.service: option for option in curated.options}
            ordered = tuple(sorted((first, second), key=lambda t: curated.services.index(t.service)))
            text = curated.question
            labels = tuple(by_service[t.service].label for t in ordered)
        else:
            ordered = (first, second)
            text = f"Is that about {first.label}, or {second.label}?"
            labels = (_capital(first.label), _capital(second.label))
        if spoken:
            text += " Say which, or press 1 for the first or 2 for the second."
        return Question(text, ordered, labels)  # type: ignore[arg-type]

    def _words(self, pending: Sequence[Topic]) -> list[tuple[str, ...]]:
        words = []
        for topic in pending:
            curated = self.for_pair(*(t.service for t in pending))
            extra = next((o.words for o in curated.options if o.service == topic.service), ()) if curated else ()
            words.append((*topic.words, *extra))
        return words

    def answer(self, pending: Sequence[Topic], text: str, ranking: Sequence[Mapping[str, object]]) -> Topic:
        """The topic an answer to the question between `pending` picks."""
        return pending[pick(self._words(pending), text, ranking, [t.service for t in pending])]

    def named_answer(self, pending: Sequence[Topic], text: str) -> Topic | None:
        """The topic a short reply ("a private landlord", "the second one")
        names outright, or None: such a reply answers the question even when
        the NLU, reading it alone, hears another service in it."""
        if len(re.findall(r"\w+", text)) > SHORT_ANSWER_WORDS:
            return None
        index = pick_by_words(self._words(pending), text)
        return None if index is None else pending[index]


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
    floor = float(raw.get("unsure_floor", 1.0))
    return Clarifications(float(raw.get("ambiguity_margin", 0.25)), items, floor)


@lru_cache(maxsize=None)
def default_clarifications() -> Clarifications:
    return load_clarifications()
