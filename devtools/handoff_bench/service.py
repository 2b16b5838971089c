"""Scratch databases (a SQLite file, a PostgreSQL database) and the handoff
service started on them for the bench."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import aiohttp

from devtools.handoff_bench.common import BENCH_TOKEN, HEALTH_TIMEOUT_S, PG_ADMIN_DATABASE, PG_HOST, PG_PORT
from devtools.handoff_bench.traffic import Client, post, reference_of
from devtools.stack import free_port, healthy
from handoff.cases import REASONS
from plumbing.database import local_postgres_user
from plumbing.paths import ROOT


def postgres_user() -> tuple[str | None, str]:
    """A user the PostgreSQL server at 127.0.0.1:5432 lets in, or why none."""
    return local_postgres_user(PG_ADMIN_DATABASE)


@contextmanager
def scratch_database(kind: str, run_id: str) -> Iterator[str]:
    """A database URL for one run, removed afterwards whatever happened."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="handoff-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'handoff.db'}"
        return
    import psycopg2

    user, why = postgres_user()
    if user is None:
        raise RuntimeError(why)
    name = f"handoff_bench_{run_id}"
    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=user, dbname=PG_ADMIN_DATABASE)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+psycopg2://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # PostgreSQL 13+
        admin.close()


def stored_rows(database_url: str, conversation_prefix: str) -> list[tuple[str, str, str]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(  # type: ignore[misc]
                text("SELECT reference, conversation_id, status FROM handoff_cases WHERE conversation_id LIKE :p"),
                {"p": conversation_prefix + "%"})]
    finally:
        engine.dispose()


def create_audits(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM handoff_audit WHERE action = 'create'")).scalar())
    finally:
        engine.dispose()


def service_env(database_url: str, scratch: Path) -> dict[str, str]:
    # Twilio blanked: the service logs the texts it would send and sends none.
    # COUNCIL_ENV blanked: a production setting inherited from the shell
    # would refuse the bench's token. The bench claims and records outcomes
    # through the API, which takes a contact-centre system's token (the
    # bot's makes and reads cases only): the bench's is that one.
    return {"DATABASE_URL": database_url, "HANDOFF_API_TOKEN": "bench-bot-token-not-used-0123456789",
            "HANDOFF_INTEGRATION_TOKEN": BENCH_TOKEN, "COUNCIL_ENV": "",
            "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_FROM_NUMBER": "",
            "HANDOFF_OUTBOX": str(scratch / "outbox.db"), "PYTHONPATH": str(ROOT), "FAKE_NOW": ""}


class Service:
    """The handoff service on a free loopback port: a child process when
    `python -m handoff serve` exists, else an in-process server on its own
    thread and event loop (so it does not share the clients' loop)."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="handoff-bench-service-")
        self.env = service_env(database_url, Path(self._scratch.name))
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = ""
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        if importlib.util.find_spec("handoff.__main__") is not None:
            self._start_process()
            self.mode = "child process"
        else:
            self._start_thread()
            self.mode = "in-process thread"

    def _start_process(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the child
        self._process = subprocess.Popen(
            [sys.executable, "-m", "handoff", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT)
        log.close()  # the child holds its own descriptor
        self._wait_healthy(lambda: self._process is not None and self._process.poll() is None)

    def _start_thread(self) -> None:
        from aiohttp import web

        from handoff.app import init_app
        from handoff.settings import HandoffSettings

        settings = HandoffSettings.from_env({**os.environ, **self.env})
        ready = threading.Event()

        async def serve() -> None:
            self._stop = asyncio.Event()
            runner = web.AppRunner(init_app(settings), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            ready.set()
            try:
                await self._stop.wait()
            finally:
                await runner.cleanup()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(serve())
            finally:
                ready.set()
                self._loop.close()

        self._thread = threading.Thread(target=run, name="handoff-bench-service", daemon=True)
        self._thread.start()
        ready.wait(HEALTH_TIMEOUT_S)
        self._wait_healthy(lambda: self._thread is not None and self._thread.is_alive())

    def _wait_healthy(self, alive) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while time.monotonic() < deadline:
            if not alive():
                raise RuntimeError(f"the handoff service stopped at start (see {self.log_path.name})")
            if healthy(self.url + "/healthz"):
                return
            time.sleep(0.25)
        raise RuntimeError(f"the handoff service did not answer /healthz within {HEALTH_TIMEOUT_S:.0f} s")

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        if self._thread is not None and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=15)
        self._scratch.cleanup()


async def probe_clash(base_url: str, token: str, run_id: str, taken: str, database_url: str) -> dict[str, object]:
    """A new conversation sent with a reference another case holds: what
    the service answers, and under which reference it stored the case."""
    payload = {"conversation_id": f"bench-{run_id}-clash", "reason": REASONS[0], "channel": "chat",
               "reference": taken, "transcript": [{"who": "caller", "text": "a person please"}]}
    async with aiohttp.ClientSession() as session:
        _, status, data, error = await post(Client(session, base_url, token), "/api/cases", payload)
    rows = stored_rows(database_url, f"bench-{run_id}-clash")
    return {"status": status, "error": error or data.get("error"), "sent_reference": taken,
            "answered_reference": reference_of(data), "stored_reference": rows[0][0] if rows else None}
