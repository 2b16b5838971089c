"""Case references: readable on a bad line, and a mis-heard one is caught."""

from __future__ import annotations

import pytest

from council.references import ALPHABET, SPOKEN, is_reference, new_reference, normalise, spoken


def test_every_character_can_be_said_and_none_is_easily_confused() -> None:
    assert set(ALPHABET) == set(SPOKEN)
    assert not set(ALPHABET) & set("0O1I2Z5S8B")


def test_new_references_are_valid_and_varied() -> None:
    made = {new_reference() for _ in range(2000)}
    assert len(made) > 1990  # random: a rare repeat is expected (the store resolves clashes)
    assert all(is_reference(ref) and len(ref) == len("LAN-7K3-Q9X") for ref in made)
    assert all(spoken(ref).startswith("L A N, ") for ref in made)  # every one can be said


def test_references_are_read_however_they_are_typed() -> None:
    reference = new_reference()
    body = reference.replace("LAN-", "").replace("-", "")
    for typed in (reference.lower().replace("-", " "), "LAN" + body, f"  {reference.lower()} ", body,
                  f"lan.{body[:3]}_{body[3:]}"):
        assert normalise(typed) == reference, typed


def test_a_single_wrong_character_is_always_caught() -> None:
    for _ in range(200):
        reference = new_reference()
        body = reference.replace("LAN-", "").replace("-", "")
        for position in range(len(body)):
            for other in ALPHABET.replace(body[position], ""):
                wrong = body[:position] + other + body[position + 1:]
                assert normalise(wrong) is None, (reference, wrong)


@pytest.mark.parametrize("text", ["", "LAN-7K3-Q9", "LAN-0K3-Q9X", "hello there", "LAN-7K3-Q9X4", "LAN-7K3-Q9*"])
def test_things_that_are_not_references(text: str) -> None:
    assert normalise(text) is None and not is_reference(text)
