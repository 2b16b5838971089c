"""The CLINC150 bench's report: its figures beside the published ones and the
choices made on val, in markdown."""

from __future__ import annotations

from typing import Any

import yaml

from devtools.clinc import PUBLISHED, TARGETS, WEIGHTS


def percent(share: float) -> str:
    return f"{100 * share:.1f}"


def render_markdown(figures: dict[str, Any]) -> str:
    """The report: our rows beside Larson et al.'s table, targets, the val
    sweep, time and the exact pipeline."""
    test, bare = figures["test"], figures["test_no_threshold"]
    lines = [
        "# CLINC150 benchmark (python -m devtools bench clinc)",
        "",
        ("Data: CLINC150 data_full.json (clinc/oos-eval, CC BY 3.0); Larson et al., \"An Evaluation Dataset for "
         "Intent Classification and Out-of-Scope Prediction\", EMNLP-IJCNLP 2019. In-scope accuracy over "
         f"{test['in_scope']} test queries, out-of-scope recall over {test['out_of_scope']} oos_test queries."),
        "",
        "| classifier | scheme | in-scope accuracy % | out-of-scope recall % |",
        "|---|---|---|---|",
        *(f"| {name} | {scheme} | {accuracy} | {recall} |" for name, scheme, accuracy, recall in PUBLISHED),
        (f"| **this project (config.yml variant)** | oos-train | **{percent(bare['in_scope_accuracy'])}** | "
         f"**{percent(bare['oos_recall'])}** |"),
        (f"| **this project (config.yml variant)** | oos-train + oos weight {figures['weight']:g} and "
         f"threshold {figures['threshold']:.2f} on val | "
         f"**{percent(test['in_scope_accuracy'])}** | **{percent(test['oos_recall'])}** |"),
        "",
        "## Targets",
        "",
        "| measure | target | measured | met |",
        "|---|---|---|---|",
    ]
    measured = {"in_scope_accuracy": test["in_scope_accuracy"], "oos_recall": test["oos_recall"],
                "training_seconds": figures["training_seconds"]}
    for name, target in TARGETS.items():
        value = measured[name]
        higher_is_better = name != "training_seconds"
        met = value >= target if higher_is_better else value <= target
        lines.append(f"| {name} | {'>=' if higher_is_better else '<='} {target} | {value} | {'yes' if met else 'NO'} |")
    lines += [
        "",
        "## Weight and threshold (chosen on val + oos_val only)",
        "",
        (f"Rule: {figures['threshold_rule']}, over each out-of-scope weight in {', '.join(f'{w:g}' for w in WEIGHTS)} "
         f"(ties to the lowest weight). Chosen: weight {figures['weight']:g}, threshold "
         f"{figures['threshold']:.2f}. oos's confidence is weighed up, the ranking renormalised; below the "
         "threshold the query is out of scope."),
        "",
        "| weight | its threshold by the rule | val in-scope accuracy % | val out-of-scope recall % |",
        "|---|---|---|---|",
        *(f"| {row['weight']:g} | {row['threshold']:.2f} | {percent(row['in_scope_accuracy'])} | "
          f"{percent(row['oos_recall'])} |" for row in figures["val_by_weight"]),
        "",
        "At the chosen weight:",
        "",
        "| threshold | val in-scope accuracy % | val out-of-scope recall % |",
        "|---|---|---|",
        *(f"| {row['threshold']:.2f}{' (chosen)' if row['threshold'] == figures['threshold'] else ''} | "
          f"{percent(row['in_scope_accuracy'])} | {percent(row['oos_recall'])} |" for row in figures["val_sweep"]),
        "",
        "## Time (2 shared cores; other work was running, so figures are noisy)",
        "",
        (f"- Training from scratch, featurisation included: {figures['training_seconds']} s on "
         f"{figures['training_examples']} examples (load average {figures['load_average']})."),
        (f"- One query through `parse_message`: p50 {figures['latency_p50_ms']} ms, p95 {figures['latency_p95_ms']} ms "
         f"({figures['latency_queries']} test queries, after warm-up)."),
        f"- Batched ({figures['batch_size']} a graph run): {figures['batch_throughput_per_s']} queries/s over test.",
        "",
        "## Pipeline",
        "",
        "bot/config.yml with these differences (devtools/clinc.py, DROPPED and CHANGES):",
        "",
        *(f"- {change}" for change in figures["differences_from_config_yml"]),
        "",
        "```yaml",
        yaml.safe_dump(figures["pipeline"], sort_keys=False).rstrip(),
        "```",
    ]
    return "\n".join(lines) + "\n"
