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
from tests.stack_harness import PROCESSES, four_processes

pytestmark = pytest.mark.model

COMPLAINT = "I want to make a formal complaint about the council"


def _lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a process's log, each of which must be a JSON object."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(entry, dict) for entry in parsed), path.name
    return parsed


def test_a_call_carries_one_request_id_through_every_log(model_path: Path, tmp_path: Path) -> None:
    with four_processes(model_path, tmp_path) as stack:
        call = asyncio.run(run_call(stack.urls["bridge"], [COMPLAINT], auth_token=TOKEN, caller=CALLER))
    logs = stack.logs
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
