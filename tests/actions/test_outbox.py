"""The actions' handoff outbox: a case is on disk before anything else, and
reaches the handoff service exactly once whether the service is up, down,
slow, failing or refusing.

The unit tests run against a fake service this file controls (the only way
to make a real one store a case and then lose the answer). The last tests
run the real handoff service (handoff.app.init_app over a CaseStore on a
temporary SQLite file), stopped and started again on the same port.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from actions import outbox as outbox_module
from actions.api.handoff_client import HandoffClient, HandoffRejected, HandoffUnavailable
from actions.outbox import DELIVERED, QUEUED, REJECTED, Outbox
from council.references import new_reference
from tests.conftest import free_port

TOKEN = "test-handoff-token"
TIMEOUT_S = 0.3
SLOW_S = 1.0  # longer than TIMEOUT_S: the client gives up first
SECRET_WORDS = "my neighbour's dog bites the postman"
FULL_NUMBER = "+447700900123"


def a_case(conversation: str = "CA-conversation-1", reason: str = "person_requested", **extra: Any) -> dict:
    return {
        "conversation_id": conversation,
        "reason": reason,
        "channel": "voice",
        "reference": new_reference(),
        "caller_number": FULL_NUMBER,
        "transcript": [{"who": "bot", "text": "How can I help?"}, {"who": "caller", "text": SECRET_WORDS}],
        **extra,
    }


class FakeService:
    """A handoff service double on a fixed port that can be stopped and
    started. Each request takes the next behaviour from `script`, else
    `mode`: ok, 500, 422, 400, 401, 429, garbage (not JSON), nocase (JSON, no
    case), slow (answers too late, stores
    nothing), ambiguous (stores the case, then answers too late)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = "ok"
        self.script: list[str] = []
        self.creates: Counter[str] = Counter()  # POSTs seen, by conversation_id|reason
        self.stored: dict[str, dict] = {}
        self.order: list[str] = []  # conversation ids, in the order first stored
        self.tokens: list[str | None] = []
        self._server: TestServer | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/cases", self._create)
        self._server = TestServer(app, host="127.0.0.1", port=self.port)
        await self._server.start_server()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def _create(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        key = f"{body['conversation_id']}|{body['reason']}"
        self.creates[key] += 1
        self.tokens.append(request.headers.get("Authorization"))
        mode = self.script.pop(0) if self.script else self.mode
        if mode == "slow":
            await asyncio.sleep(SLOW_S)
            return web.json_response({"error": "too late"}, status=503)
        if mode == "late":  # slower than the action waits, within the client's timeout
            await asyncio.sleep(TIMEOUT_S / 2)
        if mode in ("500", "429", "401", "400"):
            return web.json_response({"error": "nope"}, status=int(mode))
        if mode == "422":
            return web.json_response({"error": "service: no such service"}, status=422)
        if mode == "garbage":
            return web.Response(text="<html>proxy error</html>", status=200)
        if mode == "nocase":
            return web.json_response({"status": "ok"}, status=201)
        created = key not in self.stored
        if created:
            self.stored[key] = {"reference": body.get("reference"), "conversation_id": body["conversation_id"]}
            self.order.append(body["conversation_id"])
        if mode == "ambiguous":
            await asyncio.sleep(SLOW_S)
        return web.json_response({"case": self.stored[key]}, status=201 if created else 200)


@pytest.fixture
async def service() -> AsyncIterator[FakeService]:
    fake = FakeService()
    yield fake
    await fake.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def make_outbox(tmp_path: Path, session: aiohttp.ClientSession) -> Iterator[Callable[..., Outbox]]:
    """Outboxes on one file (tmp_path/outbox/cases.db unless told), all
    stopped and closed at the end; a second call is a restart."""
    made: list[Outbox] = []

    def make(url: str, path: Path | None = None, submit_wait_s: float = 10.0) -> Outbox:
        box = Outbox(path or tmp_path / "outbox" / "cases.db",
                     lambda: HandoffClient(session, url, TOKEN, timeout_s=TIMEOUT_S), submit_wait_s=submit_wait_s)
        made.append(box)
        return box

    yield make
    for box in made:
        if box._task is not None:
            box._task.cancel()
        box.close()


def rows(path: Path) -> list[dict]:
    """The outbox table as another process (or a restarted one) sees it."""
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM outbox ORDER BY id")]


# -- the client ------------------------------------------------------------


@pytest.mark.parametrize("mode, error", [
    ("500", HandoffUnavailable), ("429", HandoffUnavailable), ("401", HandoffUnavailable),
    ("garbage", HandoffUnavailable), ("nocase", HandoffUnavailable), ("slow", HandoffUnavailable),
    ("422", HandoffRejected), ("400", HandoffRejected),
])
async def test_client_sorts_failures_into_retry_or_never(service: FakeService, session: aiohttp.ClientSession,
                                                         mode: str, error: type) -> None:
    await service.start()
    service.mode = mode
    client = HandoffClient(session, service.url, TOKEN, timeout_s=TIMEOUT_S)
    with pytest.raises(error) as raised:
        await client.create_case(a_case())
    assert SECRET_WORDS not in str(raised.value)
    if mode == "422":
        assert raised.value.status == 422 and "no such service" in raised.value.error


async def test_client_down_is_unavailable_and_up_returns_the_case(service: FakeService,
                                                                  session: aiohttp.ClientSession) -> None:
    client = HandoffClient(session, service.url + "/", TOKEN, timeout_s=TIMEOUT_S)
    with pytest.raises(HandoffUnavailable):
        await client.create_case(a_case())
    await service.start()
    payload = a_case()
    case = await client.create_case(payload)
    assert case["reference"] == payload["reference"]
    assert service.tokens == [f"Bearer {TOKEN}"]


# -- the outbox against the fake service ------------------------------------


async def test_down_case_is_committed_survives_restart_and_arrives_once(
        service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    box = make_outbox(service.url)
    payload = a_case()
    assert await box.submit(payload) == QUEUED
    [row] = rows(box.path)
    assert json.loads(row["payload"]) == payload
    assert row["key"] == f"{payload['conversation_id']}|person_requested"
    assert row["delivered_at"] is None and row["attempts"] == 1 and row["last_error"]
    box.close()

    restarted = make_outbox(service.url)
    assert restarted.pending() == 1
    await service.start()
    assert await restarted.flush() == 1
    assert await restarted.flush() == 0
    assert restarted.pending() == 0
    assert service.creates == {row["key"]: 1}
    assert service.stored[row["key"]]["reference"] == payload["reference"]


async def test_outbox_file_is_wal_with_full_sync(tmp_path: Path, service: FakeService,
                                                make_outbox: Callable[..., Outbox]) -> None:
    box = make_outbox(service.url, tmp_path / "deep" / "er" / "outbox.db")
    assert box.path.exists()
    assert box._execute("PRAGMA journal_mode")[0][0] == "wal"
    assert box._execute("PRAGMA synchronous")[0][0] == 2  # FULL


async def test_up_is_delivered_at_once_without_private_fields_kept(
        service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    await service.start()
    box = make_outbox(service.url)
    assert await box.submit(a_case()) == DELIVERED
    [row] = rows(box.path)
    assert row["delivered_at"] and row["attempts"] == 1
    kept = json.loads(row["payload"])
    assert "transcript" not in kept and "caller_number" not in kept
    # Nor anywhere in the file or its write-ahead log, freed pages included.
    for path in (box.path, box.path.with_name(box.path.name + "-wal")):
        raw = path.read_bytes() if path.exists() else b""
        assert SECRET_WORDS.encode() not in raw and FULL_NUMBER.encode() not in raw


async def test_a_500_then_success(service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    await service.start()
    service.script = ["500"]
    box = make_outbox(service.url)
    payload = a_case()
    assert await box.submit(payload) == QUEUED
    assert rows(box.path)[0]["last_error"] == "HTTP 500"
    assert await box.flush() == 1
    key = rows(box.path)[0]["key"]
    assert service.creates[key] == 2 and len(service.stored) == 1
    assert rows(box.path)[0]["last_error"] is None


async def test_ambiguous_failure_is_retried_and_the_service_keeps_one(
        service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    await service.start()
    service.script = ["ambiguous"]
    box = make_outbox(service.url)
    assert await box.submit(a_case()) == QUEUED
    assert len(service.stored) == 1  # stored, though the answer never came
    assert await box.flush() == 1
    key = rows(box.path)[0]["key"]
    assert service.creates[key] == 2  # the outbox did retry...
    assert len(service.stored) == 1  # ...and idempotency kept one case
    assert box.pending() == 0


async def test_slow_service_costs_the_action_one_timeout(service: FakeService,
                                                         make_outbox: Callable[..., Outbox]) -> None:
    await service.start()
    service.mode = "slow"
    box = make_outbox(service.url)
    started = time.monotonic()
    assert await box.submit(a_case()) == QUEUED
    assert time.monotonic() - started < TIMEOUT_S + 0.5
    assert box.pending() == 1


async def test_the_action_answers_before_a_late_delivery_which_still_lands_once(
        service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    """The case is on disk before the action waits; a service slower than
    the action's wait gets it anyway, after the answer, exactly once."""
    await service.start()
    service.mode = "late"
    box = make_outbox(service.url, submit_wait_s=TIMEOUT_S / 10)
    case = a_case()
    assert await box.submit(case) == QUEUED
    for _ in range(100):
        if box.pending() == 0:
            break
        await asyncio.sleep(TIMEOUT_S / 10)
    assert box.pending() == 0 and rows(box.path)[0]["delivered_at"]
    assert list(service.creates.values()) == [1]
    await box.stop()


async def test_422_is_rejected_kept_logged_and_never_retried(
        service: FakeService, make_outbox: Callable[..., Outbox], caplog: pytest.LogCaptureFixture) -> None:
    await service.start()
    service.mode = "422"
    box = make_outbox(service.url)
    payload = a_case()
    with caplog.at_level(logging.INFO, logger="actions.outbox"):
        assert await box.submit(payload) == REJECTED
        assert await box.flush() == 0
        assert await box.submit(payload) == REJECTED
    [row] = rows(box.path)
    assert row["rejected_at"] and "422" in row["last_error"] and "no such service" in row["last_error"]
    assert service.creates[row["key"]] == 1
    assert box.pending() == 0
    rejected = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(rejected) == 1 and payload["reference"] in rejected[0] and "no such service" in rejected[0]


async def test_same_key_twice_keeps_the_first_row(service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    box = make_outbox(service.url)
    first, second = a_case(), a_case()
    assert await box.submit(first) == QUEUED
    assert await box.submit(second) == QUEUED
    [row] = rows(box.path)
    assert json.loads(row["payload"])["reference"] == first["reference"]
    assert box.reference_for(first["conversation_id"], "person_requested") == first["reference"]
    assert box.reference_for(first["conversation_id"], "urgent") is None
    await service.start()
    assert await box.submit(second) == DELIVERED
    assert box.reference_for(first["conversation_id"], "person_requested") == first["reference"]
    assert [case["reference"] for case in service.stored.values()] == [first["reference"]]
    assert sum(service.creates.values()) == 1


async def test_pending_cases_go_oldest_first(service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    box = make_outbox(service.url)
    for name in ("first", "second", "third"):
        assert await box.submit(a_case(name)) == QUEUED
    # Down: each submit tried only the oldest case, then stopped.
    assert [row["attempts"] for row in rows(box.path)] == [3, 0, 0]
    await service.start()
    assert await box.submit(a_case("fourth")) == DELIVERED
    assert service.order == ["first", "second", "third", "fourth"]


async def test_a_case_the_service_fails_on_does_not_block_the_rest(
        service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    box = make_outbox(service.url)
    await box.submit(a_case("poison"))
    await box.submit(a_case("fine"))
    await service.start()
    service.script = ["500"]
    assert await box.flush() == 1
    assert service.order == ["fine"]
    assert box.pending() == 1


async def test_background_loop_delivers_when_the_service_returns_and_stops_cleanly(
        service: FakeService, make_outbox: Callable[..., Outbox]) -> None:
    box = make_outbox(service.url)
    assert await box.submit(a_case("one")) == QUEUED
    assert await box.submit(a_case("two")) == QUEUED
    box.start(interval_s=0.05, max_interval_s=0.2)
    box.start(interval_s=0.05)  # a second start in the same loop changes nothing
    task = box._task
    await asyncio.sleep(0.3)  # a few failed rounds: backing off, not dying
    assert not task.done() and box.pending() == 2
    await service.start()
    deadline = time.monotonic() + 5
    while box.pending() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert box.pending() == 0 and service.order == ["one", "two"]
    await box.stop()
    assert task.done() and box._task is None


async def test_logs_hold_no_transcript_and_no_full_number(
        service: FakeService, make_outbox: Callable[..., Outbox], caplog: pytest.LogCaptureFixture) -> None:
    box = make_outbox(service.url)
    texted = a_case(FULL_NUMBER, channel="sms")
    with caplog.at_level(logging.DEBUG, logger="actions.outbox"):
        await box.submit(texted)  # down
        await box.submit(texted)  # already in the outbox
        await service.start()
        service.script = ["422"]
        await box.submit(a_case(FULL_NUMBER, reason="complaint"))  # rejected
        await box.flush()  # delivered
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert len(caplog.records) >= 4
    assert SECRET_WORDS not in text and FULL_NUMBER not in text and "7700900123" not in text
    assert "+44*******123" in text and texted["reference"] in text


async def test_module_submit_uses_the_environment_and_starts_the_loop(
        tmp_path: Path, service: FakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env" / "outbox.db"
    monkeypatch.setenv("HANDOFF_OUTBOX", str(path))
    monkeypatch.setenv("HANDOFF_URL", service.url)
    monkeypatch.setenv("HANDOFF_API_TOKEN", TOKEN)
    monkeypatch.setattr(outbox_module, "_default", None)
    await service.start()
    try:
        assert await outbox_module.submit(a_case()) == DELIVERED
        box = outbox_module.default_outbox()
        assert box.path == path and box._task is not None and not box._task.done()
        assert service.tokens == [f"Bearer {TOKEN}"]
    finally:
        await outbox_module.default_outbox().stop()
        outbox_module.default_outbox().close()


async def test_a_payload_without_its_key_is_a_programming_error(service: FakeService,
                                                                make_outbox: Callable[..., Outbox]) -> None:
    box = make_outbox(service.url)
    with pytest.raises(ValueError):
        await box.submit({"reason": "urgent", "channel": "voice", "transcript": []})
    assert rows(box.path) == []


# -- the test: the real handoff service ------------------------------


class RealService:
    """The real handoff app over one CaseStore, served on a fixed port; each
    start builds a fresh app, as a restarted service would."""

    def __init__(self, settings: Any, store: Any) -> None:
        self.settings, self.store = settings, store
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: TestServer | None = None

    async def start(self) -> None:
        from handoff.app import init_app

        self._server = TestServer(init_app(self.settings, self.store), host="127.0.0.1", port=self.port)
        await self._server.start_server()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None


@pytest.fixture
async def real_service(tmp_path: Path) -> AsyncIterator[RealService]:
    from handoff.settings import HandoffSettings
    from handoff.store import CaseStore

    settings = HandoffSettings.from_env({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'council.db'}",
        "HANDOFF_API_TOKEN": TOKEN,
    })
    store = CaseStore(settings.database_url)
    real = RealService(settings, store)
    yield real
    await real.stop()
    store.close()


async def test_three_handoffs_while_the_service_is_down_arrive_exactly_once(
        real_service: RealService, make_outbox: Callable[..., Outbox]) -> None:
    await real_service.start()  # up, then stopped: the port is the service's
    await real_service.stop()
    box = make_outbox(real_service.url)
    cases = [a_case(f"CA-call-{n}", service="council_tax") for n in (1, 2, 3)]
    for payload in cases:
        assert await box.submit(payload) == QUEUED
    assert box.pending() == 3

    await real_service.start()
    box.start(interval_s=0.05)
    deadline = time.monotonic() + 10
    while box.pending() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await box.stop()
    assert box.pending() == 0

    stored = real_service.store.list_cases(limit=100)
    assert len(stored) == 3
    assert sorted(case.conversation_id for case in stored) == ["CA-call-1", "CA-call-2", "CA-call-3"]
    assert {case.reference for case in stored} == {payload["reference"] for payload in cases}

    assert await box.submit(cases[0]) == DELIVERED
    assert await box.submit(dict(cases[1], reference=new_reference())) == DELIVERED
    assert len(real_service.store.list_cases(limit=100)) == 3


async def test_real_service_makes_a_retry_after_a_lost_answer_safe(
        real_service: RealService, session: aiohttp.ClientSession, make_outbox: Callable[..., Outbox]) -> None:
    """What the outbox relies on: the same case sent twice (its answer lost
    the first time) is stored once, under its first reference."""
    await real_service.start()
    client = HandoffClient(session, real_service.url, TOKEN, timeout_s=5)
    payload = a_case("CA-lost-answer")
    first = await client.create_case(payload)
    again = await client.create_case(payload)
    assert first["reference"] == again["reference"] == payload["reference"]
    assert len(real_service.store.list_cases(limit=100)) == 1
    # The outbox on top: the case is already there, so delivery is a 200.
    box = make_outbox(real_service.url)
    assert await box.submit(payload) == DELIVERED
    assert len(real_service.store.list_cases(limit=100)) == 1


async def test_real_service_rejection_is_final(real_service: RealService,
                                               make_outbox: Callable[..., Outbox]) -> None:
    await real_service.start()
    box = make_outbox(real_service.url)
    assert await box.submit(a_case("CA-bad", service="no_such_service")) == REJECTED
    assert "422" in rows(box.path)[0]["last_error"]
    assert real_service.store.list_cases(limit=100) == []


async def test_a_reference_the_store_changed_is_the_one_kept(tmp_path: Path) -> None:
    """After a clash the store gives the case a new reference; the action
    tells the caller that one, so the outbox keeps it."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from actions.api.handoff_client import HandoffClient
    from actions.outbox import Outbox

    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"case": {**body, "reference": "LAN-XYZ-ABC"}}, status=201)

    app = web.Application()
    app.router.add_post("/api/cases", create)
    server = TestServer(app)
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        box = Outbox(tmp_path / "outbox.db", lambda: HandoffClient.connect(url, "token", 2.0))
        payload = {"conversation_id": "conv-1", "reason": "complaint", "reference": "LAN-777-777",
                   "channel": "chat", "transcript": []}
        assert await box.submit(payload) == "delivered"
        assert box.reference_for("conv-1", "complaint") == "LAN-XYZ-ABC"
        await box.stop()
    finally:
        await server.close()
