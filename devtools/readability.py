"""How easy everything the bot says is to read: `python -m devtools
readability` scores every response (bot/domain.yml), every service's answer
(data/services.yml), every signpost (data/signposts.yml) and every topic
answer (data/topics.yml) and writes
reports/readability.md. The target (the web chat issue) is a reading age of
9 or below for each; this measures how far there is to go.

The score is the Flesch-Kincaid grade level, with the usual UK reading age
of grade + 5. Names are counted as one short word each (a run of capitalised
words not starting a sentence: "Lancashire County Council", "Morecambe Town
Hall"), and web addresses, phone numbers, references and {slots} are left
out: a resident is not slowed by the name of their own council, and
rewriting it would only make the answer wrong.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

import yaml

from plumbing.paths import ROOT

TARGET_AGE = 9
_LEFT_OUT = re.compile(r"https?://\S+|www\.\S+|\b[\w.-]+\.(?:uk|com|org)\b|\{[a-z_]+\}"
                       r"|\b[A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}\b|[0-9][0-9 ]{5,}[0-9]")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z'’]+(?:\s+(?:of\s+|and\s+)?[A-Z][a-z'’]+)+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


def syllables(word: str) -> int:
    """A heuristic count (vowel groups, less a silent final e), at least one."""
    word = re.sub(r"[^a-z]", "", word.lower())
    if len(word) <= 3:
        return 1
    word = re.sub(r"(?<=[^aeiouytd])ed$", "", word)  # walked, not collected
    word = re.sub(r"(?<=[^aeiouysxzcg])es$", "", word)  # makes, not boxes
    word = re.sub(r"(?<=[^laeiouy])e$", "", word)  # make, not table
    word = re.sub(r"^y", "", word)
    return max(1, len(re.findall(r"[aeiouy]+", word)))


def _plain(text: str) -> str:
    text = _LEFT_OUT.sub(" ", text)
    return _NAME.sub("Name", text)


def grade(text: str) -> float:
    """Flesch-Kincaid grade level of `text` (names counted as one short word)."""
    plain = _plain(text)
    sentences = max(1, len(re.findall(r"[.!?]+(?:\s|$)", plain.strip() + " ")))
    words = _WORD.findall(plain)
    if not words:
        return 0.0
    return 0.39 * len(words) / sentences + 11.8 * sum(map(syllables, words)) / len(words) - 15.59


def reading_age(text: str) -> float:
    return max(5.0, grade(text) + 5)


def texts(root: Path = ROOT) -> list[tuple[str, str]]:
    """(where, text) for everything the bot says from its data."""
    found: list[tuple[str, str]] = []
    domain = yaml.safe_load((root / "bot" / "domain.yml").read_text(encoding="utf-8"))
    for name, variants in (domain.get("responses") or {}).items():
        for variant in variants:
            if isinstance(variant, dict) and variant.get("text"):
                found.append((f"domain.yml {name}", variant["text"]))
    services = yaml.safe_load((root / "data" / "services.yml").read_text(encoding="utf-8"))
    for service in services.get("services") or []:
        if service.get("say"):
            found.append((f"services.yml {service['id']}", service["say"]))
    signposts = yaml.safe_load((root / "data" / "signposts.yml").read_text(encoding="utf-8"))
    for signpost in signposts.get("signposts") or []:
        if signpost.get("say"):
            found.append((f"signposts.yml {signpost['id']}", signpost["say"]))
    topics = yaml.safe_load((root / "data" / "topics.yml").read_text(encoding="utf-8"))
    for topic in topics.get("topics") or []:
        if topic.get("say"):
            found.append((f"topics.yml {topic['id']}", topic["say"]))
    return found


def report(scored: list[tuple[float, str, str]]) -> str:
    ages = [age for age, _, _ in scored]
    within = sum(age <= TARGET_AGE for age in ages)
    lines = ["# Reading age of what the bot says", "",
             "`python -m devtools readability`: Flesch-Kincaid grade + 5, names counted as one short word, "
             "addresses, numbers and references left out (devtools/readability.py).", "",
             f"- texts: {len(ages)}", f"- median reading age: {statistics.median(ages):.1f}",
             f"- at {TARGET_AGE} or below (the target): {within} ({within / len(ages):.0%})", "",
             "| reading age | where | text |", "|---|---|---|"]
    for age, where, text in sorted(scored, reverse=True)[:40]:
        lines.append(f"| {age:.1f} | {where} | {' '.join(text.split())[:160]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools readability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "reports" / "readability.md"))
    args = parser.parse_args(argv)
    scored = [(reading_age(text), where, text) for where, text in texts()]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(scored), encoding="utf-8")
    print(out.read_text(encoding="utf-8").split("| reading age")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
