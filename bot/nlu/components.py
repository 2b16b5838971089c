"""Custom Rasa NLU components of the council bot (referenced from
bot/config.yml by their dotted path).

- `CouncilEntityExtractor`: the rule-based spaCy entities of bot.nlu.entities.
- `MiniLMFeaturizer`: sentence embeddings (all-MiniLM-L6-v2 run in NumPy).
- `UnreadableInputGuard`: after the FallbackClassifier, turns input the
  English NLU cannot read (no words, another language) into nlu_fallback and
  says why in an `input_problem` entity, so the bot can answer helpfully
  instead of guessing a service.
- `EmergencyFirst`: after the FallbackClassifier, makes a message an
  emergency when the blend gives "emergency" at least `floor` of its vote,
  even where another service or "not understood" came first: a fire with
  someone inside is never answered with the bonfire-smoke page.
- `CrisisSafetyNet`: last, turns a message saying the writer may be at risk
  of harming themselves (data/safety.yml) into out_of_scope with the crisis
  topic, whatever the classifier made of the rest; an emergency stays one.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import entities, hearing, minilm
from bot.nlu.topic_classifier import TOPIC
from bot.nlu.topic_scoring import EMERGENCY, OUT_OF_SCOPE
from council import language
from council.safety import default_safety

INPUT_PROBLEM = "input_problem"
FALLBACK_INTENT = "nlu_fallback"
EMERGENCY_INTENT = EMERGENCY


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class CouncilEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Postcodes, house numbers, references and "which council" questions."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CouncilEntityExtractor":
        entities.pipeline()  # build the spaCy pipeline now, not on the first caller
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = [
                {"entity": e.entity, "value": e.value, "start": e.start, "end": e.end, "confidence": 1.0}
                for e in entities.extract(message.get(TEXT) or "")
            ]
            if found:
                found = self.add_extractor_name(found)
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


class IntentOverride(GraphComponent, IntentClassifier):
    """After the classifiers: a rule that, where it applies, sets the intent
    outright (confidence 1, first in the ranking). Untrained."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [IntentClassifier]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentOverride":
        return cls()

    @staticmethod
    def override(message: Message, intent: str) -> None:
        chosen = {"name": intent, "confidence": 1.0}
        message.set(INTENT, chosen, add_to_output=True)
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != intent]
        message.set(INTENT_RANKING_KEY, [chosen] + ranking, add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class UnreadableInputGuard(IntentOverride):
    """Marks input with no words or in another language as nlu_fallback."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            problem = language.assess(message.get(TEXT) or "")
            if problem is None:
                continue
            self.override(message, FALLBACK_INTENT)
            problem_entity = {"entity": INPUT_PROBLEM, "value": problem, "start": 0, "end": 0,
                              "confidence": 1.0, "extractor": type(self).__name__}
            message.set(ENTITIES, message.get(ENTITIES, []) + [problem_entity], add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencyFirst(IntentOverride):
    """A message the blend thinks may be an emergency (its confidence in
    "emergency" at least `floor`) is an emergency: 999 comes first. A false
    alarm costs a sentence; a missed fire costs more."""

    def __init__(self, floor: float) -> None:
        self.floor = floor

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"floor": 0.2}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyFirst":
        floor = float(config.get("floor", cls.get_default_config()["floor"]))
        if not 0.0 < floor <= 1.0:
            raise ValueError(f"EmergencyFirst: floor must be above 0 and at most 1, not {floor}")
        return cls(floor)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or (message.get(INTENT) or {}).get("name") == EMERGENCY_INTENT:
                continue
            if emergency_share(message.get(INTENT_RANKING_KEY) or []) >= self.floor:
                self.override(message, EMERGENCY_INTENT)
        return messages


def emergency_share(ranking: List[Dict[Text, Any]]) -> float:
    """The confidence a ranking gives "emergency" (0 if it is not there)."""
    return max((float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == EMERGENCY_INTENT),
               default=0.0)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisSafetyNet(IntentOverride):
    """A message with a phrase of data/safety.yml is out_of_scope with the
    crisis topic (confidence 1), so the bot answers with NHS 111's mental
    health option, Samaritans and 999 first. An emergency is left as it is."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisSafetyNet":
        default_safety()  # read data/safety.yml now: a broken file fails at start, not on a caller
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        net = default_safety()
        for message in messages:
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get("name")
            if text.startswith("/") or intent == EMERGENCY_INTENT or not net.at_risk(text):
                continue
            self.override(message, OUT_OF_SCOPE)
            message.set(TOPIC, {"name": net.topic, "confidence": 1.0}, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense features from all-MiniLM-L6-v2 (bot.nlu.minilm): one vector per
    token (the mean of its word-pieces) and the sentence embedding."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MiniLMFeaturizer":
        minilm.shared_model()  # load the weights now, not on the first caller
        return cls(execution_context.node_name, config)

    def process(self, messages: List[Message]) -> List[Message]:
        todo = [m for m in messages if m.get(TOKENS_NAMES[TEXT])]
        if not todo:
            return messages
        texts = [m.get(TEXT) or "" for m in todo]
        heard = [hearing.for_matching(text) for text in texts]
        encoded = minilm.shared_model().encode(heard)
        for message, text, as_heard, vectors in zip(todo, texts, heard, encoded, strict=True):
            tokens = message.get(TOKENS_NAMES[TEXT])
            if as_heard == text:
                sequence = np.stack([self._token_vector(token, vectors) for token in tokens])
            else:  # a place name was respelt: the pieces no longer line up with the tokens
                sequence = np.repeat(vectors.sentence[None, :], len(tokens), axis=0)
            alias = self._identifier
            message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
            message.add_features(Features(vectors.sentence[None, :], FEATURE_TYPE_SENTENCE, TEXT, alias))
        return messages

    @staticmethod
    def _token_vector(token: Any, vectors: minilm.Encoded) -> np.ndarray:
        inside = [i for i, (start, end) in enumerate(vectors.spans) if start < token.end and end > token.start]
        return vectors.pieces[inside].mean(0) if inside else vectors.sentence

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass
