"""The blend of the intent classifier with the nearest training examples
(bot.nlu.topic_scoring), on small hand-made vectors: no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from bot.nlu.topic_scoring import Index, Params, best_topic, clauses, score


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def index() -> Index:
    vectors = np.stack([unit(1, 0, 0, 0), unit(0.9, 0.1, 0, 0), unit(0, 1, 0, 0), unit(0, 0.9, 0.1, 0),
                        unit(0, 0, 1, 0), unit(0, 0, 0, 1)])
    intents = ["street_cleaning", "street_cleaning", "roads_highways", "roads_highways", "roads_highways", "greet"]
    topics = ["dead_animal", "fly_tipping", "pothole", "pothole", "grit_bin", None]
    return Index(vectors, intents, topics)


def test_neighbours_overrule_an_unsure_classifier(index: Index) -> None:
    query = unit(1, 0.05, 0, 0)[None, :]
    unsure = {"roads_highways": 0.55, "street_cleaning": 0.40, "greet": 0.05}
    blended = score(index, query, unsure, Params(knn_weight=0.7, temperature=0.05, top_k=1))
    assert blended.intent[0] == "street_cleaning"
    assert best_topic(blended, "street_cleaning")[0] == "dead_animal"
    # With no weight on the neighbours it is the classifier's ranking exactly.
    plain = score(index, query, unsure, Params(knn_weight=0.0))
    assert plain.intent == ("roads_highways", pytest.approx(0.55))


def test_confidences_are_a_distribution_and_topics_share_their_intent(index: Index) -> None:
    blended = score(index, unit(0, 1, 0.2, 0)[None, :], {"roads_highways": 0.9, "greet": 0.1}, Params(top_k=2))
    assert sum(c for _, c in blended.intents) == pytest.approx(1.0, abs=1e-6)
    roads = dict(blended.intents)["roads_highways"]
    assert sum(c for _, of, c in blended.topics if of == "roads_highways") == pytest.approx(roads, abs=1e-6)
    assert blended.topics[0][0] == "pothole"


def test_a_clause_can_carry_a_long_message(index: Index) -> None:
    whole = unit(0.5, 0, 0, 1)  # the story reads most like small talk...
    clause = unit(0.95, 0.05, 0, 0)  # ...but one clause is about a dead animal
    queries = np.stack([whole, clause])
    with_clauses = score(index, queries, {}, Params(knn_weight=1.0, clause_penalty=0.03, top_k=1))
    without = score(index, queries, {}, Params(knn_weight=1.0, clause_penalty=9.0, top_k=1))
    assert with_clauses.intent[0] == "street_cleaning"
    assert without.intent[0] == "greet"


def test_long_messages_split_into_clauses_and_short_ones_do_not() -> None:
    params = Params(clause_after_words=10, min_clause_words=3)
    assert clauses("dead fox on the road", params) == []
    story = ("hiya so I was walking the dog this morning near the school, and there's a dead fox right on "
             "the pavement by the gates but nobody has moved it")
    pieces = clauses(story, params)
    assert "there's a dead fox right on the pavement by the gates" in pieces
    assert all(len(p.split()) >= 3 for p in pieces) and len(pieces) <= 8


def test_index_refuses_mismatched_rows() -> None:
    with pytest.raises(ValueError):
        Index(np.zeros((2, 4), np.float32), ["a"], ["t", None])


def test_a_penalty_no_clause_could_overcome_switches_clauses_off() -> None:
    story = ("hiya so I was walking the dog this morning near the school, and there's a dead fox right on "
             "the pavement by the gates but nobody has moved it")
    assert clauses(story, Params(clause_after_words=10, clause_penalty=2.0)) == []
    assert clauses(story, Params(clause_after_words=10, clause_penalty=1.9))


def test_a_message_with_no_word_the_bot_knows_is_flagged() -> None:
    from bot.nlu.topic_classifier import CouncilTopicClassifier, words_of

    component = CouncilTopicClassifier(CouncilTopicClassifier.get_default_config(), None, None,
                                       vocabulary={"ctax", "bin", "missed"})
    assert words_of("Missed BIN!! 2 x") == {"missed", "bin"}
    assert component.knows_a_word("ctax")
    assert component.knows_a_word("zzqx missed")
    assert not component.knows_a_word("blarg fnord wibble")
    assert component.knows_a_word("12 34")  # no words to judge: left to the other checks


def test_the_out_of_scope_weight_tips_a_disagreement_but_not_a_consensus() -> None:
    vectors = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0.9, 0.1)])
    oos = Index(vectors, ["licensing", "out_of_scope", "out_of_scope"], ["personal_licence", "oos_dvla", "oos_dvla"])
    query = unit(1, 0.9, 0)[None, :]  # a little nearer the licence than the driving licence
    agreed = {"licensing": 0.9, "out_of_scope": 0.1}
    heavy = Params(knn_weight=0.5, temperature=0.05, top_k=1, out_of_scope_weight=20.0)
    assert score(oos, query, agreed, heavy).intent[0] == "licensing"
    blunt = Params(knn_weight=0.5, temperature=0.05, top_k=1, out_of_scope_weight=20.0, out_of_scope_needs_a_vote=False)
    assert score(oos, query, agreed, blunt).intent[0] == "out_of_scope"
    disputed = {"licensing": 0.4, "out_of_scope": 0.6}  # the classifier puts it first: the weight applies
    assert score(oos, query, disputed, heavy).intent[0] == "out_of_scope"


def test_weighing_out_of_scope_up_weighs_an_emergency_with_it() -> None:
    vectors = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1)])
    fire = Index(vectors, ["environmental_health", "out_of_scope", "emergency"],
                 ["bonfire_smoke", "oos_fire_safety", "oos_emergency"])
    query = unit(0.5, 1, 0.8)[None, :]  # nearest a fire-safety signpost, then the emergency
    ranking = {"environmental_health": 0.4, "out_of_scope": 0.3, "emergency": 0.3}
    plain = score(fire, query, ranking, Params(knn_weight=0.5, temperature=0.05, top_k=1))
    heavy = score(fire, query, ranking, Params(knn_weight=0.5, temperature=0.05, top_k=1, out_of_scope_weight=10.0))
    share = dict(heavy.intents)
    assert share["emergency"] > dict(plain.intents)["emergency"]
    assert share["emergency"] / share["out_of_scope"] == pytest.approx(
        dict(plain.intents)["emergency"] / dict(plain.intents)["out_of_scope"])


def test_the_ranking_shows_ten_intents_and_out_of_scope_wherever_it_came() -> None:
    from bot.nlu.topic_classifier import ranking_shown

    intents = [(f"service_{n}", 0.5 / (n + 1)) for n in range(14)] + [("out_of_scope", 0.001)]
    shown = ranking_shown(intents)
    assert [r["name"] for r in shown] == [f"service_{n}" for n in range(10)] + ["out_of_scope"]
    assert shown[-1]["confidence"] == 0.001
    near_the_top = [("out_of_scope", 0.6)] + intents[:12]
    assert [r["name"] for r in ranking_shown(near_the_top)].count("out_of_scope") == 1
    assert len(ranking_shown(near_the_top)) == 10
