"""A stand-in for Rasa's REST channel on a real local port, answering as
the bot does (texts, buttons with payloads, the council's custom events),
and keeping what it was sent so a test can see what reached the bot."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

REFERENCE = "LAN-7K3-Q9X"
BINS = ("Missed bins are collected by Lancaster City Council. Report it at https://www.lancaster.gov.uk/bins, "
        "and we will come back within two working days.")
CLARIFY = "Is that about a blocked drain on the road, or a drain at your home?"
CLARIFY_BUTTONS = [
    {"title": "A drain on the road", "payload": '/roads_pavements{"topic":"road_drains"}'},
    {"title": "A drain at my home", "payload": '/council_housing{"topic":"home_drains"}'},
]
ROAD_DRAINS = "Blocked drains on roads are cleared by Lancashire County Council. Report it at https://www.lancashire.gov.uk."
HANDOFF = "I've passed this to the contact centre. They will call you back within one working day."


class FakeBot:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.received: list[dict[str, Any]] = []
        self.delay_s = delay_s
        self.down = False
        self.server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._message)
        app.router.add_get("/", self._root)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _root(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    async def _message(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=500)
        body = await request.json()
        self.received.append(body)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return web.json_response(self.answer(body["message"]))

    @staticmethod
    def answer(message: str) -> list[dict[str, Any]]:
        text = message.lower()
        if message.startswith('/roads_pavements'):
            return [{"recipient_id": "x", "text": ROAD_DRAINS}]
        if "drain" in text:
            return [{"recipient_id": "x", "text": CLARIFY, "buttons": CLARIFY_BUTTONS},
                    {"recipient_id": "x", "custom": {"council": {"event": "clarify"}}}]
        if "person" in text:
            return [{"recipient_id": "x", "text": HANDOFF},
                    {"recipient_id": "x", "custom": {"council": {"event": "handoff", "reference": REFERENCE}}}]
        if "bin" in text:
            return [{"recipient_id": "x", "text": BINS}]
        return [{"recipient_id": "x", "text": "Sorry, I didn't understand."}]
