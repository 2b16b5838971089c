"""`python -m devtools bench`: how well and how fast the bot routes.

Scores the test set (the figures docs/benchmarks.md quotes), the development set
(where every choice was made), the project's first held-out set and GOV.UK's
list of local services; times a training from scratch (unless
--skip-training) and `route` after load. Writes reports/council-bench.json
(figures), reports/council-bench.md (the tables beside the issue's targets),
reports/council-confusion-<set>.png and reports/council-mistakes-<set>.txt.
Nothing here asserts: the machines are shared and noisy, so timings are
medians and percentiles to compare.
"""

from __future__ import annotations

import asyncio
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.routing import Router
from bot.training import ensure_model, fingerprint, train
from devtools import govuk
from devtools.evaluation import DEVELOPMENT, TEST, Example, Scores, evaluate, load_holdout, load_set
from plumbing.paths import REPORTS_DIR

TARGETS = {
    "service_accuracy": (">=", 0.96),
    "authority_accuracy": (">=", 0.985),
    "topic_accuracy": (">=", 0.90),
    "oos_recall": (">=", 0.92),
    "turned_away_rate": ("<=", 0.02),
    "typed_gap": ("<=", 0.02),
    "spoken_gap": ("<=", 0.02),
    "govuk_right_council": (">=", 1.0),
    "govuk_out_of_scope": ("<=", 0),
    "training_seconds": ("<=", 240.0),
    "route_latency_p95_ms": ("<=", 50.0),
}


# A fixed message for the machine's own speed: its MiniLM encoding is most of a
# long message's parse, so route times read against it compare across runs on
# machines (or hours of one shared machine) of different speeds.
REFERENCE_TEXT = ("hello there i'm ringing about my mother who lives on her own in a bungalow near the "
                  "canal and since she came out of hospital she can't manage the stairs or the bins and "
                  "we were wondering who to ask about some help at home and maybe a grab rail")


def reference_encode_ms(repeats: int = 30) -> float:
    """Median milliseconds to encode REFERENCE_TEXT: how fast this machine is now."""
    from bot.nlu.minilm import shared_model

    model = shared_model()
    model.encode([REFERENCE_TEXT])
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.encode([REFERENCE_TEXT])
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _confusion_png(scores: Scores, path: Path, title: str) -> None:
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
    axes.set_ylabel("label")
    for row, line in enumerate(grid):
        for column, count in enumerate(line):
            if count:
                axes.text(column, row, str(count), ha="center", va="center", fontsize=6,
                          color="white" if count > 0.6 * darkest else "black")
    axes.set_title(f"{title}: service accuracy {scores.service_accuracy:.1%}")
    figure.colorbar(image, ax=axes, shrink=0.6)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def figures(scores: Scores, examples: list[Example]) -> dict[str, Any]:
    whole = scores.service_accuracy
    typed, spoken = scores.style_accuracy("typed"), scores.style_accuracy("spoken")
    return {
        "enquiries": len(examples),
        "in_scope": scores.total_in_scope,
        "out_of_scope": scores.total_oos,
        "typed": scores.by_style["typed"],
        "spoken": scores.by_style["spoken"],
        "traps": scores.traps.total,
        "long_tail": scores.long_tail.total,
        "service_accuracy": round(whole, 4),
        "authority_accuracy": round(scores.authority_accuracy, 4),
        "topic_accuracy": round(scores.topic_accuracy, 4),
        "oos_recall": round(scores.oos_recall, 4),
        "oos_answered_as_conversation": scores.oos_conversation,
        "turned_away_rate": round(scores.turned_away_rate, 4),
        "false_alarm_rate": round(scores.false_alarm_rate, 4),
        "service_accuracy_typed": round(typed, 4),
        "service_accuracy_spoken": round(spoken, 4),
        "typed_gap": round(abs(typed - whole), 4),
        "spoken_gap": round(abs(spoken - whole), 4),
        "trap_accuracy": round(scores.traps.rate, 4),
        "long_tail_service_accuracy": round(scores.long_tail.rate, 4),
        "long_tail_topic_accuracy": round(scores.long_tail_topic.rate, 4),
        "asked_one_question": round(scores.clarified_rate, 4),
        "service_accuracy_after_question": round(scores.after_one_question, 4),
        "by_service": {s: round(t.rate, 4) for s, t in sorted(scores.by_service.items())},
        "by_service_count": {s: t.total for s, t in sorted(scores.by_service.items())},
    }


async def _govuk(router: Router) -> dict[str, Any] | None:
    path = govuk.reference_csv()
    if not path.exists():
        return None
    expectations = govuk.expected(govuk.load_rows(path))
    rows = []
    for expect in expectations:
        route = await router.route(expect.row.description)
        rows.append({"lgsl": expect.row.lgsl, "description": expect.row.description, "tier": expect.row.tier,
                     "expected_topics": list(expect.topics),
                     "expected": "/".join(expect.authorities) or expect.handled_by,
                     "routed": route.service, "authority": route.authority, "topic": route.topic,
                     "right": govuk.reached(expect, route), "out_of_scope": route.service == "out_of_scope"})
    return {"rows": rows, "right": sum(r["right"] for r in rows), "total": len(rows),
            "out_of_scope": sum(r["out_of_scope"] for r in rows),
            "topic_right": sum(r["topic"] in r["expected_topics"] for r in rows if r["expected_topics"])}


async def _throughput(router: Router, texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        await router.route(text)
    return len(texts) / (time.perf_counter() - started)


def _meets(name: str, value: float) -> str:
    direction, target = TARGETS[name]
    ok = value >= target if direction == ">=" else value <= target
    return "yes" if ok else "NO"


def _table(measured: dict[str, Any]) -> list[str]:
    rows = ["| measure | target | test set | met |", "|---|---|---|---|"]
    for name, (direction, target) in TARGETS.items():
        value = measured.get(name)
        shown = "not measured" if value is None else value
        rows.append(f"| {name} | {direction} {target} | {shown} | {'' if value is None else _meets(name, value)} |")
    return rows


def _set_table(named: dict[str, dict[str, Any]]) -> list[str]:
    keys = ["enquiries", "service_accuracy", "authority_accuracy", "topic_accuracy", "oos_recall",
            "oos_answered_as_conversation", "turned_away_rate", "service_accuracy_typed",
            "service_accuracy_spoken", "trap_accuracy", "long_tail_service_accuracy", "long_tail_topic_accuracy",
            "asked_one_question",
            "service_accuracy_after_question"]
    rows = ["| measure | " + " | ".join(named) + " |", "|---|" + "---|" * len(named)]
    for key in keys:
        rows.append(f"| {key} | " + " | ".join(str(f.get(key, "")) for f in named.values()) + " |")
    return rows


def _by_service(test: dict[str, Any], dev: dict[str, Any]) -> list[str]:
    rows = ["| service | test (n) | development (n) |", "|---|---|---|"]
    for service in sorted(set(test["by_service"]) | set(dev["by_service"])):
        rows.append(f"| {service} | {test['by_service'].get(service, '')} ({test['by_service_count'].get(service, 0)})"
                    f" | {dev['by_service'].get(service, '')} ({dev['by_service_count'].get(service, 0)}) |")
    return rows


def _write_mistakes(name: str, scores: Scores) -> None:
    lines = ["label\trouted to\tconfidence\ttext"]
    lines += [f"{gold}\t{predicted}\t{confidence:.2f}\t{text}"
              for text, gold, predicted, confidence in sorted(scores.mistakes, key=lambda m: m[1])]
    lines += ["", "topic label\ttopic given\ttext"]
    lines += [f"{gold}\t{given}\t{text}" for text, gold, given in sorted(scores.topic_mistakes, key=lambda m: m[1])]
    (REPORTS_DIR / f"council-mistakes-{name}.txt").write_text("\n".join(lines) + "\n")


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
        sets = {"test": load_set(TEST), "development": load_set(DEVELOPMENT), "first held-out": load_holdout()}
        for example in sets["test"][:5]:  # warm up: first calls build TF graphs
            asyncio.run(router.route(example.text))
        reference_before = reference_encode_ms()
        scored = {name: asyncio.run(evaluate(router, examples)) for name, examples in sets.items()}
        reference_after = reference_encode_ms()
        govuk_result = asyncio.run(_govuk(router))
        texts = [e.text for e in sets["test"]]
        throughputs = [asyncio.run(_throughput(router, texts)) for _ in range(3)]
    latencies_ms = [s * 1000 for s in scored["test"].latencies_s]
    named = {name: figures(scored[name], sets[name]) for name in sets}
    measured: dict[str, Any] = dict(named["test"])
    measured.update({
        "training_seconds": round(training_seconds, 1) if training_seconds is not None else None,
        "route_latency_p50_ms": round(percentile(latencies_ms, 0.5), 2),
        "route_latency_p95_ms": round(percentile(latencies_ms, 0.95), 2),
        "route_throughput_per_s_median": round(statistics.median(throughputs), 1),
        "reference_encode_ms": [round(reference_before, 2), round(reference_after, 2)],
        "route_latency_p95_in_reference_encodes": round(
            percentile(latencies_ms, 0.95) / statistics.mean([reference_before, reference_after]), 2),
    })
    if govuk_result is not None:
        measured["govuk_right_council"] = round(govuk_result["right"] / govuk_result["total"], 4)
        measured["govuk_out_of_scope"] = govuk_result["out_of_scope"]
    report = {"model_fingerprint": fingerprint(), "machine": f"{platform.machine()}, {platform.python_version()}",
              "test": measured, "sets": named, "govuk": govuk_result}
    (REPORTS_DIR / "council-bench.json").write_text(json.dumps(report, indent=2) + "\n")
    for name, scores in scored.items():
        slug = name.replace(" ", "-")
        _confusion_png(scores, REPORTS_DIR / f"council-confusion-{slug}.png", name)
        _write_mistakes(slug, scores)
    lines = ["# Council bot benchmark", "", "## Targets (test set)", "", *_table(measured), "",
             f"route p50 {measured['route_latency_p50_ms']} ms, p95 {measured['route_latency_p95_ms']} ms; "
             f"throughput {measured['route_throughput_per_s_median']} enquiries/s (median of 3 passes over "
             f"{len(texts)}, in-process, after load).",
             f"The machine's speed: one fixed {len(REFERENCE_TEXT.split())}-word message encodes in "
             f"{measured['reference_encode_ms'][0]} ms before scoring and {measured['reference_encode_ms'][1]} ms "
             f"after (medians of 30); route p95 is {measured['route_latency_p95_in_reference_encodes']} of them.",
             "", "## Every set", "", *_set_table(named), "",
             "## By service", "", *_by_service(named["test"], named["development"])]
    if govuk_result is not None:
        misses = [r for r in govuk_result["rows"] if not r["right"]]
        lines += ["", f"## GOV.UK list of local services ({govuk.ATTRIBUTION})", "",
                  f"{govuk_result['right']} of {govuk_result['total']} rows reach the right council; "
                  f"{govuk_result['out_of_scope']} called out of scope; {govuk_result['topic_right']} reach "
                  "the very topic they map to.", ""]
        lines += [f"- LGSL {r['lgsl']} \"{r['description']}\": expected {r['expected']}, got {r['routed']} "
                  f"({r['authority']})" for r in misses]
    table = "\n".join(lines)
    (REPORTS_DIR / "council-bench.md").write_text(table + "\n")
    print(table)
    print(f"\nWritten to {REPORTS_DIR}/council-bench.{{json,md}}, council-confusion-*.png, council-mistakes-*.txt")
    return 0
