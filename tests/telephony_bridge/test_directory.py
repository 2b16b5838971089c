"""The speech-dial directory: the real data loads and agrees with the
catalogue, callers' ways of naming a line (mis-heard, misspelt, wrapped in
politeness) reach it, enquiries do not, and bad data is refused by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from council.catalogue import DRAMA_NUMBER, CatalogueError, load_catalogue
from telephony_bridge.dial_requests import dial_request
from telephony_bridge.directory import CONFIRM, CONNECT, Directory
from telephony_bridge.directory_file import default_directory, load_directory
from telephony_bridge.sounds import phonetic_key
from tests.datafiles import Change, copy_data, corrupt

CATALOGUE = load_catalogue()
DIRECTORY = load_directory(catalogue=CATALOGUE)


# --- the real data -------------------------------------------------------------


def test_every_entry_is_complete_and_uses_drama_numbers() -> None:
    for entry in DIRECTORY.entries:
        assert entry.kind in ("department", "person"), entry.id
        assert entry.name and DRAMA_NUMBER.match(entry.phone), entry.id
        assert entry.hours in CATALOGUE.schedules, entry.id
        if entry.service is not None:
            assert CATALOGUE.service(entry.service).routable, entry.id


def test_every_council_service_can_be_asked_for_by_name() -> None:
    named = {entry.service for entry in DIRECTORY.entries if entry.kind == "department"}
    assert set(CATALOGUE.routable_ids) <= named


def test_a_department_takes_phone_hours_and_out_of_hours_line_from_its_service() -> None:
    planning = DIRECTORY.get("planning")
    assert (planning.phone, planning.hours) == (CATALOGUE.service("planning_building").phone, "contact_centre")
    housing = DIRECTORY.get("council_housing")
    assert housing.out_of_hours_phone == CATALOGUE.service("council_housing").out_of_hours_phone
    assert housing.out_of_hours_phone is not None
    assert DIRECTORY.get("licensing").out_of_hours_phone is None


def test_the_contact_centre_has_its_own_number_and_no_service() -> None:
    centre = DIRECTORY.get("contact_centre")
    assert centre.service is None
    assert centre.phone == CATALOGUE.contact_centre.phone == "01632 960000"
    assert centre.hours == "contact_centre"


def test_people_have_their_own_lines_and_their_departments_hours_and_service() -> None:
    people = [entry for entry in DIRECTORY.entries if entry.kind == "person"]
    assert len(people) >= 8
    service_lines = {s.phone for s in CATALOGUE.services.values()} | {
        s.out_of_hours_phone for s in CATALOGUE.services.values()
    }
    for person in people:
        assert re.fullmatch(r"01632 9607\d\d", person.phone), person.id
        assert person.phone not in service_lines, person.id
    emma = DIRECTORY.get("emma_clarke")
    assert emma.name == "Emma Clarke in Housing Options"
    options = DIRECTORY.get("housing_options")
    assert (emma.hours, emma.service, emma.out_of_hours_phone) == (
        options.hours,
        options.service,
        options.out_of_hours_phone,
    )
    assert len({person.phone for person in people}) == len(people)


def test_get_an_unknown_id_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        DIRECTORY.get("nobody")


def test_speech_hints_hold_names_and_aliases_fit_for_twilio() -> None:
    hints = DIRECTORY.speech_hints()
    for expected in ("Planning", "building control", "switchboard", "Sarah Jones", "Jones in Licensing"):
        assert expected in hints
    assert len(hints) == len(set(hints)) <= 500
    assert all("," not in hint and 0 < len(hint) <= 100 for hint in hints)


def test_default_directory_is_loaded_once() -> None:
    assert default_directory() is default_directory()
    assert default_directory().get("planning") == DIRECTORY.get("planning")


def test_every_name_and_alias_reaches_its_own_entry() -> None:
    for entry in DIRECTORY.entries:
        for said in (entry.name, *entry.aliases):
            found = DIRECTORY.match(said)
            assert found is not None and found.entry.id == entry.id and found.score >= CONNECT, said


# --- sounds --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("council", "counsel"),
        ("licensing", "licencing"),
        ("sarah", "sara"),
        ("planning", "planing"),
        ("tellycare", "telecare"),
        ("tax", "tacks"),
        ("mohammed", "muhammad"),
        ("phone", "fone"),
    ],
)
def test_words_that_sound_alike_share_a_key(one: str, other: str) -> None:
    assert phonetic_key(one) == phonetic_key(other)


@pytest.mark.parametrize(("one", "other"), [("planning", "parking"), ("council", "county"), ("jones", "james")])
def test_words_that_sound_different_do_not(one: str, other: str) -> None:
    assert phonetic_key(one) != phonetic_key(other)


# --- matching ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "entry_id"),
    [
        ("planning", "planning"),
        ("planing", "planning"),
        ("licencing", "licensing"),
        ("licensing", "licensing"),
        ("counsel tax", "council_tax"),
        ("council tax", "council_tax"),
        ("council tacks", "council_tax"),
        ("Sarah Jones", "sarah_jones"),
        ("sara jones in licencing", "sarah_jones"),
        ("bins", "bins_recycling"),
        ("the switchboard", "contact_centre"),
        ("customer services", "contact_centre"),
        ("environmental elf", "environmental_health"),
        ("electoral services", "elections"),
        ("register office", "registrars"),
        ("registry office", "registrars"),
        ("blue badges", "blue_badge"),
        ("telly care", "telecare"),
        ("libary", "libraries"),
        ("housing repairs", "council_housing"),
        ("cable street", "council_housing"),
        ("building control", "planning"),
        ("the planning department please", "planning"),
        ("put me through to planning", "planning"),
        ("emma clark", "emma_clarke"),
        ("siobhan o neill", "siobhan_oneill"),
        ("shivon o'neil", "siobhan_oneill"),
        ("patel in planning", "mohammed_patel"),
    ],
)
def test_connects_straight_away(said: str, entry_id: str) -> None:
    found = DIRECTORY.match(said)
    assert found is not None, said
    assert (found.entry.id, found.score >= CONNECT) == (entry_id, True), found


@pytest.mark.parametrize(
    ("said", "entry_id"),
    [
        ("plan", "planning"),  # a fragment of one name
        ("jones", "sarah_jones"),  # a surname with no department; there is one Jones
        ("clarke", "emma_clarke"),
        ("williams", "gareth_williams"),
        ("repairs", "council_housing"),
    ],
)
def test_plausible_but_unsure_asks_first(said: str, entry_id: str) -> None:
    found = DIRECTORY.match(said)
    assert found is not None, said
    assert found.entry.id == entry_id
    assert CONFIRM <= found.score < CONNECT, found.score


def test_a_person_named_with_their_department_beats_the_department() -> None:
    found = DIRECTORY.match("Sarah Jones in licensing please")
    assert found is not None and found.entry.id == "sarah_jones" and found.score >= CONNECT
    department = DIRECTORY.match("licensing please")
    assert department is not None and department.entry.id == "licensing"


def test_words_that_fit_two_lines_equally_never_dial() -> None:
    found = DIRECTORY.match("social care")
    assert found is None or found.score < CONNECT


@pytest.mark.parametrize(
    "said",
    [
        "my bin wasn't collected on tuesday and the street is a mess",
        "what time do you open",
        "hello",
        "",
        "   ",
        "yes",
        "thank you",
        "can I speak to someone",
        "I want to complain about my neighbour's noise",
        "street",  # in four names, decides none of them
    ],
)
def test_what_is_not_a_name_matches_nothing(said: str) -> None:
    assert DIRECTORY.match(said) is None


def test_extra_words_lower_the_score() -> None:
    alone = DIRECTORY.match("council tax")
    longer = DIRECTORY.match("i want to pay my council tax")
    assert alone is not None and longer is not None
    assert longer.score < alone.score
    assert longer.score < CONNECT


def test_a_directory_of_other_entries_matches_by_the_same_rules() -> None:
    # Built from entries, not from the file: matching depends on nothing else.
    only = Directory([DIRECTORY.get("planning"), DIRECTORY.get("licensing")])
    found = only.match("licencing")
    assert found is not None and found.entry.id == "licensing"
    assert only.match("council tax") is None


# --- "put me through to ..." -----------------------------------------------------


@pytest.mark.parametrize(
    ("said", "target"),
    [
        ("put me through to planning", "planning"),
        ("Can you put me through to the planning department please?", "planning"),
        ("connect me to licensing", "licensing"),
        ("transfer me to council tax", "council tax"),
        ("can I speak to Sarah Jones", "sarah jones"),
        ("I'd like to speak to someone in planning", "planning"),
        ("I need to speak with the elections team", "elections"),
        ("Sarah Jones in licensing please", "sarah jones in licensing"),
        ("planning please", "planning"),
        ("could I have business rates please", "business rates"),
        ("what's the extension for building control", "building control"),
        ("hello can I speak to the register office thanks", "register office"),
        ("speak to planning about my application", "planning"),
        ("put me thru to environmental health", "environmental health"),
    ],
)
def test_dial_request_names_the_line(said: str, target: str) -> None:
    assert dial_request(said) == target


@pytest.mark.parametrize(
    "said",
    [
        "can I speak to someone",
        "can I speak to a person",
        "can I talk to a human",
        "I'd like to speak to an advisor",
        "can I speak to someone about my council tax",
        "a real person please",
        "just put me through to someone",
        "put me through please",
        "yes please",
        "planning",  # a name, but no request to be put through
        "my bin wasn't collected on tuesday and the street is a mess please",
        "can I talk to you about my bins",
    ],
)
def test_dial_request_is_none_for_anything_else(said: str) -> None:
    assert dial_request(said) is None


# --- bad data --------------------------------------------------------------------

@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    return copy_data(tmp_path)


def department(raw: dict[str, Any], entry_id: str) -> dict[str, Any]:
    return next(item for item in raw["departments"] if item["id"] == entry_id)


def person(raw: dict[str, Any], entry_id: str) -> dict[str, Any]:
    return next(item for item in raw["people"] if item["id"] == entry_id)


@pytest.mark.parametrize(
    ("change", "entry", "problem"),
    [
        (lambda raw: department(raw, "planning").update(service="planning_and_building"), "'planning'", "service"),
        (lambda raw: department(raw, "planning").update(service="out_of_scope"), "'planning'", "service"),
        (lambda raw: person(raw, "sarah_jones").update(department="licencing"), "'sarah_jones'", "department"),
        (lambda raw: department(raw, "libraries").update(hours="library_hours"), "'libraries'", "hours"),
        (lambda raw: department(raw, "planning").update(phone="01524 582000"), "'planning'", "drama range"),
        (lambda raw: person(raw, "priya_sharma").update(phone="07700 900123"), "'priya_sharma'", "drama range"),
        (lambda raw: person(raw, "emma_clarke").update(id="sarah_jones"), "'sarah_jones'", "twice"),
        (lambda raw: department(raw, "parking").update(id="car_parks"), "'car_parks'", "twice"),
        (lambda raw: person(raw, "tom_hargreaves").pop("department"), "'tom_hargreaves'", "department"),
        (lambda raw: department(raw, "libraries").pop("name"), "'libraries'", "name"),
        (lambda raw: person(raw, "aisha_khan").update(name=""), "'aisha_khan'", "name"),
        (lambda raw: department(raw, "contact_centre").pop("phone"), "'contact_centre'", "phone"),
        (lambda raw: department(raw, "libraries").update(aliases=["planning"]), "'libraries'", "also names"),
        (lambda raw: department(raw, "libraries").update(opening="9am"), "'libraries'", "unknown field"),
    ],
)
def test_bad_data_is_refused_naming_file_and_entry(data_copy: Path, change: Change, entry: str, problem: str) -> None:
    corrupt(data_copy, "directory.yml", change)
    with pytest.raises(CatalogueError) as error:
        load_directory(data_copy)
    message = str(error.value)
    assert message.startswith("directory.yml: ")
    assert entry in message and problem in message, message


def test_the_real_data_copied_loads(data_copy: Path) -> None:
    # The bad-data tests mean something only if the untouched copy is good.
    corrupt(data_copy, "directory.yml", lambda raw: None)
    assert len(load_directory(data_copy).entries) == len(DIRECTORY.entries)


def test_a_missing_file_is_named(data_copy: Path) -> None:
    (data_copy / "directory.yml").unlink()
    with pytest.raises(CatalogueError, match="directory.yml"):
        load_directory(data_copy)


def test_the_blind_misheard_requests_reach_their_lines() -> None:
    """tests/sets/speech_dial.yml, written blind (never tuned on): 152 of 164
    on 3 December 2026; this holds it near that, and never offering a line
    to more than two of the sixteen callers who named none."""
    from devtools.dial_bench import load_requests, score

    tally = score(load_requests())
    assert tally.requests == 164
    assert tally.right >= 148, tally
    assert tally.offered_when_none <= 2 and tally.wrong_line <= 3, tally


def test_the_library_comparison_restores_the_shipped_matcher() -> None:
    import telephony_bridge.directory as directory
    from devtools.dial_bench import compare, load_requests, score

    requests = load_requests()[:20]
    shipped = (directory.phonetic_key, directory.SequenceMatcher)
    results = compare(requests)
    assert (directory.phonetic_key, directory.SequenceMatcher) == shipped
    assert len(results) == 5 and results[0].right == score(requests).right
