"""Start the local stack: the handoff service, the action server, the Rasa
server (REST channel), the telephony bridge and (for `make run`) the web
chat, each a child process that is
healthy before the next starts. Used by `make run`, the tests and the
benchmarks. Rasa and the action server run through `python -m bot serve` and
`python -m bot actions`, as in production: the tracker and lock stores come
from TRACKER_STORE_URL and LOCK_STORE_URL (bot/serve.py), and every process
logs JSON lines carrying the request id."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.training import ensure_model
from plumbing.paths import ROOT, VAR_DIR

ACTIONS_PORT = 5055
RASA_PORT = 5005
BRIDGE_PORT = 8080
HANDOFF_PORT = 8090
WEBCHAT_PORT = 8070
HEALTH_TIMEOUT_S = 180
WARM_UP_SENDER = "stack-warm-up"  # not a resident: `replay record` passes it over


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    """This process's environment with the project importable, plus `extra`."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def healthy(url: str) -> bool:
    """True when GET `url` answers 200 within two seconds."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_process(command: list[str], health: str, env: dict[str, str] | None = None,
                  log_path: Path | None = None) -> subprocess.Popen | None:
    """Start `command` and wait until `health` answers 200. Returns None when
    something already answers there. Output goes to `log_path` (else nowhere)."""
    if healthy(health):
        return None
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the child
    process = subprocess.Popen(command, cwd=ROOT, env=_env(**(env or {})), stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(command[:4])} exited with code {process.returncode}")
        if healthy(health):
            return process
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"{' '.join(command[:4])} did not answer {health} within {HEALTH_TIMEOUT_S} s")


def start_action_server(port: int = ACTIONS_PORT, env: dict[str, str] | None = None,
                        log_path: Path | None = None) -> subprocess.Popen | None:
    """`python -m bot actions` on `port`; `env` adds to (or overrides) this
    process's environment, e.g. FAKE_NOW."""
    return start_process(
        [sys.executable, "-m", "bot", "actions", "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/health", env, log_path,
    )


def start_rasa_server(port: int = RASA_PORT, actions_url: str = f"http://127.0.0.1:{ACTIONS_PORT}/webhook",
                      model: Path | None = None, env: dict[str, str] | None = None,
                      log_path: Path | None = None) -> subprocess.Popen | None:
    """`python -m bot serve`: the REST channel the bridge talks to, in front
    of the action server at `actions_url`, with the tracker and lock stores
    of TRACKER_STORE_URL and LOCK_STORE_URL (from `env`, else this process's
    environment; default a SQLite file var/tracker.db)."""
    model = model or ensure_model()
    process = start_process(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), "--model", str(model)],
        f"http://127.0.0.1:{port}/",
        {"PYTHONWARNINGS": "ignore", "ACTION_SERVER_URL": actions_url, **(env or {})}, log_path,
    )
    if process is not None:
        warm_up(f"http://127.0.0.1:{port}")
    return process


def warm_up(rasa_url: str, timeout_s: float = 120) -> None:
    """Send Rasa one message and wait for the answer: its first message after
    loading builds the model's graphs and takes seconds, which a caller
    would otherwise spend hearing the bot-unavailable apology."""
    request = urllib.request.Request(
        rasa_url.rstrip("/") + "/webhooks/rest/webhook",
        data=json.dumps({"sender": WARM_UP_SENDER, "message": "hello"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s):
            pass
    except (urllib.error.URLError, OSError):
        pass  # the bot answers later or not at all; the bridge copes with both


def start_bridge(port: int = BRIDGE_PORT, rasa_url: str = f"http://127.0.0.1:{RASA_PORT}",
                 env: dict[str, str] | None = None, log_path: Path | None = None) -> subprocess.Popen | None:
    return start_process(
        [sys.executable, "-m", "telephony_bridge", "serve", "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/healthz", {"RASA_URL": rasa_url, **(env or {})}, log_path,
    )


def start_handoff(port: int = HANDOFF_PORT, env: dict[str, str] | None = None,
                  log_path: Path | None = None) -> subprocess.Popen | None:
    """The case store's service: API for the actions, pages for staff."""
    return start_process(
        [sys.executable, "-m", "handoff", "serve", "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/healthz", env, log_path,
    )


def start_webchat(port: int = WEBCHAT_PORT, rasa_url: str = f"http://127.0.0.1:{RASA_PORT}",
                  env: dict[str, str] | None = None, log_path: Path | None = None) -> subprocess.Popen | None:
    """The residents' web chat, in front of the same Rasa."""
    return start_process(
        [sys.executable, "-m", "webchat", "serve", "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/healthz", {"RASA_URL": rasa_url, **(env or {})}, log_path,
    )


def stop(*processes: subprocess.Popen | None) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.terminate()
    for process in processes:
        if process is not None:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def run_stack() -> int:
    """What `make run` does: the whole stack, then a phone call to it from
    this terminal (typed lines are speech, #digits are keys)."""
    model = ensure_model()
    logs = VAR_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started: list[subprocess.Popen | None] = []
    try:
        print("Starting the handoff service...", flush=True)
        started.append(start_handoff(log_path=logs / "handoff.log"))
        print("Starting the action server...", flush=True)
        started.append(start_action_server(log_path=logs / "actions.log"))
        print("Starting the Rasa server (about half a minute)...", flush=True)
        started.append(start_rasa_server(model=model, log_path=logs / "rasa.log"))
        print("Starting the telephony bridge...", flush=True)
        started.append(start_bridge(log_path=logs / "bridge.log"))
        print("Starting the web chat...", flush=True)
        started.append(start_webchat(log_path=logs / "webchat.log"))
        print(f"Stack up: web chat http://127.0.0.1:{WEBCHAT_PORT}/chat, bridge http://127.0.0.1:{BRIDGE_PORT}, "
              f"Rasa http://127.0.0.1:{RASA_PORT}, "
              f"actions http://127.0.0.1:{ACTIONS_PORT}, staff pages http://127.0.0.1:{HANDOFF_PORT}/staff/ "
              "(make a sign-in with: .venv/bin/python -m handoff add-staff --username NAME --name 'Full Name' "
              "--centre lancaster_town_hall); logs in var/logs/.", flush=True)
        from devtools.simulator import main as call

        while True:
            print("\nCalling the council line. Type what you'd say; #1 presses keys; an empty line is "
                  "silence; Ctrl-D hangs up.", flush=True)
            call(["--url", f"http://127.0.0.1:{BRIDGE_PORT}"])
            try:
                again = input("\nCall again? [Y/n] ").strip().lower()
            except EOFError:
                again = "n"
            if again.startswith("n"):
                return 0
    finally:
        stop(*reversed(started))
