"""`python -m devtools bench-dial`: speech dial's matcher on the blind set of
misheard requests (tests/sets/speech_dial.yml), and the same matcher with the
well-kept libraries in place of the project's own pieces: jellyfish's
Metaphone (and NYSIIS) for the phonetic key, RapidFuzz's ratio for difflib's.
Writes reports/speech-dial.{json,md}. Whichever matches the set better is
what telephony_bridge uses; docs/architecture.md says which and why.
"""

from __future__ import annotations

import argparse
import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import yaml

from plumbing.cli import own_arguments
from plumbing.paths import REPORTS_DIR, ROOT

SET = ROOT / "tests" / "sets" / "speech_dial.yml"


@dataclass(frozen=True)
class Tally:
    matcher: str
    requests: int
    right: int
    wrong_line: int
    missed: int  # a line was named, none offered
    offered_when_none: int  # no line was named, one offered

    @property
    def accuracy(self) -> float:
        return self.right / max(self.requests, 1)


def load_requests(path: Path = SET) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def score(requests: Sequence[dict[str, Any]], name: str = "as shipped") -> Tally:
    """The directory as it loads now, on `requests`."""
    from telephony_bridge.directory_file import load_directory

    directory = load_directory()
    right = wrong = missed = offered = 0
    for request in requests:
        match = directory.match(request["text"])
        got = match.entry.id if match else None
        if got == request["expect"]:
            right += 1
        elif request["expect"] is None:
            offered += 1
        elif got is None:
            missed += 1
        else:
            wrong += 1
    return Tally(name, len(requests), right, wrong, missed, offered)


class _RapidFuzzMatcher:
    """difflib.SequenceMatcher's surface, scored by RapidFuzz's ratio."""

    def __init__(self, autojunk: bool = False) -> None:
        self.a = self.b = ""

    def set_seq1(self, a: str) -> None:
        self.a = a

    def set_seq2(self, b: str) -> None:
        self.b = b

    def ratio(self) -> float:
        from rapidfuzz import fuzz

        return fuzz.ratio(self.a, self.b) / 100

    quick_ratio = ratio


@contextmanager
def _swapped(key: Callable[[str], str] | None, matcher: type | None) -> Iterator[None]:
    import telephony_bridge.directory as directory

    saved = directory.phonetic_key, directory.SequenceMatcher
    try:
        if key is not None:
            directory.phonetic_key = lambda word: key(word).lower() if word else ""
        if matcher is not None:
            directory.SequenceMatcher = matcher
        yield
    finally:
        directory.phonetic_key, directory.SequenceMatcher = saved


def compare(requests: Sequence[dict[str, Any]]) -> list[Tally]:
    import jellyfish

    variants: list[tuple[str, Callable[[str], str] | None, type | None]] = [
        ("project's Metaphone + difflib (as shipped)", None, None),
        ("jellyfish Metaphone + difflib", jellyfish.metaphone, None),
        ("jellyfish NYSIIS + difflib", jellyfish.nysiis, None),
        ("project's Metaphone + RapidFuzz", None, _RapidFuzzMatcher),
        ("jellyfish Metaphone + RapidFuzz", jellyfish.metaphone, _RapidFuzzMatcher),
    ]
    results = []
    for name, key, matcher in variants:
        with _swapped(key, matcher):
            results.append(score(requests, name))
    return results


def render(results: Sequence[Tally]) -> str:
    rows = ["| matcher | right | wrong line | missed | offered when none named |", "|---|---|---|---|---|"]
    rows += [f"| {t.matcher} | {t.right} of {t.requests} ({t.accuracy:.1%}) | {t.wrong_line} | {t.missed} | "
             f"{t.offered_when_none} |" for t in results]
    return "# Speech dial on the blind set of misheard requests\n\n" + "\n".join(rows) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools bench-dial", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=SET, help="the requests (default tests/sets/speech_dial.yml)")
    args = parser.parse_args(own_arguments(argv))
    results = compare(load_requests(args.set))
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    (REPORTS_DIR / "speech-dial.json").write_text(
        json.dumps([asdict(t) | {"accuracy": round(t.accuracy, 4)} for t in results], indent=2) + "\n")
    text = render(results)
    (REPORTS_DIR / "speech-dial.md").write_text(text)
    print(text)
    return 0
