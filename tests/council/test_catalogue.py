"""The catalogue is complete, consistent with the reference ids, and a bad
entry is refused with a message that names the file and the entry."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.validation import consistency_problems
from council import DATA_DIR
from council.catalogue import DRAMA_NUMBER, CatalogueError, load_catalogue
from council.clock import now
from plumbing.paths import ROOT

REFERENCE = ROOT.parent / "shared" / "reference" / "council-services.yml"


@pytest.fixture
def reference() -> dict[str, dict]:
    if not REFERENCE.exists():
        pytest.skip("shared/reference is not beside this checkout")
    return {entry["id"]: entry for entry in yaml.safe_load(REFERENCE.read_text())["services"]}


def test_catalogue_has_exactly_the_reference_services(reference: dict[str, dict]) -> None:
    catalogue = load_catalogue()
    assert sorted(catalogue.services) == sorted(reference)
    for service_id, entry in reference.items():
        assert catalogue.services[service_id].authority == entry["authority"], service_id
        assert catalogue.services[service_id].urgent == bool(entry.get("urgent", False)), service_id


def test_every_service_is_complete_and_uses_drama_numbers() -> None:
    catalogue = load_catalogue()
    for service in catalogue.services.values():
        assert service.say and service.name and service.web.startswith("https://")
        if service.routable:
            assert DRAMA_NUMBER.match(service.phone), service.id
            assert service.centres, f"{service.id} has no face-to-face centre"
            assert service.authority_name in service.say or service.authority == "joint", (
                f"{service.id}: what the bot says should name the council"
            )
    assert DRAMA_NUMBER.match(catalogue.contact_centre.phone)


def test_urgent_services_can_always_be_reached() -> None:
    catalogue = load_catalogue()
    for service in catalogue.services.values():
        if service.urgent:
            assert catalogue.schedules[service.hours].always_open or service.out_of_hours_phone, service.id
    assert catalogue.schedules[catalogue.services["telecare_alarms"].hours].always_open


def test_intents_rules_and_clarifications_agree_with_the_catalogue() -> None:
    assert consistency_problems() == []


def test_bank_holidays_cover_this_year_and_next() -> None:
    holidays = load_catalogue().bank_holidays
    this_year = now().year
    for year in (this_year, this_year + 1):
        assert sum(1 for day in holidays if day.year == year) >= 8, f"bank holidays for {year} are missing"
    assert holidays[date(2026, 12, 28)].startswith("Boxing Day")


def _broken_copy(tmp_path: Path, filename: str, mutate) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    path = target / filename
    raw = yaml.safe_load(path.read_text())
    mutate(raw)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return target


@pytest.mark.parametrize(
    ("filename", "mutate", "message"),
    [
        ("services.yml", lambda raw: raw["services"][0].update(authority="parish"), "service council_tax: authority"),
        ("services.yml", lambda raw: raw["services"][3].pop("phone"), "service bins_recycling: missing phone"),
        ("services.yml", lambda raw: raw["services"][1].update(phone="01524 582000"), "business_rates: phone"),
        ("services.yml", lambda raw: raw["services"][2].update(hours="never"), "service benefits: hours 'never'"),
        ("services.yml", lambda raw: raw["services"][4].update(centres=["the moon"]), "street_cleaning: centre"),
        ("services.yml", lambda raw: raw["services"].append(dict(raw["services"][0])), "council_tax appears twice"),
        ("services.yml", lambda raw: raw["services"][18].pop("out_of_hours_phone"), "childrens_social_care: an urgent"),
        ("hours.yml", lambda raw: raw["schedules"]["contact_centre"]["weekly"].update(mon=["18:00", "08:00"]),
         "schedule 'contact_centre': mon closes before it opens"),
        ("hours.yml", lambda raw: raw["schedules"]["town_hall"]["weekly"].update(funday=["09:00", "10:00"]),
         "schedule 'town_hall': 'funday'"),
        ("bank_holidays.yml", lambda raw: raw["england_and_wales"].append({"date": date(2026, 11, 21)}),
         "2026-11-21 falls at a weekend"),
        ("centres.yml", lambda raw: raw["centres"][0].pop("address"), "centre 'lancaster_town_hall': needs 'address'"),
    ],
)
def test_a_bad_entry_is_refused_by_name(tmp_path: Path, filename: str, mutate, message: str) -> None:
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(_broken_copy(tmp_path, filename, mutate))
    assert message in str(refused.value)
    assert str(refused.value).startswith(filename)


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    (target / "services.yml").write_text("services: [unclosed\n")
    with pytest.raises(CatalogueError, match="services.yml: not valid YAML"):
        load_catalogue(target)
