"""A bridge built by the tests themselves: `init_app` with its own settings
and a call log in a temporary SQLite file, served on a real local port so
the call simulator reaches it over HTTP exactly as Twilio would."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer

from telephony_bridge.app import init_app
from telephony_bridge.calllog import CallLog
from telephony_bridge.settings import Settings

TOKEN = "test-auth-token-0123456789"
CALLER = "+447700900123"


def settings(rasa_url: str, tmp: Path, **changes: object) -> Settings:
    """The bridge's settings for a test. The per-caller limits are off (every
    test call comes from the same fictional number) unless `changes` set
    them; tests/telephony_bridge/test_bridge_limits.py tests them."""
    base = Settings.from_env({"TWILIO_AUTH_TOKEN": TOKEN, "RASA_URL": rasa_url,
                              "DATABASE_URL": f"sqlite:///{tmp / 'calls.db'}"})
    changes = {"calls_per_caller_per_hour": 0, "texts_per_sender_per_hour": 0, **changes}
    return replace(base, **changes)  # type: ignore[arg-type]


class Bridge:
    def __init__(self, server: TestServer, log: CallLog) -> None:
        self.server = server
        self.log = log

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


@asynccontextmanager
async def running_bridge(config: Settings, app: web.Application | None = None) -> AsyncIterator[Bridge]:
    log = CallLog(config.database_url)
    server = TestServer(app or init_app(config, call_log=log))
    await server.start_server()
    try:
        yield Bridge(server, log)
    finally:
        await server.close()
        log.close()
