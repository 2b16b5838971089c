"""Routing quality on held-out enquiries: the figures the tests guard and the
benchmark reports.

Sets (tests/sets/README.md says who wrote them and how):
- `development.yml`: every choice and threshold is made on it;
- `test.yml`: scored once per change by `python -m devtools bench`, never tuned on;
- tests/nlu_holdout.yml: the project's first held-out set (service labels
  only, texts that mostly name the service), kept as a regression guard.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

from bot.routing import Router
from council.catalogue import OUT_OF_SCOPE, Catalogue, default_catalogue
from council.routing import Route
from council.topics import Topics, default_topics
from plumbing.paths import ROOT

HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
SETS_DIR = ROOT / "tests" / "sets"
DEVELOPMENT = SETS_DIR / "development.yml"
TEST = SETS_DIR / "test.yml"
STYLES = ("typed", "spoken")
# Intents that answer the conversation itself. An out-of-scope enquiry such as
# "real person please" that gets one of them is not caught (the recall counts
# only "not a council service"), but it is not misrouted either: the figure
# oos_answered_as_conversation says how many.
CONVERSATION = frozenset({"greet", "goodbye", "thanks", "bot_challenge", "request_human"})


@dataclass(frozen=True)
class Example:
    text: str
    service: str
    style: str
    topic: str | None = None
    trap: bool = False
    headline: bool = False  # about the headline topic of its service (not the long tail)


def load_holdout(path: Path = HOLDOUT) -> list[Example]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in raw["nlu"]:
        for entry in block["examples"]:
            style = (entry.get("metadata") or {}).get("style", "typed")
            examples.append(Example(entry["text"], block["intent"], style))
    return examples


class SetError(ValueError):
    """An evaluation set that does not match the topics."""


def load_set(path: Path, topics: Topics | None = None) -> list[Example]:
    """An evaluation set of enquiries labelled by topic; the service follows
    from the topic in data/topics.yml."""
    topics = topics or default_topics()
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = raw.get("enquiries") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise SetError(f"{path.name}: needs an 'enquiries' list")
    examples = []
    for index, entry in enumerate(entries):
        topic = topics.get(entry.get("topic"))
        if topic is None:
            raise SetError(f"{path.name}: enquiry {index + 1} has unknown topic {entry.get('topic')!r}")
        style = entry.get("style")
        if style not in STYLES or not str(entry.get("text") or "").strip():
            raise SetError(f"{path.name}: enquiry {index + 1} needs a text and a style (typed or spoken)")
        examples.append(Example(str(entry["text"]), topic.service, style, topic.id, bool(entry.get("trap")),
                                topic.headline))
    return examples


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    @property
    def rate(self) -> float:
        return self.right / max(self.total, 1)


@dataclass
class Scores:
    """Counts over one pass of a set. In-scope figures count the enquiries
    about a council service; out-of-scope recall the others."""

    total_in_scope: int = 0
    service_right: int = 0
    authority_right: int = 0
    topic_right: int = 0
    topic_total: int = 0
    total_oos: int = 0
    oos_caught: int = 0
    oos_conversation: int = 0  # out of scope, not caught, but answered as conversation (hello, a person)
    false_alarms: int = 0   # in scope, told "not a council service" or "not understood"
    turned_away: int = 0    # in scope, routed to no council service at all (false alarms included)
    clarified: int = 0      # in scope, asked one question first
    clarified_resolvable: int = 0  # ... naming the right service among its two
    rescued: int = 0        # ... where the likelier one was wrong and the other right
    by_style: Counter = field(default_factory=Counter)
    style_right: Counter = field(default_factory=Counter)
    by_service: dict[str, Tally] = field(default_factory=dict)
    traps: Tally = field(default_factory=Tally)
    long_tail: Tally = field(default_factory=Tally)
    long_tail_topic: Tally = field(default_factory=Tally)
    confusion: Counter = field(default_factory=Counter)  # (gold, predicted) -> n
    mistakes: list[tuple[str, str, str | None, float]] = field(default_factory=list)
    topic_mistakes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)

    @property
    def service_accuracy(self) -> float:
        return self.service_right / max(self.total_in_scope, 1)

    @property
    def authority_accuracy(self) -> float:
        """Share of in-scope enquiries sent to the right council (out-of-scope
        ones have none: their figure is oos_recall)."""
        return self.authority_right / max(self.total_in_scope, 1)

    @property
    def topic_accuracy(self) -> float:
        return self.topic_right / max(self.topic_total, 1)

    @property
    def oos_recall(self) -> float:
        return self.oos_caught / max(self.total_oos, 1)

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / max(self.total_in_scope, 1)

    @property
    def turned_away_rate(self) -> float:
        return self.turned_away / max(self.total_in_scope, 1)

    @property
    def clarified_rate(self) -> float:
        return self.clarified / max(self.total_in_scope, 1)

    @property
    def after_one_question(self) -> float:
        """Service accuracy if everyone asked a question answers it right."""
        return (self.service_right + self.rescued) / max(self.total_in_scope, 1)

    def style_accuracy(self, style: str) -> float:
        return self.style_right[style] / max(self.by_style[style], 1)


def _council(route: Route, catalogue: Catalogue) -> str | None:
    return route.authority if route.service and catalogue.services[route.service].routable else None


def score(examples: Iterable[Example], routes: Iterable[Route], catalogue: Catalogue | None = None,
          topics: Topics | None = None) -> Scores:
    catalogue = catalogue or default_catalogue()
    topics = topics or default_topics()
    scores = Scores()
    for example, route in zip(examples, routes, strict=True):
        gold_authority = catalogue.services[example.service].authority
        predicted = route.service
        scores.confusion[(example.service, predicted or "none")] += 1
        right = predicted == example.service
        if example.service == OUT_OF_SCOPE:
            scores.total_oos += 1
            scores.oos_caught += right
            scores.oos_conversation += predicted is None and route.intent in CONVERSATION
        else:
            scores.total_in_scope += 1
            scores.service_right += right
            scores.authority_right += _council(route, catalogue) == gold_authority
            scores.false_alarms += predicted == OUT_OF_SCOPE
            scores.turned_away += predicted is None or not catalogue.services[predicted].routable
            scores.by_style[example.style] += 1
            scores.style_right[example.style] += right
            scores.by_service.setdefault(example.service, Tally()).add(right)
            if example.trap:
                scores.traps.add(right)
            if route.clarify is not None:
                options = {topics.items[t].service for t in route.clarify if t in topics.items}
                scores.clarified += 1
                scores.clarified_resolvable += example.service in options
                scores.rescued += (not right) and example.service in options
            if example.topic is not None:
                scores.topic_total += 1
                topic_right = route.topic == example.topic
                scores.topic_right += topic_right
                if not topic_right:
                    scores.topic_mistakes.append((example.text, example.topic, route.topic))
                if not example.headline:
                    scores.long_tail.add(right)
                    scores.long_tail_topic.add(topic_right)
        if not right:
            scores.mistakes.append((example.text, example.service, predicted, route.confidence))
    return scores


async def evaluate(router: Router, examples: list[Example] | None = None) -> Scores:
    """Route every example with `router`, timing each one."""
    examples = examples if examples is not None else load_holdout()
    routes, latencies = [], []
    for example in examples:
        started = time.perf_counter()
        routes.append(await router.route(example.text))
        latencies.append(time.perf_counter() - started)
    scores = score(examples, routes, router.catalogue)
    scores.latencies_s = latencies
    return scores
