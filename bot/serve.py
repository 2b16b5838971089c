"""The Rasa server and the action server as this project runs them: stores
chosen by settings, JSON logs carrying the request id.

`python -m bot serve` is `rasa run` with the REST channel of
bot/credentials.yml and nothing else (Rasa's HTTP API is not served), the
model for the current data and an endpoints file written from the
environment (under var/):

- ACTION_SERVER_URL: the action server's webhook
  (default http://127.0.0.1:5055/webhook);
- TRACKER_STORE_URL: an SQLAlchemy URL for Rasa's SQL tracker store (redacted
  before storage: bot/redacting_tracker_store.py), which
  keeps every conversation (default sqlite:///var/tracker.db under the
  repository; `memory` keeps nothing);
- LOCK_STORE_URL: empty for Rasa's in-memory lock store, or
  redis://[:password@]host:port/db (rediss:// for TLS) for its Redis lock
  store, which several Rasa servers can share.

Passwords are not written to the file: it names variables that this process
sets from the URLs, and Rasa fills them in when it reads the file.

`python -m bot actions` is `python -m rasa_sdk --actions actions` with the
same JSON logs; each line logged while an action runs carries the request id
of the message that triggered it (from the tracker's latest message).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml
from sqlalchemy.engine import make_url

from plumbing import logs
from plumbing.paths import BOT_DIR, ROOT, VAR_DIR

DEFAULT_ACTION_SERVER_URL = "http://127.0.0.1:5055/webhook"
DEFAULT_TRACKER_STORE_URL = "sqlite:///var/tracker.db"
# Rasa's SQL tracker store behind the privacy layer (bot/redacting_tracker_store.py).
REDACTING_STORE = "bot.redacting_tracker_store.RedactingSQLTrackerStore"
MEMORY = "memory"
CREDENTIALS = BOT_DIR / "credentials.yml"
# What the endpoints file names instead of the passwords themselves.
TRACKER_PASSWORD_VARIABLE = "TRACKER_STORE_URL_PASSWORD"
LOCK_PASSWORD_VARIABLE = "LOCK_STORE_URL_PASSWORD"


class SettingsError(ValueError):
    """A setting is malformed; the message names it."""


@dataclass(frozen=True)
class Stores:
    """What the endpoints file says, and the passwords it leaves out."""

    endpoints: dict[str, Any]
    secrets: dict[str, str]


def _placeholder(name: str) -> str:
    return "${" + name + "}"


def tracker_store(url: str, root: Path = ROOT) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Rasa's SQL tracker store settings for an SQLAlchemy URL (None for
    `memory`), and the password to pass apart. A relative SQLite path is
    taken from `root` and its directory made."""
    if url == MEMORY:
        return None, {}
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several kinds for a bad URL
        raise SettingsError(f"TRACKER_STORE_URL={url!r} is not an SQLAlchemy URL (or `memory`)") from None
    dialect = parsed.get_backend_name()
    if dialect == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise SettingsError("TRACKER_STORE_URL must name a SQLite file (use `memory` to keep nothing)")
        path = Path(parsed.database)
        path = path if path.is_absolute() else root / path
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"type": REDACTING_STORE, "dialect": "sqlite", "db": str(path)}, {}
    store: dict[str, Any] = {"type": REDACTING_STORE, "dialect": parsed.drivername, "url": parsed.host or "localhost",
                             "db": parsed.database or ""}
    if parsed.port:
        store["port"] = parsed.port
    if parsed.username:
        store["username"] = parsed.username
    secrets = {}
    if parsed.password:
        store["password"] = _placeholder(TRACKER_PASSWORD_VARIABLE)
        secrets[TRACKER_PASSWORD_VARIABLE] = str(parsed.password)
    if parsed.query:
        store["query"] = dict(parsed.query)
    return store, secrets


def lock_store(url: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Rasa's Redis lock store settings for a redis:// URL (None when empty:
    Rasa's in-memory lock store, for one server), and the password apart."""
    if not url:
        return None, {}
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001
        parsed = None
    if parsed is None or parsed.drivername not in ("redis", "rediss") or not parsed.host:
        raise SettingsError(f"LOCK_STORE_URL={url!r} must be redis://host:port/db (or empty)")
    database = parsed.database or "0"
    if not database.isdigit():
        raise SettingsError(f"LOCK_STORE_URL={url!r}: the database after the / must be a number")
    store: dict[str, Any] = {"type": "redis", "url": parsed.host, "port": parsed.port or 6379, "db": int(database),
                             "use_ssl": parsed.drivername == "rediss"}
    secrets = {}
    if parsed.username:
        store["username"] = parsed.username
    if parsed.password:
        store["password"] = _placeholder(LOCK_PASSWORD_VARIABLE)
        secrets[LOCK_PASSWORD_VARIABLE] = str(parsed.password)
    return store, secrets


def stores_from_env(env: Mapping[str, str] | None = None, root: Path = ROOT) -> Stores:
    """The endpoints for ACTION_SERVER_URL, TRACKER_STORE_URL and
    LOCK_STORE_URL. Raises SettingsError naming a bad one."""
    env = os.environ if env is None else env
    actions = env.get("ACTION_SERVER_URL", "").strip() or DEFAULT_ACTION_SERVER_URL
    if not actions.startswith(("http://", "https://")):
        raise SettingsError(f"ACTION_SERVER_URL={actions!r} must start with http:// or https://")
    endpoints: dict[str, Any] = {"action_endpoint": {"url": actions}}
    tracker, tracker_secrets = tracker_store(env.get("TRACKER_STORE_URL", "").strip() or DEFAULT_TRACKER_STORE_URL,
                                             root)
    lock, lock_secrets = lock_store(env.get("LOCK_STORE_URL", "").strip())
    if tracker is not None:
        endpoints["tracker_store"] = tracker
    if lock is not None:
        endpoints["lock_store"] = lock
    return Stores(endpoints, {**tracker_secrets, **lock_secrets})


def write_endpoints(endpoints: Mapping[str, Any], directory: Path = VAR_DIR) -> Path:
    """The endpoints file (named by its content, so servers started with
    different settings do not overwrite each other's)."""
    text = yaml.safe_dump(dict(endpoints), sort_keys=False)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"endpoints-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def _quiet_rasa() -> None:
    """Rasa asks nobody before sending usage data home; nothing here may
    call out. Its TensorFlow start-up chatter is not JSON."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def serve_rasa(host: str, port: int, model: Path) -> int:
    """Run the Rasa server until it is stopped (blocks)."""
    _quiet_rasa()
    logs.configure(component="rasa")
    log = logging.getLogger("bot.serve")
    try:
        stores = stores_from_env()
    except SettingsError as exc:
        log.error("cannot start the Rasa server: %s", exc)
        return 1
    os.environ.update(stores.secrets)  # read back by Rasa from the endpoints file
    endpoints = write_endpoints(stores.endpoints)
    import rasa.api

    log.info("tracker store %s, lock store %s", stores.endpoints.get("tracker_store", {}).get("dialect", "memory"),
             stores.endpoints.get("lock_store", {}).get("type", "memory"))
    # Sanic sets up its own plain-text logging when the app is built; undo
    # it once the server is about to listen.
    listeners = [(lambda *_: logs.configure(component="rasa"), "before_server_start"),
                 (_warm_up, "after_server_start")]
    # enable_api=False: Rasa's HTTP API (read or write any conversation by
    # its id, which for a text is the sender's number; parse with the model;
    # replace the model) is never served. The channel webhook and GET / are
    # all that answer.
    rasa.api.run(model=str(model), endpoints=str(endpoints), credentials=str(CREDENTIALS),
                 interface=host, port=port, server_listeners=listeners, enable_api=False)
    return 0


async def _warm_up(app: Any, _loop: Any) -> None:
    """Parse one message as soon as the model is loaded: the first parse
    builds TensorFlow's graphs and takes seconds, which the first caller
    would otherwise spend hearing the bot-unavailable apology. NLU only, so
    nothing is written to the tracker store."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        return
    started = time.perf_counter()
    try:
        await agent.parse_message("hello")
    except Exception:  # noqa: BLE001 - the first real message will just be slower
        logging.getLogger("bot.serve").warning("warm-up message failed", exc_info=True)
        return
    logging.getLogger("bot.serve").info("model warmed up in %.1f s", time.perf_counter() - started)


def _action_call(body: bytes, deflated: bool) -> Any:
    try:
        return json.loads(zlib.decompress(body) if deflated else body)
    except (zlib.error, ValueError):
        return None  # the SDK answers the bad request itself


def action_request_id(action_call: Any) -> str | None:
    """The request id of the message an action call is about."""
    tracker = action_call.get("tracker") if isinstance(action_call, dict) else None
    latest = tracker.get("latest_message") if isinstance(tracker, dict) else None
    return logs.request_id_from_metadata(latest.get("metadata")) if isinstance(latest, dict) else None


def serve_actions(host: str, port: int, package: str = "actions") -> int:
    """Run the action server until it is stopped (blocks)."""
    logs.configure(component="actions")
    from rasa_sdk.endpoint import create_app
    from sanic.request import Request

    app = create_app(package)

    @app.middleware("request")
    async def bind(request: Request) -> None:
        # Bound for every request: a keep-alive connection's next request
        # must not inherit the last one's id.
        call = None
        if request.path == "/webhook" and request.body:
            call = _action_call(request.body, request.headers.get("Content-Encoding") == "deflate")
        logs.bind_request_id(action_request_id(call))

    app.register_listener(lambda *_: logs.configure(component="actions"), "before_server_start")
    logging.getLogger("bot.serve").info("action server listening on %s:%d", host, port)
    app.run(host, port, workers=1, access_log=False)
    return 0
