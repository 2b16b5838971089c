"""The NLU training examples as plain data (data/nlu/**.yml), for checks
that need no Rasa: which topic each example was written for, whether an
evaluation text is in training, whether every topic has examples.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from council import DATA_DIR
from council.topics import Topics

NLU_DIR = DATA_DIR / "nlu"
MIN_EXAMPLES_PER_TOPIC = 8
# Topics that an intent of their own stands for (its examples are the topic's).
TOPIC_INTENTS = {"oos_emergency": "emergency"}


@dataclass(frozen=True)
class TrainingExample:
    text: str
    intent: str
    topic: str | None
    file: str


def _lines(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def load_examples(directory: Path = NLU_DIR) -> list[TrainingExample]:
    examples = []
    for path in sorted(directory.rglob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in raw.get("nlu") or []:
            if "intent" not in block:
                continue
            topic = (block.get("metadata") or {}).get("topic")
            for text in _lines(block.get("examples") or ""):
                examples.append(TrainingExample(text, str(block["intent"]), topic, str(path.relative_to(directory))))
    return examples


def topic_problems(examples: list[TrainingExample], topics: Topics) -> list[str]:
    """Examples whose topic is unknown or of another service, and topics with
    too few examples to be recognised."""
    problems = []
    for example in examples:
        if example.topic is None:
            continue
        topic = topics.get(example.topic)
        if topic is None:
            problems.append(f"data/nlu/{example.file}: unknown topic {example.topic!r}")
        elif topic.service != example.intent:
            problems.append(f"data/nlu/{example.file}: topic {example.topic} belongs to {topic.service}, "
                            f"not {example.intent}")
    counts = Counter(e.topic for e in examples if e.topic)
    for topic_id, intent in TOPIC_INTENTS.items():
        counts[topic_id] += sum(1 for e in examples if e.intent == intent)
    for topic in topics.items.values():
        if counts[topic.id] < MIN_EXAMPLES_PER_TOPIC:
            problems.append(f"data/nlu: topic {topic.id} has {counts[topic.id]} examples "
                            f"(at least {MIN_EXAMPLES_PER_TOPIC})")
    return sorted(set(problems))


def normalise(text: str) -> str:
    """Lower case, words only: how two texts are compared for copies."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower().replace("'", "")))
