"""The services under fuzzing, each served on a real local port from a
thread of its own (Hypothesis drives them from ordinary synchronous code):
the handoff service (case API and staff pages) on a SQLite file with a
signed-in member of staff and a case to act on, the bridge with its call
log in SQLite and Rasa unreachable (every turn takes the fault path, which is
where a 5xx would hide), and the web chat with a live session in front of a
stand-in bot that always offers two buttons and a case reference (so choices
and references are exercised too)."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import requests
from aiohttp import web

from council.references import new_reference
from devtools.stack import free_port
from handoff import accounts
from handoff.app import init_app as handoff_app
from handoff.cases import NewCase
from handoff.settings import HandoffSettings
from handoff.store import CaseStore
from telephony_bridge.app import init_app as bridge_app
from telephony_bridge.calllog import CallLog
from telephony_bridge.settings import Settings
from webchat.app import init_app as webchat_app
from webchat.settings import WebchatSettings

API_TOKEN = "fuzz-api-token-0123456789abcdef"  # the bot's
INTEGRATION_TOKEN = "fuzz-integration-token-0123456789"  # a contact-centre system's
TWILIO_TOKEN = "fuzz-twilio-token-0123456789"
STAFF_USER, STAFF_PASSWORD = "fuzzer", "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


class Served:
    """An aiohttp application on 127.0.0.1:<port>, its loop on a thread."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        self._runner = web.AppRunner(app)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="fuzz-target")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Served":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=60)
        return self

    async def _start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@dataclass
class Targets:
    handoff: str
    bridge: str
    reference: str  # a case that exists
    staff: requests.Session  # signed in to the staff pages
    csrf: str  # that session's CSRF token
    webchat: str = ""
    chat: requests.Session | None = None  # a chat session with a conversation under way
    chat_csrf: str = ""  # its form token


async def _stand_in_bot(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response([
        {"text": "Is that about A, or B? See https://www.lancaster.gov.uk.",
         "buttons": [{"title": "A", "payload": '/council_tax{"topic":"x"}'}, {"title": "B", "payload": "/b"}]},
        {"custom": {"council": {"event": "handoff", "reference": "LAN-7K3-Q9X"}}}])


def _stand_in_bot_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", _stand_in_bot)
    return app


def _chatting(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/chat", timeout=30)
    token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    session.post(f"{base}/chat/send", data={"csrf_token": token, "message": "my bin"}, timeout=30)
    return session, token


def _signed_in(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/staff/login", timeout=30)
    token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    answer = session.post(f"{base}/staff/login", timeout=30, allow_redirects=False,
                          data={"csrf_token": token, "username": STAFF_USER, "password": STAFF_PASSWORD})
    assert answer.status_code == 303, answer.text
    queue = session.get(f"{base}/staff/", timeout=30)
    return session, _CSRF.search(queue.text).group(1)  # type: ignore[union-attr]


@contextmanager
def running(tmp: Path) -> Iterator[Targets]:
    store = CaseStore(f"sqlite:///{tmp / 'handoff.db'}")
    accounts.add_staff(store.engine, STAFF_USER, "Fuzz Tester", "lancaster_town_hall", STAFF_PASSWORD,
                       role="manager")
    case, _ = store.create_case(NewCase(
        conversation_id=uuid.uuid4().hex, reason="person_requested", channel="voice",
        transcript=[{"who": "caller", "text": "my bin was not emptied"}], reference=new_reference(),
        caller_number="+447700900123", service="bins_recycling", postcode="LA1 1AA"))
    handoff_settings = HandoffSettings(database_url=f"sqlite:///{tmp / 'handoff.db'}", api_token=API_TOKEN,
                                       integration_token=INTEGRATION_TOKEN, signin_free_attempts=100)
    bridge_settings = replace(
        Settings.from_env({"TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "RASA_URL": f"http://127.0.0.1:{free_port()}",
                           "DATABASE_URL": f"sqlite:///{tmp / 'calls.db'}"}),
        calls_per_caller_per_hour=0, texts_per_sender_per_hour=0)
    call_log = CallLog(bridge_settings.database_url)
    try:
        with Served(handoff_app(handoff_settings, store=store)) as handoff, \
                Served(bridge_app(bridge_settings, call_log=call_log)) as bridge, \
                Served(_stand_in_bot_app()) as bot:
            chat_settings = WebchatSettings(rasa_url=bot.url, session_key="fuzz-webchat-key-0123456789",
                                            messages_per_session_per_hour=0, messages_per_address_per_hour=0)
            with Served(webchat_app(chat_settings)) as webchat:
                staff, csrf = _signed_in(handoff.url)
                chat, chat_csrf = _chatting(webchat.url)
                try:
                    yield Targets(handoff.url, bridge.url, case.reference, staff, csrf, webchat.url, chat, chat_csrf)
                finally:
                    staff.close()
                    chat.close()
    finally:
        call_log.close()
        store.close()
