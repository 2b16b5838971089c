"""The load: concurrent clients creating, retrying, claiming and closing cases
through the case API, phase by phase."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

import aiohttp

from devtools.handoff_bench.common import OPERATIONS, REQUEST_TIMEOUT_S
from devtools.handoff_bench.figures import Answer, OperationStats, cell
from devtools.latency import summarise
from handoff.cases import OUTCOMES


@dataclass(frozen=True)
class Client:
    session: aiohttp.ClientSession
    base_url: str
    token: str


async def post(client: Client, path: str, body: dict[str, object]) -> tuple[float, int | None, dict, str | None]:
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


def reference_of(data: dict) -> str | None:
    case = data.get("case")
    return case.get("reference") if isinstance(case, dict) else None


async def create_case(client: Client, payload: dict[str, object], stats: OperationStats,
                  expected: tuple[int, ...]) -> Answer:
    latency, status, data, error = await post(client, "/api/cases", payload)
    reference = reference_of(data)
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


async def workers(count: int, jobs: Iterator[int], work) -> None:  # type: ignore[no-untyped-def]
    """`count` workers taking job numbers from one iterator until it runs out
    (one event loop, so next() needs no lock)."""

    async def worker(number: int) -> None:
        for job in jobs:
            await work(number, job)

    await asyncio.gather(*(worker(number) for number in range(count)))


def phase_budget_s(jobs: int, clients: int) -> float:
    """A ceiling no healthy phase reaches (every request of a worker's
    share timing out, twice for retries); it bounds a phase if the service hangs."""
    return (jobs // max(1, clients) + 1) * 2 * REQUEST_TIMEOUT_S + 30.0


async def phase(run: Run, name: str, clients: int, jobs: int, work) -> None:  # type: ignore[no-untyped-def]
    print(f"  {name}: {jobs} cases...", flush=True)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(workers(clients, iter(range(jobs)), work), timeout=phase_budget_s(jobs, clients))
    except asyncio.TimeoutError:
        run.operations[name].record(0.0, "phase timed out")
    wall = time.perf_counter() - started
    done = {"create": len([a for a in run.answers.values() if any(x.reference for x in a)])}.get(name)
    if done is None:
        done = run.operations[name].requests - run.operations[name].errors
    run.phases[name] = {"cases": done, "wall_s": round(wall, 2), "cases_per_s": round(done / wall, 1) if wall else 0.0}
    op = run.operations[name]
    print(f"    {run.phases[name]['cases_per_s']} cases/s, p95 {cell(summarise(op.latencies_ms)['p95_ms'])} ms, "
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
                pair = await asyncio.gather(create_case(client, payload, run.operations["create"], (200, 201)),
                                            create_case(client, payload, run.operations["retry"], (200, 201)))
                answers.extend(pair)
            else:
                answers.append(await create_case(client, payload, run.operations["create"], (201,)))
                if kind == "after":
                    answers.append(await create_case(client, payload, run.operations["retry"], (200,)))
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
            latency, status, _, error = await post(client, f"/api/cases/{reference}/{step}", body)
            run.operations[step].record(latency, error or (None if status == 200 else f"http {status}"))

        await phase(run, "create", clients, len(cases), create)
        for step in ("claim", "outcome"):
            await phase(run, step, clients, len(cases), lambda worker, index, step=step: finish(step, worker, index))
    return run, stored
