"""Place names as a phone speech recogniser mishears them (bot/nlu/hearing.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.nlu import hearing


@pytest.mark.parametrize("heard, meant", [
    ("hey sham high school closed", "heysham high school closed"),
    ("the bins on marine road in more cam", "the bins on marine road in morecambe"),
    ("Hey Sham library", "heysham library"),
    ("sort air opening times", "salt ayre opening times"),
    ("bolton le sands and carn forth", "bolton-le-sands and carnforth"),
])
def test_misheard_place_names_are_spelt_as_the_place(heard: str, meant: str) -> None:
    assert hearing.for_matching(heard) == meant


@pytest.mark.parametrize("text", [
    "hey can you help",             # a greeting is not Heysham
    "i want more camping spaces",   # "more cam" only as whole words
    "a six month wait for a repair",  # road numbers are left alone
    "my council tax bill",
])
def test_everyday_words_are_left_alone(text: str) -> None:
    assert hearing.for_matching(text) == text


def test_every_misheard_form_maps_to_one_place() -> None:
    forms = [form for spoken in hearing.MISHEARD.values() for form in spoken]
    assert len(forms) == len(set(forms))
    assert all(form == form.lower() and form not in hearing.MISHEARD for form in forms)


def test_the_model_reads_a_misheard_place_as_the_place(router: Any) -> None:
    """What the resident said is kept as said; the place is understood."""
    route = asyncio.run(router.route("um hey sham library opening times"))
    assert route.text == "um hey sham library opening times"
    assert route.service == "libraries"
