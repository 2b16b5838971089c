"""Start the local stack for a person at a terminal: the action server in the
background, then the Rasa server with its command-line channel in front."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from bot.paths import BOT_DIR, ROOT
from bot.training import ensure_model

ACTIONS_PORT = 5055
HEALTH_TIMEOUT_S = 90


def _env(**extra: str) -> dict[str, str]:
    """This process's environment with the project importable, plus `extra`."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_action_server(port: int = ACTIONS_PORT, env: dict[str, str] | None = None) -> subprocess.Popen | None:
    """Start `python -m rasa_sdk --actions actions` and wait until it answers
    /health. Returns None when one is already answering on `port`. `env`
    adds to (or overrides) this process's environment, e.g. FAKE_NOW."""
    health = f"http://127.0.0.1:{port}/health"
    if _healthy(health):
        return None
    process = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=ROOT,
        env=_env(**(env or {})),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the action server exited with code {process.returncode}")
        if _healthy(health):
            return process
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"the action server did not answer {health} within {HEALTH_TIMEOUT_S} s")


def run_shell() -> int:
    model = ensure_model()
    print("Starting the action server...", flush=True)
    actions = start_action_server()
    print("Starting the bot. Type what you need; /stop ends the conversation.", flush=True)
    try:
        return subprocess.call(
            [sys.executable, "-m", "rasa", "shell", "--model", str(model),
             "--endpoints", str(BOT_DIR / "endpoints.yml"), "--credentials", str(BOT_DIR / "credentials.yml")],
            cwd=ROOT,
            # Rasa's dependencies warn about their own deprecations at start;
            # a person at the terminal needs the bot, not those.
            env=_env(PYTHONWARNINGS="ignore"),
        )
    finally:
        if actions is not None:
            actions.terminate()
            actions.wait(timeout=10)
