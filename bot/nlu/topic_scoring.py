"""Topic and service scores from sentence embeddings: the nearest training
examples of each intent and each topic, blended with the intent classifier's
own ranking.

Plain NumPy, so the Rasa component (bot.nlu.topic_classifier) and the
development-set sweep (`python -m devtools tune`) score exactly alike. Why a blend:
on the development set the nearest neighbours over all-MiniLM-L6-v2 carry what
residents' own words resemble (the long tail, stories, indirect questions),
while DIET carries what a nearest neighbour cannot (postcodes, single words,
mis-hearings through its character n-grams).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

NO_TOPIC = -1


@dataclass(frozen=True)
class Params:
    """The blend, chosen on the development set (see docs/understanding.md)."""

    knn_weight: float = 0.5       # share of the nearest-neighbour vote in the intent scores
    temperature: float = 0.05     # softness of the nearest-neighbour vote (cosine units)
    top_k: int = 2                # mean of the k nearest examples of each intent or topic
    # A clause's match counts this much less than the whole message's. Cosine
    # similarity lies in [-1, 1], so a penalty of 2 or more can never let a
    # clause win: clauses are then neither cut out nor encoded.
    clause_penalty: float = 0.03
    min_clause_words: int = 4     # shorter pieces are not matched on their own
    clause_after_words: int = 14  # messages of fewer words are not split
    # Out of scope is one intent against dozens of council ones, and its
    # look-alikes (a housing association repair, a pothole on the M6) sit
    # close to theirs: its blended confidence is weighed up this much.
    out_of_scope_weight: float = 1.0
    # Weigh it up only where one of the two votes puts it (or an emergency) first.
    out_of_scope_needs_a_vote: bool = True


OUT_OF_SCOPE = "out_of_scope"
# Also no council's service, and weighed with out of scope: weighing out of
# scope alone would shrink an emergency's share beneath it (a house fire whose
# nearest examples are fire-safety signposts), and emergency first reads that share.
EMERGENCY = "emergency"
NOT_COUNCIL = (OUT_OF_SCOPE, EMERGENCY)
CLAUSES_OFF = 2.0  # a clause penalty this high switches clauses off (see Params)


@dataclass(frozen=True)
class Scored:
    """One message: intents by blended confidence, topics by confidence
    (the confidence of their intent times their share within it)."""

    intents: list[tuple[str, float]]
    topics: list[tuple[str, str, float]] = field(default_factory=list)  # (topic, intent, confidence)

    @property
    def intent(self) -> tuple[str, float]:
        return self.intents[0]


_CLAUSE_BREAK = re.compile(
    r"[.!?;:]+\s*|,\s+|\s+(?:but|and then|and also|also|so|because|cos|cause|anyway|though|as well)\s+",
    re.IGNORECASE)
_LEADING = re.compile(r"^(?:(?:and|but|so|then|also|um|er|erm|yeah|well)\s+)+", re.IGNORECASE)


def clauses(text: str, params: Params) -> list[str]:
    """The pieces of a long message worth matching on their own, besides the
    whole: a story's question is often one clause among several."""
    words = text.split()
    if params.clause_penalty >= CLAUSES_OFF or len(words) < params.clause_after_words:
        return []
    pieces = [_LEADING.sub("", " ".join(p.split())) for p in _CLAUSE_BREAK.split(text)]
    pieces = [p for p in pieces if len(p.split()) >= params.min_clause_words]
    # Neighbouring pairs too: a question and its object are often split by "and".
    pairs = [f"{a} {b}" for a, b in zip(pieces, pieces[1:])]
    unique = list(dict.fromkeys(pieces + pairs))
    return unique[:8] if len(unique) > 1 else []


class Index:
    """Unit vectors of the training examples with their intent and topic."""

    def __init__(self, vectors: np.ndarray, intents: Sequence[str], topics: Sequence[str | None]) -> None:
        if len(vectors) != len(intents) or len(intents) != len(topics):
            raise ValueError("vectors, intents and topics must have one entry per example")
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.intent_names = sorted(set(intents))
        self.topic_names = sorted({t for t in topics if t})
        intent_id = {name: i for i, name in enumerate(self.intent_names)}
        topic_id = {name: i for i, name in enumerate(self.topic_names)}
        self.row_intent = np.array([intent_id[i] for i in intents], dtype=np.int32)
        self.row_topic = np.array([topic_id[t] if t else NO_TOPIC for t in topics], dtype=np.int32)
        # A topic's intent: the one its examples carry (the first if a topic
        # were ever given to two, which training data validation refuses).
        self.topic_intent = np.zeros(len(self.topic_names), dtype=np.int32)
        for row in range(len(topics) - 1, -1, -1):
            if self.row_topic[row] != NO_TOPIC:
                self.topic_intent[self.row_topic[row]] = self.row_intent[row]

    def similarities(self, queries: np.ndarray, params: Params) -> np.ndarray:
        """Each example's similarity to the message: the whole message's, or a
        clause's less the clause penalty, whichever is higher."""
        sims = np.asarray(queries, dtype=np.float32) @ self.vectors.T
        best = sims[0]
        if len(sims) > 1:
            best = np.maximum(best, sims[1:].max(0) - params.clause_penalty)
        return best


def _group_top_k(sims: np.ndarray, groups: np.ndarray, count: int, k: int) -> np.ndarray:
    """Mean of the k highest similarities in each group (fewer if a group has
    fewer examples); -1 for a group with none."""
    keep = groups >= 0
    sims, groups = sims[keep], groups[keep]
    # Group ascending, similarity descending, in one sort: a similarity lies
    # in [-1, 1], so group * 4 - similarity keeps the groups apart (half the
    # time of a two-key lexsort, which was a tenth of a parse).
    order = np.argsort(groups * 4.0 - sims, kind="stable")
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, np.arange(count))
    rank = np.arange(len(order)) - starts[sorted_groups]
    take = rank < k
    totals = np.bincount(sorted_groups[take], weights=sims[order][take], minlength=count)
    counts = np.bincount(sorted_groups[take], minlength=count).astype(np.float64)
    return np.where(counts > 0, totals / np.maximum(counts, 1.0), -1.0)


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    shifted = (scores - scores.max()) / max(temperature, 1e-6)
    weights = np.exp(shifted)
    return weights / weights.sum()


def score(index: Index, queries: np.ndarray, ranking: Mapping[str, float], params: Params) -> Scored:
    """Blend the classifier's `ranking` (intent -> confidence) with the
    nearest-neighbour vote for the message whose unit vectors are `queries`
    (the whole message first, then its clauses)."""
    return score_similarities(index, index.similarities(queries, params), ranking, params)


def score_similarities(index: Index, sims: np.ndarray, ranking: Mapping[str, float], params: Params) -> Scored:
    """`score` from each training example's similarity to the message."""
    intent_sims = _group_top_k(sims, index.row_intent, len(index.intent_names), params.top_k)
    knn = _softmax(intent_sims, params.temperature)
    names = list(dict.fromkeys([*index.intent_names, *ranking]))
    knn_of = dict(zip(index.intent_names, knn.tolist()))
    blended = {name: (1 - params.knn_weight) * float(ranking.get(name, 0.0)) + params.knn_weight * knn_of.get(name, 0.0)
               for name in names}
    # The weight tips a disagreement towards out of scope; it never overrides
    # a classifier and a nearest-neighbour vote that agree on a council intent.
    knn_top = index.intent_names[int(np.argmax(knn))] if len(knn) else None
    ranking_top = max(ranking, key=ranking.get) if ranking else None
    voted = bool({knn_top, ranking_top} & set(NOT_COUNCIL)) or not params.out_of_scope_needs_a_vote
    if OUT_OF_SCOPE in blended and params.out_of_scope_weight != 1.0 and voted:
        for name in NOT_COUNCIL:
            if name in blended:
                blended[name] *= params.out_of_scope_weight
        total = sum(blended.values()) or 1.0
        blended = {name: value / total for name, value in blended.items()}
    intents = sorted(blended.items(), key=lambda item: -item[1])
    if not index.topic_names:
        return Scored(intents)
    topic_sims = _group_top_k(sims, index.row_topic, len(index.topic_names), params.top_k)
    topics: list[tuple[str, str, float]] = []
    for intent_row, intent_name in enumerate(index.intent_names):
        members = np.flatnonzero(index.topic_intent == intent_row)
        if not len(members):
            continue
        shares = _softmax(topic_sims[members], params.temperature)
        for member, share in zip(members, shares):
            topics.append((index.topic_names[member], intent_name, blended[intent_name] * float(share)))
    topics.sort(key=lambda item: -item[2])
    return Scored(intents, topics)


def best_topic(scored: Scored, intent: str) -> tuple[str, float] | None:
    """The likeliest topic of `intent`, with its share of the intent."""
    mine = [(topic, confidence) for topic, of, confidence in scored.topics if of == intent]
    if not mine:
        return None
    total = sum(confidence for _, confidence in mine) or 1.0
    return mine[0][0], mine[0][1] / total

