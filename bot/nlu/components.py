"""Custom Rasa NLU components of the council bot (referenced from
bot/config.yml by their dotted path).

- `CouncilEntityExtractor`: the rule-based spaCy entities of bot.nlu.entities.
- `UnreadableInputGuard`: after the FallbackClassifier, turns input the
  English NLU cannot read (no words, another language) into nlu_fallback and
  says why in an `input_problem` entity, so the bot can answer helpfully
  instead of guessing a service.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import entities, language

INPUT_PROBLEM = "input_problem"
FALLBACK_INTENT = "nlu_fallback"


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


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class UnreadableInputGuard(GraphComponent, IntentClassifier):
    """Marks input with no words or in another language as nlu_fallback."""

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
    ) -> "UnreadableInputGuard":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            problem = language.assess(message.get(TEXT) or "")
            if problem is None:
                continue
            fallback = {"name": FALLBACK_INTENT, "confidence": 1.0}
            message.set(INTENT, fallback, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK_INTENT]
            message.set(INTENT_RANKING_KEY, [fallback] + ranking, add_to_output=True)
            problem_entity = {"entity": INPUT_PROBLEM, "value": problem, "start": 0, "end": 0,
                              "confidence": 1.0, "extractor": type(self).__name__}
            message.set(ENTITIES, message.get(ENTITIES, []) + [problem_entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
