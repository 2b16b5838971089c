"""`python -m bot bench`: how well and how fast the bot routes.

Writes reports/council-bench.json (figures), reports/council-bench.md (the
table beside the issue's targets), reports/council-confusion.png and
reports/council-holdout-mistakes.txt. Nothing here asserts: the machines
are shared and noisy, so figures are medians and percentiles to compare.
"""

from __future__ import annotations

import asyncio
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from bot.evaluation import Scores, evaluate, load_holdout
from bot.paths import REPORTS_DIR
from bot.routing import Router
from bot.training import ensure_model, fingerprint, train

TARGETS = {
    "service_accuracy": (">=", 0.95),
    "authority_accuracy": (">=", 0.98),
    "oos_recall": (">=", 0.90),
    "false_alarm_rate": ("<=", 0.03),
    "training_seconds": ("<=", 180.0),
    "route_latency_p95_ms": ("<=", 50.0),
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _confusion_png(scores: Scores, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    golds = sorted({gold for gold, _ in scores.confusion})
    predicted = golds + sorted({p for _, p in scores.confusion if p not in golds})
    grid = [[scores.confusion.get((g, p), 0) for p in predicted] for g in golds]
    figure, axes = plt.subplots(figsize=(13, 11))
    image = axes.imshow(grid, cmap="Blues")
    darkest = max(max(line) for line in grid)
    axes.set_xticks(range(len(predicted)), predicted, rotation=90, fontsize=7)
    axes.set_yticks(range(len(golds)), golds, fontsize=7)
    axes.set_xlabel("routed to")
    axes.set_ylabel("held-out label")
    for row, line in enumerate(grid):
        for column, count in enumerate(line):
            if count:
                axes.text(column, row, str(count), ha="center", va="center", fontsize=6,
                          color="white" if count > 0.6 * darkest else "black")
    axes.set_title(f"Held-out routing: service accuracy {scores.service_accuracy:.1%}")
    figure.colorbar(image, ax=axes, shrink=0.6)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


async def _throughput(router: Router, texts: list[str]) -> float:
    """Utterances per second routing `texts` one after another."""
    started = time.perf_counter()
    for text in texts:
        await router.route(text)
    return len(texts) / (time.perf_counter() - started)


def _meets(name: str, value: float) -> str:
    direction, target = TARGETS[name]
    ok = value >= target if direction == ">=" else value <= target
    return "yes" if ok else "NO"


def run_bench(skip_training: bool = False) -> int:
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    training_seconds = None
    with tempfile.TemporaryDirectory() as scratch:
        if skip_training:
            model = ensure_model()
        else:
            print("Training from scratch to time it (this takes a few minutes)...", flush=True)
            started = time.perf_counter()
            model = train(Path(scratch), "bench")
            training_seconds = time.perf_counter() - started
        router = Router(model)
        examples = load_holdout()
        for example in examples[:5]:  # warm up: first calls build TF graphs
            asyncio.run(router.route(example.text))
        scores = asyncio.run(evaluate(router, examples))
        throughputs = [asyncio.run(_throughput(router, [e.text for e in examples])) for _ in range(3)]
    latencies_ms = [s * 1000 for s in scores.latencies_s]
    figures = {
        "model_fingerprint": fingerprint(),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "held_out_examples": len(examples),
        "in_scope_examples": scores.total_in_scope,
        "out_of_scope_examples": scores.total_oos,
        "service_accuracy": round(scores.service_accuracy, 4),
        "service_accuracy_typed": round(scores.style_accuracy("typed"), 4),
        "service_accuracy_spoken": round(scores.style_accuracy("spoken"), 4),
        "authority_accuracy": round(scores.authority_accuracy, 4),
        "oos_recall": round(scores.oos_recall, 4),
        "false_alarm_rate": round(scores.false_alarm_rate, 4),
        "training_seconds": round(training_seconds, 1) if training_seconds is not None else None,
        "route_latency_p50_ms": round(percentile(latencies_ms, 0.5), 2),
        "route_latency_p95_ms": round(percentile(latencies_ms, 0.95), 2),
        "route_throughput_per_s_median": round(statistics.median(throughputs), 1),
    }
    (REPORTS_DIR / "council-bench.json").write_text(json.dumps(figures, indent=2) + "\n")
    _confusion_png(scores, REPORTS_DIR / "council-confusion.png")
    mistakes = "\n".join(f"{gold}\t{predicted}\t{confidence:.2f}\t{text}" for text, gold, predicted, confidence in
                         sorted(scores.mistakes, key=lambda m: m[1]))
    (REPORTS_DIR / "council-holdout-mistakes.txt").write_text("held-out label\trouted to\tconfidence\ttext\n" + mistakes + "\n")
    rows = ["| measure | target | measured | met |", "|---|---|---|---|"]
    for name, (direction, target) in TARGETS.items():
        value = figures[name]
        if value is None:
            rows.append(f"| {name} | {direction} {target} | not measured (--skip-training) | |")
        else:
            rows.append(f"| {name} | {direction} {target} | {value} | {_meets(name, value)} |")
    rows += [
        "",
        f"typed accuracy {figures['service_accuracy_typed']:.1%}, spoken {figures['service_accuracy_spoken']:.1%}; "
        f"route p50 {figures['route_latency_p50_ms']} ms; throughput {figures['route_throughput_per_s_median']} utterances/s "
        f"(median of 3 passes over {len(examples)} utterances, in-process, after load).",
    ]
    table = "\n".join(rows)
    (REPORTS_DIR / "council-bench.md").write_text(f"# Council bot benchmark\n\n{table}\n")
    print(table)
    print(f"\nWritten to {REPORTS_DIR}/council-bench.{{json,md}}, council-confusion.png, council-holdout-mistakes.txt")
    return 0
