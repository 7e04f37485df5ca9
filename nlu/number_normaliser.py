"""Last step of the NLU pipeline: number entities, and canonical values for every entity found so far."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu import number_context, number_mentions, numbers, vocabulary
from nlu.stored import StoredResourcesMixin

logger = logging.getLogger(__name__)

NUMBER_ENTITIES = {"age", "annual_salary", "residence_points"}
# the profile fields (numbers_by_unit) each number entity may stand for; None = points not said which
NUMBER_FIELDS = {
    "age": {"age"},
    "annual_salary": {"annual_salary_wan"},
    "residence_points": {"residence_permit_points", None},
}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class NumberNormaliser(StoredResourcesMixin, GraphComponent, EntityExtractorMixin):
    """Finds ages, salaries (万元/year) and residence-permit points, then cleans all entities.

    1. Rule-based number entities (see nlu/numbers.py for the cue words and how ambiguity is resolved:
       a bare number without a cue is never an entity, even as the whole message; a bound such as
       积分还没到120 is never an entity; points the words call 人才积分 are not residence points).
       Each number of a message is assigned on its own: "我38岁…注册资本500万" gives the age only.
    2. Entities of earlier extractors (DIET, synonym mapper) get canonical values: numbers become
       numbers ("120w" -> 120), vocabulary aliases become canonical keys ("Qingpu" -> 青浦). A
       closed-class entity whose text matches nothing in the vocabulary is dropped: every value after
       this component is one the policies engine accepts.
    3. Conflicts: where a statistical entity overlaps a rule-based one (this component, the vocabulary
       extractor, Rasa's RegexEntityExtractor), the rule-based one stays — the rules match exact,
       curated phrases, DIET only guesses from context. The same type and value found twice is kept
       once. Two statistical entities that overlap keep the more confident.
    4. A vocabulary entity in a question about getting it or about someone else (domain_terms.yml,
       not_stated) is dropped, whichever extractor found it.
    """

    STORED_FILE = "canonical_values.json"

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
        resources: dict[str, Any],
    ) -> None:
        """resources: {"lookup": entity -> {folded surface form -> canonical value},
        "not_stated": [rule dicts], "spelling_variants": {misspelling: word meant}} (a bare lookup, as older models stored, means no rules)."""
        if "lookup" not in resources:
            resources = {"lookup": resources}
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._lookup = resources["lookup"]
        self._not_stated = list(resources.get("not_stated") or [])
        self._not_stated_rules = vocabulary.build_not_stated_rules(self._not_stated)
        self._spelling = dict(resources.get("spelling_variants") or {})
        self._correct = vocabulary.spelling_corrector(self._spelling)
        self._rule_based = set(config["rule_based_extractors"])
        # longest surface forms first, to find an alias inside a longer span ("青浦新城的" -> 青浦)
        self._forms_by_length = {
            entity: sorted(table, key=len, reverse=True) for entity, table in self._lookup.items()
        }

    @classmethod
    def source_files(cls, config: dict[str, Any]) -> list[str | Path]:
        """The vocabulary files and the number rules (parser and context cues)."""
        return [
            config["vocabulary_path"],
            config["domain_terms_path"],
            Path(numbers.__file__),
            Path(number_mentions.__file__),
            Path(number_context.__file__),
        ]

    @classmethod
    def resources_from_files(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The canonical-value table and the not_stated rules, from the vocabulary files."""
        phrases = vocabulary.load_phrases(config["vocabulary_path"], config["domain_terms_path"])
        return {
            "lookup": vocabulary.canonical_lookup(phrases),
            "not_stated": vocabulary.not_stated_rules(config["domain_terms_path"]),
            "spelling_variants": vocabulary.spelling_variants(config["domain_terms_path"]),
        }

    def stored_resources(self) -> dict[str, Any]:
        return {"lookup": self._lookup, "not_stated": self._not_stated, "spelling_variants": self._spelling}

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds number entities and leaves every entity with a canonical value, conflicts resolved."""
        for message in messages:
            text = self._correct(message.get(TEXT) or "")  # 青蒲 is 青浦 (spelling_variants), same offsets
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
            if span and number_context.bound_of(vocabulary.fold_text(text), start, end) != "=":
                return None  # 积分还没到120: a bound, whichever extractor found it, is not the value
            if span and not self._is_rule_based(entity) and self._unit_says_otherwise(kind, text, start, end):
                return (
                    None  # DIET's "age" on 工作过5年 or 注册资本500万: the unit and cue words say otherwise
                )
            value = self._number_value(kind, entity.get("value"), span)
        elif kind in self._lookup:
            value = self._vocabulary_value(kind, entity.get("value"), span)
            if value is not None and self._not_stated_here(text, entity, kind, value):
                return None
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
    def _unit_says_otherwise(kind: str, text: str, start: int, end: int) -> bool:
        """Whether the number's unit or cue words (numbers_by_unit) name another fact than `kind`; a
        number with neither (the bare 28 in "PhD, 28, Qingpu") is left to the statistical extractor."""
        mention = next((m for m in number_mentions.numbers_by_unit(text) if m.start <= start < m.end), None)
        if mention is None or not mention.unit:
            return False
        return mention.field not in NUMBER_FIELDS[kind]

    def _not_stated_here(self, text: str, entity: dict[str, Any], kind: str, value: Any) -> bool:
        start, end = entity.get("start"), entity.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            return False
        return any(rule.applies(text, start, end, kind, value) for rule in self._not_stated_rules)

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
