"""The bench's pure pieces: what an answer means for the next turn, what counts
as an error, a level's figures, the tables and the target check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import urljoin

from devtools.bridge_bench.common import DEGRADED_MARKERS, TARGET, TWIML_TYPES


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


def table_cell(value: float | None) -> str:
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
        rows.append(f"| {r.mode} | {r.level} | {r.calls} | {r.turns} | {r.errors} | {table_cell(r.p50_ms)} | "
                    f"{table_cell(r.p95_ms)} | {table_cell(r.p99_ms)} | {table_cell(r.max_ms)} | {r.turns_per_s:.1f} | "
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
