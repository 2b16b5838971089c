"""The real local stack the bench calls (the bridge, Rasa, the actions and the
handoff service), started on scratch stores."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from devtools.bridge_bench.common import BENCH_TOKEN, FAKE_NOW
from devtools.stack import free_port
from plumbing.paths import VAR_DIR


def stack_env(database: Path) -> dict[str, str]:
    # PUBLIC_BASE_URL and COUNCIL_ENV blanked: the bench's signatures are over
    # the loopback URL, and a production setting inherited from the shell
    # would make every request a 403.
    # The bench's conversations go to a tracker store of its own (SQL, as in
    # production), not to the developer's var/tracker.db.
    return {"FAKE_NOW": FAKE_NOW, "DATABASE_URL": f"sqlite:///{database}", "TWILIO_AUTH_TOKEN": BENCH_TOKEN,
            "PUBLIC_BASE_URL": "", "COUNCIL_ENV": "",
            "TRACKER_STORE_URL": f"sqlite:///{database.parent / 'tracker.db'}",
            "LOCK_STORE_URL": "",
            # Every simulated caller may share a number: no per-caller limits.
            "CALLS_PER_CALLER_PER_HOUR": "0", "TEXTS_PER_SENDER_PER_HOUR": "0"}


class LocalStack:
    """The action server, Rasa server and bridge as child processes on free
    ports; `close` stops whatever was started, whatever happened."""

    def __init__(self) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="bridge-bench-")
        self.processes: list[subprocess.Popen | None] = []
        self.url = ""
        self.logs = VAR_DIR / "logs"

    def start(self) -> str:
        from devtools.stack import start_action_server, start_bridge, start_rasa_server

        env = stack_env(Path(self._scratch.name) / "calls.db")
        self.logs.mkdir(parents=True, exist_ok=True)
        rasa_log, bridge_log = self.logs / "bench-rasa.log", self.logs / "bench-bridge.log"
        for path in (rasa_log, bridge_log):
            path.write_bytes(b"")  # this run's lines only
        actions, rasa, bridge = free_port(), free_port(), free_port()
        print("Starting the action server...", flush=True)
        self.processes.append(start_action_server(actions, env=env))
        print("Starting the Rasa server (about half a minute)...", flush=True)
        self.processes.append(start_rasa_server(rasa, f"http://127.0.0.1:{actions}/webhook", env=env,
                                                log_path=rasa_log))
        print("Starting the bridge...", flush=True)
        self.processes.append(start_bridge(bridge, f"http://127.0.0.1:{rasa}", env=env, log_path=bridge_log))
        self.url = f"http://127.0.0.1:{bridge}"
        return self.url

    def close(self) -> None:
        from devtools.stack import stop

        stop(*reversed(self.processes))
        self._scratch.cleanup()
