"""When the bot passes a conversation to staff, and what it tells the person
(data/handoff.yml), loaded and checked against the catalogue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from council import DATA_DIR
from council.catalogue import Catalogue, CatalogueError, default_catalogue, read_yaml

FILE = "handoff.yml"


@dataclass(frozen=True)
class HandoffRules:
    high_priority: frozenset[str]
    cannot_complete: Mapping[str, tuple[str, ...]]  # service id -> words
    bring: Mapping[str, str]  # service id (or "default") -> what to bring

    def needs_staff(self, service_id: str, text: str) -> bool:
        """True when the words show the person needs what only staff can do
        for this service (an arrears arrangement, a repair they cannot describe)."""
        lowered = " ".join(text.lower().replace("’", "'").split())
        return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered)
                   for word in self.cannot_complete.get(service_id, ()))

    def what_to_bring(self, service_id: str | None) -> str:
        return self.bring.get(service_id or "", self.bring["default"])


def _ids(values: Any, where: str, catalogue: Catalogue) -> list[str]:
    if not isinstance(values, list):
        raise CatalogueError(f"{FILE}: {where} must be a list of service ids")
    for value in values:
        if value not in catalogue.services or value == "out_of_scope":
            raise CatalogueError(f"{FILE}: {where}: {value!r} is not a service in services.yml")
    return values


def load_handoff_rules(data_dir: Path = DATA_DIR, catalogue: Catalogue | None = None) -> HandoffRules:
    catalogue = catalogue or default_catalogue()
    raw = read_yaml(data_dir / FILE)
    if not isinstance(raw, dict):
        raise CatalogueError(f"{FILE}: must be a mapping with high_priority, cannot_complete and bring")
    high = _ids(raw.get("high_priority"), "high_priority", catalogue)
    words = raw.get("cannot_complete") or {}
    bring = raw.get("bring") or {}
    if not isinstance(words, dict) or not isinstance(bring, dict):
        raise CatalogueError(f"{FILE}: cannot_complete and bring must be mappings by service id")
    _ids(list(words), "cannot_complete", catalogue)
    _ids([key for key in bring if key != "default"], "bring", catalogue)
    for service_id, listed in words.items():
        if not isinstance(listed, list) or not all(isinstance(w, str) and w.strip() for w in listed):
            raise CatalogueError(f"{FILE}: cannot_complete {service_id}: needs a list of words")
    if not isinstance(bring.get("default"), str):
        raise CatalogueError(f"{FILE}: bring needs a 'default' sentence")
    return HandoffRules(
        frozenset(high),
        {sid: tuple(w.lower() for w in listed) for sid, listed in words.items()},
        {key: " ".join(str(value).split()) for key, value in bring.items()},
    )


@lru_cache(maxsize=None)
def default_handoff_rules() -> HandoffRules:
    return load_handoff_rules()
