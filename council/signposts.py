"""Where to send people whose question no council here deals with
(data/signposts.yml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from council import DATA_DIR


@dataclass(frozen=True)
class Signposts:
    entries: tuple[tuple[str, tuple[str, ...], str], ...]  # (id, keywords, say)
    default: str

    def pick(self, text: str) -> tuple[str, str]:
        """(id, sentence) of the first signpost whose keyword is in `text`."""
        lowered = text.lower()
        for sid, keywords, say in self.entries:
            if any(re.search(rf"(?<!\w){re.escape(k)}(?!\w)", lowered) for k in keywords):
                return sid, say
        return "default", self.default


def load_signposts(path: Path = DATA_DIR / "signposts.yml") -> Signposts:
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    entries = tuple(
        (entry["id"], tuple(k.lower() for k in entry["keywords"]), entry["say"]) for entry in raw["signposts"]
    )
    return Signposts(entries, raw["default"])


@lru_cache(maxsize=None)
def default_signposts() -> Signposts:
    return load_signposts()
