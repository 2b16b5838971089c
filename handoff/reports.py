"""Figures on handed-off cases over a period, for a centre manager.

    python -m handoff report [--from WHEN] [--to WHEN] [--csv FILE] [--charts DIR]

WHEN is a date (2026-11-09) or a date-time (2026-11-09T08:00), London time
unless it carries an offset. A date in --to includes that whole day. Without
them the report covers the last 7 days up to now. --csv writes one row per
case (no transcript, no phone number); --charts writes one PNG per chart.

What each figure means:

- cases: cases the bot handed off in the period (stored from its start, up
  to but not including its end), whatever has happened to them since.
- by service: the council service the bot had identified, by the
  catalogue's name; "No service identified" when the bot had not got that far.
- by authority: the council that provides that service (city, county, both
  together, or not a council service); none when no service was identified.
- by centre: the face-to-face centre the case was sent to: the housing
  office for council housing, Morecambe Town Hall for LA3/LA4 postcodes,
  Lancaster Town Hall otherwise.
- by reason: why the bot handed the case over (the caller asked for a
  person, the bot did not understand, urgent, a complaint, or the bot could
  not complete the task).
- by outcome: what staff recorded when they finished the case; "No outcome
  yet" for cases still open or being worked on.
- by status: where each case stands now: open (nobody has picked it up),
  claimed (someone is working on it), resolved, or closed with no contact.
- minutes to claim: from the case being stored to a member of staff
  claiming it, over the cases that have been claimed. Recording an outcome
  on an open case claims it at that moment.
- minutes to resolve: from the case being stored to its outcome being
  recorded, over the cases that have an outcome (closed with no contact
  included: the case is finished either way).
- median: half of those cases took less, half more. 90th percentile: 90%
  of those cases took no longer than this (the smallest time that is true
  of at least 90% of them, so it is always a time some case really took).
  Both are blank when no case qualifies.
- resolved at first contact: of the cases with an outcome, the share whose
  outcome is "resolved at the desk" (sorted out in the first contact with
  the caller, with no referral, appointment or call back needed).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import statistics
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from council.catalogue import Catalogue, default_catalogue
from council.clock import LONDON
from handoff.cases import OUTCOMES, REASONS, STATUSES, Case
from handoff.store import CaseStore

NONE = "none"  # the id of the "not known" bucket in a dimension (no service, no outcome yet)
FIRST_CONTACT_OUTCOME = "resolved_at_desk"
CSV_COLUMNS = ("reference", "created_at", "channel", "service", "authority", "centre", "reason", "priority",
               "status", "outcome", "minutes_to_claim", "minutes_to_resolve")
# Spreadsheets run a cell starting with one of these as a formula (and tab or
# carriage return can smuggle one in), so such a cell gets a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHARTS = ("by_service", "by_centre", "by_outcome", "by_reason")

REASON_NAMES = {
    "person_requested": "Caller asked for a person",
    "not_understood": "Bot did not understand",
    "urgent": "Urgent",
    "complaint": "Complaint",
    "cannot_complete": "Bot could not complete it",
}
OUTCOME_NAMES = {
    "resolved_at_desk": "Resolved at the desk",
    "appointment_booked": "Appointment booked",
    "referred_to_service": "Referred to the service",
    "referred_to_other_council": "Referred to the other council",
    "no_contact": "No contact made",
    "duplicate": "Duplicate",
    NONE: "No outcome yet",
}
STATUS_NAMES = {
    "open": "Open",
    "claimed": "Claimed",
    "resolved": "Resolved",
    "closed_no_contact": "Closed, no contact",
}
NO_SERVICE = "No service identified"
NO_AUTHORITY = "None (no service identified)"


@dataclass(frozen=True)
class Count:
    """One bar of a breakdown: `id` as stored (NONE for "not known"), `name`
    as a manager reads it, and how many cases."""

    id: str
    name: str
    cases: int


@dataclass(frozen=True)
class CaseReport:
    """The module docstring defines every figure. Each breakdown covers every
    case once, so its counts add up to `cases`."""

    start: datetime
    end: datetime
    cases: int
    by_service: tuple[Count, ...]
    by_authority: tuple[Count, ...]
    by_centre: tuple[Count, ...]
    by_reason: tuple[Count, ...]
    by_outcome: tuple[Count, ...]
    by_status: tuple[Count, ...]
    claimed: int  # cases with a claim time: the population of the claim figures
    median_minutes_to_claim: float | None
    p90_minutes_to_claim: float | None
    with_outcome: int  # cases with an outcome: the population of the resolve and first-contact figures
    median_minutes_to_resolve: float | None
    p90_minutes_to_resolve: float | None
    resolved_at_desk: int
    resolved_at_first_contact_pct: float | None

    def counts(self, dimension: str) -> dict[str, int]:
        """A breakdown as {id: cases}, e.g. counts("outcome")."""
        return {count.id: count.cases for count in getattr(self, f"by_{dimension}")}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO-8601 strings (London), breakdowns as
        lists of {id, name, cases} in the order shown."""
        values: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.astimezone(LONDON).isoformat()
            elif isinstance(value, tuple):
                value = [{"id": c.id, "name": c.name, "cases": c.cases} for c in value]
            values[name] = value
        return values


# --- the figures ---------------------------------------------------------------


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 60.0


def minutes_to_claim(case: Case) -> float | None:
    return _minutes(case.created_at, case.claimed_at)


def minutes_to_resolve(case: Case) -> float | None:
    return _minutes(case.created_at, case.resolved_at)


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest rank: the smallest value at least `pct`% of `values` are at
    or below; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _breakdown(cases: Sequence[Case], key: Callable[[Case], str | None], names: Mapping[str, str],
               fixed: Iterable[str] = (), none_name: str | None = None) -> tuple[Count, ...]:
    """Counts per id. `fixed` ids come first, in their order, even at zero
    (a manager should see "Complaint 0"); other ids follow, most cases first;
    a None key counts under NONE, last."""
    tally: dict[str, int] = {}
    for case in cases:
        value = key(case) or NONE
        tally[value] = tally.get(value, 0) + 1
    fixed = [value for value in fixed if value != NONE]
    rest = sorted((value for value in tally if value not in fixed and value != NONE),
                  key=lambda value: (-tally[value], names.get(value, value)))
    order = [*fixed, *rest, *([NONE] if NONE in tally else [])]
    return tuple(Count(value, none_name if value == NONE and none_name else names.get(value, value),
                       tally.get(value, 0)) for value in order)


def summarise(cases: Sequence[Case], start: datetime, end: datetime,
              catalogue: Catalogue | None = None) -> CaseReport:
    """The report over `cases` (already those created in [start, end))."""
    catalogue = catalogue or default_catalogue()
    service_names = {service.id: service.name for service in catalogue.services.values()}
    # Centre names are written to be spoken mid-sentence ("the Cable Street
    # housing office"); a label starts with a capital.
    centre_names = {centre.id: centre.name[:1].upper() + centre.name[1:] for centre in catalogue.centres.values()}
    claim_times = [m for m in map(minutes_to_claim, cases) if m is not None]
    resolve_times = [m for m in map(minutes_to_resolve, cases) if m is not None]
    with_outcome = [case for case in cases if case.outcome]
    at_desk = sum(1 for case in with_outcome if case.outcome == FIRST_CONTACT_OUTCOME)
    return CaseReport(
        start=start,
        end=end,
        cases=len(cases),
        by_service=_breakdown(cases, lambda c: c.service, service_names, none_name=NO_SERVICE),
        by_authority=_breakdown(cases, lambda c: c.authority, catalogue.authorities, none_name=NO_AUTHORITY),
        by_centre=_breakdown(cases, lambda c: c.centre, centre_names, fixed=catalogue.centres),
        by_reason=_breakdown(cases, lambda c: c.reason, REASON_NAMES, fixed=REASONS),
        by_outcome=_breakdown(cases, lambda c: c.outcome, OUTCOME_NAMES, fixed=OUTCOMES,
                              none_name=OUTCOME_NAMES[NONE]),
        by_status=_breakdown(cases, lambda c: c.status, STATUS_NAMES, fixed=STATUSES),
        claimed=len(claim_times),
        median_minutes_to_claim=median(claim_times),
        p90_minutes_to_claim=percentile(claim_times, 90),
        with_outcome=len(with_outcome),
        median_minutes_to_resolve=median(resolve_times),
        p90_minutes_to_resolve=percentile(resolve_times, 90),
        resolved_at_desk=at_desk,
        resolved_at_first_contact_pct=100.0 * at_desk / len(with_outcome) if with_outcome else None,
    )


def case_report(store: CaseStore, start: datetime, end: datetime,
                catalogue: Catalogue | None = None, centre: str | None = None) -> CaseReport:
    """The figures over cases created in [start, end) (at one centre, when given)."""
    return summarise(store.cases_between(start, end, centre), start, end, catalogue or store.catalogue)


# --- CSV ----------------------------------------------------------------------


def safe_cell(value: object) -> str:
    """The text of a cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def to_csv(cases: Iterable[Case]) -> str:
    """One row per case with CSV_COLUMNS: ids as stored, created_at in London
    time with its offset, minutes to one decimal (blank when not reached).
    Never the transcript, the notes or the caller's number."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for case in cases:
        text = [case.reference, case.created_at.astimezone(LONDON).isoformat(timespec="seconds"), case.channel,
                case.service, case.authority, case.centre, case.reason, case.priority, case.status, case.outcome]
        # Minutes are formatted here, not taken from the store, so they need no
        # guard (and a negative one, from a client's clock, stays a number).
        writer.writerow([*map(safe_cell, text), _number(minutes_to_claim(case)), _number(minutes_to_resolve(case))])
    return out.getvalue()


def period_text(report: CaseReport) -> str:
    """The report's period as a person reads it, in London time."""
    start, end = report.start.astimezone(LONDON), report.end.astimezone(LONDON)
    return f"{start:%d %b %Y %H:%M} to {end:%d %b %Y %H:%M} (London time)"



# --- text ---------------------------------------------------------------------


def _minutes_text(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 120:
        return f"{value:.0f} min ({value / 60:.1f} h)"
    return f"{value:.1f} min"


def _table(title: str, counts: Sequence[Count], total: int, width: int) -> list[str]:
    lines = [f"{title:<{width}}{'cases':>7}{'%':>8}"]
    for count in counts:
        share = f"{100.0 * count.cases / total:.1f}%" if total else ""
        lines.append(f"  {count.name:<{width - 2}}{count.cases:>7}{share:>8}")
    return lines + [""]


def format_text(report: CaseReport) -> str:
    """A plain-text report for a centre manager: the headline figures, then
    each breakdown with counts and shares of the period's cases."""
    lines = [f"Handed-off cases, {period_text(report)}", ""]
    if report.cases == 0:
        lines.append("No cases in this period.")
        return "\n".join(lines) + "\n"
    first = report.resolved_at_first_contact_pct
    lines += [
        f"Cases: {report.cases}",
        (f"Time to claim ({report.claimed} claimed): median {_minutes_text(report.median_minutes_to_claim)}, "
         f"90th percentile {_minutes_text(report.p90_minutes_to_claim)}"),
        (f"Time to resolve ({report.with_outcome} with an outcome): median "
         f"{_minutes_text(report.median_minutes_to_resolve)}, "
         f"90th percentile {_minutes_text(report.p90_minutes_to_resolve)}"),
        "Resolved at first contact: " + ("no case has an outcome yet" if first is None else
                                         f"{first:.1f}% ({report.resolved_at_desk} of {report.with_outcome})"),
        "",
    ]
    tables = (("By service", report.by_service), ("By authority", report.by_authority),
              ("By centre", report.by_centre), ("By reason", report.by_reason),
              ("By outcome", report.by_outcome), ("By status now", report.by_status))
    # One width for every table, so the columns line up down the page.
    width = max(len(count.name) for _, counts in tables for count in counts) + 4
    for title, counts in tables:
        lines += _table(title, counts, report.cases, width)
    return "\n".join(lines).rstrip() + "\n"


# --- command line -------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m handoff report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="from_", metavar="WHEN", help="start date or date-time (default: 7 days ago)")
    p.add_argument("--to", metavar="WHEN", help="end date or date-time; a date includes that day (default: now)")
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write one row per case to this CSV file")
    p.add_argument("--charts", type=Path, metavar="DIR", help="also write the charts as PNG files into DIR")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from council.clock import now
    from council.periods import parse_period
    from handoff.settings import AdminSettings, SettingsError

    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        settings = AdminSettings.from_env()
        start, end = parse_period(args.from_, args.to, now())
    except (SettingsError, ValueError) as exc:
        print(f"cannot report: {exc}", file=sys.stderr)
        return 1
    store = CaseStore(settings.database_url)
    try:
        cases = store.cases_between(start, end)
    finally:
        store.close()
    report = summarise(cases, start, end)
    print(format_text(report), end="")
    written = []
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        # newline="": the csv module writes its own line ends.
        with args.csv.open("w", encoding="utf-8", newline="") as handle:
            handle.write(to_csv(cases))
        written.append(str(args.csv))
    if args.charts:
        from handoff.report_charts import charts  # matplotlib loads only when charts are asked for

        args.charts.mkdir(parents=True, exist_ok=True)
        for name, png in charts(report).items():
            path = args.charts / f"{name}.png"
            path.write_bytes(png)
            written.append(str(path))
    if written:
        print("\nWritten: " + ", ".join(written))
    return 0
