"""The one clock every component reads, so tests and demos can fix the time.

`now()` is the current time in Europe/London, or FAKE_NOW when that setting
holds an ISO-8601 date-time (a time without an offset is London time).
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class ClockError(ValueError):
    """FAKE_NOW is set but is not an ISO-8601 date-time."""


def parse(text: str) -> datetime:
    """An ISO-8601 date-time in London time ("Z" and offsets understood; none
    means London). Raises ValueError naming the text."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 date-time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LONDON)
    return moment.astimezone(LONDON)


def now() -> datetime:
    fake = os.environ.get("FAKE_NOW", "").strip()
    if not fake:
        return datetime.now(LONDON)
    try:
        return parse(fake)
    except ValueError:
        raise ClockError(f"FAKE_NOW={fake!r} is not an ISO-8601 date-time") from None
