"""Last step of the NLU pipeline: number entities, and canonical values for every entity found so far."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import numbers, vocabulary

logger = logging.getLogger(__name__)

LOOKUP_FILE = "canonical_values.json"
NUMBER_ENTITIES = {"age", "annual_salary", "residence_points"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class NumberNormaliser(GraphComponent, EntityExtractorMixin):
    """Finds ages, salaries (万元/year) and residence-permit points, then cleans all entities.

    1. Rule-based number entities (see nlu/numbers.py for the cue words and how ambiguity is resolved:
       a bare number without a cue is never an entity, even as the whole message).
    2. Entities of earlier extractors (DIET, synonym mapper) get canonical values: numbers become
       numbers ("120w" -> 120), vocabulary aliases become canonical keys ("Qingpu" -> 青浦). A
       closed-class entity whose text matches nothing in the vocabulary is dropped: every value after
       this component is one the policies engine accepts.
    3. Conflicts: where a statistical entity overlaps a rule-based one (this component, the vocabulary
       extractor, Rasa's RegexEntityExtractor), the rule-based one stays — the rules match exact,
       curated phrases, DIET only guesses from context. The same type and value found twice is kept
       once. Two statistical entities that overlap keep the more confident.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            # the shared vocabulary: aliases -> canonical values for closed-class entities
            "vocabulary_path": vocabulary.DEFAULT_VOCABULARY_PATH,
            # extra sections (full_time, language) and exclusions
            "domain_terms_path": vocabulary.DEFAULT_DOMAIN_TERMS_PATH,
            # extractors whose entities win over overlapping statistical ones
            "rule_based_extractors": [
                "NumberNormaliser",
                "VocabularyEntityExtractor",
                "RegexEntityExtractor",
            ],
            # drop closed-class entities whose value is not in the vocabulary (else keep them as found)
            "drop_unknown_values": True,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        lookup: dict[str, dict[str, Any]],
    ) -> None:
        """lookup: entity -> {folded surface form -> canonical value}."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._lookup = lookup
        self._rule_based = set(config["rule_based_extractors"])
        # longest surface forms first, to find an alias inside a longer span ("青浦新城的" -> 青浦)
        self._forms_by_length = {
            entity: sorted(table, key=len, reverse=True) for entity, table in lookup.items()
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when the vocabulary or the number rules change."""
        # Rasa passes only the keys set in config.yml here, without the defaults
        config = {**cls.get_default_config(), **config}
        files = [config["vocabulary_path"], config["domain_terms_path"], Path(numbers.__file__)]
        return vocabulary.files_fingerprint(files)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NumberNormaliser:
        """Creates the normaliser from the vocabulary files."""
        phrases = vocabulary.load_phrases(config["vocabulary_path"], config["domain_terms_path"])
        return cls(config, model_storage, resource, vocabulary.canonical_lookup(phrases))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NumberNormaliser:
        """Loads the canonical-value table stored in the model."""
        try:
            with model_storage.read_from(resource) as directory:
                lookup = json.loads((Path(directory) / LOOKUP_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning(f"{cls.__name__}: no value table in the model; reading the vocabulary files.")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, lookup)

    def train(self, training_data: TrainingData) -> Resource:
        """Nothing to learn: stores the value table so the model does not need the repo's files."""
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / LOOKUP_FILE).write_text(
                json.dumps(self._lookup, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds number entities and leaves every entity with a canonical value, conflicts resolved."""
        for message in messages:
            text = message.get(TEXT) or ""
            found = [self._canonical(entity, text) for entity in message.get(ENTITIES, [])]
            found = [entity for entity in found if entity is not None]
            found += self.number_entities(text)
            message.set(ENTITIES, self._resolve_conflicts(found), add_to_output=True)
        return messages

    def number_entities(self, text: str) -> list[dict[str, Any]]:
        """The rule-based number entities of a text, as Rasa entity dicts."""
        entities = [
            {"entity": e.entity, "value": e.value, "start": e.start, "end": e.end, "confidence_entity": 1.0}
            for e in numbers.extract_numbers(text)
        ]
        return self.add_extractor_name(entities)

    def _canonical(self, entity: dict[str, Any], text: str) -> dict[str, Any] | None:
        """The entity with a canonical value, or None when it cannot have one."""
        kind = entity.get("entity")
        start, end = entity.get("start"), entity.get("end")
        span = text[start:end] if isinstance(start, int) and isinstance(end, int) else ""
        if kind in NUMBER_ENTITIES:
            value = self._number_value(kind, entity.get("value"), span)
        elif kind in self._lookup:
            value = self._vocabulary_value(kind, entity.get("value"), span)
            if value is None and not self._config["drop_unknown_values"]:
                return entity
        else:
            return entity  # an entity type this component does not know: left as it is
        if value is None:
            logger.debug(f"dropping entity {kind!r} from {entity.get('extractor')}: no canonical value")
            return None
        if value != entity.get("value"):
            entity = dict(entity, value=value)
            if entity.get("extractor") != self.name:
                self.add_processor_name(entity)
        return entity

    @staticmethod
    def _number_value(kind: str, value: Any, span: str) -> float | int | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        for candidate in (span, str(value or "")):
            if not candidate:
                continue
            parsed = (
                numbers.parse_salary(candidate)
                if kind == "annual_salary"
                else numbers.first_number(candidate)
            )
            if parsed is not None:
                return int(parsed) if kind == "age" else parsed
        return None

    def _vocabulary_value(self, kind: str, value: Any, span: str) -> Any:
        table = self._lookup[kind]
        for candidate in (value, span):
            if isinstance(candidate, bool) and candidate in table.values():
                return candidate
            folded = vocabulary.fold_text(str(candidate)).strip() if candidate is not None else ""
            if folded in table:
                return table[folded]
        folded_span = vocabulary.fold_text(span or str(value or ""))
        for form in self._forms_by_length[kind]:
            if form and form in folded_span:
                return table[form]
        return None

    def _is_rule_based(self, entity: dict[str, Any]) -> bool:
        return entity.get("extractor") in self._rule_based

    def _resolve_conflicts(self, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rule-based before statistical, then by confidence; drop what overlaps or repeats a kept one."""

        def rank(entity: dict[str, Any]) -> tuple[int, float]:
            confidence = entity.get("confidence_entity")
            return (0 if self._is_rule_based(entity) else 1, -(confidence if confidence is not None else 0.0))

        kept: list[dict[str, Any]] = []
        for entity in sorted(entities, key=rank):
            if any(self._conflicts(entity, other) for other in kept):
                continue
            kept.append(entity)
        return sorted(kept, key=lambda e: (e.get("start") or 0, e.get("end") or 0))

    def _conflicts(self, entity: dict[str, Any], kept: dict[str, Any]) -> bool:
        same_type = entity.get("entity") == kept.get("entity")
        if same_type and entity.get("value") == kept.get("value"):
            return True
        start, end = entity.get("start"), entity.get("end")
        if start is None or end is None or kept.get("start") is None:
            return False
        overlaps = start < kept["end"] and kept["start"] < end
        # two rule-based entities of different types may not overlap anyway (each rule set resolves
        # its own overlaps); a statistical entity loses to any overlapping kept entity.
        return overlaps and (same_type or not self._is_rule_based(entity))
