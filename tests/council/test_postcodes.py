"""Postcodes typed or spoken, and who serves them."""

from __future__ import annotations

import pytest

from council.postcodes import load_postcodes, normalise

BOOK = load_postcodes()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LA1 1PJ", "LA1 1PJ"),
        ("la11pj", "LA1 1PJ"),
        ("l a one one p j", "LA1 1PJ"),
        ("LA4", "LA4"),
        ("pr1 2ab", "PR1 2AB"),
        ("hello", None),
        ("", None),
        ("12345678", None),
    ],
)
def test_normalise(text: str, expected: str | None) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("postcode", "status", "district", "county"),
    [
        ("LA1 1PJ", "in_district", None, None),
        ("LA4", "in_district", None, None),
        ("LA6 2AB", "shared", "Westmorland and Furness Council", "Westmorland and Furness Council"),
        ("LA9 4AB", "neighbour", "Westmorland and Furness Council", "Westmorland and Furness Council"),
        ("PR1 2AB", "neighbour", "Preston City Council", "Lancashire County Council"),
        ("FY1 1AB", "neighbour", "Blackpool Council", "Blackpool Council"),
        ("SW1A 1AA", "unknown", None, None),
    ],
)
def test_lookup(postcode: str, status: str, district: str | None, county: str | None) -> None:
    area = BOOK.lookup(postcode)
    assert (area.status, area.district_council, area.county_council) == (status, district, county)
