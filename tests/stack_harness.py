"""The real processes (the handoff service, the action server, the Rasa
server, the bridge and, when asked for, the web chat) started as `make run`
starts them, on scratch stores under a test's directory, each logging its
JSON lines to a file there."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tests.bridge_harness import TOKEN
from tests.conftest import WEEKDAY_OPEN, free_port

PROCESSES = ("handoff", "actions", "rasa", "bridge")
WEBCHAT = "webchat"


@dataclass(frozen=True)
class Stack:
    urls: dict[str, str]  # process -> http://127.0.0.1:<port>
    logs: dict[str, Path]  # process -> its log file


@contextmanager
def four_processes(model_path: Path, directory: Path, *, webchat: bool = False, **extra_env: str) -> Iterator[Stack]:
    """The stack on `directory`'s stores (council.db, tracker.db, outbox.db),
    the clock at WEEKDAY_OPEN; stopped afterwards whatever happened. With
    `webchat`, the web chat too, in front of the same Rasa."""
    from devtools.stack import (
        start_action_server,
        start_bridge,
        start_handoff,
        start_rasa_server,
        start_webchat,
        stop,
    )

    ports = {name: free_port() for name in (*PROCESSES, *((WEBCHAT,) if webchat else ()))}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    logs = {name: directory / f"{name}.log" for name in ports}
    env = {
        "FAKE_NOW": WEEKDAY_OPEN, "TWILIO_AUTH_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{directory / 'council.db'}",
        "HANDOFF_URL": urls["handoff"], "HANDOFF_OUTBOX": str(directory / "outbox.db"),
        "TRACKER_STORE_URL": f"sqlite:///{directory / 'tracker.db'}", "LOCK_STORE_URL": "",
        **extra_env,
    }
    started = []
    try:
        started.append(start_handoff(ports["handoff"], env=env, log_path=logs["handoff"]))
        started.append(start_action_server(ports["actions"], env=env, log_path=logs["actions"]))
        started.append(start_rasa_server(ports["rasa"], f"{urls['actions']}/webhook", model_path, env=env,
                                         log_path=logs["rasa"]))
        started.append(start_bridge(ports["bridge"], urls["rasa"], env=env, log_path=logs["bridge"]))
        if webchat:
            started.append(start_webchat(ports[WEBCHAT], urls["rasa"], env=env, log_path=logs[WEBCHAT]))
        assert None not in started  # each started here, not an old server on its port
        yield Stack(urls, logs)
    finally:
        stop(*reversed(started))
