"""Shared fixtures: a real trained model (trained once per session, or taken
from the fingerprint cache), a real action server, real Trackers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from devtools.stack import free_port  # noqa: F401  (tests import it from here)
from tests import databases

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def model_path() -> Path:
    from bot.training import ensure_model

    return ensure_model()


@pytest.fixture(scope="session", autouse=True)
def handoff_outbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The actions' handoff outbox in a temporary file, and no handoff
    service behind it unless a test starts one: nothing a test does lands in
    var/, and an action server started by a test inherits both."""
    path = tmp_path_factory.mktemp("outbox") / "outbox.db"
    saved = {key: os.environ.get(key) for key in ("HANDOFF_OUTBOX", "HANDOFF_URL")}
    os.environ["HANDOFF_OUTBOX"] = str(path)
    os.environ["HANDOFF_URL"] = f"http://127.0.0.1:{free_port()}"
    yield path
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


WEEKDAY_OPEN = "2026-11-10T10:30:00"  # a Tuesday morning: every line is open
SATURDAY_NIGHT = "2026-11-14T03:00:00"  # only 24x7 lines are open


@pytest.fixture(scope="session")
def action_server() -> Iterator[Callable[[str], str]]:
    """Action servers, one per FAKE_NOW (the clock is read in their process),
    started on first use and stopped at the end of the session."""
    from devtools.stack import start_action_server

    started: dict[str, tuple[str, Any]] = {}

    def url_for(fake_now: str) -> str:
        if fake_now not in started:
            port = free_port()
            process = start_action_server(port, env={"FAKE_NOW": fake_now})
            started[fake_now] = (f"http://127.0.0.1:{port}/webhook", process)
        return started[fake_now][0]

    yield url_for
    for _, process in started.values():
        if process is not None:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def loaded_agent(model_path: Path) -> Any:
    from rasa.core.agent import Agent

    return Agent.load(str(model_path))


def _agent_at(agent: Any, url: str) -> Any:
    from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig(url=url)
    agent.action_endpoint = endpoint
    agent.processor.action_endpoint = endpoint
    return agent


@pytest.fixture
def agent_open(loaded_agent: Any, action_server: Callable[[str], str], weekday_open: None) -> Any:
    """The real model and action server on a weekday morning."""
    return _agent_at(loaded_agent, action_server(WEEKDAY_OPEN))


@pytest.fixture
def agent_night(loaded_agent: Any, action_server: Callable[[str], str], saturday_night: None) -> Any:
    """The real model and action server at 3 a.m. on a Saturday."""
    return _agent_at(loaded_agent, action_server(SATURDAY_NIGHT))


@pytest.fixture(scope="session")
def router(model_path: Path) -> Any:
    from bot.routing import Router

    return Router(model_path)


@pytest.fixture
def weekday_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tuesday 10 November 2026, 10:30 London time: every line is open."""
    monkeypatch.setenv("FAKE_NOW", WEEKDAY_OPEN)


@pytest.fixture
def saturday_night(monkeypatch: pytest.MonkeyPatch) -> None:
    """Saturday 14 November 2026, 03:00 London time: only 24x7 lines are open."""
    monkeypatch.setenv("FAKE_NOW", SATURDAY_NIGHT)


@pytest.fixture(scope="session")
def rasa_server(model_path: Path, action_server: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[Callable[[str], str]]:
    """Real Rasa servers (REST channel), one per FAKE_NOW, each in front of
    the action server for that time; started on first use. Their tracker
    store is a SQLite file of the session's own (never var/tracker.db) and
    their lock store Rasa's in-memory one, whatever the environment says."""
    from devtools.stack import start_rasa_server, stop

    started: dict[str, tuple[str, Any]] = {}
    logs = tmp_path_factory.mktemp("rasa-logs")
    trackers = tmp_path_factory.mktemp("rasa-trackers")

    def url_for(fake_now: str) -> str:
        if fake_now not in started:
            port = free_port()
            env = {"TRACKER_STORE_URL": f"sqlite:///{trackers / f'tracker-{port}.db'}", "LOCK_STORE_URL": ""}
            process = start_rasa_server(port, action_server(fake_now), model_path, env=env,
                                        log_path=logs / f"rasa-{port}.log")
            started[fake_now] = (f"http://127.0.0.1:{port}", process)
            url_for.tracker_stores[f"http://127.0.0.1:{port}"] = env["TRACKER_STORE_URL"]  # type: ignore[attr-defined]
        return started[fake_now][0]

    url_for.tracker_stores = {}  # type: ignore[attr-defined]  # Rasa URL -> its tracker store, for `replay record`

    yield url_for
    stop(*(process for _, process in started.values()))


# --- databases: a SQLite file, and PostgreSQL when a server answers ---------


@pytest.fixture(scope="session")
def postgres_user() -> str:
    """The user a PostgreSQL server on 127.0.0.1:5432 lets in; the test is
    skipped, saying why, when none does."""
    user, why = databases.postgres_user()
    if user is None:
        pytest.skip(why)
    return user


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test twice: on a SQLite file in a directory not made yet, and on
    PostgreSQL in a schema of its own (named after the test module), dropped
    after the test."""
    if request.param == "sqlite":
        yield databases.sqlite_url(tmp_path)
    else:
        prefix = request.module.__name__.rpartition(".")[2]
        with databases.postgres_schema(request.getfixturevalue("postgres_user"), prefix) as url:
            yield url


@pytest.fixture
def store(database_url: str) -> Iterator[Any]:
    """A handoff CaseStore on `database_url`, closed after the test (a test
    file needing another clock or database defines its own `store`)."""
    from handoff.store import CaseStore

    case_store = CaseStore(database_url)
    yield case_store
    case_store.close()


MODEL_FIXTURES = {"model_path", "loaded_agent", "router", "rasa_server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that asks for the trained model is marked `model` whether or not
    its module says so, so `make test-fast` (-m "not model") never trains."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)
