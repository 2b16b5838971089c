"""The rule-based spaCy entities and the unreadable-input check."""

from __future__ import annotations

import pytest

from bot.nlu.entities import extract
from council.language import NO_WORDS, assess


def found(text: str) -> list[tuple[str, str]]:
    return [(e.entity, e.value) for e in extract(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my postcode is LA1 1PJ", [("postcode", "LA1 1PJ")]),
        ("its la4 5ab", [("postcode", "LA4 5AB")]),
        ("l a one one p j", [("postcode", "LA1 1PJ")]),
        ("i live in la3", [("postcode", "LA3")]),
        ("pothole on the M6 near junction 34", []),
        ("the A6 is blocked", []),
        ("12 Main Street", [("house_number", "12")]),
        ("flat 3b", [("house_number", "3B")]),
        ("account number one two three four five six seven eight", [("reference", "12345678")]),
        ("my account is 12345678", [("reference", "12345678")]),
        ("pcn LN12345678", [("reference", "LN12345678")]),
        ("objection to 23/01234/FUL", [("reference", "23/01234/FUL")]),
        ("my reference is LAN-7K3-Q9", [("reference", "LAN-7K3-Q9")]),
        ("my reference is LAN-7K3-Q9X", [("reference", "LAN-7K3-Q9X")]),
        ("which council deals with potholes", [("which_council", "yes")]),
        ("when does morecambe town hall open", [("centre", "morecambe_town_hall")]),
    ],
)
def test_entities(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text", ["call me on 07700 900123", "my number is +44 7700 900123", "ring 01632960000", "oh seven seven double oh"]
)
def test_phone_numbers_are_never_entities(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", NO_WORDS),
        ("   \n\t ", NO_WORDS),
        ("😀😀😀", NO_WORDS),
        ("\x00\x01\x02\x89PNG\x1a\x1b\x1c", NO_WORDS),
        ("\ufffd\ufffd\ufffdab\ufffd", NO_WORDS),
        ("x" * 10000, NO_WORDS),
        ("my reference is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", None),
        ("Gdzie mogę zapłacić podatek od nieruchomości? Nie wiem co zrobić", "not_english:Polish"),
        ("¿Dónde puedo pagar el impuesto municipal de mi casa?", "not_english:Spanish"),
        ("میں کونسل ٹیکس کیسے ادا کروں", "not_english:Arabic"),
        ("my bin wasnt collected", None),
        ("y", None),
        ("Dzień dobry, gdzie mogę zapłacić podatek od nieruchomości?", "not_english:Polish"),
        ("I had a coffee at the café near the crèche", None),
        ("2", None),
        ("h m r c", None),
        ("um my bin election got missed", None),
        ("um die bin men never came", None),
        ("so um is the tip open on bank holiday monday", None),
        ("council tacks", None),
        ("ctax pls", None),
        ("my name is Maria de la Cruz and I need a bus pass", None),
    ],
)
def test_assess(text: str, expected: str | None) -> None:
    assert assess(text) == expected
