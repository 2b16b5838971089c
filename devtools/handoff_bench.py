"""`python -m devtools bench-handoff`: the case API under concurrent clients, on
SQLite and PostgreSQL, with a check that no case is lost or duplicated.

For each database the bench starts the handoff service as a child process
(`python -m handoff serve` on a free loopback port) over a database made for
the run: a temporary SQLite file, or a fresh PostgreSQL database when a
server answers at 127.0.0.1:5432, dropped afterwards. Then `--clients`
concurrent clients:

  create   POST /api/cases for every case (unique conversation ids, references
           made by the client as the bot's actions make them). 5% of cases are
           sent twice: half re-sent after the first answer (a retry after an
           ambiguous failure), half sent twice at once (two deliveries racing).
  claim    POST /api/cases/{reference}/claim for every case
  outcome  POST /api/cases/{reference}/outcome for every case

and it times every request (sent to JSON answer read, client side). Then it
counts rows, distinct references and distinct conversation ids directly in
the database: every case must be there exactly once, under the reference
its create was answered with, and finished. Finally one probe: a new
conversation sent with a reference another case already holds, to record
how the service answers a reference clash.

Writes reports/handoff_bench.json and reports/handoff_bench.md and prints the
tables. Nothing asserts timings: the machine is shared and noisy.

  python -m devtools bench-handoff [--cases 10000] [--clients 20]
      [--databases sqlite,postgresql] [--seed 7] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import aiohttp

from council.references import ALPHABET, RANDOM_CHARACTERS, new_reference
from devtools.latency import summarise
from devtools.stack import free_port, healthy
from handoff.cases import CHANNELS, OUTCOMES, REASONS
from plumbing.cli import own_arguments
from plumbing.database import LOCAL_POSTGRES, local_postgres_user
from plumbing.paths import REPORTS_DIR, ROOT, VAR_DIR

DEFAULT_CASES = 10_000
QUICK_CASES = 500
DEFAULT_CLIENTS = 20
DATABASES = ("sqlite", "postgresql")
RETRY_SHARE = 0.05
OPERATIONS = ("create", "retry", "claim", "outcome")
PHASES = ("create", "claim", "outcome")  # retries are sent during the create phase
BENCH_TOKEN = "bench-handoff-token-" + "0123456789abcdef"
REQUEST_TIMEOUT_S = 30.0
HEALTH_TIMEOUT_S = 60.0
PG_HOST, PG_PORT = LOCAL_POSTGRES
PG_ADMIN_DATABASE = "test"
FINISHED = ("resolved", "closed_no_contact")
REFERENCE_SPACE = len(ALPHABET) ** RANDOM_CHARACTERS
TARGET = "zero lost or duplicated cases"
# Places the centre chooser sends to different centres (LA4 -> Morecambe), and none.
POSTCODES = ("LA1 1PJ", "LA4 5AF", "LA2 6ND", "LA3 1AA", None)
TRANSCRIPT = (
    ("caller", "hello i need some help with something"),
    ("bot", "Hello, I'm the council's assistant. What can I help you with?"),
    ("caller", "ive been trying to sort this out for two weeks and nobody gets back to me"),
    ("bot", "I'm sorry about that. Can you tell me a bit more?"),
    ("caller", "i just want to talk to a person please"),
    ("bot", "I'll pass this to a member of staff with what you've told me."),
)


# --- the plan --------------------------------------------------------------------


def plan_cases(run_id: str, count: int, rng: random.Random) -> list[dict[str, object]]:
    """The create payloads: a unique conversation id and a reference unique
    within the run each, reasons, channels, services and postcodes in turn.
    Voice and SMS cases carry a number from Ofcom's drama range (the
    service's Twilio settings are blanked, so nothing is ever sent)."""
    from council.catalogue import default_catalogue

    services: list[str | None] = [*default_catalogue().routable_ids, None]
    references: set[str] = set()
    cases = []
    for index in range(count):
        reference = new_reference()
        while reference in references:  # bounded in practice: millions of references, a few clashes
            reference = new_reference()
        references.add(reference)
        channel = CHANNELS[index % len(CHANNELS)]
        payload: dict[str, object] = {
            "conversation_id": f"bench-{run_id}-{index:06d}",
            "reason": REASONS[index % len(REASONS)],
            "channel": channel,
            "reference": reference,
            "service": services[index % len(services)],
            "postcode": POSTCODES[index % len(POSTCODES)],
            "transcript": [{"who": who, "text": text} for who, text in TRANSCRIPT],
        }
        if channel != "chat":
            payload["caller_number"] = f"+447700900{rng.randrange(1000):03d}"
        cases.append({key: value for key, value in payload.items() if value is not None})
    return cases


def plan_retries(count: int, share: float, rng: random.Random) -> dict[int, str]:
    """{case index: "after" | "race"} for `share` of the cases (at least one
    when there are cases and share > 0), half of each kind."""
    chosen = rng.sample(range(count), min(count, max(1 if count and share > 0 else 0, round(count * share))))
    return {index: ("after" if n % 2 == 0 else "race") for n, index in enumerate(sorted(chosen))}


# --- pure pieces --------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One create's answer: HTTP status (None when none came) and the
    reference it carried."""

    status: int | None
    reference: str | None


@dataclass(frozen=True)
class Integrity:
    sent: int  # cases the bench created (conversations)
    rows: int  # rows in handoff_cases for those conversations
    distinct_references: int
    distinct_conversations: int
    lost: int  # sent cases with no row, or whose answered reference is not that row's
    duplicated: int  # rows beyond one per conversation (or per reference)
    unanswered: int  # cases whose every create failed (no 200/201 with a reference)
    created_twice: int  # cases answered 201 ("created") more than once
    retry_mismatch: int  # cases answered with two different references
    unfinished: int  # rows not resolved or closed after the outcome phase
    create_audits: int | None = None  # audit rows for creates (one per case); None when not counted

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0


def check_integrity(answers: Mapping[str, Sequence[Answer]], rows: Sequence[tuple[str, str, str]],
                    expect_finished: bool = True, create_audits: int | None = None) -> Integrity:
    """`answers`: every create answer per conversation id the bench sent;
    `rows`: (reference, conversation_id, status) of the database rows for
    the run. A case is lost when the database has no row for it, or its row
    holds another reference than the one its create was answered with (the
    caller was told a reference nobody can find)."""
    by_conversation: dict[str, list[tuple[str, str]]] = {}
    for reference, conversation, status in rows:
        by_conversation.setdefault(conversation, []).append((reference, status))
    references = {reference for reference, _, _ in rows}
    lost = unanswered = created_twice = mismatch = 0
    for conversation, replies in answers.items():
        answered = {a.reference for a in replies if a.status in (200, 201) and a.reference}
        stored = {reference for reference, _ in by_conversation.get(conversation, [])}
        if not answered:
            unanswered += 1
        if sum(1 for a in replies if a.status == 201) > 1:
            created_twice += 1
        if len(answered) > 1:
            mismatch += 1
        if not stored or not answered <= stored:
            lost += 1
    unfinished = sum(1 for _, _, status in rows if status not in FINISHED) if expect_finished else 0
    return Integrity(
        sent=len(answers), rows=len(rows), distinct_references=len(references),
        distinct_conversations=len(by_conversation), lost=lost,
        duplicated=max(len(rows) - len(by_conversation), len(rows) - len(references)),
        unanswered=unanswered, created_twice=created_twice, retry_mismatch=mismatch, unfinished=unfinished,
        create_audits=create_audits,
    )


@dataclass
class OperationStats:
    requests: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    def record(self, latency_ms: float, error: str | None) -> None:
        self.requests += 1
        if not (error or "").startswith(("timeout", "connection")):
            self.latencies_ms.append(latency_ms)  # only requests that got an answer are timed
        if error:
            self.errors += 1
            self.error_kinds[error] = self.error_kinds.get(error, 0) + 1


@dataclass
class DatabaseResult:
    database: str
    server: str  # "child process" | "in-process thread" | why it did not run
    cases: int
    clients: int
    operations: dict[str, dict[str, object]] = field(default_factory=dict)  # name -> counts and percentiles
    phases: dict[str, dict[str, float]] = field(default_factory=dict)  # name -> {cases, wall_s, cases_per_s}
    integrity: dict[str, object] | None = None
    reference_clash: dict[str, object] | None = None
    skipped: str | None = None

    @property
    def target_met(self) -> bool | None:
        if self.integrity is None:
            return None
        return bool(self.integrity["lost"] == 0 and self.integrity["duplicated"] == 0)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if value >= 100 else f"{value:.1f}"
    return str(value)


def clash_text(clash: Mapping[str, object], cases: int) -> str:
    """What the service did with a reference already in use, and how often
    that happens when clients draw references at random, as the actions do."""
    answered, sent = clash.get("answered_reference"), clash.get("sent_reference")
    what = f"HTTP {clash.get('status')}"
    if clash.get("error"):
        what += f" ({clash['error']})"
    if answered and answered != sent:
        what += f", answered with a new reference {answered} instead of the one sent"
    elif answered:
        what += f", answered with the reference sent ({answered})"
    return (f"Reference clash probe: a new conversation sent with another case's reference got {what}. "
            f"Clients drawing references at random from {REFERENCE_SPACE:,} would meet about "
            f"{expected_clashes(cases):.1f} clashes in {cases:,} cases (this bench draws run-unique ones).")


def target_status(results: Sequence[DatabaseResult]) -> str:
    measured = [r for r in results if r.target_met is not None]
    if not measured:
        return "not measured"
    return "met" if all(r.target_met for r in measured) else "NOT met"


def markdown_table(result: DatabaseResult) -> str:
    """One database: a row per operation (the create phase's cases/s on the
    create row; retries are part of that phase), then the integrity line."""
    title = f"### {result.database}"
    if result.skipped:
        return f"{title}\n\nNot run: {result.skipped}"
    rows = ["| operation | requests | errors | p50 ms | p95 ms | p99 ms | max ms | cases/s | wall s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in OPERATIONS:
        op = result.operations.get(name)
        if op is None:
            continue
        phase = result.phases.get(name, {})
        rows.append(f"| {name} | {op['requests']} | {op['errors']} | {_cell(op['p50_ms'])} | {_cell(op['p95_ms'])} | "
                    f"{_cell(op['p99_ms'])} | {_cell(op['max_ms'])} | {_cell(phase.get('cases_per_s'))} | "
                    f"{_cell(phase.get('wall_s'))} |")
    lines = [title, "", f"{result.cases} cases, {result.clients} clients, service as a {result.server}.", "", *rows]
    kinds = [f"- {name}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(op["error_kinds"].items()))  # type: ignore[union-attr]
             for name, op in result.operations.items() if op.get("error_kinds")]
    if kinds:
        lines += ["", "Errors by kind:", *kinds]
    check = result.integrity
    if check is not None:
        audits = "" if check.get("create_audits") is None else f", create audit rows {check['create_audits']}"
        lines += ["", (f"In the database: {check['rows']} rows, {check['distinct_references']} distinct references, "
                       f"{check['distinct_conversations']} distinct conversation ids for {check['sent']} cases sent; "
                       f"lost {check['lost']}, duplicated {check['duplicated']}, unanswered {check['unanswered']}, "
                       f"created twice {check['created_twice']}, retry answered with another reference "
                       f"{check['retry_mismatch']}, unfinished {check['unfinished']}{audits}.")]
    if result.reference_clash:
        lines += ["", clash_text(result.reference_clash, result.cases)]
    met = result.target_met
    lines += ["", f"Target: {TARGET}: **{'not measured' if met is None else 'met' if met else 'NOT met'}**"]
    return "\n".join(lines)


# --- the traffic ------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    session: aiohttp.ClientSession
    base_url: str
    token: str


async def _post(client: Client, path: str, body: dict[str, object]) -> tuple[float, int | None, dict, str | None]:
    """(latency ms, status, JSON body, error kind or None). The clock runs
    from sending to the whole answer read."""
    headers = {"Authorization": f"Bearer {client.token}"}
    started = time.perf_counter()
    try:
        async with client.session.post(client.base_url + path, json=body, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)) as response:
            status = response.status
            try:
                data = await response.json()
            except (aiohttp.ContentTypeError, json.JSONDecodeError):
                data = {}
    except asyncio.TimeoutError:
        return (time.perf_counter() - started) * 1000, None, {}, "timeout"
    except aiohttp.ClientError as exc:
        return (time.perf_counter() - started) * 1000, None, {}, f"connection: {type(exc).__name__}"
    return (time.perf_counter() - started) * 1000, status, data if isinstance(data, dict) else {}, None


def _reference(data: dict) -> str | None:
    case = data.get("case")
    return case.get("reference") if isinstance(case, dict) else None


async def _create(client: Client, payload: dict[str, object], stats: OperationStats,
                  expected: tuple[int, ...]) -> Answer:
    latency, status, data, error = await _post(client, "/api/cases", payload)
    reference = _reference(data)
    if error is None and (status not in expected or not reference):
        error = f"http {status}" if status not in expected else "no reference"
    stats.record(latency, error)
    return Answer(status, reference)


@dataclass
class Run:
    """Everything one database's traffic gathered."""

    operations: dict[str, OperationStats] = field(default_factory=lambda: {op: OperationStats() for op in OPERATIONS})
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    phases: dict[str, dict[str, float]] = field(default_factory=dict)


async def _workers(count: int, jobs: Iterator[int], work) -> None:  # type: ignore[no-untyped-def]
    """`count` workers taking job numbers from one iterator until it runs out
    (one event loop, so next() needs no lock)."""

    async def worker(number: int) -> None:
        for job in jobs:
            await work(number, job)

    await asyncio.gather(*(worker(number) for number in range(count)))


def _phase_budget_s(jobs: int, clients: int) -> float:
    """A ceiling no healthy phase reaches (every request of a worker's
    share timing out, twice for retries); it bounds a phase if the service hangs."""
    return (jobs // max(1, clients) + 1) * 2 * REQUEST_TIMEOUT_S + 30.0


async def _phase(run: Run, name: str, clients: int, jobs: int, work) -> None:  # type: ignore[no-untyped-def]
    print(f"  {name}: {jobs} cases...", flush=True)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(_workers(clients, iter(range(jobs)), work), timeout=_phase_budget_s(jobs, clients))
    except asyncio.TimeoutError:
        run.operations[name].record(0.0, "phase timed out")
    wall = time.perf_counter() - started
    done = {"create": len([a for a in run.answers.values() if any(x.reference for x in a)])}.get(name)
    if done is None:
        done = run.operations[name].requests - run.operations[name].errors
    run.phases[name] = {"cases": done, "wall_s": round(wall, 2), "cases_per_s": round(done / wall, 1) if wall else 0.0}
    op = run.operations[name]
    print(f"    {run.phases[name]['cases_per_s']} cases/s, p95 {_cell(summarise(op.latencies_ms)['p95_ms'])} ms, "
          f"{op.errors} error(s)", flush=True)


async def drive(base_url: str, token: str, cases: Sequence[dict[str, object]], retries: Mapping[int, str],
                clients: int) -> tuple[Run, dict[int, str]]:
    """The three phases; returns what was gathered and {case index: the
    reference its create was answered with}."""
    run = Run()
    stored: dict[int, str] = {}
    connector = aiohttp.TCPConnector(limit=clients * 2, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = Client(session, base_url, token)

        async def create(_: int, index: int) -> None:
            payload = cases[index]
            answers = run.answers.setdefault(str(payload["conversation_id"]), [])
            kind = retries.get(index)
            if kind == "race":
                # Two deliveries at once: exactly one may be "created".
                pair = await asyncio.gather(_create(client, payload, run.operations["create"], (200, 201)),
                                            _create(client, payload, run.operations["retry"], (200, 201)))
                answers.extend(pair)
            else:
                answers.append(await _create(client, payload, run.operations["create"], (201,)))
                if kind == "after":
                    answers.append(await _create(client, payload, run.operations["retry"], (200,)))
            reference = next((a.reference for a in answers if a.status in (200, 201) and a.reference), None)
            if reference:
                stored[index] = reference

        async def finish(step: str, worker: int, index: int) -> None:
            reference = stored.get(index)
            if reference is None:
                return  # its create failed: counted there, nothing to claim
            body: dict[str, object] = {"staff": f"bench{worker:02d}"}
            if step == "outcome":
                body["outcome"] = OUTCOMES[index % len(OUTCOMES)]
            latency, status, _, error = await _post(client, f"/api/cases/{reference}/{step}", body)
            run.operations[step].record(latency, error or (None if status == 200 else f"http {status}"))

        await _phase(run, "create", clients, len(cases), create)
        for step in ("claim", "outcome"):
            await _phase(run, step, clients, len(cases), lambda worker, index, step=step: finish(step, worker, index))
    return run, stored


async def probe_clash(base_url: str, token: str, run_id: str, taken: str, database_url: str) -> dict[str, object]:
    """A new conversation sent with a reference another case holds: what
    the service answers, and under which reference it stored the case."""
    payload = {"conversation_id": f"bench-{run_id}-clash", "reason": REASONS[0], "channel": "chat",
               "reference": taken, "transcript": [{"who": "caller", "text": "a person please"}]}
    async with aiohttp.ClientSession() as session:
        _, status, data, error = await _post(Client(session, base_url, token), "/api/cases", payload)
    rows = _rows(database_url, f"bench-{run_id}-clash")
    return {"status": status, "error": error or data.get("error"), "sent_reference": taken,
            "answered_reference": _reference(data), "stored_reference": rows[0][0] if rows else None}


def expected_clashes(cases: int) -> float:
    """How many pairs of `cases` independently drawn references would share
    one (the birthday bound over the reference space)."""
    return cases * (cases - 1) / 2 / REFERENCE_SPACE


# --- the databases and the service --------------------------------------------------------------


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


def _rows(database_url: str, conversation_prefix: str) -> list[tuple[str, str, str]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(  # type: ignore[misc]
                text("SELECT reference, conversation_id, status FROM handoff_cases WHERE conversation_id LIKE :p"),
                {"p": conversation_prefix + "%"})]
    finally:
        engine.dispose()


def _create_audits(database_url: str) -> int:
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
    # would refuse the bench's token.
    return {"DATABASE_URL": database_url, "HANDOFF_API_TOKEN": BENCH_TOKEN, "COUNCIL_ENV": "",
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


# --- one database ---------------------------------------------------------------------------


def bench_database(kind: str, count: int, clients: int, seed: int) -> DatabaseResult:
    run_id = uuid.uuid4().hex[:10]
    result = DatabaseResult(database=kind, server="", cases=count, clients=clients)
    rng = random.Random(f"{seed}:{kind}")
    cases = plan_cases(run_id, count, rng)
    retries = plan_retries(count, RETRY_SHARE, rng)
    print(f"{kind}: {count} cases, {clients} clients, {len(retries)} re-sent...", flush=True)
    try:
        with scratch_database(kind, run_id) as database_url:
            service = Service(database_url, VAR_DIR / "logs" / f"bench-handoff-{kind}.log")
            try:
                service.start()
                result.server = service.mode
                run, stored = asyncio.run(drive(service.url, BENCH_TOKEN, cases, retries, clients))
                integrity = check_integrity(run.answers, _rows(database_url, f"bench-{run_id}-"),
                                            create_audits=_create_audits(database_url))
                if stored:
                    result.reference_clash = asyncio.run(
                        probe_clash(service.url, BENCH_TOKEN, run_id, next(iter(stored.values())), database_url))
            finally:
                service.close()
    except (RuntimeError, OSError) as exc:
        result.skipped = str(exc)
        print(f"  not run: {exc}", flush=True)
        return result
    for name, stats in run.operations.items():
        result.operations[name] = {"requests": stats.requests, "errors": stats.errors,
                                   "error_kinds": dict(stats.error_kinds), **summarise(stats.latencies_ms)}
    result.phases = run.phases
    result.integrity = {**asdict(integrity), "ok": integrity.ok}
    return result


# --- reports ---------------------------------------------------------------------------------


def machine_info() -> dict[str, object]:
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.machine(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def report_text(results: Sequence[DatabaseResult], machine: Mapping[str, object]) -> str:
    intro = (f"Latency = POST sent to JSON answer read, client side over loopback, bench and service on the same "
             f"machine ({machine['cpu_count']} CPUs, Python {machine['python']}, {machine['date']}). cases/s = "
             f"cases done in the phase / its wall time. Retries are {RETRY_SHARE:.0%} of cases sent twice "
             f"(half after the first answer, half at the same time).")
    tables = "\n\n".join(markdown_table(r) for r in results)
    return (f"# Handoff service benchmark\n\n{intro}\n\n{tables}\n\n"
            f"Overall target: {TARGET}: **{target_status(results)}**\n")


def write_reports(results: Sequence[DatabaseResult], options: Mapping[str, object], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    figures = {"machine": machine, "options": dict(options),
               "target": {"target": TARGET, "status": target_status(results)},
               "results": {r.database: {**asdict(r), "target_met": r.target_met} for r in results}}
    (directory / "handoff_bench.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    text = report_text(results, machine)
    (directory / "handoff_bench.md").write_text(text, encoding="utf-8")
    return text


# --- command line --------------------------------------------------------------------------------


def _databases(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    if not names or any(name not in DATABASES for name in names):
        raise argparse.ArgumentTypeError(f"databases are {', '.join(DATABASES)}")
    return names


def _bounded(low: int, high: int):  # type: ignore[no-untyped-def]
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m devtools bench-handoff", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=_bounded(1, 1_000_000), help=f"cases per database (default {DEFAULT_CASES})")
    p.add_argument("--clients", type=_bounded(1, 500), default=DEFAULT_CLIENTS,
                   help=f"concurrent clients (default {DEFAULT_CLIENTS})")
    p.add_argument("--databases", type=_databases, default=DATABASES, help="sqlite,postgresql (default both)")
    p.add_argument("--seed", type=int, default=7, help="seeds the retried cases and the callers' numbers")
    p.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_CASES} cases")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(own_arguments(argv))
    count = args.cases or (QUICK_CASES if args.quick else DEFAULT_CASES)
    results = []
    for kind in args.databases:
        if kind == "postgresql" and postgres_user()[0] is None:
            results.append(DatabaseResult(kind, "", count, args.clients, skipped=postgres_user()[1]))
            print(f"postgresql: not run: {results[-1].skipped}", flush=True)
            continue
        results.append(bench_database(kind, count, args.clients, args.seed))
    options = {"cases": count, "clients": args.clients, "databases": list(args.databases), "seed": args.seed,
               "retry_share": RETRY_SHARE, "request_timeout_s": REQUEST_TIMEOUT_S}
    text = write_reports(results, options, REPORTS_DIR)
    print()
    print(text)
    print("Written to reports/handoff_bench.json and handoff_bench.md")
    return 0 if target_status(results) != "NOT met" else 1


if __name__ == "__main__":
    sys.exit(main())
