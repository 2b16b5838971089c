"""Topics: what residents actually contact the councils about (data/topics.yml).

Each topic belongs to one service of data/services.yml; the service decides the
council, the line, the hours and the queue, the topic what the bot says first.
`load_topics()` returns a complete, consistent set or raises `CatalogueError`
naming the file and the entry, like the catalogue itself.

GOV.UK's list of local services (LGSL codes, shared/reference/) is the floor:
every row maps to a topic (`govuk:` on the topic) or to an entry under
`govuk_exceptions` that says how it is handled instead and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from council import DATA_DIR
from council.catalogue import OUT_OF_SCOPE, Catalogue, CatalogueError, checked_entry, default_catalogue

TOPIC_FIELDS = ("id", "service", "label", "words", "say")
OPTIONAL_FIELDS = ("web", "govuk", "govuk_note", "checked", "to_confirm", "line", "headline")
TOPICS_FILE = "topics.yml"
# What a spoken or texted answer can carry: a sentence or two, not a leaflet.
MAX_SAY_WORDS = 70
ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Topic:
    id: str
    service: str
    label: str
    words: tuple[str, ...]
    say: str
    web: str | None = None
    govuk: tuple[int, ...] = ()
    govuk_note: str | None = None
    checked: tuple[str, ...] = ()
    to_confirm: str | None = None
    # False when the service's own line is not the place for this topic (the
    # answer says where to go instead); the bot then offers the contact centre.
    line: bool = True
    # The first thing people think of for the service (missed bins, potholes);
    # every other topic is the long tail the evaluation sets weigh.
    headline: bool = False

    @property
    def routable(self) -> bool:
        return self.service != OUT_OF_SCOPE


@dataclass(frozen=True)
class GovukException:
    """A GOV.UK row handled by something other than a service topic."""

    lgsl: int
    handled_by: str  # an intent of the bot (e.g. complaint)
    why: str


@dataclass(frozen=True)
class Topics:
    items: Mapping[str, Topic]
    govuk_exceptions: Mapping[int, GovukException]

    def get(self, topic_id: str | None) -> Topic | None:
        return self.items.get(topic_id) if topic_id else None

    def of_service(self, service_id: str) -> list[Topic]:
        return [t for t in self.items.values() if t.service == service_id]

    def for_lgsl(self, code: int) -> list[Topic]:
        """The topics that answer a GOV.UK row (a row such as "noise
        nuisance" can cover several)."""
        return [t for t in self.items.values() if code in t.govuk]

    def authority(self, topic_id: str, catalogue: Catalogue | None = None) -> str:
        catalogue = catalogue or default_catalogue()
        return catalogue.service(self.items[topic_id].service).authority


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: {key} must be non-empty text")
    return " ".join(value.split())


def _topic(entry: Any, index: int, catalogue: Catalogue) -> Topic:
    where = checked_entry(entry, index, TOPICS_FILE, "topic", TOPIC_FIELDS)
    tid = entry["id"]
    unknown = sorted(set(entry) - set(TOPIC_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if not ID.match(str(tid)):
        raise CatalogueError(f"{where}: id must be lower_snake_case")
    if entry["service"] not in catalogue.services:
        raise CatalogueError(f"{where}: service {entry['service']!r} is not in services.yml")
    words = entry["words"]
    if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
        raise CatalogueError(f"{where}: words must be a non-empty list of phrases")
    say = _text(entry, "say", where)
    if len(say.split()) > MAX_SAY_WORDS:
        raise CatalogueError(f"{where}: say has {len(say.split())} words; at most {MAX_SAY_WORDS} read well aloud")
    if re.search(r"https?://|www\.", say):
        raise CatalogueError(f"{where}: say must not carry a web address (put it in web)")
    web = entry.get("web")
    if web is not None and (not isinstance(web, str) or not web.startswith("https://")):
        raise CatalogueError(f"{where}: web must be an https:// address")
    codes = entry.get("govuk") or []
    if not isinstance(codes, list) or not all(isinstance(c, int) for c in codes):
        raise CatalogueError(f"{where}: govuk must be a list of LGSL codes (numbers)")
    checked = entry.get("checked") or []
    checked = [checked] if isinstance(checked, str) else checked
    if not isinstance(checked, list) or not all(isinstance(c, str) and c.startswith("http") for c in checked):
        raise CatalogueError(f"{where}: checked must be the address(es) of the page(s) the answer was checked on")
    line, headline = entry.get("line", True), entry.get("headline", False)
    if not isinstance(line, bool) or not isinstance(headline, bool):
        raise CatalogueError(f"{where}: line and headline must be true or false")
    return Topic(
        id=str(tid),
        service=entry["service"],
        label=_text(entry, "label", where),
        words=tuple(" ".join(w.lower().split()) for w in words),
        say=say,
        web=web,
        govuk=tuple(codes),
        govuk_note=" ".join(str(entry["govuk_note"]).split()) if entry.get("govuk_note") else None,
        checked=tuple(checked),
        to_confirm=" ".join(str(entry["to_confirm"]).split()) if entry.get("to_confirm") else None,
        line=line,
        headline=headline,
    )


def _exceptions(raw: Any) -> dict[int, GovukException]:
    found: dict[int, GovukException] = {}
    for index, entry in enumerate(raw or []):
        where = f"{TOPICS_FILE}: govuk_exceptions entry {index + 1}"
        if not isinstance(entry, dict) or not isinstance(entry.get("lgsl"), int):
            raise CatalogueError(f"{where}: needs an lgsl code")
        for key in ("handled_by", "why"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise CatalogueError(f"{where}: needs {key}")
        found[entry["lgsl"]] = GovukException(entry["lgsl"], entry["handled_by"], " ".join(entry["why"].split()))
    return found


def load_topics(data_dir: Path = DATA_DIR, catalogue: Catalogue | None = None) -> Topics:
    """Load and check data/topics.yml against the catalogue."""
    catalogue = catalogue or default_catalogue()
    path = data_dir / TOPICS_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"{TOPICS_FILE}: file is missing ({path})") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{TOPICS_FILE}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("topics"), list):
        raise CatalogueError(f"{TOPICS_FILE}: needs a 'topics' list")
    items: dict[str, Topic] = {}
    codes: dict[int, str] = {}  # LGSL code -> the first topic carrying it
    for index, entry in enumerate(raw["topics"]):
        topic = _topic(entry, index, catalogue)
        if topic.id in items:
            raise CatalogueError(f"{TOPICS_FILE}: topic {topic.id} appears twice")
        if topic.id in catalogue.services:
            raise CatalogueError(f"{TOPICS_FILE}: topic {topic.id} has the name of a service")
        if len(set(topic.govuk)) != len(topic.govuk):
            raise CatalogueError(f"{TOPICS_FILE}: topic {topic.id} lists an LGSL code twice")
        for code in topic.govuk:
            codes.setdefault(code, topic.id)
        items[topic.id] = topic
    exceptions = _exceptions(raw.get("govuk_exceptions"))
    for code in exceptions:
        if code in codes:
            raise CatalogueError(f"{TOPICS_FILE}: LGSL {code} is both an exception and on topic {codes[code]}")
    without = [s for s in catalogue.services if not any(t.service == s for t in items.values())]
    if without:
        raise CatalogueError(f"{TOPICS_FILE}: no topic for service(s) {', '.join(without)}")
    return Topics(items, exceptions)


@lru_cache(maxsize=None)
def default_topics() -> Topics:
    """The topics under data/, loaded once per process."""
    return load_topics()
