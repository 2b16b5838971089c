"""Simulated callers: one call acted out turn by turn, and a level of N callers
at once."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import urljoin

import aiohttp

from devtools.bridge_bench.common import (
    ACCOUNT_SID,
    CALLED,
    CALLER_PREFIX,
    CALLS_PER_CALLER,
    REQUEST_TIMEOUT_S,
    STAGGER_S,
    THINK_S,
    UTTERANCES,
    WARM_UP_TURNS,
)
from devtools.bridge_bench.figures import LevelResult, Step, classify, next_step, table_cell
from devtools.latency import summarise
from devtools.simulator import signed_headers


@dataclass
class CallRecord:
    latencies_ms: list[float] = field(default_factory=list)  # every request that got an HTTP answer
    requests: int = 0  # timed requests made (answered or not)
    errors: list[str] = field(default_factory=list)
    ended_by: str | None = None  # "dial" | "hangup": the bridge ended the call before its turns


@dataclass(frozen=True)
class Traffic:
    base_url: str
    token: str
    turns: int
    think: bool


UNANSWERED = ("timeout", "connection")  # error kinds with no HTTP answer to time


def call_params(sid: str, caller: str, status: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid, "CallStatus": status,
            "Direction": "inbound", "From": caller, "Caller": caller, "To": CALLED, "Called": CALLED}


async def post_form(session: aiohttp.ClientSession, traffic: Traffic, url: str,
                params: dict[str, str]) -> tuple[float, str | None, str]:
    """One signed POST: (latency ms, error kind or None, body). The clock runs
    from sending to the whole TwiML read, as Twilio would see it."""
    headers = signed_headers(traffic.token, url, params)
    started = time.perf_counter()
    try:
        async with session.post(url, data=params, headers=headers, allow_redirects=False,
                                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)) as response:
            body = await response.text()
            error = classify(response.status, response.content_type, body)
    except asyncio.TimeoutError:
        body, error = "", "timeout"
    except aiohttp.ClientError as exc:
        body, error = "", f"connection: {type(exc).__name__}"
    return (time.perf_counter() - started) * 1000, error, body


async def timed_post(session: aiohttp.ClientSession, traffic: Traffic, url: str, params: dict[str, str],
                 record: CallRecord) -> Step:
    """A timed request; returns where the call goes next. A degraded answer
    still carries a <Gather>, so the call goes on from it (into the keypad
    menu, as a real caller's would); any other error ends the call."""
    latency, error, body = await post_form(session, traffic, url, params)
    record.requests += 1
    if error is None or not error.startswith(UNANSWERED):
        record.latencies_ms.append(latency)
    if error is not None:
        record.errors.append(error)
    return next_step(body, url) if error in (None, "degraded") else Step("end")


async def simulate_call(session: aiohttp.ClientSession, traffic: Traffic, rng: random.Random,
                        record: CallRecord) -> None:
    """One call: incoming, then up to `turns` speech turns (+ a Dial's
    action), then the status callback. Fills `record` as it goes, so a call
    cut short by Ctrl-C or the level's time limit still counts what it did."""
    sid = "CA" + secrets.token_hex(16)  # unique per run: a reused sid would resume an old Rasa conversation
    caller = CALLER_PREFIX + f"{rng.randrange(100000):05d}"
    url = urljoin(traffic.base_url + "/", "voice/incoming")
    step = await timed_post(session, traffic, url, call_params(sid, caller, "ringing"), record)
    done = 0
    while done < traffic.turns and step.kind == "gather" and step.url:  # bounded by --turns
        if traffic.think:
            await asyncio.sleep(rng.uniform(*THINK_S))
        params = {**call_params(sid, caller, "in-progress"), "SpeechResult": rng.choice(UTTERANCES),
                  "Confidence": "0.9"}
        step = await timed_post(session, traffic, step.url, params, record)
        done += 1
    if step.kind == "dial" and step.url:
        record.ended_by = "dial"
        params = {**call_params(sid, caller, "in-progress"), "DialCallStatus": "completed",
                  "DialCallDuration": "30"}
        await timed_post(session, traffic, step.url, params, record)
    elif step.kind == "end" and done < traffic.turns and not record.errors[-1:]:
        record.ended_by = "hangup"
    await status_of(session, traffic, sid, caller, record)


async def status_of(session: aiohttp.ClientSession, traffic: Traffic, sid: str, caller: str,
                  record: CallRecord) -> None:
    """The end-of-call callback: not timed, but a failure is an error."""
    url = urljoin(traffic.base_url + "/", "voice/status")
    params = {**call_params(sid, caller, "completed"), "CallDuration": "60"}
    _, error, _ = await post_form(session, traffic, url, params)
    if error is not None and error != "degraded":
        record.errors.append(f"status {error}")




async def one_caller(session: aiohttp.ClientSession, traffic: Traffic, rng: random.Random, calls: int,
                  stagger_s: float, records: list[CallRecord]) -> None:
    if stagger_s:
        await asyncio.sleep(rng.uniform(0.0, stagger_s))
    for _ in range(calls):
        record = CallRecord()
        records.append(record)
        await simulate_call(session, traffic, rng, record)


def level_budget_s(traffic: Traffic, calls: int) -> float:
    """A ceiling no healthy level reaches: every request timing out, every
    think at its longest. It bounds the level even if the bridge hangs."""
    per_call = (traffic.turns + 3) * (REQUEST_TIMEOUT_S + THINK_S[1])
    return STAGGER_S + calls * per_call + 30.0


async def run_level(session: aiohttp.ClientSession, traffic: Traffic, mode: str, level: int,
                    seed: int) -> LevelResult:
    calls = CALLS_PER_CALLER[mode]
    stagger = STAGGER_S if mode == "paced" else 0.0
    records: list[CallRecord] = []
    callers = [one_caller(session, traffic, random.Random(f"{seed}:{mode}:{level}:{i}"), calls, stagger, records)
               for i in range(level)]
    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*callers), timeout=level_budget_s(traffic, calls))
    except asyncio.TimeoutError:
        records.append(CallRecord(errors=["level timed out"]))
    wall = time.perf_counter() - started
    return aggregate(mode, level, records, wall)


def aggregate(mode: str, level: int, records: Sequence[CallRecord], wall_s: float) -> LevelResult:
    latencies = [ms for r in records for ms in r.latencies_ms]
    errors = [e for r in records for e in r.errors]
    result = LevelResult(mode, level, calls=sum(1 for r in records if r.requests),
                         turns=sum(r.requests for r in records), errors=len(errors), wall_s=round(wall_s, 2),
                         turns_per_s=round(len(latencies) / wall_s, 2) if wall_s > 0 else 0.0)
    for error in errors:
        result.error_kinds[error] = result.error_kinds.get(error, 0) + 1
    for record in records:
        if record.ended_by:
            result.ended_early[record.ended_by] = result.ended_early.get(record.ended_by, 0) + 1
    for name, value in summarise(latencies).items():
        setattr(result, name, value)
    return result


async def run_all(base_url: str, token: str, modes: Sequence[str], levels: Sequence[int], turns: int,
                  seed: int) -> list[LevelResult]:
    # One session for every caller; its pool must not queue 50 callers behind each other.
    connector = aiohttp.TCPConnector(limit=max(64, 2 * max(levels)), limit_per_host=0)
    results: list[LevelResult] = []
    async with aiohttp.ClientSession(connector=connector) as session:
        warm = Traffic(base_url, token, WARM_UP_TURNS, think=False)
        await simulate_call(session, warm, random.Random(seed), CallRecord())
        for mode in modes:
            traffic = Traffic(base_url, token, turns, think=mode == "paced")
            for level in levels:
                print(f"{mode}: {level} concurrent caller(s)...", flush=True)
                result = await run_level(session, traffic, mode, level, seed)
                print(f"  p50 {table_cell(result.p50_ms)} ms, p95 {table_cell(result.p95_ms)} ms, "
                      f"{result.turns_per_s:.1f} turns/s, {result.errors} error(s)", flush=True)
                results.append(result)
    return results
