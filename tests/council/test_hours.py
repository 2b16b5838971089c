"""Opening hours in Europe/London, bank holidays from data, FAKE_NOW."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from council import hours
from council.catalogue import load_catalogue
from council.clock import LONDON, ClockError, now

CATALOGUE = load_catalogue()
CONTACT = CATALOGUE.schedules["contact_centre"]
HOLIDAYS = CATALOGUE.bank_holidays


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-11-10T08:00", True),  # opens at 8
        ("2026-11-10T07:59", False),
        ("2026-11-10T17:59", True),
        ("2026-11-10T18:00", False),  # closed at 6
        ("2026-11-14T10:00", False),  # Saturday
        ("2026-12-25T10:00", False),  # Christmas Day, a Friday
        ("2026-12-28T10:00", False),  # Boxing Day substitute, a Monday
        ("2026-12-29T10:00", True),
        ("2026-07-01T08:30", True),  # British Summer Time
    ],
)
def test_contact_centre_open(moment: str, expected: bool) -> None:
    assert hours.is_open(CONTACT, HOLIDAYS, at(moment)) is expected


def test_utc_moment_is_read_in_london_time() -> None:
    # 07:30 UTC in July is 08:30 BST: open.
    summer = datetime.fromisoformat("2026-07-01T07:30:00+00:00")
    assert hours.is_open(CONTACT, HOLIDAYS, summer)


def test_next_opening_skips_weekend_and_bank_holidays() -> None:
    christmas_eve_evening = at("2026-12-24T19:00")
    opening = hours.next_opening(CONTACT, HOLIDAYS, christmas_eve_evening)
    assert opening == at("2026-12-29T08:00")
    assert hours.say_when(opening, christmas_eve_evening) == "at 8am on Tuesday"
    friday_night = at("2026-11-13T20:00")
    assert hours.say_when(hours.next_opening(CONTACT, HOLIDAYS, friday_night), friday_night) == "at 8am on Monday"
    early = at("2026-11-10T06:00")
    assert hours.say_when(hours.next_opening(CONTACT, HOLIDAYS, early), early) == "at 8am today"


def test_always_open_never_closes() -> None:
    always = CATALOGUE.schedules["always"]
    assert hours.is_open(always, HOLIDAYS, at("2026-12-25T03:00"))
    assert hours.next_opening(always, HOLIDAYS, at("2026-12-25T03:00")) is None
    assert hours.describe(always) == "24 hours a day, every day of the year"


def test_describe_groups_days_like_a_person_would() -> None:
    assert hours.describe(CONTACT) == "Monday to Friday, 8am to 6pm, closed on bank holidays"
    assert hours.describe(CATALOGUE.schedules["town_hall"]) == (
        "Monday to Thursday, 9am to 5pm; Friday, 9am to 4:30pm, closed on bank holidays"
    )
    assert hours.say_time(time(12, 0)) == "midday"


def test_fake_now_replaces_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NOW", "2026-12-25T03:00:00")
    assert now() == at("2026-12-25T03:00")
    monkeypatch.setenv("FAKE_NOW", "2026-07-01T12:00:00Z")
    assert now().hour == 13  # BST
    monkeypatch.setenv("FAKE_NOW", "next tuesday")
    with pytest.raises(ClockError, match="FAKE_NOW"):
        now()
