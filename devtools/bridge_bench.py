"""`python -m devtools bench-bridge`: turn latency of the bridge under
concurrent simulated calls, with the real Rasa and action servers behind it.

Each simulated caller phones the bridge as Twilio would (signed form POSTs,
following the <Gather>/<Dial> action URLs of each answer) and the client
times every request that returns TwiML. Two modes:

  paced         callers think 4-8 s after each answer, as real ones do
  back-to-back  no think time, to find the saturation throughput

Writes reports/bridge_bench.json, reports/bridge_bench.md and
reports/bridge_latency.png, and prints the table. Nothing here asserts: the
machines are shared and noisy, so the figures are percentiles to compare.

  python -m devtools bench-bridge [--levels 1,5,20] [--turns 6]
      [--modes paced,back-to-back] [--seed 7] [--quick]
      [--url http://127.0.0.1:8080 --token TOKEN]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence
from urllib.parse import urljoin, urlsplit

import aiohttp

from devtools.latency import machine_info, summarise
from devtools.simulator import signed_headers
from devtools.stack import free_port
from plumbing.cli import own_arguments
from plumbing.paths import REPORTS_DIR, VAR_DIR

FAKE_NOW = "2026-11-10T10:30:00"  # a Tuesday morning: every line is open, so no "closed" branches
BENCH_TOKEN = "bench-auth-token-0123456789"
ACCOUNT_SID = "AC" + "b" * 32
CALLED = "+441632960000"
CALLER_PREFIX = "+4477009"  # Ofcom's drama range, plus 5 random digits
DEFAULT_LEVELS = (1, 5, 10, 20, 50)
QUICK_LEVELS = (1, 5)
DEFAULT_TURNS = 6
QUICK_TURNS = 3
MODES = ("paced", "back-to-back")
CALLS_PER_CALLER = {"paced": 1, "back-to-back": 2}
THINK_S = (4.0, 8.0)  # a caller hears the answer, then speaks
STAGGER_S = 4.0  # paced callers do not all dial in the same instant
REQUEST_TIMEOUT_S = 15.0  # Twilio gives up on a voice webhook after 15 s
WARM_UP_TURNS = 2  # the first turns build TensorFlow graphs in Rasa; not measured
TARGET = {"mode": "paced", "level": 20, "p95_ms": 400.0}
TWIML_TYPES = ("text/xml", "application/xml")
# The bridge's words when the bot missed its time budget (voice.BOT_DOWN) or a
# fault was caught (app.SORRY): a 200 with TwiML, but not the answer asked for.
DEGRADED_MARKERS = ("having trouble understanding", "something went wrong")

# Spoken-style enquiries across the councils' services. None says yes, asks
# for a person, names someone in the directory, ends in "please"/"thanks"
# (the bridge reads that as "put me through") or sounds like an emergency,
# so calls last their turns; only "no thanks" may end one politely.
UTTERANCES = (
    "um my bin wasnt collected on tuesday",
    "how do i pay my council tax",
    "theres a pothole on our road",
    "when does the tip open",
    "i want to report fly tipping",
    "i need a blue badge for my mum",
    "the street light outside my house is out",
    "how do i apply for housing benefit",
    "i need a new wheelie bin",
    "can i get single person discount now my partner moved out",
    "do i need planning permission for an extension",
    "theres a leak in my council flat",
    "how do i get on the housing register",
    "someones parked on the double yellows outside my house",
    "i got a parking ticket in the town centre car park",
    "how do i register to vote",
    "i need to register a death",
    "where can i get a bus pass",
    "how do i apply for a school place for my son",
    "my library books are overdue",
    "can i book the tennis courts at the park",
    "theres graffiti on the bus shelter",
    "i want to complain about a noisy neighbour",
    "how do i get a taxi licence",
    "i think a shop sold me fake goods",
    "the footpath across the field is blocked",
    "what time does the council office open",
    "which council do i talk to about the roads",
    "my business rates bill looks wrong",
    "no thanks",
)


# --- pure pieces ----------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """Where a call goes after an answer: the URL of the next turn, and how."""

    kind: str  # "gather" | "dial" | "end"
    url: str | None = None


def classify(status: int, content_type: str, body: str) -> str | None:
    """Why an answer counts as an error, or None for a good one. A degraded
    answer is a 200 with TwiML, but the caller did not get what they asked."""
    if status != 200:
        return f"http {status}"
    if content_type not in TWIML_TYPES:
        return "not TwiML"
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return "not TwiML"
    if root.tag != "Response":
        return "not TwiML"
    lowered = body.lower()
    if any(marker in lowered for marker in DEGRADED_MARKERS):
        return "degraded"
    return None


def next_step(body: str, page_url: str) -> Step:
    """The next request the caller's side makes after this TwiML: the first
    <Gather>'s action, else a <Dial>'s action, else the call ends. Relative
    actions resolve against the URL that answered, as Twilio resolves them."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return Step("end")
    for verb in root:
        if verb.tag == "Gather":
            return Step("gather", urljoin(page_url, verb.get("action") or page_url))
        if verb.tag == "Dial":
            action = verb.get("action")
            return Step("dial", urljoin(page_url, action)) if action else Step("end")
        if verb.tag in ("Hangup", "Reject"):
            return Step("end")
    return Step("end")


@dataclass
class LevelResult:
    mode: str
    level: int
    calls: int = 0
    turns: int = 0  # timed requests: the incoming POST, each speech turn, a Dial's action
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    ended_early: dict[str, int] = field(default_factory=dict)  # calls the bridge ended by a Dial or Hangup
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    turns_per_s: float = 0.0
    wall_s: float = 0.0


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def target_check(results: Sequence[LevelResult]) -> dict[str, object]:
    """The target: p95 <= 400 ms at 20 concurrent paced calls, with no errors."""
    wanted = next((r for r in results if r.mode == TARGET["mode"] and r.level == TARGET["level"]), None)
    text = f"p95 <= {TARGET['p95_ms']:.0f} ms at {TARGET['level']} concurrent {TARGET['mode']} calls, zero errors"
    if wanted is None or wanted.p95_ms is None:
        return {"target": text, "status": "not measured", "met": None}
    met = wanted.p95_ms <= float(TARGET["p95_ms"]) and wanted.errors == 0  # type: ignore[arg-type]
    return {"target": text, "status": "met" if met else "NOT met", "met": met,
            "p95_ms": wanted.p95_ms, "errors": wanted.errors}


def markdown_table(results: Sequence[LevelResult]) -> str:
    rows = ["| mode | callers | calls | turns | errors | p50 ms | p95 ms | p99 ms | max ms | turns/s | wall s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r.mode} | {r.level} | {r.calls} | {r.turns} | {r.errors} | {_cell(r.p50_ms)} | "
                    f"{_cell(r.p95_ms)} | {_cell(r.p99_ms)} | {_cell(r.max_ms)} | {r.turns_per_s:.1f} | "
                    f"{r.wall_s:.1f} |")
    notes = [f"- {r.mode} x{r.level}: " + ", ".join(f"{n} {k}" for k, n in sorted(r.error_kinds.items()))
             for r in results if r.error_kinds]
    early = [f"- {r.mode} x{r.level}: " + ", ".join(f"{n} by {k}" for k, n in sorted(r.ended_early.items()))
             for r in results if r.ended_early]
    check = target_check(results)
    lines = [*rows, "", f"Target: {check['target']}: **{check['status']}**"]
    if notes:
        lines += ["", "Errors by kind:", *notes]
    if early:
        lines += ["", "Calls the bridge ended before their turns (not errors):", *early]
    return "\n".join(lines)


# --- one simulated call -----------------------------------------------------------------


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


def _call_params(sid: str, caller: str, status: str) -> dict[str, str]:
    return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": sid, "CallStatus": status,
            "Direction": "inbound", "From": caller, "Caller": caller, "To": CALLED, "Called": CALLED}


async def _post(session: aiohttp.ClientSession, traffic: Traffic, url: str,
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


async def _timed(session: aiohttp.ClientSession, traffic: Traffic, url: str, params: dict[str, str],
                 record: CallRecord) -> Step:
    """A timed request; returns where the call goes next. A degraded answer
    still carries a <Gather>, so the call goes on from it (into the keypad
    menu, as a real caller's would); any other error ends the call."""
    latency, error, body = await _post(session, traffic, url, params)
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
    step = await _timed(session, traffic, url, _call_params(sid, caller, "ringing"), record)
    done = 0
    while done < traffic.turns and step.kind == "gather" and step.url:  # bounded by --turns
        if traffic.think:
            await asyncio.sleep(rng.uniform(*THINK_S))
        params = {**_call_params(sid, caller, "in-progress"), "SpeechResult": rng.choice(UTTERANCES),
                  "Confidence": "0.9"}
        step = await _timed(session, traffic, step.url, params, record)
        done += 1
    if step.kind == "dial" and step.url:
        record.ended_by = "dial"
        params = {**_call_params(sid, caller, "in-progress"), "DialCallStatus": "completed",
                  "DialCallDuration": "30"}
        await _timed(session, traffic, step.url, params, record)
    elif step.kind == "end" and done < traffic.turns and not record.errors[-1:]:
        record.ended_by = "hangup"
    await _status(session, traffic, sid, caller, record)


async def _status(session: aiohttp.ClientSession, traffic: Traffic, sid: str, caller: str,
                  record: CallRecord) -> None:
    """The end-of-call callback: not timed, but a failure is an error."""
    url = urljoin(traffic.base_url + "/", "voice/status")
    params = {**_call_params(sid, caller, "completed"), "CallDuration": "60"}
    _, error, _ = await _post(session, traffic, url, params)
    if error is not None and error != "degraded":
        record.errors.append(f"status {error}")


# --- a level: N callers at once -------------------------------------------------------------


async def _caller(session: aiohttp.ClientSession, traffic: Traffic, rng: random.Random, calls: int,
                  stagger_s: float, records: list[CallRecord]) -> None:
    if stagger_s:
        await asyncio.sleep(rng.uniform(0.0, stagger_s))
    for _ in range(calls):
        record = CallRecord()
        records.append(record)
        await simulate_call(session, traffic, rng, record)


def _level_budget_s(traffic: Traffic, calls: int) -> float:
    """A ceiling no healthy level reaches: every request timing out, every
    think at its longest. It bounds the level even if the bridge hangs."""
    per_call = (traffic.turns + 3) * (REQUEST_TIMEOUT_S + THINK_S[1])
    return STAGGER_S + calls * per_call + 30.0


async def run_level(session: aiohttp.ClientSession, traffic: Traffic, mode: str, level: int,
                    seed: int) -> LevelResult:
    calls = CALLS_PER_CALLER[mode]
    stagger = STAGGER_S if mode == "paced" else 0.0
    records: list[CallRecord] = []
    callers = [_caller(session, traffic, random.Random(f"{seed}:{mode}:{level}:{i}"), calls, stagger, records)
               for i in range(level)]
    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*callers), timeout=_level_budget_s(traffic, calls))
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
                print(f"  p50 {_cell(result.p50_ms)} ms, p95 {_cell(result.p95_ms)} ms, "
                      f"{result.turns_per_s:.1f} turns/s, {result.errors} error(s)", flush=True)
                results.append(result)
    return results


# --- the stack ----------------------------------------------------------------------


def _stack_env(database: Path) -> dict[str, str]:
    # PUBLIC_BASE_URL and COUNCIL_ENV blanked: the bench's signatures are over
    # the loopback URL, and a production setting inherited from the shell
    # would make every request a 403.
    # The bench's conversations go to a tracker store of its own (SQL, as in
    # production), not to the developer's var/tracker.db.
    return {"FAKE_NOW": FAKE_NOW, "DATABASE_URL": f"sqlite:///{database}", "TWILIO_AUTH_TOKEN": BENCH_TOKEN,
            "PUBLIC_BASE_URL": "", "COUNCIL_ENV": "",
            "TRACKER_STORE_URL": f"sqlite:///{database.parent / 'tracker.db'}",
            "LOCK_STORE_URL": ""}


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

        env = _stack_env(Path(self._scratch.name) / "calls.db")
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


# --- reports ----------------------------------------------------------------------------


def plot(results: Sequence[LevelResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    figure, axes = plt.subplots(figsize=(8, 5))
    styles = {"paced": "-", "back-to-back": "--"}
    colours = {"p50_ms": "tab:green", "p95_ms": "tab:orange", "p99_ms": "tab:red"}
    for mode in dict.fromkeys(r.mode for r in results):
        rows = [r for r in results if r.mode == mode]
        for name, colour in colours.items():
            points = [(r.level, getattr(r, name)) for r in rows if getattr(r, name) is not None]
            if points:
                axes.plot(*zip(*points), styles.get(mode, ":"), color=colour, marker="o",
                          label=f"{mode} {name[:3]}")
    axes.axhline(TARGET["p95_ms"], color="black", linewidth=1, linestyle=":",  # type: ignore[arg-type]
                 label=f"target p95 {TARGET['p95_ms']:.0f} ms")
    # Latencies span ~50 ms to seconds and levels 1 to 50: log scales keep both ends readable.
    axes.set_xscale("log")
    axes.set_yscale("log")
    levels = sorted({r.level for r in results})
    axes.xaxis.set_minor_locator(NullLocator())  # only the measured levels are labelled
    axes.set_xticks(levels, [str(level) for level in levels])
    axes.set_xlabel("concurrent callers")
    axes.set_ylabel("turn latency, ms (client side)")
    axes.set_title("Bridge turn latency: paced (4-8 s think) and back-to-back callers")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_reports(results: Sequence[LevelResult], options: dict[str, object], directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    by_mode: dict[str, dict[str, dict[str, object]]] = {}
    for r in results:
        figures = {k: v for k, v in asdict(r).items() if k not in ("mode", "level")}
        by_mode.setdefault(r.mode, {})[str(r.level)] = figures
    figures = {"machine": machine_info(), "options": options, "target": target_check(results), "results": by_mode}
    (directory / "bridge_bench.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    table = markdown_table(results)
    intro = (f"Turn latency = signed POST sent to TwiML received, client side over loopback; "
             f"turns = timed requests (the incoming call, each speech turn, a Dial's action); "
             f"turns/s = answered requests / wall time. {figures['machine']['cpu_count']} CPUs, "
             f"Python {figures['machine']['python']}, {figures['machine']['date']}; bench client on the same machine.")
    (directory / "bridge_bench.md").write_text(f"# Bridge benchmark\n\n{intro}\n\n{table}\n", encoding="utf-8")
    plot(results, directory / "bridge_latency.png")
    return table


# --- command line ---------------------------------------------------------------------------


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not levels or any(not 1 <= level <= 500 for level in levels):
        raise argparse.ArgumentTypeError("levels must be between 1 and 500")
    return levels


def _modes(text: str) -> tuple[str, ...]:
    modes = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [m for m in modes if m not in MODES]
    if not modes or unknown:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)}")
    return modes


def _loopback(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1":
        raise argparse.ArgumentTypeError("the bench only sends traffic to a bridge on 127.0.0.1 (http)")
    return url.rstrip("/")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m devtools bench-bridge", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--levels", type=_levels, help="concurrent callers, e.g. 1,5,20 (default 1,5,10,20,50)")
    p.add_argument("--turns", type=int, choices=range(1, 51), metavar="N",
                   help=f"speech turns per call after the incoming POST (default {DEFAULT_TURNS})")
    p.add_argument("--modes", type=_modes, default=MODES, help="paced,back-to-back (default both)")
    p.add_argument("--seed", type=int, default=7, help="seeds think times, utterances and caller numbers")
    p.add_argument("--quick", action="store_true", help=f"smoke run: levels 1,5 and {QUICK_TURNS} turns")
    p.add_argument("--url", type=_loopback, help="use this running bridge instead of starting the stack")
    p.add_argument("--token", help="its TWILIO_AUTH_TOKEN (with --url; default the development token)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(own_arguments(argv))
    levels = args.levels or (QUICK_LEVELS if args.quick else DEFAULT_LEVELS)
    turns = args.turns or (QUICK_TURNS if args.quick else DEFAULT_TURNS)
    stack = None if args.url else LocalStack()
    try:
        if stack is not None:
            try:
                url, token = stack.start(), BENCH_TOKEN
            except (RuntimeError, OSError) as exc:
                print(f"cannot start the stack: {exc}", file=sys.stderr)
                return 1
        else:
            from telephony_bridge.settings import DEVELOPMENT_TOKEN

            url, token = args.url, args.token or DEVELOPMENT_TOKEN
        results = asyncio.run(run_all(url, token, args.modes, levels, turns, args.seed))
    finally:
        if stack is not None:
            stack.close()
    options = {"levels": list(levels), "turns": turns, "modes": list(args.modes), "seed": args.seed,
               "stack": "external bridge" if args.url else "started by the bench", "fake_now": FAKE_NOW,
               "think_s": list(THINK_S), "stagger_s": STAGGER_S, "calls_per_caller": CALLS_PER_CALLER,
               "warm_up_turns": WARM_UP_TURNS}
    table = write_reports(results, options, REPORTS_DIR)
    print()
    print(table)
    print("\nWritten to reports/bridge_bench.json, bridge_bench.md, bridge_latency.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
