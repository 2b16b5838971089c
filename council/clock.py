"""The one clock every component reads, so tests and demos can fix the time.

`now()` is the current time in Europe/London, or FAKE_NOW when that setting
holds an ISO-8601 date-time (a time without an offset is London time).
FAKE_NOW is a developer's setting: in production it is ignored, so a stray
value cannot stop sessions and lock-outs from ever expiring.
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# The production switch, read by the same rule as plumbing.settings'
# is_production (the domain imports nothing of ours; a test holds the two
# together): only unset, empty or "development" is a developer's machine.
_SWITCH = "COUNCIL_ENV"
_DEVELOPMENT = "development"


def _is_production() -> bool:
    return os.environ.get(_SWITCH, "").strip().lower() not in ("", _DEVELOPMENT)


class ClockError(ValueError):
    """FAKE_NOW is set but is not an ISO-8601 date-time."""


def parse(text: str) -> datetime:
    """An ISO-8601 date-time in London time ("Z" and offsets understood; none
    means London). Raises ValueError naming the text."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=LONDON)
        return moment.astimezone(LONDON)
    except (ValueError, OverflowError):
        # OverflowError: a moment at the very edge of the calendar
        # ("0001-01-01T00:00:00+14:00") that has no London time.
        raise ValueError(f"{text[:40]!r} is not an ISO-8601 date-time") from None


def now() -> datetime:
    fake = os.environ.get("FAKE_NOW", "").strip()
    if not fake or _is_production():
        return datetime.now(LONDON)
    try:
        return parse(fake)
    except ValueError:
        raise ClockError(f"FAKE_NOW={fake!r} is not an ISO-8601 date-time") from None
