"""The reports pages: figures, CSV and charts over a period, for the staff
member's own centre (managers: every centre)."""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import urlencode

from aiohttp import web

from council import clock
from handoff.staff.common import (
    REPORT_DAYS,
    STAFF_KEY,
    Handler,
    audit_access,
    case_store,
    catalogue_of,
    centre_name,
    duration,
    error_page,
    in_thread,
    login_required,
    render,
    report_centre,
)
from handoff.store import CaseStore

# A report covers at most a year (longer ones are for the council's own
# analysts, from the database), and no date before the service existed.
MAX_REPORT_DAYS = 366
EARLIEST_DAY = date(2000, 1, 1)


def _period(request: web.Request) -> tuple[date, date]:
    """The report's first and last day (both included); ValueError names a bad one."""
    today = clock.now().date()
    raw_from, raw_to = request.query.get("from", "").strip(), request.query.get("to", "").strip()
    try:
        last = date.fromisoformat(raw_to) if raw_to else today
    except ValueError:
        raise ValueError(f"“to” must be a date like {today.isoformat()}") from None
    try:
        first = date.fromisoformat(raw_from) if raw_from else None
    except ValueError:
        raise ValueError(f"“from” must be a date like {today.isoformat()}") from None
    # Bounds before any arithmetic: a day at the calendar's edge ("to" of
    # 0001-01-01 less 30 days) cannot be computed with.
    latest = today + timedelta(days=MAX_REPORT_DAYS)
    if not EARLIEST_DAY <= last <= latest or (first is not None and not EARLIEST_DAY <= first <= latest):
        raise ValueError(f"the dates must be between {EARLIEST_DAY.isoformat()} and a year from today")
    if first is None:
        first = max(last - timedelta(days=REPORT_DAYS - 1), EARLIEST_DAY)
    if first > last:
        raise ValueError("“from” must not be after “to”")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise ValueError(f"a report covers at most {MAX_REPORT_DAYS} days")
    return first, last


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Midnight London time at the start of `first` up to (not including) midnight after `last`."""
    return (datetime.combine(first, time(0), tzinfo=clock.LONDON),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=clock.LONDON))


def _report_query(first: date, last: date, centre: str | None) -> str:
    return urlencode({"from": first.isoformat(), "to": last.isoformat(), **({"centre": centre} if centre else {})})


def _build_report(store: CaseStore, start: datetime, end: datetime, centre: str | None) -> Any:
    from handoff import reports  # matplotlib and friends load only when a report is asked for

    return reports.case_report(store, start, end, centre=centre)


def _report_chart(store: CaseStore, start: datetime, end: datetime, centre: str | None, name: str) -> bytes:
    from handoff import report_charts, reports  # the charts use no pyplot state: threads may draw at once

    return report_charts.chart(reports.case_report(store, start, end, centre=centre), name)


def _csv(store: CaseStore, start: datetime, end: datetime, centre: str | None) -> str:
    from handoff import reports

    return reports.to_csv(store.cases_between(start, end, centre))


REPORT_FIGURES = (
    ("cases", "Cases handed off", ""),
    ("claimed", "Cases claimed", ""),
    ("median_minutes_to_claim", "Median time to claim", "minutes"),
    ("p90_minutes_to_claim", "90th percentile time to claim", "minutes"),
    ("with_outcome", "Cases with an outcome", ""),
    ("median_minutes_to_resolve", "Median time to resolve", "minutes"),
    ("p90_minutes_to_resolve", "90th percentile time to resolve", "minutes"),
    ("resolved_at_desk", "Resolved at the desk", ""),
    ("resolved_at_first_contact_pct", "Resolved at first contact", "percent"),
)
REPORT_TABLES = (("by_service", "Service"), ("by_authority", "Council"), ("by_centre", "Centre"),
                 ("by_reason", "Reason"), ("by_outcome", "Outcome"), ("by_status", "Status"))


def _figure(value: Any, unit: str) -> str:
    if value is None:
        return "none yet"
    if unit == "minutes":
        return duration(float(value))
    if unit == "percent":
        return f"{float(value):.0f}%"
    return str(value)


def _figures(data: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str, list[dict]]]]:
    """The report's dict as (name, figure) lines and (key, heading, rows) tables."""
    singles = [(title, _figure(data.get(key), unit)) for key, title, unit in REPORT_FIGURES if key in data]
    tables = [(key, heading, list(data.get(key) or ())) for key, heading in REPORT_TABLES if key in data]
    return singles, tables


def _centre(request: web.Request) -> str | None:
    """The centre the report covers (report_centre); ValueError for an unknown one."""
    asked = request.query.get("centre", "").strip() or None
    if asked is not None and asked not in catalogue_of(request).centres:
        raise ValueError("“centre” is not one of the centres")
    return report_centre(request[STAFF_KEY], asked)


def _for_period(handler: Callable[[web.Request, date, date, str | None], Awaitable[web.StreamResponse]]
                ) -> Handler:
    """Report handlers get the period of the query (its first and last day)
    and the centre it covers (None: every centre, for a manager), or the
    visitor a 400 page naming what is wrong with them."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            first, last = _period(request)
            centre = _centre(request)
        except ValueError as bad:
            return error_page(request, 400, "Report period not understood", str(bad))
        return await handler(request, first, last, centre)

    return wrapped


def _chart_names() -> tuple[str, ...]:
    from handoff import reports

    return tuple(reports.CHARTS)


@login_required
@_for_period
async def report_page(request: web.Request, first: date, last: date, centre: str | None) -> web.StreamResponse:
    report = await in_thread(_build_report, case_store(request), *_bounds(first, last), centre)
    singles, tables = _figures(report.as_dict())
    query = _report_query(first, last, centre)
    centres = catalogue_of(request).centres
    return render(request, "reports.html", {
        "first": first.isoformat(), "last": last.isoformat(), "singles": singles, "tables": tables,
        "chosen": centre or "", "where": centre_name(request, centre) if centre else "every centre",
        "centres": [(key, value.name) for key, value in centres.items()],
        "query": query, "charts": [(name, name.removeprefix("by_").replace("_", " ")) for name in _chart_names()],
    })


@login_required
@_for_period
async def report_csv(request: web.Request, first: date, last: date, centre: str | None) -> web.StreamResponse:
    text = await in_thread(_csv, case_store(request), *_bounds(first, last), centre)
    await audit_access(request, "export", None, {"from": first.isoformat(), "to": last.isoformat(),
                                                 "centre": centre or "all", "rows": text.count("\r\n") - 1})
    return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="handoff-cases-{first.isoformat()}-to-{last.isoformat()}.csv"'})


@login_required
@_for_period
async def report_chart(request: web.Request, first: date, last: date, centre: str | None) -> web.StreamResponse:
    name = request.match_info["chart"]
    if name not in _chart_names():  # each <img> asks for one chart: draw only that one
        return error_page(request, 404, "No such chart", "There is no chart by that name.")
    png = await in_thread(_report_chart, case_store(request), *_bounds(first, last), centre, name)
    return web.Response(body=png, content_type="image/png")
