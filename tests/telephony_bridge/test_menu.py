"""The keypad menu: the real tree loads and reaches only catalogue services,
keys lead where the recorded prompts say, and bad data is refused by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from council.catalogue import CatalogueError, load_catalogue
from telephony_bridge.menu import Choice, default_menu, load_menu
from tests.datafiles import Change, copy_data, corrupt

CATALOGUE = load_catalogue()
MENU = load_menu(catalogue=CATALOGUE)


# --- the real data -------------------------------------------------------------


def test_every_service_in_the_menu_is_a_council_service() -> None:
    for service_id in MENU.services():
        assert CATALOGUE.service(service_id).routable, service_id


def test_the_menu_reaches_the_services_it_offers() -> None:
    assert MENU.services() == {
        "council_tax",
        "business_rates",
        "benefits",
        "bins_recycling",
        "street_cleaning",
        "waste_recycling_centres",
        "council_housing",
        "housing_options",
        "roads_highways",
        "street_lighting",
        "on_street_parking",
        "bus_travel",
        "blue_badge",
        "adult_social_care",
        "childrens_social_care",
        "telecare_alarms",
        "car_parks",
        "rights_of_way",
        "planning_building",
        "licensing",
        "environmental_health",
        "trading_standards",
        "schools_education",
        "libraries",
        "parks_leisure",
        "registrars",
        "elections",
    }


def test_default_menu_is_loaded_once() -> None:
    assert default_menu() is default_menu()
    assert default_menu().prompt("") == MENU.prompt("")


# --- keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "digits", "expected"),
    [
        ("", "1", Choice("menu", "1", label="council tax and benefits", keys="1")),
        ("1", "1", Choice("service", "1", "council_tax", "council tax", keys="1")),
        ("", "11", Choice("service", "1", "council_tax", "council tax", keys="11")),
        ("", "13", Choice("service", "1", "benefits", "housing benefit and council tax support", keys="13")),
        ("", "43", Choice("service", "4", "on_street_parking", "parking", keys="43")),
        ("4", "5", Choice("service", "4", "blue_badge", "blue badges", keys="5")),
        ("", "53", Choice("service", "5", "telecare_alarms", "telecare and community alarms", keys="53")),
        ("", "0", Choice("person", "", label="speak to someone", keys="0")),
        ("", "111", Choice("service", "1", "council_tax", "council tax", keys="11")),  # stops at the first leaf
        ("", "*", Choice("repeat", "", keys="*")),
        ("3", "*", Choice("repeat", "3", keys="*")),
        ("3", "#", Choice("main", "", keys="#")),
        ("", "#", Choice("main", "", keys="#")),
        ("3", "#2", Choice("menu", "2", label="bins and streets", keys="#2")),
        ("2", "*2", Choice("service", "2", "street_cleaning", "street cleaning and fly-tipping", keys="*2")),
        ("", "9", Choice("invalid", "")),
        ("", "6", Choice("menu", "6", label="planning, licensing, food safety and noise", keys="6")),
        ("3", "3", Choice("invalid", "3")),
        ("3", "0", Choice("person", "3", label="speak to someone", keys="0")),  # 0 is a person in every menu
        ("", "19", Choice("invalid", "1")),  # the first key counted; the second is no option there
        ("", "", Choice("invalid", "")),
        ("", "a", Choice("invalid", "")),
        ("99", "2", Choice("menu", "2", label="bins and streets", keys="2")),  # an unknown path is the main menu
    ],
)
def test_choose(path: str, digits: str, expected: Choice) -> None:
    assert MENU.choose(path, digits) == expected


def test_main_menu_prompt() -> None:
    assert MENU.prompt("") == (
        "For council tax and benefits, press 1. For bins and streets, press 2. "
        "For housing, press 3. For roads and transport, press 4. For social care, press 5. "
        "For planning, licensing, food safety and noise, press 6. For schools, libraries, parks and leisure, "
        "press 7. For registering a birth, death or marriage, and elections, press 8. "
        "To speak to someone, press 0. To hear these options again, press star."
    )


def test_submenu_prompt_offers_the_way_back() -> None:
    assert MENU.prompt("3") == (
        "For council housing and repairs, press 1. For homelessness and housing advice, press 2. "
        "To speak to someone, press 0. "
        "To hear these options again, press star. To go back to the main menu, press hash."
    )


def test_unknown_path_prompts_the_main_menu() -> None:
    assert MENU.prompt("9") == MENU.prompt("")


def test_every_prompt_names_every_key_that_works() -> None:
    for path in ("", "1", "2", "3", "4", "5", "6", "7", "8"):
        prompt = MENU.prompt(path)
        for option in MENU.options(path):
            assert f"press {option.digit}." in prompt
            kind = MENU.choose(path, option.digit).kind
            assert kind in ("menu", "service", "person")


# --- bad data --------------------------------------------------------------------

@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


def option(raw: dict[str, Any], *digits: int) -> dict[str, Any]:
    """The option reached by `digits` from the main menu."""
    options = raw["options"]
    found: dict[str, Any] = {}
    for digit in digits:
        found = next(item for item in options if item["digit"] == digit)
        options = found.get("menu", [])
    return found


def nest_too_deep(raw: dict[str, Any]) -> None:
    parking = option(raw, 4, 3)
    del parking["service"]
    parking["menu"] = [{"digit": 1, "label": "permits", "menu": [{"digit": 1, "label": "x", "service": "council_tax"}]}]


@pytest.mark.parametrize(
    ("change", "entry", "problem"),
    [
        (lambda raw: option(raw, 4, 3).update(service="parking"), "option 4 > 3 (parking)", "service 'parking'"),
        (lambda raw: option(raw, 1, 2).update(digit=1), "option 1 > 1 (business rates)", "used twice"),
        (lambda raw: option(raw, 2).update(digit=10), "option 10 (bins and streets)", "0-9"),
        (lambda raw: option(raw, 2).update(digit="*"), "option * (bins and streets)", "0-9"),
        (lambda raw: option(raw, 3, 1).pop("service"), "option 3 > 1 (council housing", "exactly one"),
        (lambda raw: option(raw, 0).update(service="council_tax"), "option 0 (speak to someone)", "exactly one"),
        (lambda raw: option(raw, 5).update(menu=[]), "option 5 (social care)", "non-empty"),
        (lambda raw: option(raw, 0).update(person=False), "option 0 (speak to someone)", "kept for a person"),
        (lambda raw: option(raw, 3).update(person="yes", menu=None) or option(raw, 3).pop("menu"), "option 3 (housing)",
         "person must be true"),
        (lambda raw: option(raw, 2, 1).update(digit=0), "option 2 > 0 (bins and recycling)", "kept for a person"),
        (lambda raw: option(raw, 3).pop("label"), "option 3", "label"),
        (lambda raw: option(raw, 5, 1).update(colour="red"), "option 5 > 1 (adult social care)", "unknown field"),
        (nest_too_deep, "option 4 > 3 > 1 (permits)", "deeper than 3"),
    ],
)
def test_bad_data_is_refused_naming_file_and_entry(data_copy: Path, change: Change, entry: str, problem: str) -> None:
    corrupt(data_copy, "ivr_menu.yml", change)
    with pytest.raises(CatalogueError) as error:
        load_menu(data_copy)
    message = str(error.value)
    assert message.startswith("ivr_menu.yml: ")
    assert entry in message and problem in message, message


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda raw: raw.update(options=[]), "main menu: a menu needs a non-empty list"),
        (lambda raw: raw["keys"].update(main_menu="*"), "keys"),
        (lambda raw: raw.pop("keys"), "keys"),
    ],
)
def test_bad_top_level_is_refused(data_copy: Path, change: Change, problem: str) -> None:
    corrupt(data_copy, "ivr_menu.yml", change)
    with pytest.raises(CatalogueError, match=f"ivr_menu.yml: {problem}"):
        load_menu(data_copy)


def test_a_three_level_menu_is_allowed(data_copy: Path) -> None:
    def three_levels(raw: dict[str, Any]) -> None:
        parking = option(raw, 4, 3)
        del parking["service"]
        parking["menu"] = [{"digit": 1, "label": "parking permits", "service": "on_street_parking"}]

    corrupt(data_copy, "ivr_menu.yml", three_levels)
    menu = load_menu(data_copy)
    assert menu.choose("", "431") == Choice("service", "43", "on_street_parking", "parking permits", keys="431")


def test_the_real_data_copied_loads(data_copy: Path) -> None:
    corrupt(data_copy, "ivr_menu.yml", lambda raw: None)
    assert load_menu(data_copy).prompt("") == MENU.prompt("")
