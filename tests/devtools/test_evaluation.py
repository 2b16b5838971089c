"""How the held-out figures are counted (no model needed)."""

from __future__ import annotations

import pytest

from council.routing import Route
from devtools.evaluation import Example, score


def route(service: str | None, authority: str | None) -> Route:
    return Route("text", service, authority, 0.9, service)


def test_counts() -> None:
    examples = [
        Example("a", "council_tax", "typed"),
        Example("b", "council_tax", "spoken"),
        Example("c", "roads_highways", "spoken"),
        Example("d", "bins_recycling", "typed"),
        Example("e", "out_of_scope", "typed"),
        Example("f", "out_of_scope", "spoken"),
    ]
    routes = [
        route("council_tax", "city"),
        route("business_rates", "city"),  # wrong service, right council
        route("out_of_scope", "external"),  # a false alarm
        route("bins_recycling", "city"),
        route("out_of_scope", "external"),
        route(None, None),  # out of scope taken for chit-chat: not caught
    ]
    scores = score(examples, routes)
    assert scores.service_accuracy == pytest.approx(2 / 4)
    assert scores.authority_accuracy == pytest.approx(3 / 4)
    assert scores.oos_recall == pytest.approx(1 / 2)
    assert scores.false_alarm_rate == pytest.approx(1 / 4)
    assert scores.style_accuracy("typed") == pytest.approx(2 / 2)
    assert scores.style_accuracy("spoken") == pytest.approx(0 / 2)
    assert scores.confusion[("out_of_scope", "none")] == 1
    assert len(scores.mistakes) == 3


def test_out_of_scope_answered_as_conversation_is_counted_apart_not_caught() -> None:
    examples = [Example(t, "out_of_scope", "typed") for t in "abcd"]
    routes = [
        Route("a", None, None, 0.9, "request_human"),  # "real person please": a person is offered
        Route("b", None, None, 0.9, "greet"),
        Route("c", None, None, 0.9, "council_tax_unknown_intent"),  # not a conversation intent
        Route("d", "out_of_scope", "external", 0.9, "out_of_scope"),
    ]
    scores = score(examples, routes)
    assert scores.oos_recall == pytest.approx(1 / 4)
    assert scores.oos_conversation == 2
