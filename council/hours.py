"""Opening hours: is a schedule open at a moment, when does it next open, and
how a call handler would say so ("Monday to Friday, 8am to 6pm")."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Mapping

from council.catalogue import Schedule
from council.clock import LONDON

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _closed_all_day(schedule: Schedule, holidays: Mapping[date, str], day: date) -> bool:
    return schedule.closed_on_bank_holidays and day in holidays


def is_open(schedule: Schedule, holidays: Mapping[date, str], moment: datetime) -> bool:
    """True when `schedule` is open at `moment` (any time zone)."""
    if schedule.always_open:
        return True
    local = moment.astimezone(LONDON)
    if _closed_all_day(schedule, holidays, local.date()):
        return False
    span = schedule.weekly.get(local.weekday())
    return span is not None and span[0] <= local.time() < span[1]


def next_opening(schedule: Schedule, holidays: Mapping[date, str], moment: datetime) -> datetime | None:
    """The next time the schedule opens after `moment` (London time); None if
    it never closes or never opens within a fortnight."""
    if schedule.always_open:
        return None
    local = moment.astimezone(LONDON)
    for offset in range(15):
        day = local.date() + timedelta(days=offset)
        span = schedule.weekly.get(day.weekday())
        if span is None or _closed_all_day(schedule, holidays, day):
            continue
        opening = datetime.combine(day, span[0], tzinfo=LONDON)
        if opening > local:
            return opening
    return None


def closing_time(schedule: Schedule, holidays: Mapping[date, str], moment: datetime) -> datetime | None:
    """When an open schedule closes today; None if it is closed or 24x7."""
    if not is_open(schedule, holidays, moment) or schedule.always_open:
        return None
    local = moment.astimezone(LONDON)
    return datetime.combine(local.date(), schedule.weekly[local.weekday()][1], tzinfo=LONDON)


def say_time(moment: time) -> str:
    """8am, 4:30pm, midday."""
    if moment == time(12, 0):
        return "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def _day_range(first: int, last: int) -> str:
    if first == last:
        return DAY_NAMES[first]
    if last == first + 1:
        return f"{DAY_NAMES[first]} and {DAY_NAMES[last]}"
    return f"{DAY_NAMES[first]} to {DAY_NAMES[last]}"


def describe(schedule: Schedule) -> str:
    """'Monday to Thursday, 9am to 5pm; Friday, 9am to 4:30pm, closed on bank holidays'."""
    if schedule.always_open:
        return "24 hours a day, every day of the year"
    groups: list[tuple[int, int, tuple[time, time]]] = []
    for day in sorted(schedule.weekly):
        span = schedule.weekly[day]
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == span:
            groups[-1] = (groups[-1][0], day, span)
        else:
            groups.append((day, day, span))
    parts = [f"{_day_range(a, b)}, {say_time(s[0])} to {say_time(s[1])}" for a, b, s in groups]
    text = "; ".join(parts)
    if schedule.closed_on_bank_holidays:
        text += ", closed on bank holidays"
    return text


def say_when(opening: datetime, moment: datetime) -> str:
    """How to say a coming opening time relative to now: 'at 8am',
    'at 8am tomorrow', 'at 8am on Monday', 'at 8am on Tuesday 29 December'."""
    local_now, local_open = moment.astimezone(LONDON), opening.astimezone(LONDON)
    days = (local_open.date() - local_now.date()).days
    clock = say_time(local_open.time())
    if days == 0:
        return f"at {clock} today"
    if days == 1:
        return f"at {clock} tomorrow"
    if days < 7:
        return f"at {clock} on {DAY_NAMES[local_open.weekday()]}"
    return f"at {clock} on {DAY_NAMES[local_open.weekday()]} {local_open.day} {local_open:%B}"
