"""Shared fixtures: a real trained model (trained once per session, or taken
from the fingerprint cache), a real action server, real Trackers."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, Iterator

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def model_path() -> Path:
    from bot.training import ensure_model

    return ensure_model()


@pytest.fixture(scope="session")
def action_server_url() -> Iterator[str]:
    from bot.stack import start_action_server

    port = free_port()
    process = start_action_server(port)
    yield f"http://127.0.0.1:{port}/webhook"
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def agent(model_path: Path, action_server_url: str) -> Any:
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(str(model_path), action_endpoint=EndpointConfig(url=action_server_url))


@pytest.fixture(scope="session")
def router(model_path: Path) -> Any:
    from bot.routing import Router

    return Router(model_path)


@pytest.fixture
def weekday_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tuesday 10 November 2026, 10:30 London time: every line is open."""
    monkeypatch.setenv("FAKE_NOW", "2026-11-10T10:30:00")


@pytest.fixture
def saturday_night(monkeypatch: pytest.MonkeyPatch) -> None:
    """Saturday 14 November 2026, 03:00 London time: only 24x7 lines are open."""
    monkeypatch.setenv("FAKE_NOW", "2026-11-14T03:00:00")
