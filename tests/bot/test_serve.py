"""`python -m bot serve`: the endpoints it writes from the settings, and a
real Rasa server keeping a conversation in PostgreSQL behind a Redis lock
store (skipped, saying why, when either server does not answer here)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from bot.serve import (
    LOCK_PASSWORD_VARIABLE,
    REDACTING_STORE,
    TRACKER_PASSWORD_VARIABLE,
    SettingsError,
    stores_from_env,
    write_endpoints,
)
from tests import databases
from tests.conftest import WEEKDAY_OPEN, free_port

REDIS = ("127.0.0.1", 6379)
REDIS_DB = 11  # one of the sixteen a default Redis has; only lock keys land there


def test_defaults_keep_conversations_in_a_sqlite_file_under_the_root(tmp_path: Path) -> None:
    stores = stores_from_env({}, root=tmp_path)
    assert stores.endpoints == {
        "action_endpoint": {"url": "http://127.0.0.1:5055/webhook"},
        "tracker_store": {"type": REDACTING_STORE, "dialect": "sqlite", "db": str(tmp_path / "var" / "tracker.db")},
    }
    assert (tmp_path / "var").is_dir() and stores.secrets == {}


def test_urls_become_rasa_settings_and_passwords_stay_out_of_the_file(tmp_path: Path) -> None:
    stores = stores_from_env({
        "ACTION_SERVER_URL": "http://actions:5055/webhook",
        "TRACKER_STORE_URL": "postgresql://council:s3cr%40t@db:5433/council?options=-csearch_path%3Drasa",
        "LOCK_STORE_URL": "rediss://:l0ck@redis:6380/2",
    }, root=tmp_path)
    assert stores.endpoints["tracker_store"] == {
        "type": REDACTING_STORE, "dialect": "postgresql",
        "url": "db", "port": 5433, "db": "council", "username": "council",
        "password": "${" + TRACKER_PASSWORD_VARIABLE + "}", "query": {"options": "-csearch_path=rasa"},
    }
    assert stores.endpoints["lock_store"] == {"type": "redis", "url": "redis", "port": 6380, "db": 2, "use_ssl": True,
                                              "password": "${" + LOCK_PASSWORD_VARIABLE + "}"}
    assert stores.secrets == {TRACKER_PASSWORD_VARIABLE: "s3cr@t", LOCK_PASSWORD_VARIABLE: "l0ck"}
    text = write_endpoints(stores.endpoints, tmp_path).read_text()
    assert "s3cr" not in text and "l0ck" not in text and "http://actions:5055/webhook" in text


def test_memory_keeps_nothing(tmp_path: Path) -> None:
    assert "tracker_store" not in stores_from_env({"TRACKER_STORE_URL": "memory"}, root=tmp_path).endpoints


@pytest.mark.parametrize(("name", "value"), [
    ("TRACKER_STORE_URL", "not a url"), ("TRACKER_STORE_URL", "sqlite://"),
    ("LOCK_STORE_URL", "memcached://cache:11211"), ("LOCK_STORE_URL", "redis://redis:6379/locks"),
    ("ACTION_SERVER_URL", "actions:5055"),
])
def test_a_bad_setting_is_named(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        stores_from_env({name: value}, root=tmp_path)


# --- a real Rasa server on PostgreSQL and Redis ---------------------------------------


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis(*REDIS, db=REDIS_DB, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis server answers at {REDIS[0]}:{REDIS[1]}")
    finally:
        client.close()
    return f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}"


@pytest.fixture
def tracker_url(postgres_user: str) -> Iterator[str]:
    with databases.postgres_schema(postgres_user, "tracker") as url:
        yield url


def _say(rasa_url: str, sender: str, text: str, request_id: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        rasa_url + "/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text, "metadata": {"channel": "chat"}}).encode(),
        headers={"Content-Type": "application/json", "X-Request-Id": request_id},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _status(url: str, body: bytes | None) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"},
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.model
def test_rasa_keeps_the_conversation_in_postgresql_behind_a_redis_lock(
        model_path: Path, action_server: Callable[[str], str], tracker_url: str, redis_url: str,
        tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    from devtools.stack import start_rasa_server, stop

    port, sender, request_id = free_port(), f"serve-test-{uuid.uuid4().hex[:8]}", "req-serve-test"
    process = start_rasa_server(port, action_server(WEEKDAY_OPEN), model_path,
                                env={"TRACKER_STORE_URL": tracker_url, "LOCK_STORE_URL": redis_url},
                                log_path=tmp_path / "rasa.log")
    assert process is not None  # started here, not an old server on the port
    try:
        replies = _say(f"http://127.0.0.1:{port}", sender, "my bin wasn't collected", request_id)
        api = {path: _status(f"http://127.0.0.1:{port}{path}", body)
               for path, body in [(f"/conversations/{sender}/tracker", None),
                                  (f"/conversations/{sender}/tracker/events", b'{"event": "restart"}'),
                                  ("/model/parse", b'{"text": "hello"}'), ("/status", None), ("/version", None),
                                  ("/domain", None), ("/model", b"{}")]}
    finally:
        stop(process)
    assert replies, "the bot answered nothing"
    # Rasa's HTTP API is off: only the channel webhook (and GET /) answer, so
    # nobody can read or write a conversation, or use the model, through it.
    assert all(status == 404 for status in api.values()), api
    engine = create_engine(tracker_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id"),
                                      {"sender": sender}).all()
    finally:
        engine.dispose()
    kinds = [kind for kind, _ in rows]
    assert {"session_started", "user", "bot"} <= set(kinds)
    user = json.loads(next(data for kind, data in rows if kind == "user"))
    assert user["text"] == "my bin wasn't collected" and user["input_channel"] == "rest"
    assert (user["metadata"]["channel"], user["metadata"]["request_id"]) == ("chat", request_id)


@pytest.mark.model
async def test_a_conversation_reads_back_through_rasas_own_store(
        model_path: Path, action_server: Callable[[str], str], tmp_path: Path) -> None:
    """How `bot replay record` (or anyone) reads a kept conversation."""
    from rasa.core.tracker_store import SQLTrackerStore

    from devtools.stack import start_rasa_server, stop

    port, sender = free_port(), f"serve-test-{uuid.uuid4().hex[:8]}"
    database = tmp_path / "tracker.db"
    process = start_rasa_server(port, action_server(WEEKDAY_OPEN), model_path,
                                env={"TRACKER_STORE_URL": f"sqlite:///{database}", "LOCK_STORE_URL": ""},
                                log_path=tmp_path / "rasa.log")
    try:
        _say(f"http://127.0.0.1:{port}", sender, "hello", "req-read-back")
    finally:
        stop(process)
    store = SQLTrackerStore(dialect="sqlite", db=str(database))
    assert sender in set(await store.keys())
    tracker = await store.retrieve_full_tracker(sender)
    assert tracker is not None
    said = [event.text for event in tracker.events if event.type_name == "user"]
    assert said == ["hello"] and tracker.latest_message.metadata["request_id"] == "req-read-back"
