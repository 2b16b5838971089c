"""A file's replay result, a summary table and JUnit XML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

from devtools.replay.compare import Divergence
from devtools.replay.files import Conversation
from devtools.replay.observed import Observed


@dataclass
class Result:
    conversation: Conversation
    status: str  # "pass" | "fail" | "skip" | "error"
    divergence: Divergence | None = None
    reason: str = ""
    seconds: float = 0.0
    observed: list[Observed] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("pass", "skip")


def summary_table(results: Sequence[Result]) -> str:
    """One line a conversation, then the totals."""
    width = max([len(r.conversation.label) for r in results] + [12])
    lines = [f"{'conversation':<{width}}  {'channel':<7}  {'turns':>5}  result", "-" * (width + 30)]
    for result in results:
        detail = result.status.upper()
        if result.divergence is not None:
            detail += f" at turn {result.divergence.turn} ({result.divergence.field})"
        elif result.reason:
            detail += f": {result.reason}"
        lines.append(f"{result.conversation.label:<{width}}  {result.conversation.channel:<7}  "
                     f"{len(result.conversation.turns):>5}  {detail}")
    counts = {status: sum(r.status == status for r in results) for status in ("pass", "fail", "error", "skip")}
    lines.append("-" * (width + 30))
    lines.append(f"{len(results)} conversations: {counts['pass']} passed, {counts['fail']} diverged, "
                 f"{counts['error']} could not run, {counts['skip']} skipped")
    return "\n".join(lines)


def junit_xml(results: Sequence[Result], suite: str = "conversation-replay") -> str:
    """JUnit XML, one test case a conversation, for CI to show."""
    failures = sum(r.status == "fail" for r in results)
    errors = sum(r.status == "error" for r in results)
    skipped = sum(r.status == "skip" for r in results)
    total = sum(r.seconds for r in results)
    cases = []
    for result in results:
        attrs = (f"classname={quoteattr(suite + '.' + result.conversation.channel)} "
                 f"name={quoteattr(result.conversation.label)} time=\"{result.seconds:.3f}\"")
        if result.status == "fail" and result.divergence is not None:
            message = f"turn {result.divergence.turn}: {result.divergence.field} differs"
            body = (f"<failure message={quoteattr(message)}>"
                    f"{escape(result.divergence.side_by_side())}</failure>")
        elif result.status == "error":
            body = f"<error message={quoteattr(result.reason)}/>"
        elif result.status == "skip":
            body = f"<skipped message={quoteattr(result.reason)}/>"
        else:
            body = ""
        cases.append(f"  <testcase {attrs}>{body}</testcase>")
    return (f"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuite name={quoteattr(suite)} tests=\"{len(results)}\" "
            f"failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total:.3f}\">\n"
            + "\n".join(cases) + "\n</testsuite>\n")
