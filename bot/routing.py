"""Routing with the trained model: the same Rasa pipeline the live bot runs
(`Agent.parse_message`), mapped onto the catalogue's service ids.

Each result is {"text", "service", "authority", "confidence", "intent"}:
`service` is a catalogue id, or out_of_scope when the bot would not route to
a council service (out-of-scope, an emergency, or not understood), or None
when the words name no service at all (a greeting, "yes", "a person please").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from bot.catalogue import OUT_OF_SCOPE, Catalogue, default_catalogue
from bot.clarifications import default_clarifications

NOT_ROUTED = {OUT_OF_SCOPE, "nlu_fallback", "emergency"}


@dataclass(frozen=True)
class Route:
    text: str
    service: str | None
    authority: str | None
    confidence: float
    intent: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def route_from_parse(text: str, parsed: Mapping[str, Any], catalogue: Catalogue) -> Route:
    """Map the NLU's parse of `text` onto a service id."""
    intent = (parsed.get("intent") or {}).get("name")
    confidence = float((parsed.get("intent") or {}).get("confidence") or 0.0)
    service: str | None = None
    if intent in catalogue.services:
        service = intent
    elif intent in NOT_ROUTED:
        service = OUT_OF_SCOPE
    else:
        clarification = default_clarifications().by_intent(intent or "")
        if clarification is not None:
            # Until the question is answered, the likelier of the two.
            ranked = [r for r in parsed.get("intent_ranking") or [] if r.get("name") in clarification.services]
            service = str(ranked[0]["name"]) if ranked else clarification.services[0]
    authority = catalogue.services[service].authority if service else None
    return Route(text, service, authority, round(confidence, 4), intent)


class ModelMissing(RuntimeError):
    """No trained model where one was expected."""


class Router:
    """Loads a trained model once and routes utterances with it."""

    def __init__(self, model_path: Path, catalogue: Catalogue | None = None) -> None:
        if not model_path.is_file():
            raise ModelMissing(f"no trained model at {model_path}")
        from rasa.core.agent import Agent  # heavy: import on use

        self.model_path = model_path
        self.catalogue = catalogue or default_catalogue()
        self.agent = Agent.load(str(model_path))

    async def parse(self, text: str) -> dict[str, Any]:
        return await self.agent.parse_message(text)

    async def route(self, text: str) -> Route:
        return route_from_parse(text, await self.parse(text), self.catalogue)
