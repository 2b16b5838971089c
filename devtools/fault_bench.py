"""python -m devtools bench-faults: genuine calls while the bridge is under
attack and while its store stalls, written to reports/fault-bench.md.

The bridge runs as a child process of its own (the Rasa server is not
started: the first answer of a call is the bridge's, and a turn then takes
the bot-unreachable path) on a scratch SQLite call log.

1. Flood: ten clients post unsigned 1 MiB bodies to /voice/turn as fast as
   the bridge lets them, while one genuine caller makes signed calls
   (/voice/incoming, then a turn) one after another. Target: every genuine
   answer under 1 s.
2. Stall: another process holds the call log's SQLite file under an
   exclusive lock for 10 s while the genuine caller goes on. Target: every
   answer within 3.5 s.

Latencies are medians, 95th percentiles and maxima of whole HTTP answers
seen by the client, on this machine; nothing here is asserted as a timing
by a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

from devtools.stack import free_port, start_bridge, stop
from plumbing.paths import ROOT

TOKEN = "fault-bench-token-0123456789"
FLOODERS = 10
FLOOD_BODY = b"x" * (1024 * 1024)
TARGETS = {"flood": 1.0, "stall": 3.5}


def _signed(url: str, form: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form),
            "Content-Type": "application/x-www-form-urlencoded"}


async def _genuine_call(session: aiohttp.ClientSession, base: str, number: int) -> list[float]:
    """One call: its first answer and one spoken turn; the seconds each took."""
    sid = f"CA{number:032d}"
    seconds = []
    for path, extra in (("/voice/incoming", {}), ("/voice/turn", {"SpeechResult": "my bin was not emptied",
                                                                   "Confidence": "0.9"})):
        form = {"CallSid": sid, "From": "+447700900123", "To": "+441524000000", **extra}
        url = base + path
        started = time.perf_counter()
        async with session.post(url, data=urlencode(form), headers=_signed(url, form)) as answer:
            await answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{path} answered {answer.status}")
        seconds.append(time.perf_counter() - started)
    return seconds


async def _flooder(base: str, stop_at: float, sent: list[int]) -> None:
    while time.perf_counter() < stop_at:
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(base + "/voice/turn", data=FLOOD_BODY,
                                        headers={"Content-Type": "application/x-www-form-urlencoded"}) as answer:
                    await answer.read()
        except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError):
            pass  # the bridge closes the connection on a refused body: expected
        sent[0] += 1


async def _calls_until(base: str, stop_at: float, first: int) -> list[float]:
    seconds: list[float] = []
    number = first
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        while time.perf_counter() < stop_at:
            seconds += await _genuine_call(session, base, number)
            number += 1
    return seconds


async def _flood(base: str, duration_s: float) -> dict[str, object]:
    stop_at = time.perf_counter() + duration_s
    sent = [0]
    flooders = [asyncio.create_task(_flooder(base, stop_at, sent)) for _ in range(FLOODERS)]
    seconds = await _calls_until(base, stop_at, 1)
    await asyncio.gather(*flooders)
    return {**_figures(seconds), "flood_requests": sent[0]}


def _hold_lock(path: Path, hold_s: float, held: threading.Event) -> None:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        held.set()
        time.sleep(hold_s)
        connection.execute("COMMIT")
    finally:
        connection.close()


async def _stall(base: str, database: Path, hold_s: float) -> dict[str, object]:
    held = threading.Event()
    locker = threading.Thread(target=_hold_lock, args=(database, hold_s, held), daemon=True)
    locker.start()
    await asyncio.to_thread(held.wait, 30)
    seconds = await _calls_until(base, time.perf_counter() + hold_s, 100_000)
    await asyncio.to_thread(locker.join, 60)
    return {**_figures(seconds), "lock_held_s": hold_s}


def _figures(seconds: list[float]) -> dict[str, object]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else None
    return {"answers": len(ordered), "median_s": statistics.median(ordered) if ordered else None,
            "p95_s": p95, "max_s": ordered[-1] if ordered else None}


def _report(results: dict[str, dict[str, object]], args: argparse.Namespace) -> str:
    lines = ["# Genuine calls under faults", "",
             f"`python -m devtools bench-faults --flood-s {args.flood_s:g} --stall-s {args.stall_s:g}`: the bridge "
             "as a child process on a scratch SQLite call log (devtools/fault_bench.py says how).", "",
             "| scenario | target | answers | median | p95 | max | met |", "|---|---|---|---|---|---|---|"]
    for name, figures in results.items():
        worst = figures["max_s"]
        met = "yes" if isinstance(worst, float) and worst < TARGETS[name] else "no"
        lines.append(f"| {name} | every answer < {TARGETS[name]:g} s | {figures['answers']} | "
                     f"{figures['median_s']:.3f} s | {figures['p95_s']:.3f} s | {worst:.3f} s | {met} |")
    lines += ["", f"Flood: {FLOODERS} clients sent {results['flood']['flood_requests']} unsigned 1 MiB bodies."]
    return "\n".join(lines) + "\n"


async def _run(base: str, database: Path, args: argparse.Namespace) -> dict[str, dict[str, object]]:
    async with aiohttp.ClientSession() as session:  # the first call creates the call log's rows
        await _genuine_call(session, base, 0)
    return {"flood": await _flood(base, args.flood_s), "stall": await _stall(base, database, args.stall_s)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools bench-faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood-s", type=float, default=20.0, help="seconds of flooding (default 20)")
    parser.add_argument("--stall-s", type=float, default=10.0, help="seconds the call log is locked (default 10)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "fault-bench.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fault-bench-") as scratch:
        database = Path(scratch) / "calls.db"
        port = free_port()
        env = {"TWILIO_AUTH_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{database}", "PUBLIC_BASE_URL": "",
               "COUNCIL_ENV": "", "FAKE_NOW": "", "CALLS_PER_CALLER_PER_HOUR": "0",
               "TEXTS_PER_SENDER_PER_HOUR": "0", "LOG_LEVEL": "WARNING"}
        bridge = start_bridge(port, f"http://127.0.0.1:{free_port()}", env=env, log_path=Path(scratch) / "bridge.log")
        try:
            results = asyncio.run(_run(f"http://127.0.0.1:{port}", database, args))
        finally:
            stop(bridge)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_report(results, args), encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
