"""What a parse of the trained model means for the councils: the same Rasa
pipeline the live bot runs (`Agent.parse_message`, loaded by bot.routing),
mapped onto the catalogue's service ids and the
topics of data/topics.yml.

Each result is {"text", "service", "authority", "confidence", "intent",
"topic", "clarify"}: `service` is a catalogue id, or out_of_scope when the bot
would not route to a council service (out-of-scope, an emergency, or not
understood), or None when the words name no service at all (a greeting,
"yes", "a person please"); `topic` the topic id the answer is about (None
when there is none); `clarify` the two topics the bot asks between before it
routes (None when it routes at once), and then `service` is the likelier one.

`route_from_parse` is the one decision: the actions call it on the tracker's
latest message, so what `route` and the benchmark report is what residents get.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from council.catalogue import OUT_OF_SCOPE, Catalogue, default_catalogue
from council.clarifications import Clarifications, default_clarifications
from council.topics import Topics, default_topics

FALLBACK = "nlu_fallback"
EMERGENCY = "emergency"
NOT_ROUTED = {OUT_OF_SCOPE, FALLBACK, EMERGENCY}
EMERGENCY_TOPIC = "oos_emergency"
INPUT_PROBLEM = "input_problem"


@dataclass(frozen=True)
class Route:
    text: str
    service: str | None
    authority: str | None
    confidence: float
    intent: str | None
    topic: str | None = None
    clarify: tuple[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["clarify"] = list(self.clarify) if self.clarify else None
        return result


def _ranked_services(parsed: Mapping[str, Any], catalogue: Catalogue) -> list[tuple[str, float]]:
    """Council services in the parse's intent ranking, best first."""
    return [(str(r["name"]), float(r.get("confidence") or 0.0)) for r in parsed.get("intent_ranking") or []
            if r.get("name") in catalogue.services and catalogue.services[str(r["name"])].routable]


def best_topic(parsed: Mapping[str, Any], service: str, topics: Topics, headline: bool = True) -> str | None:
    """The likeliest topic of `service` in the parse; else, with `headline`,
    the service's headline topic (a question needs something to name)."""
    mine = parsed.get("topic") or {}
    chosen = topics.get(mine.get("name")) if isinstance(mine, Mapping) else None
    if chosen is not None and chosen.service == service:
        return chosen.id
    for entry in parsed.get("topic_ranking") or []:
        candidate = topics.get(entry.get("name"))
        if candidate is not None and candidate.service == service:
            return candidate.id
    if not headline:
        return None
    mine_all = topics.of_service(service)
    return next((t.id for t in mine_all if t.headline), mine_all[0].id)


def _stated_topic(parsed: Mapping[str, Any], service: str, topics: Topics) -> str | None:
    """A topic named by a button payload (`/service{"topic": "id"}`)."""
    for entity in parsed.get("entities") or []:
        if entity.get("entity") == "topic":
            topic = topics.get(str(entity.get("value")))
            if topic is not None and topic.service == service:
                return topic.id
    return None


def _unreadable(parsed: Mapping[str, Any]) -> bool:
    return any(e.get("entity") == INPUT_PROBLEM for e in parsed.get("entities") or [])


def route_from_parse(text: str, parsed: Mapping[str, Any], catalogue: Catalogue | None = None,
                     topics: Topics | None = None, clarifications: Clarifications | None = None) -> Route:
    """Map the NLU's parse of `text` onto a service, a topic, and whether to
    ask one question first."""
    catalogue = catalogue or default_catalogue()
    topics = topics or default_topics()
    clarifications = clarifications or default_clarifications()
    intent = (parsed.get("intent") or {}).get("name")
    confidence = float((parsed.get("intent") or {}).get("confidence") or 0.0)
    service: str | None = None
    topic: str | None = None
    pair: tuple[str, str] | None = None
    ranked = _ranked_services(parsed, catalogue)
    if intent in catalogue.services:
        service = intent
        if service == OUT_OF_SCOPE:
            mine = parsed.get("topic") or {}
            found = topics.get(mine.get("name")) if isinstance(mine, Mapping) else None
            topic = found.id if found is not None and not found.routable else None
        else:
            topic = _stated_topic(parsed, service, topics) or best_topic(parsed, service, topics, headline=False)
            if not text.startswith("/"):
                pair = clarifications.close_call(ranked, service)
    elif intent == FALLBACK and ranked and not _unreadable(parsed):
        # Between "sure" and "no idea": one question naming the two likeliest.
        pair = clarifications.unsure(ranked)
        service = pair[0] if pair else OUT_OF_SCOPE
        if pair is not None:
            topic = best_topic(parsed, service, topics, headline=False)
    elif intent in NOT_ROUTED:
        service = OUT_OF_SCOPE
        topic = EMERGENCY_TOPIC if intent == EMERGENCY and topics.get(EMERGENCY_TOPIC) else None
    else:
        clarification = clarifications.by_intent(intent or "")
        if clarification is not None:
            # Until the question is answered, the likelier of the two.
            order = [name for name, _ in ranked if name in clarification.services]
            service = order[0] if order else clarification.services[0]
            pair = clarification.services
            topic = best_topic(parsed, service, topics, headline=False)
    clarify = None
    if pair is not None:
        clarify = tuple(best_topic(parsed, s, topics) for s in pair)  # type: ignore[assignment]
    authority = catalogue.services[service].authority if service else None
    return Route(text, service, authority, round(confidence, 4), intent, topic, clarify)  # type: ignore[arg-type]
