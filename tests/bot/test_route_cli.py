"""`python -m bot route`: JSON lines in, one per utterance, from the same
trained model the live bot uses; a clear exit 2 when there is no model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from plumbing.paths import ROOT

KEYS = {"text", "service", "authority", "confidence", "intent", "topic", "clarify"}


def route(lines: bytes, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "route", *args], input=lines, cwd=ROOT,
                          capture_output=True, timeout=300)


@pytest.mark.model
def test_route_writes_one_json_object_per_line(model_path: Path) -> None:
    lines = "\n".join([
        "my bin wasnt collected",
        "um theres a pot hole outside my house",
        "I need to see my GP",
        "hello",
        "",
        "😀",
        "x" * 10000,
    ]).encode() + b"\n\xff\xfe not utf-8 \x00\n"
    done = route(lines, "--model", str(model_path))
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    results = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(results) == 8
    assert all(set(r) == KEYS for r in results)
    assert (results[0]["service"], results[0]["authority"]) == ("bins_recycling", "city")
    assert (results[1]["service"], results[1]["authority"]) == ("roads_highways", "county")
    assert (results[0]["topic"], results[1]["topic"]) == ("missed_bin", "pothole")
    assert (results[2]["service"], results[2]["authority"]) == ("out_of_scope", "external")
    assert results[2]["topic"] == "oos_gp_nhs"
    assert results[3]["service"] is None and results[3]["intent"] == "greet" and results[3]["topic"] is None
    assert results[4]["service"] == results[5]["service"] == "out_of_scope"
    assert results[7]["text"].startswith("\ufffd")


def test_route_without_a_model_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    done = route(b"council tax\n", "--model", str(tmp_path / "missing.tar.gz"))
    assert done.returncode == 2
    assert "No trained model found" in done.stderr.decode()
    assert done.stdout == b""
