"""The trained model, loaded once, routing utterances (council.routing says
what each parse means)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from council.catalogue import Catalogue, default_catalogue
from council.routing import Route, route_from_parse


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
