"""The bench's plan (cases, retries) and its pure pieces: answers, the integrity
check that no case was lost or made twice, per-operation figures, the tables."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from council.references import new_reference
from devtools.handoff_bench.common import FINISHED, OPERATIONS, POSTCODES, REFERENCE_SPACE, TARGET, TRANSCRIPT
from handoff.cases import CHANNELS, REASONS


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


def cell(value: object) -> str:
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
        rows.append(f"| {name} | {op['requests']} | {op['errors']} | {cell(op['p50_ms'])} | {cell(op['p95_ms'])} | "
                    f"{cell(op['p99_ms'])} | {cell(op['max_ms'])} | {cell(phase.get('cases_per_s'))} | "
                    f"{cell(phase.get('wall_s'))} |")
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


def expected_clashes(cases: int) -> float:
    """How many pairs of `cases` independently drawn references would share
    one (the birthday bound over the reference space)."""
    return cases * (cases - 1) / 2 / REFERENCE_SPACE
