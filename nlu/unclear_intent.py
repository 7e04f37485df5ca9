"""Filler is unclear, however confident the classifier is about it.

DIET gives every message some intent, often with high confidence: "随便" came out as a yes, "问下补贴" as a
complaint (which hands the person to staff). The training data has an intent for filler, `unclear`
(data/nlu/unclear.yml), so such messages stop borrowing a real intent's confidence; this component, after
Rasa's FallbackClassifier, renames it to nlu_fallback. Everything downstream (the clarifying buttons, the
hand-over after two unclear messages, the console's review queue) then treats filler exactly like a
message below the confidence threshold, and no rule or story has to know the `unclear` intent.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

UNCLEAR_INTENT = "unclear"


def as_fallback(parse: dict[str, Any]) -> dict[str, Any]:
    """The parse data with an `unclear` top intent renamed to nlu_fallback (same confidence), the fallback
    put first in the ranking as FallbackClassifier does; any other parse unchanged."""
    intent = parse.get(INTENT) or {}
    if intent.get(INTENT_NAME_KEY) != UNCLEAR_INTENT:
        return parse
    fallback = {
        INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
        PREDICTED_CONFIDENCE_KEY: intent.get(PREDICTED_CONFIDENCE_KEY),
    }
    ranking = [fallback, *(parse.get(INTENT_RANKING_KEY) or [])]
    return {**parse, INTENT: fallback, INTENT_RANKING_KEY: ranking}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class UnclearAsFallback(GraphComponent, IntentClassifier):
    """Renames the filler intent to nlu_fallback; place it after FallbackClassifier."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnclearAsFallback:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            renamed = as_fallback(
                {INTENT: message.get(INTENT), INTENT_RANKING_KEY: message.get(INTENT_RANKING_KEY)}
            )
            if renamed[INTENT] is not message.get(INTENT):
                message.set(INTENT, renamed[INTENT], add_to_output=True)
                message.set(INTENT_RANKING_KEY, renamed[INTENT_RANKING_KEY], add_to_output=True)
        return messages
