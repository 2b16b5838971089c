"""`python -m devtools tune`: its rule picks what it says it picks, and its
simulated parse does what the live pipeline does (fallback, then emergency
first, and unreadable input left unread)."""

from __future__ import annotations

import numpy as np

from bot.nlu.topic_scoring import Params, Scored
from devtools import tuning
from devtools.evaluation import Scores


def _scores(service: int, oos: int, turned_away: int) -> Scores:
    """100 council enquiries and 100 out of scope."""
    return Scores(total_in_scope=100, service_right=service, authority_right=service, topic_right=service,
                  topic_total=100, total_oos=100, oos_caught=oos, turned_away=turned_away)


def _setting(threshold: float) -> tuning.Setting:
    return tuning.Setting(Params(), threshold, 0.0, 1.0)


def test_within_the_bounds_beats_a_better_score_outside_them() -> None:
    inside, outside = _scores(90, 95, 1), _scores(99, 80, 1)
    chosen, _ = tuning.choose([(_setting(0.5), outside), (_setting(0.3), inside)])
    assert chosen.threshold == 0.3


def test_a_tie_goes_to_the_setting_furthest_inside_its_nearer_bound() -> None:
    on_the_edge, with_room = _scores(97, 93, 0), _scores(97, 96, 0)
    chosen, _ = tuning.choose([(_setting(0.3), on_the_edge), (_setting(0.45), with_room)])
    assert chosen.threshold == 0.45
    chosen, _ = tuning.choose([(_setting(0.45), with_room), (_setting(0.3), on_the_edge)])
    assert chosen.threshold == 0.45


def _parsed(entities: list | None = None) -> tuning.Parsed:
    return tuning.Parsed(ranking={}, entities=entities or [], whole=np.zeros(1), best_clause=None)


def test_the_simulated_parse_puts_a_possible_emergency_first() -> None:
    fire = Scored([("environmental_health", 0.5), ("emergency", 0.45), ("out_of_scope", 0.05)])
    parse = tuning.parse_dict("next door is on fire", _parsed(), fire, threshold=0.3)
    assert parse["intent"]["name"] == "emergency"
    smoke = Scored([("environmental_health", 0.9), ("emergency", 0.05), ("out_of_scope", 0.05)])
    parsed = tuning.parse_dict("bonfire smoke", _parsed(), smoke, threshold=0.3)
    assert parsed["intent"]["name"] == "environmental_health"
    unsure = Scored([("roads_highways", 0.25), ("street_cleaning", 0.2), ("emergency", 0.05)])
    assert tuning.parse_dict("erm the road", _parsed(), unsure, threshold=0.3)["intent"]["name"] == "nlu_fallback"
    unread = [{"entity": "input_problem", "value": "no_words"}]
    assert tuning.parse_dict("???", _parsed(unread), fire, threshold=0.3)["intent"]["name"] == "nlu_fallback"
