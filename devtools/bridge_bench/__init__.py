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
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

from devtools.bridge_bench.callers import run_all
from devtools.bridge_bench.common import (
    BENCH_TOKEN,
    CALLS_PER_CALLER,
    DEFAULT_LEVELS,
    DEFAULT_TURNS,
    FAKE_NOW,
    MODES,
    QUICK_LEVELS,
    QUICK_TURNS,
    STAGGER_S,
    TARGET,
    THINK_S,
    WARM_UP_TURNS,
)
from devtools.bridge_bench.figures import LevelResult, markdown_table, target_check
from devtools.bridge_bench.stack import LocalStack
from devtools.latency import machine_info
from plumbing.cli import own_arguments
from plumbing.paths import REPORTS_DIR


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




def levels_arg(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not levels or any(not 1 <= level <= 500 for level in levels):
        raise argparse.ArgumentTypeError("levels must be between 1 and 500")
    return levels


def modes_arg(text: str) -> tuple[str, ...]:
    modes = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [m for m in modes if m not in MODES]
    if not modes or unknown:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)}")
    return modes


def loopback_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1":
        raise argparse.ArgumentTypeError("the bench only sends traffic to a bridge on 127.0.0.1 (http)")
    return url.rstrip("/")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m devtools bench-bridge", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--levels", type=levels_arg, help="concurrent callers, e.g. 1,5,20 (default 1,5,10,20,50)")
    p.add_argument("--turns", type=int, choices=range(1, 51), metavar="N",
                   help=f"speech turns per call after the incoming POST (default {DEFAULT_TURNS})")
    p.add_argument("--modes", type=modes_arg, default=MODES, help="paced,back-to-back (default both)")
    p.add_argument("--seed", type=int, default=7, help="seeds think times, utterances and caller numbers")
    p.add_argument("--quick", action="store_true", help=f"smoke run: levels 1,5 and {QUICK_TURNS} turns")
    p.add_argument("--url", type=loopback_url, help="use this running bridge instead of starting the stack")
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
