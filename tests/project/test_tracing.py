"""One call followed through the four real processes (the bridge, the Rasa
server, the action server and the handoff service, started as `make run`
starts them) by its request id, in their JSON logs, which hold neither the
caller's number nor their words."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from devtools.simulator import run_call
from tests.bridge_harness import CALLER, TOKEN
from tests.conftest import WEEKDAY_OPEN, free_port

pytestmark = pytest.mark.model

COMPLAINT = "I want to make a formal complaint about the council"
PROCESSES = ("handoff", "actions", "rasa", "bridge")


def _lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a process's log, each of which must be a JSON object."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(entry, dict) for entry in parsed), path.name
    return parsed


def test_a_call_carries_one_request_id_through_every_log(model_path: Path, tmp_path: Path) -> None:
    from devtools.stack import start_action_server, start_bridge, start_handoff, start_rasa_server, stop

    ports = {name: free_port() for name in PROCESSES}
    logs = {name: tmp_path / f"{name}.log" for name in PROCESSES}
    env = {
        "FAKE_NOW": WEEKDAY_OPEN, "TWILIO_AUTH_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'council.db'}",
        "HANDOFF_URL": f"http://127.0.0.1:{ports['handoff']}", "HANDOFF_OUTBOX": str(tmp_path / "outbox.db"),
        "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}", "LOCK_STORE_URL": "",
    }
    started = []
    try:
        started.append(start_handoff(ports["handoff"], env=env, log_path=logs["handoff"]))
        started.append(start_action_server(ports["actions"], env=env, log_path=logs["actions"]))
        started.append(start_rasa_server(ports["rasa"], f"http://127.0.0.1:{ports['actions']}/webhook", model_path,
                                         env=env, log_path=logs["rasa"]))
        started.append(start_bridge(ports["bridge"], f"http://127.0.0.1:{ports['rasa']}", env=env,
                                    log_path=logs["bridge"]))
        assert None not in started  # each started here, not an old server on its port
        call = asyncio.run(run_call(f"http://127.0.0.1:{ports['bridge']}", [COMPLAINT], auth_token=TOKEN,
                                    caller=CALLER))
    finally:
        stop(*reversed(started))
    said = " ".join(call.said)
    assert "reference" in said.lower() and call.errors == [], said

    for name in PROCESSES:
        entries = _lines(logs[name])
        assert any(entry.get("request_id") == call.call_sid for entry in entries), f"{name} never logged the id"
        logged = logs[name].read_text(encoding="utf-8")
        assert CALLER not in logged and CALLER[3:] not in logged and "0" + CALLER[3:] not in logged, name
        assert COMPLAINT not in logged and "formal complaint" not in logged, name
    handoff_lines = [e for e in _lines(logs["handoff"]) if e.get("request_id") == call.call_sid]
    assert any(e["message"].endswith("created") for e in handoff_lines)
