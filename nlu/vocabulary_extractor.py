"""spaCy PhraseMatcher over the shared vocabulary: districts, degrees, titles, honours, programmes, ..."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import vocabulary

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

logger = logging.getLogger(__name__)

PATTERNS_FILE = "vocabulary_patterns.json"

# The matcher's own segmentation: every Chinese character is a token (so a phrase matches anywhere in
# Chinese text, which has no spaces), a run of ASCII letters/digits is one token (so "qingpu" never
# matches inside another English word), any other non-space character is a token of its own.
_SEGMENT = re.compile(r"[a-z0-9]+|\S")
BLOCKER = "__blocker__"


def segment(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end) of the folded text; offsets are offsets into the original text."""
    return [(m.group(0), m.start(), m.end()) for m in _SEGMENT.finditer(vocabulary.fold_text(text))]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class VocabularyEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Finds vocabulary phrases in a message and emits entities with their canonical value.

    One spaCy PhraseMatcher (blank multi-language pipeline, nothing downloaded) holds every alias of
    policies/vocabulary.yml plus full_time and language from nlu/domain_terms.yml. Matching is
    case-insensitive. Overlapping matches: the longest wins (国家科学技术奖一等奖 over 国家科学技术奖,
    副研究员 over 研究员, 正高级教师 over 高级教师), then the earliest. Topic words from domain_terms
    (人才公寓, 上海人才) take part in that contest without producing an entity, so 上海人 is not a hukou
    inside 上海人才公寓.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            # the shared vocabulary of canonical values and aliases
            "vocabulary_path": vocabulary.DEFAULT_VOCABULARY_PATH,
            # extra sections (full_time, language), exclusions, topic words that block partial matches
            "domain_terms_path": vocabulary.DEFAULT_DOMAIN_TERMS_PATH,
            # entity types to emit; None = all of them
            "dimensions": None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        patterns: list[dict[str, Any]],
    ) -> None:
        """Builds the matcher from patterns: [{"text", "entity", "value"}]."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._patterns = patterns
        self._nlp, self._matcher = self._build_matcher(patterns)

    @staticmethod
    def required_packages() -> list[str]:
        """Any extra python dependencies required for this component to run."""
        return ["spacy"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when the vocabulary changes, not only when the config does."""
        # Rasa passes only the keys set in config.yml here, without the defaults
        config = {**cls.get_default_config(), **config}
        return vocabulary.files_fingerprint([config["vocabulary_path"], config["domain_terms_path"]])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VocabularyEntityExtractor:
        """Creates the extractor from the vocabulary files."""
        return cls(config, model_storage, resource, cls._patterns_from_files(config))

    @staticmethod
    def _patterns_from_files(config: dict[str, Any]) -> list[dict[str, Any]]:
        import yaml

        phrases = vocabulary.load_phrases(config["vocabulary_path"], config["domain_terms_path"])
        patterns = [{"text": p.text, "entity": p.entity, "value": p.value} for p in phrases]
        with open(vocabulary.resolve_path(config["domain_terms_path"]), encoding="utf-8") as handle:
            blockers = (yaml.safe_load(handle) or {}).get("jieba_terms") or []
        patterns += [{"text": str(term), "entity": BLOCKER, "value": None} for term in blockers]
        return patterns

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> VocabularyEntityExtractor:
        """Loads the patterns stored in the model."""
        try:
            with model_storage.read_from(resource) as directory:
                patterns = json.loads((Path(directory) / PATTERNS_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning(f"{cls.__name__}: no patterns in the model; reading the vocabulary files.")
            patterns = cls._patterns_from_files(config)
        return cls(config, model_storage, resource, patterns)

    def train(self, training_data: TrainingData) -> Resource:
        """Nothing to learn: stores the patterns so the model does not need the repo's files."""
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Writes the patterns into the model storage."""
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / PATTERNS_FILE).write_text(
                json.dumps(self._patterns, ensure_ascii=False), encoding="utf-8"
            )

    @staticmethod
    def _build_matcher(patterns: list[dict[str, Any]]) -> tuple[Language, PhraseMatcher]:
        import spacy
        from spacy.matcher import PhraseMatcher

        nlp = spacy.blank("xx")
        matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        for index, pattern in enumerate(patterns):
            matcher.add(str(index), [VocabularyEntityExtractor._make_doc(nlp, pattern["text"])])
        return nlp, matcher

    @staticmethod
    def _make_doc(nlp: Language, text: str) -> Doc:
        from spacy.tokens import Doc

        words = [token for token, _, _ in segment(text)]
        return Doc(nlp.vocab, words=words, spaces=[False] * len(words))

    def extract(self, text: str) -> list[dict[str, Any]]:
        """Entities found in the text: entity, canonical value, start, end, extractor."""
        offsets = segment(text)
        if not offsets:
            return []
        doc = self._make_doc(self._nlp, text)
        matches = [
            (start, end, self._patterns[int(self._nlp.vocab.strings[match_id])])
            for match_id, start, end in self._matcher(doc)
        ]
        entities = []
        for start, end, pattern in self._longest_first(matches):
            if pattern["entity"] == BLOCKER:
                continue
            entities.append(
                {
                    "entity": pattern["entity"],
                    "value": pattern["value"],
                    "start": offsets[start][1],
                    "end": offsets[end - 1][2],
                    "confidence_entity": 1.0,
                }
            )
        entities = self.add_extractor_name(entities)
        return self.filter_irrelevant_entities(entities, self._config.get("dimensions"))

    @staticmethod
    def _longest_first(
        matches: list[tuple[int, int, dict[str, Any]]],
    ) -> list[tuple[int, int, dict[str, Any]]]:
        """Non-overlapping spans: longest first, then earliest; a blocker loses a tie to an entity.

        Every pattern of a chosen span is kept, so a compound phrase (在职研究生) gives all its entities.
        """
        ranked = sorted(matches, key=lambda m: (m[0] - m[1], m[0], m[2]["entity"] == BLOCKER))
        chosen: list[tuple[int, int, dict[str, Any]]] = []
        for match in ranked:
            same_span = [other for other in chosen if (other[0], other[1]) == (match[0], match[1])]
            if same_span and BLOCKER not in {match[2]["entity"], same_span[0][2]["entity"]}:
                chosen.append(match)
            elif all(match[1] <= other[0] or match[0] >= other[1] for other in chosen):
                chosen.append(match)
        return sorted(chosen, key=lambda m: m[0])

    def process(self, messages: list[Message]) -> list[Message]:
        """Appends the vocabulary entities to the entities already found."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            message.set(ENTITIES, message.get(ENTITIES, []) + self.extract(text), add_to_output=True)
        return messages
