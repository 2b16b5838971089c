"""`python -m devtools tune`: choose the blend and the thresholds on the
development set, never on the test set.

One trained model is parsed once per development enquiry with the blend
switched off, which gives DIET's own ranking; the nearest-neighbour index is
the model's own. Every setting of the grid is then scored in NumPy exactly as
the live component scores (bot.nlu.topic_scoring) and routed exactly as the
live bot routes (council.routing.route_from_parse). Writes reports/council-tune.md
with the grid's best rows and the rule that picked the setting.

The rule: among settings whose out-of-scope recall is at least OOS_FLOOR and
whose turned-away rate is at most TURNED_AWAY_CEILING on the development set,
the highest service accuracy, then council accuracy, then topic accuracy,
then the fewest questions asked, then the most room inside the nearer bound
(settings that tie on all of those differ only in which enquiries sit on the
edge; the one furthest from its bounds is least likely to cross one on new
enquiries).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import itertools
import json
import pickle
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import yaml

from bot.nlu import minilm
from bot.nlu.components import EMERGENCY_INTENT, EmergencyFirst, emergency_share
from bot.nlu.topic_scoring import Index, Params, Scored, clauses, score_similarities
from bot.training import CONFIG
from council.catalogue import default_catalogue
from council.clarifications import Clarifications, default_clarifications
from council.routing import FALLBACK, Route, route_from_parse
from council.topics import default_topics
from devtools.evaluation import DEVELOPMENT, Example, Scores, load_set, score
from plumbing.paths import REPORTS_DIR, VAR_DIR

OOS_FLOOR = 0.93
TURNED_AWAY_CEILING = 0.015


@functools.cache
def emergency_floor() -> float | None:
    """EmergencyFirst's floor as bot/config.yml sets it, read once on first
    use (not swept: a safety rule, not a trade of one score for another);
    None if the pipeline has no EmergencyFirst."""
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for component in config.get("pipeline") or []:
        if str(component.get("name", "")).endswith(".EmergencyFirst"):
            return float(component.get("floor", EmergencyFirst.get_default_config()["floor"]))
    return None

GRID = {
    # Narrowed from earlier sweeps (docs/understanding.md): k=2, knn_weight 0.3
    # and clauses never led.
    "knn_weight": (0.5, 0.7),
    "temperature": (0.02, 0.03),
    "top_k": (3,),
    "clause_penalty": (2.0,),  # 2 or more: clauses off (bot.nlu.topic_scoring.CLAUSES_OFF)
    "out_of_scope_weight": (1.0, 10.0, 20.0, 30.0),
    "out_of_scope_needs_a_vote": (True, False),
}
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
MARGINS = (0.0, 0.1, 0.2, 0.3)
FLOORS = (1.0, 0.15, 0.2, 0.25, 0.3)


@dataclass(frozen=True)
class Parsed:
    """What the model said of one enquiry with the blend switched off, and
    each training example's similarity to the whole enquiry and to its best
    clause."""

    ranking: dict[str, float]
    entities: list[dict[str, Any]]
    whole: np.ndarray
    best_clause: np.ndarray | None
    knows_a_word: bool = True  # False: the live component sets every confidence to 0


@dataclass(frozen=True)
class Setting:
    params: Params
    threshold: float
    margin: float
    floor: float


def _component(agent: Any) -> Any:
    """The CouncilTopicClassifier inside a loaded agent's graph."""
    from bot.nlu.topic_classifier import CouncilTopicClassifier

    nodes = agent.processor.graph_runner._instantiated_nodes  # a developer tool may look inside
    for node in nodes.values():
        component = getattr(node, "_component", None)
        if isinstance(component, CouncilTopicClassifier):
            return component
    raise RuntimeError("the model has no CouncilTopicClassifier")


async def parse_without_blend(model: Path, texts: list[str]) -> tuple[Index, list[Parsed]]:
    from rasa.core.agent import Agent
    from rasa.shared.nlu.constants import INTENT_RANKING_KEY

    agent = Agent.load(str(model))
    component = _component(agent)
    index = component.index
    captured: list[tuple[dict[str, float], np.ndarray]] = []

    def capture(message: Any) -> None:
        """The classifier's ranking and the message's own sentence vector, as
        the live blend would see them."""
        ranking = {str(r["name"]): float(r["confidence"]) for r in message.get(INTENT_RANKING_KEY) or []}
        captured.append((ranking, component._sentence_vector(message)))
        return None

    component.scored = capture
    pieces = [clauses(text, Params()) for text in texts]
    flat = [p for group in pieces for p in group]
    encoded = iter([e.sentence for e in minilm.shared_model().encode(flat)] if flat else [])
    parsed = []
    for text, group in zip(texts, pieces):
        captured.clear()
        result = await agent.parse_message(text)
        if not captured or captured[0][1] is None:
            raise RuntimeError(f"the blend did not see {text!r} (a button payload or no words?)")
        ranking, whole = captured[0]
        clause_vectors = [next(encoded) for _ in group]
        best = (np.stack(clause_vectors) @ index.vectors.T).max(0) if clause_vectors else None
        parsed.append(Parsed(ranking, list(result.get("entities") or []),
                             whole @ index.vectors.T, best, component.knows_a_word(text)))
    return index, parsed


def blended(parsed: Parsed, index: Index, params: Params) -> Any:
    sims = parsed.whole
    if parsed.best_clause is not None:
        sims = np.maximum(sims, parsed.best_clause - params.clause_penalty)
    return score_similarities(index, sims, parsed.ranking, params)


def parse_dict(text: str, parsed: Parsed, scored: Any, threshold: float) -> dict[str, Any]:
    """The parse the live pipeline would produce: the blend `scored`, then
    the FallbackClassifier at `threshold`, EmergencyFirst and the
    unreadable-input guard."""
    name, confidence = scored.intent
    if not parsed.knows_a_word:
        scored = Scored([(n, 0.0) for n, _ in scored.intents], [(t, of, 0.0) for t, of, _ in scored.topics])
        confidence = 0.0
    mine = [(t, c) for t, of, c in scored.topics if of == name]
    total = sum(c for _, c in mine)
    intent = {"name": name, "confidence": confidence}
    ranking = [{"name": n, "confidence": c} for n, c in scored.intents[:10]]
    unreadable = any(e.get("entity") == "input_problem" for e in parsed.entities)
    if unreadable or confidence < threshold:
        intent = {"name": FALLBACK, "confidence": 1.0 if confidence >= threshold else threshold}
        ranking = [intent] + ranking
    floor = emergency_floor()
    if floor is not None and not unreadable and intent["name"] != EMERGENCY_INTENT \
            and emergency_share(ranking) >= floor:
        intent = {"name": EMERGENCY_INTENT, "confidence": 1.0}
        ranking = [intent] + [r for r in ranking if r["name"] != EMERGENCY_INTENT]
    return {
        "text": text,
        "intent": intent,
        "intent_ranking": ranking,
        "entities": parsed.entities,
        "topic": {"name": mine[0][0], "confidence": mine[0][1] / total} if mine and total else None,
        "topic_ranking": [{"name": t, "intent": of, "confidence": c} for t, of, c in scored.topics[:40]],
    }


def _meets(scores: Scores) -> bool:
    return scores.oos_recall >= OOS_FLOOR and scores.turned_away_rate <= TURNED_AWAY_CEILING


def _headroom(scores: Scores) -> float:
    """How far the setting sits inside the nearer of the two bounds."""
    return min(scores.oos_recall - OOS_FLOOR, TURNED_AWAY_CEILING - scores.turned_away_rate)


def _key(scores: Scores) -> tuple[float, ...]:
    return (scores.service_accuracy, scores.authority_accuracy, scores.topic_accuracy, -scores.clarified_rate,
            round(_headroom(scores), 4))


def _rule(scores: Scores) -> tuple[float, ...]:
    """The rule's order: settings within the bounds first, then by _key;
    outside the bounds, the nearest to them."""
    shortfall = max(0.0, OOS_FLOOR - scores.oos_recall) + max(0.0, scores.turned_away_rate - TURNED_AWAY_CEILING)
    return (_meets(scores), -round(shortfall, 3), *_key(scores))


def _row(setting: Setting, scores: Scores) -> dict[str, Any]:
    return {**asdict(setting.params), "threshold": setting.threshold, "margin": setting.margin,
            "floor": setting.floor, "service": round(scores.service_accuracy, 4),
            "council": round(scores.authority_accuracy, 4), "topic": round(scores.topic_accuracy, 4),
            "oos_recall": round(scores.oos_recall, 4), "turned_away": round(scores.turned_away_rate, 4),
            "asked": round(scores.clarified_rate, 4), "after_question": round(scores.after_one_question, 4)}


def _routes(examples: list[Example], parses: list[dict[str, Any]], clar: Clarifications) -> list[Route]:
    catalogue, topics = default_catalogue(), default_topics()
    return [route_from_parse(e.text, d, catalogue, topics, clar) for e, d in zip(examples, parses)]


def sweep(examples: list[Example], index: Index, parsed: list[Parsed],
          grid: dict[str, Iterable[Any]] | None = None, finalists: int = 6) -> list[tuple[Setting, Scores]]:
    """Stage 1: every blend of the grid at the current threshold, asking no
    question. Stage 2: thresholds, margins and floors for the best blends."""
    grid = grid or GRID
    base = default_clarifications()
    current = Clarifications(0.0, base.items, 1.0)
    names = list(grid)
    stage_one = []
    for values in itertools.product(*(grid[n] for n in names)):
        params = replace(Params(), **dict(zip(names, values)))
        scoreds = [blended(p, index, params) for p in parsed]
        parses = [parse_dict(e.text, p, s, 0.4) for e, p, s in zip(examples, parsed, scoreds)]
        stage_one.append((Setting(params, 0.4, 0.0, 1.0), score(examples, _routes(examples, parses, current))))
        print(f"blend {len(stage_one)}: {params} service {stage_one[-1][1].service_accuracy:.3f}",
              file=sys.stderr, flush=True)
    stage_one.sort(key=lambda r: _rule(r[1]), reverse=True)
    results = list(stage_one)
    for setting, _ in stage_one[:finalists]:
        scoreds = [blended(p, index, setting.params) for p in parsed]
        for threshold in THRESHOLDS:
            parses = [parse_dict(e.text, p, s, threshold) for e, p, s in zip(examples, parsed, scoreds)]
            for margin, floor in itertools.product(MARGINS, FLOORS):
                clar = Clarifications(margin, base.items, floor)
                results.append((Setting(setting.params, threshold, margin, floor),
                                score(examples, _routes(examples, parses, clar))))
    return results


def choose(results: list[tuple[Setting, Scores]]) -> tuple[Setting, Scores]:
    return max(results, key=lambda r: _rule(r[1]))


def cached_parse(model: Path, examples: list[Example]) -> tuple[Index, list[Parsed]]:
    """parse_without_blend, kept under var/ for the same model and texts so a
    second sweep starts at once."""
    digest = hashlib.sha256("\n".join([model.name, *(e.text for e in examples)]).encode()).hexdigest()[:16]
    cache = VAR_DIR / f"tune-{digest}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    result = asyncio.run(parse_without_blend(model, [e.text for e in examples]))
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(result))
    return result


def run_tune(model: Path, path: Path = DEVELOPMENT, grid: dict[str, Iterable[Any]] | None = None) -> int:
    examples = load_set(path)
    index, parsed = cached_parse(model, examples)
    results = sweep(examples, index, parsed, grid)
    best_setting, best = choose(results)
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    ranked = sorted(results, key=lambda r: _rule(r[1]), reverse=True)
    rows = [_row(s, sc) for s, sc in ranked[:40]]
    chosen = _row(best_setting, best)
    header = list(chosen)
    lines = [f"# Development-set sweep ({len(examples)} enquiries, {len(results)} settings)", "",
             f"Rule: out-of-scope recall >= {OOS_FLOOR}, turned away <= {TURNED_AWAY_CEILING}; then service, "
             "council, topic accuracy, fewest questions, most room inside the nearer bound.", "", "Chosen:", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header),
             "| " + " | ".join(str(chosen[h]) for h in header) + " |", "", "Best by the rule:", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(r[h]) for h in header) + " |" for r in rows]
    (REPORTS_DIR / "council-tune.md").write_text("\n".join(lines) + "\n")
    (REPORTS_DIR / "council-tune.json").write_text(json.dumps({"chosen": chosen, "top": rows}, indent=2) + "\n")
    print("\n".join(lines[:12]))
    return 0
