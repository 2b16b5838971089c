"""`CouncilTopicClassifier`: after DIET, blends its intent ranking with the
nearest training examples (all-MiniLM-L6-v2 sentence vectors) and names the
topic (data/topics.yml) the message is about.

Training examples carry their topic as intent metadata:

    - intent: street_cleaning
      metadata:
        topic: dead_animal
      examples: |
        - there's a dead fox in the road outside number 12

What it adds to the parse: `intent` and `intent_ranking` re-ranked by the
blend (so the FallbackClassifier after it judges the blended confidence),
`topic` ({"name", "confidence"}: the likeliest topic of the chosen intent, or
None) and `topic_ranking` (the likeliest topics across intents, each with its
intent), which the clarifying question reads.

A message with not one word the bot knows (neither in the training examples
nor a whole word of MiniLM's vocabulary: "blarg fnord wibble", a cat on the
keyboard) has every confidence set to 0, so the FallbackClassifier says "not
understood" and asks again rather than guessing: the nearest examples of
anything are still nearest, and the weighed-up out-of-scope vote would
otherwise answer gibberish with a signpost.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, METADATA, METADATA_INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import minilm
from bot.nlu.topic_scoring import OUT_OF_SCOPE, Index, Params, Scored, clauses, score
from council.language import WORD_RE

TOPIC = "topic"
TOPIC_RANKING = "topic_ranking"
RANKING_LENGTH = 6
RANKING_SHOWN = 10  # intents in intent_ranking, as Rasa's own classifiers give
INDEX_FILE = "topic_index.npz"


def words_of(text: str) -> set[str]:
    """Lower-case words of two letters or more."""
    return {w for w in (m.group(0).lower() for m in WORD_RE.finditer(text)) if len(w) > 1}


def encoder_words() -> set[str]:
    """MiniLM's whole-word vocabulary (its word-pieces' continuations and
    special tokens left out)."""
    vocabulary = minilm.shared_model().tokenizer.get_vocab()
    return {w for w in vocabulary if w.isalpha() and not w.startswith("##")}


def example_topic(message: Message) -> str | None:
    """The topic a training example was written for, if any."""
    metadata = message.get(METADATA) or {}
    intent_metadata = metadata.get(METADATA_INTENT) if isinstance(metadata, dict) else None
    topic = intent_metadata.get(TOPIC) if isinstance(intent_metadata, dict) else None
    return str(topic) if topic else None


def ranking_shown(intents: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """The ten likeliest intents, and out of scope wherever it came: its
    confidence is what a weighting of it would start from (the CLINC150
    bench weighs it on val)."""
    shown = intents[:RANKING_SHOWN]
    shown += [(n, c) for n, c in intents[RANKING_SHOWN:] if n == OUT_OF_SCOPE]
    return [{"name": n, "confidence": round(c, 6)} for n, c in shown]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class CouncilTopicClassifier(GraphComponent, IntentClassifier):
    """The blend of DIET and nearest neighbours, and the topic."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        defaults = Params()
        return {
            "featurizer": "minilm",
            "knn_weight": defaults.knn_weight,
            "temperature": defaults.temperature,
            "top_k": defaults.top_k,
            "clause_penalty": defaults.clause_penalty,
            "min_clause_words": defaults.min_clause_words,
            "clause_after_words": defaults.clause_after_words,
            "out_of_scope_weight": defaults.out_of_scope_weight,
            "out_of_scope_needs_a_vote": defaults.out_of_scope_needs_a_vote,
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 index: Optional[Index] = None, vocabulary: Optional[set[str]] = None) -> None:
        self._config = config
        self.vocabulary = vocabulary or set()  # words of the training examples
        self._model_storage = model_storage
        self._resource = resource
        self.index = index
        self.params = Params(
            knn_weight=float(config["knn_weight"]),
            temperature=float(config["temperature"]),
            top_k=int(config["top_k"]),
            clause_penalty=float(config["clause_penalty"]),
            min_clause_words=int(config["min_clause_words"]),
            clause_after_words=int(config["clause_after_words"]),
            out_of_scope_weight=float(config["out_of_scope_weight"]),
            out_of_scope_needs_a_vote=bool(config["out_of_scope_needs_a_vote"]),
        )

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CouncilTopicClassifier":
        return cls(config, model_storage, resource)

    # --- training -----------------------------------------------------------

    def _sentence_vector(self, message: Message) -> np.ndarray | None:
        _, sentence = message.get_dense_features(TEXT, [self._config["featurizer"]])
        if sentence is None:
            return None
        vector = np.asarray(sentence.features, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else None

    def train(self, training_data: TrainingData) -> Resource:
        vectors, intents, topics = [], [], []
        self.vocabulary = set()
        for message in training_data.intent_examples:
            self.vocabulary |= words_of(message.get(TEXT) or "")
            vector = self._sentence_vector(message)
            if vector is None:
                continue
            vectors.append(vector)
            intents.append(str(message.get(INTENT)))
            topics.append(example_topic(message))
        if vectors:
            self.index = Index(np.stack(vectors), intents, topics)
        self.persist()
        return self._resource

    def persist(self) -> None:
        if self.index is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            rows_intent = [self.index.intent_names[i] for i in self.index.row_intent]
            rows_topic = [self.index.topic_names[t] if t >= 0 else "" for t in self.index.row_topic]
            np.savez_compressed(directory / INDEX_FILE, vectors=self.index.vectors.astype(np.float16),
                                intents=np.array(rows_intent), topics=np.array(rows_topic),
                                vocabulary=np.array(sorted(self.vocabulary)))

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "CouncilTopicClassifier":
        index, vocabulary = None, set()
        try:
            with model_storage.read_from(resource) as directory:
                saved = np.load(directory / INDEX_FILE)
                index = Index(saved["vectors"].astype(np.float32), [str(i) for i in saved["intents"]],
                              [str(t) or None for t in saved["topics"]])
                vocabulary = {str(w) for w in saved["vocabulary"]} | encoder_words()
        except (ValueError, FileNotFoundError, KeyError):
            index = None  # an untrained model: pass the classifier's ranking through
        return cls(config, model_storage, resource, index, vocabulary)

    def knows_a_word(self, text: str) -> bool:
        """True if the message has a word the bot has met, or no words to judge."""
        words = words_of(text)
        return not words or not self.vocabulary or bool(words & self.vocabulary)

    # --- parsing ------------------------------------------------------------

    def scored(self, message: Message) -> Scored | None:
        """The blend for one parsed message (None when nothing to blend)."""
        vector = self._sentence_vector(message)
        if self.index is None or vector is None:
            return None
        pieces = clauses(message.get(TEXT) or "", self.params)
        queries = [vector]
        if pieces:
            queries += [e.sentence for e in minilm.shared_model().encode(pieces)]
        ranking = {str(r["name"]): float(r["confidence"]) for r in message.get(INTENT_RANKING_KEY) or []}
        return score(self.index, np.stack(queries), ranking, self.params)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if (message.get(TEXT) or "").startswith("/"):
                continue  # a button's payload: the RegexMessageHandler reads it, not the blend
            result = self.scored(message)
            if result is None:
                continue
            name, confidence = result.intent
            if not self.knows_a_word(message.get(TEXT) or ""):
                result = Scored([(n, 0.0) for n, _ in result.intents], [(t, of, 0.0) for t, of, _ in result.topics])
                confidence = 0.0
            message.set(INTENT, {"name": name, "confidence": round(confidence, 6)}, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking_shown(result.intents), add_to_output=True)
            mine = [(t, c) for t, of, c in result.topics if of == name]
            total = sum(c for _, c in mine)
            topic = {"name": mine[0][0], "confidence": round(mine[0][1] / total, 6)} if mine and total > 0 else None
            message.set(TOPIC, topic, add_to_output=True)
            message.set(TOPIC_RANKING,
                        [{"name": t, "intent": of, "confidence": round(c, 6)}
                         for t, of, c in result.topics[:RANKING_LENGTH]],
                        add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
