"""Service levels of the telephone line over a period, as the shared-services
agreement measures them (95% of calls answered; 80% answered within 20 s).

    python -m telephony_bridge report [--from WHEN] [--to WHEN]

WHEN is a date (2026-11-09) or a date-time (2026-11-09T08:00), London time
unless it carries an offset. A date in --to includes that whole day. Without
them the report covers the last 7 days up to now.

What each figure means (every percentage is of `calls`):

- calls: calls that started in the period (from its start, up to but not
  including its end).
- answered: calls the automated line answered. That is every call except one
  Twilio reports busy, failed, no-answer or canceled with no turn taken.
- answered within 20 s: answered calls where the caller reached a service or
  a person within 20 seconds of the call starting. The automated line
  answers at once, so "answered" alone would always be 100% within 20 s;
  this measures instead how soon the caller got somewhere: the bot or the
  menu named the service they need, the speech directory matched it, or a
  person picked up a transfer. Stricter than a contact centre's usual
  "answered within 20 s", on purpose.
- contained: answered calls that needed no person: not transferred, not
  handed off, not abandoned. Calls told to ring 999 are contained; a call
  still going on when the report runs counts here too.
- transferred: calls put through (or tried) to a person at least once.
  "Of transfers, a person answered within 20 s" is the share of transfers
  a person picked up within 20 s of the bridge starting to dial; a transfer
  with no known answer time counts as not answered within 20 s.
- handed off: calls where a case was stored for staff to call back.
- abandoned: calls that ended without the caller reaching a service or a
  person, with no handoff and no 999 advice. Unanswered calls are abandoned
  too, and so is a call whose transfer nobody picked up before the caller
  hung up: trying to transfer is not serving the caller.
- median time to service: the median time from the call starting to the
  caller first reaching a service or a person, over calls that did.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from council.clock import LONDON
from telephony_bridge.calllog import CallLog, CallRecord, TransferRecord

UNANSWERED_STATUSES = frozenset({"busy", "failed", "no-answer", "canceled"})
WITHIN = timedelta(seconds=20)
ANSWERED_TARGET_PCT = 95.0
WITHIN_20S_TARGET_PCT = 80.0


@dataclass(frozen=True)
class ServiceLevels:
    start: datetime
    end: datetime
    calls: int
    answered: int
    answered_pct: float
    answered_within_20s: int
    answered_within_20s_pct: float
    contained: int
    contained_pct: float
    transferred: int
    transferred_pct: float
    transfers_answered_within_20s_pct: float | None
    handed_off: int
    handed_off_pct: float
    abandoned: int
    abandoned_pct: float
    median_time_to_service_s: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO-8601 strings."""
        values = asdict(self)
        values["start"] = self.start.isoformat()
        values["end"] = self.end.isoformat()
        return values


def is_answered(call: CallRecord) -> bool:
    return not (call.status in UNANSWERED_STATUSES and call.turns == 0)


def is_answered_within_20s(call: CallRecord) -> bool:
    return is_answered(call) and call.reached_at is not None and call.reached_at - call.started_at <= WITHIN


def is_abandoned(call: CallRecord) -> bool:
    # A transfer nobody answered leaves reached_at empty, so it counts here.
    return call.ended_at is not None and call.reached_at is None and not (call.handed_off or call.emergency)


def is_contained(call: CallRecord) -> bool:
    return is_answered(call) and not (call.transferred or call.handed_off or is_abandoned(call))


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _transfers_within_20s_pct(transfers: Sequence[TransferRecord]) -> float | None:
    if not transfers:
        return None
    quick = sum(1 for t in transfers if t.answered_at is not None and t.answered_at - t.started_at <= WITHIN)
    return _pct(quick, len(transfers))


def _median_time_to_service_s(calls: Sequence[CallRecord]) -> float | None:
    waits = [(c.reached_at - c.started_at).total_seconds() for c in calls if c.reached_at is not None]
    return statistics.median(waits) if waits else None


def service_levels(log: CallLog, start: datetime, end: datetime) -> ServiceLevels:
    """The agreement's measures over calls that started in [start, end)."""
    calls = log.calls_between(start, end)
    total = len(calls)

    def count(test: Any) -> tuple[int, float]:
        number = sum(1 for call in calls if test(call))
        return number, _pct(number, total)

    answered, answered_pct = count(is_answered)
    within, within_pct = count(is_answered_within_20s)
    contained, contained_pct = count(is_contained)
    transferred, transferred_pct = count(lambda call: call.transferred)
    handed_off, handed_off_pct = count(lambda call: call.handed_off)
    abandoned, abandoned_pct = count(is_abandoned)
    return ServiceLevels(
        start=start,
        end=end,
        calls=total,
        answered=answered,
        answered_pct=answered_pct,
        answered_within_20s=within,
        answered_within_20s_pct=within_pct,
        contained=contained,
        contained_pct=contained_pct,
        transferred=transferred,
        transferred_pct=transferred_pct,
        transfers_answered_within_20s_pct=_transfers_within_20s_pct(log.transfers_between(start, end)),
        handed_off=handed_off,
        handed_off_pct=handed_off_pct,
        abandoned=abandoned,
        abandoned_pct=abandoned_pct,
        median_time_to_service_s=_median_time_to_service_s(calls),
    )


def _when(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def _met(pct: float, target: float) -> str:
    return "yes" if pct >= target else "NO"


def format_report(levels: ServiceLevels) -> str:
    """A plain-text table for the telephony manager, with the agreement's
    targets beside the two measures it sets."""
    lines = [f"Telephone service levels, {_when(levels.start)} to {_when(levels.end)} (London time)", ""]
    if levels.calls == 0:
        lines.append("No calls in this period.")
        return "\n".join(lines) + "\n"
    header = f"{'measure':<42}{'calls':>7}{'%':>8}  {'target':<8}met"
    rows = [
        ("calls", levels.calls, None, "", ""),
        ("answered", levels.answered, levels.answered_pct, f">= {ANSWERED_TARGET_PCT:.0f}%",
         _met(levels.answered_pct, ANSWERED_TARGET_PCT)),
        ("reached a service or person within 20 s", levels.answered_within_20s, levels.answered_within_20s_pct,
         f">= {WITHIN_20S_TARGET_PCT:.0f}%", _met(levels.answered_within_20s_pct, WITHIN_20S_TARGET_PCT)),
        ("contained (no person needed)", levels.contained, levels.contained_pct, "", ""),
        ("transferred to a person", levels.transferred, levels.transferred_pct, "", ""),
        ("handed off (case for a call back)", levels.handed_off, levels.handed_off_pct, "", ""),
        ("abandoned", levels.abandoned, levels.abandoned_pct, "", ""),
    ]
    lines += [header, "-" * len(header)]
    for name, number, pct, target, met in rows:
        shown = "" if pct is None else f"{pct:.1f}%"
        lines.append(f"{name:<42}{number:>7}{shown:>8}  {target:<8}{met:<4}".rstrip())
    lines.append("")
    transfers = levels.transfers_answered_within_20s_pct
    lines.append(
        "Of transfers, a person answered within 20 s: "
        + ("no transfers" if transfers is None else f"{transfers:.1f}%")
    )
    median = levels.median_time_to_service_s
    lines.append(
        "Median time to reach a service or person: "
        + ("no call reached one" if median is None else f"{median:.1f} s")
    )
    return "\n".join(lines) + "\n"


