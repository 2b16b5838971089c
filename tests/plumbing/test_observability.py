"""/metrics and /healthz on the bridge and the handoff service, over real
HTTP, with real call logs and case stores (SQLite files), and the shared
JSON log formatter. No trained model: the bridge's bot is down or absent."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from handoff.app import init_app as init_handoff
from handoff.settings import HandoffSettings
from handoff.store import CaseStore
from plumbing.logs import JsonFormatter, RequestIdFilter, bind_request_id, redact, reset_request_id
from tests.bridge_harness import CALLER, Bridge, running_bridge, settings
from tests.conftest import free_port
from tests.handoff.test_handoff_api import new_case
from tests.telephony_bridge.test_bridge import CALL_SID, post_signed, twilio_fields

pytestmark = pytest.mark.usefixtures("weekday_open")

METRICS_TOKEN = "scrape-" + "m" * 24
HANDOFF_TOKEN = "test-token-" + "h" * 20
STAFF_SYSTEM_TOKEN = "staff-system-" + "s" * 20  # claims and outcomes through the API need it


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text page: (name, labels) -> value."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(page: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


async def get(url: str, token: str | None = None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=headers) as response:
            return response.status, response.headers.get("Content-Type", ""), await response.text()


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    """A bridge whose bot is down, guarding /metrics with a token."""
    config = replace(settings(f"http://127.0.0.1:{free_port()}", tmp_path), metrics_token=METRICS_TOKEN)
    async with running_bridge(config) as running:
        yield running


# --- the bridge ------------------------------------------------------------------

async def test_bridge_metrics_count_calls_turns_and_degraded_turns(bridge: Bridge) -> None:
    before = samples((await get(bridge.url + "/metrics", METRICS_TOKEN))[2])
    assert (await post_signed(bridge, "/voice/incoming", twilio_fields()))[0] == 200
    await post_signed(bridge, "/voice/turn", twilio_fields(SpeechResult="how do I pay my council tax"))
    await post_signed(bridge, "/voice/turn", twilio_fields(Digits="1"))
    await post_signed(bridge, "/voice/turn?menu=1", twilio_fields(Digits="1"))
    await post_signed(bridge, "/voice/status", twilio_fields(CallStatus="completed", CallDuration="30"))
    await post_signed(bridge, "/voice/turn", twilio_fields(), headers={"X-Twilio-Signature": "forged"})
    await post_signed(bridge, "/voice/turn", twilio_fields(), token="another-token")
    status, content_type, text = await get(bridge.url + "/metrics", METRICS_TOKEN)
    assert status == 200 and content_type.startswith("text/plain")
    after = samples(text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("bridge_calls_started_total") == 1
    assert moved("bridge_turns_total", channel="voice", kind="speech") == 1
    assert moved("bridge_turns_total", channel="voice", kind="dtmf") == 2
    assert moved("bridge_turn_duration_seconds_count", channel="voice") == 3
    assert moved("bridge_bot_unavailable_total", channel="voice", cause="error") == 2  # the speech and the leaf
    assert moved("bridge_transfers_total", reason="menu") == 1
    assert moved("bridge_calls_ended_total", status="completed") == 1
    assert moved("bridge_signature_rejections_total", problem="malformed") == 1  # refused before the body was read
    assert moved("bridge_signature_rejections_total", problem="mismatch") == 1
    assert moved("bridge_http_responses_total", status_class="4xx") == 2
    assert moved("bridge_http_responses_total", status_class="5xx") == 0


async def test_bridge_counts_texts(bridge: Bridge) -> None:
    await post_signed(bridge, "/sms/incoming", {"MessageSid": "SM" + "2" * 32, "From": CALLER, "Body": "bins"})
    page = samples((await get(bridge.url + "/metrics", METRICS_TOKEN))[2])
    assert value(page, "bridge_turns_total", channel="sms", kind="text") == 1
    assert value(page, "bridge_bot_unavailable_total", channel="sms", cause="error") == 1


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_bridge_metrics_need_the_token(bridge: Bridge, token: str | None) -> None:
    status, _, text = await get(bridge.url + "/metrics", token)
    assert status == 401 and "bridge_" not in text


@pytest.mark.parametrize(("production", "expected"), [(False, 200), (True, 404)])
async def test_bridge_metrics_without_a_token(tmp_path: Path, production: bool, expected: int) -> None:
    config = replace(settings(f"http://127.0.0.1:{free_port()}", tmp_path), production=production)
    async with running_bridge(config) as running:
        status, _, _ = await get(running.url + "/metrics")
    assert status == expected


async def test_bridge_health_reports_rasa_without_failing_on_it(bridge: Bridge) -> None:
    status, _, text = await get(bridge.url + "/healthz")
    answer = json.loads(text)
    assert status == 200 and answer["status"] == "ok" and answer["database"] == "ok"
    assert answer["rasa"] == "unreachable" and "keypad menu" in answer["answering"]


async def test_bridge_health_fails_when_its_database_does(bridge: Bridge, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "calls.db") as database:  # the harness's call log
        database.execute("DROP TABLE calllog_calls")
    status, _, text = await get(bridge.url + "/healthz")
    answer = json.loads(text)
    assert status == 503 and answer["status"] == "unavailable" and answer["failing"] == ["database"]


# --- the handoff service -----------------------------------------------------------

@pytest.fixture
async def handoff(tmp_path: Path) -> AsyncIterator[TestClient]:
    database = f"sqlite:///{tmp_path / 'cases.db'}"
    store = CaseStore(database)
    config = HandoffSettings(database_url=database, api_token=HANDOFF_TOKEN, metrics_token=METRICS_TOKEN,
                             integration_token=STAFF_SYSTEM_TOKEN)
    client = TestClient(TestServer(init_handoff(config, store=store)))
    await client.start_server()
    yield client
    await client.close()
    store.close()


async def _handoff_metrics(client: TestClient, token: str | None = METRICS_TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client.get("/metrics", headers=headers) as response:
        return response.status, await response.text()


async def test_handoff_metrics_count_cases_claims_outcomes_and_errors(handoff: TestClient) -> None:
    auth = {"Authorization": f"Bearer {HANDOFF_TOKEN}"}
    async with handoff.post("/api/cases", json=new_case("conv-metrics"), headers=auth) as response:
        assert response.status == 201
        reference = (await response.json())["case"]["reference"]
    async with handoff.post("/api/cases", json=new_case("conv-metrics"), headers=auth) as response:
        assert response.status == 200  # the same case again: not counted twice
    staff_system = {"Authorization": f"Bearer {STAFF_SYSTEM_TOKEN}"}
    async with handoff.post(f"/api/cases/{reference}/claim", json={"staff": "alice"},
                            headers=staff_system) as response:
        assert response.status == 200
    async with handoff.post(f"/api/cases/{reference}/outcome", json={"staff": "alice", "outcome": "resolved_at_desk"},
                            headers=staff_system) as response:
        assert response.status == 200
    async with handoff.get("/api/cases/LAN-NOT-REAL") as response:
        assert response.status == 401
    status, text = await _handoff_metrics(handoff)
    page = samples(text)
    assert status == 200
    assert value(page, "handoff_cases_created_total", channel="voice", priority="normal") == 1
    assert value(page, "handoff_claims_total", via="api") == 1
    assert value(page, "handoff_outcomes_total", outcome="resolved_at_desk", via="api") == 1
    assert value(page, "handoff_http_responses_total", status_class="2xx") == 4
    assert value(page, "handoff_http_responses_total", status_class="4xx") == 1
    assert value(page, "handoff_http_request_duration_seconds_count", method="POST", route="/api/cases") == 2


async def test_handoff_metrics_need_the_token(handoff: TestClient) -> None:
    assert (await _handoff_metrics(handoff, None))[0] == 401
    assert (await _handoff_metrics(handoff, "wrong"))[0] == 401


async def test_handoff_health_follows_its_database(handoff: TestClient, tmp_path: Path) -> None:
    async with handoff.get("/healthz") as response:
        assert response.status == 200 and (await response.json())["database"] == "ok"
    with sqlite3.connect(tmp_path / "cases.db") as database:
        database.execute("DROP TABLE handoff_cases")
    async with handoff.get("/healthz") as response:
        answer = await response.json()
    assert response.status == 503 and answer["failing"] == ["database"]


# --- the shared log formatter ----------------------------------------------------------

def _line(message: str, *args: Any, exc: bool = False, **extra: Any) -> dict[str, Any]:
    record = logging.LogRecord("rasa.core.processor", logging.WARNING, __file__, 1, message, args, None)
    if exc:
        try:
            raise ValueError("(psycopg2.Error)\n[SQL: INSERT]\n[parameters: ('my card is 4111')]\n(Background x)")
        except ValueError:
            import sys
            record.exc_info = sys.exc_info()
    for name, given in extra.items():
        setattr(record, name, given)
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter("rasa").format(record))


def test_lines_carry_the_bound_request_id_and_hide_numbers_and_sql_parameters() -> None:
    token = bind_request_id(CALL_SID)
    try:
        line = _line("Circuit breaker tripped for sender '%s'.", CALLER, exc=True, text="what the caller said")
    finally:
        reset_request_id(token)
    assert line["request_id"] == CALL_SID and line["component"] == "rasa" and line["level"] == "warning"
    assert CALLER not in json.dumps(line) and "+44*******123" in line["message"]
    assert "4111" not in line["error"] and "[parameters hidden]" in line["error"]
    assert "text" not in line  # only the formatter's own fields are kept
    assert "request_id" not in _line("nothing bound")


def test_redact_keeps_ids_and_masks_numbers() -> None:
    assert redact(f"call {CALL_SID} from 07700 900123") == f"call {CALL_SID} from ********123"
    assert redact("card 4111 1111 1111 1111 paid") == "card ************111 paid"  # at most 12 stars


def test_rasas_structlog_events_lose_their_text() -> None:
    from plumbing.logs import _structlog_to_stdlib

    event = {"event": "rest.message.received.timeout", "text": "my card is 4111 1111 1111 1111"}
    assert _structlog_to_stdlib(None, "error", event) == {"msg": "rest.message.received.timeout", "exc_info": False}


# --- the actions' outbox carries the request id to the case API --------------------

async def test_a_late_delivery_still_carries_the_request_id_of_its_message(tmp_path: Path) -> None:
    from aiohttp import web

    from actions.api.handoff_client import HandoffClient
    from actions.outbox import QUEUED, Outbox

    path = tmp_path / "outbox.db"
    with sqlite3.connect(path) as old:  # a file made before request ids were kept
        old.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, "
                    "payload TEXT NOT NULL, created_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
                    "last_error TEXT, delivered_at TEXT, rejected_at TEXT)")
    seen: list[str | None] = []

    async def create(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Request-Id"))
        return web.json_response({"case": await request.json()}, status=201)

    app = web.Application()
    app.router.add_post("/api/cases", create)
    port = free_port()
    box = Outbox(path, lambda: HandoffClient.connect(f"http://127.0.0.1:{port}", "token", 0.5))
    try:
        token = bind_request_id(CALL_SID)
        try:
            state = await box.submit({"conversation_id": "conv-late", "reason": "complaint", "channel": "voice",
                                      "transcript": []})
        finally:
            reset_request_id(token)
        assert state == QUEUED  # nothing listens yet
        server = TestServer(app, port=port)
        await server.start_server()
        try:
            assert await box.flush() == 1
        finally:
            await server.close()
    finally:
        await box.stop()
        box.close()
    assert seen == [CALL_SID]
