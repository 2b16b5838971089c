"""Routing quality on the held-out set (tests/nlu_holdout.yml): the figures
the holdout test guards and the benchmark reports."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.catalogue import OUT_OF_SCOPE, Catalogue, default_catalogue
from bot.paths import ROOT
from bot.routing import Route, Router

HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"


@dataclass(frozen=True)
class Example:
    text: str
    service: str
    style: str


def load_holdout(path: Path = HOLDOUT) -> list[Example]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in raw["nlu"]:
        for entry in block["examples"]:
            examples.append(Example(entry["text"], block["intent"], (entry.get("metadata") or {}).get("style", "typed")))
    return examples


@dataclass
class Scores:
    """Counts over one pass of the held-out set."""

    total_in_scope: int = 0
    service_right: int = 0
    authority_right: int = 0
    total_oos: int = 0
    oos_caught: int = 0
    false_alarms: int = 0
    by_style: Counter = field(default_factory=Counter)
    style_right: Counter = field(default_factory=Counter)
    confusion: Counter = field(default_factory=Counter)  # (gold, predicted) -> n
    mistakes: list[tuple[str, str, str | None, float]] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)

    @property
    def service_accuracy(self) -> float:
        return self.service_right / max(self.total_in_scope, 1)

    @property
    def authority_accuracy(self) -> float:
        """Share of in-scope utterances sent to the right council (out-of-scope
        ones have none: their figure is oos_recall)."""
        return self.authority_right / max(self.total_in_scope, 1)

    @property
    def oos_recall(self) -> float:
        return self.oos_caught / max(self.total_oos, 1)

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / max(self.total_in_scope, 1)

    def style_accuracy(self, style: str) -> float:
        return self.style_right[style] / max(self.by_style[style], 1)


def score(examples: list[Example], routes: list[Route], catalogue: Catalogue | None = None) -> Scores:
    catalogue = catalogue or default_catalogue()
    scores = Scores()
    for example, route in zip(examples, routes, strict=True):
        gold_authority = catalogue.services[example.service].authority
        predicted = route.service
        scores.confusion[(example.service, predicted or "none")] += 1
        right = predicted == example.service
        if example.service == OUT_OF_SCOPE:
            scores.total_oos += 1
            scores.oos_caught += right
        else:
            scores.total_in_scope += 1
            scores.service_right += right
            scores.authority_right += route.authority == gold_authority
            scores.false_alarms += predicted == OUT_OF_SCOPE
            scores.by_style[example.style] += 1
            scores.style_right[example.style] += right
        if not right:
            scores.mistakes.append((example.text, example.service, predicted, route.confidence))
    return scores


async def evaluate(router: Router, examples: list[Example] | None = None) -> Scores:
    """Route every held-out example with `router`, timing each one."""
    examples = examples if examples is not None else load_holdout()
    routes, latencies = [], []
    for example in examples:
        started = time.perf_counter()
        routes.append(await router.route(example.text))
        latencies.append(time.perf_counter() - started)
    scores = score(examples, routes, router.catalogue)
    scores.latencies_s = latencies
    return scores
