"""A reporting period from what a person typed: "2026-11-01", a date-time
with or without an offset, or nothing (the last seven days). The call log's
report and the staff reports page read periods alike."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from council import clock
from council.clock import LONDON

DEFAULT_DAYS = 7


def _parse_moment(text: str, is_end: bool) -> datetime:
    """A date or date-time; London time unless an offset is given. A date
    as the end of a period means the end of that day."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        midnight = datetime.combine(day + timedelta(days=1) if is_end else day, time(), tzinfo=LONDON)
        return midnight
    try:
        return clock.parse(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 date or date-time") from None


def parse_period(from_: str | None, to: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The report's [start, end): the last 7 days up to `now` by default."""
    now = now.replace(tzinfo=LONDON) if now.tzinfo is None else now.astimezone(LONDON)
    end = _parse_moment(to, is_end=True) if to else now
    start = _parse_moment(from_, is_end=False) if from_ else end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ValueError(f"the period is empty: {start.isoformat()} is not before {end.isoformat()}")
    return start, end
