"""spaCy PhraseMatcher over the shared vocabulary: districts, degrees, titles, honours, programmes, ..."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from rasa.engine.graph import GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu import vocabulary
from nlu.stored import StoredResourcesMixin

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

logger = logging.getLogger(__name__)


# The matcher's own segmentation: every Chinese character is a token (so a phrase matches anywhere in
# Chinese text, which has no spaces), a run of ASCII letters/digits is one token (so "qingpu" never
# matches inside another English word), any other non-space character is a token of its own.
_SEGMENT = re.compile(r"[a-z0-9]+|\S")
BLOCKER = "__blocker__"


def segment(text: str) -> list[tuple[str, int, int]]:
    """(token, start, end) of the folded text; offsets are offsets into the original text."""
    return [(m.group(0), m.start(), m.end()) for m in _SEGMENT.finditer(vocabulary.fold_text(text))]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class VocabularyEntityExtractor(StoredResourcesMixin, GraphComponent, EntityExtractorMixin):
    """Finds vocabulary phrases in a message and emits entities with their canonical value.

    One spaCy PhraseMatcher (blank multi-language pipeline, nothing downloaded) holds every alias of
    policies/vocabulary.yml plus full_time and language from nlu/domain_terms.yml. Matching is
    case-insensitive. Overlapping matches: the longest wins (国家科学技术奖一等奖 over 国家科学技术奖,
    副研究员 over 研究员, 正高级教师 over 高级教师), then the earliest. Topic words from domain_terms
    (人才公寓, 上海人才) take part in that contest without producing an entity, so 上海人 is not a hukou
    inside 上海人才公寓. A phrase in a question about getting it (上海户口咋落) or about someone else
    (孩子上初中) is dropped (domain_terms.yml, not_stated).
    """

    STORED_FILE = "vocabulary_patterns.json"

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
        resources: dict[str, Any] | list[dict[str, Any]],
    ) -> None:
        """resources: {"patterns": [{"text", "entity", "value"}], "not_stated": [rule dicts],
        "spelling_variants": {misspelling: word meant}}
        (a bare list of patterns, as older models stored, means no not_stated rules)."""
        if isinstance(resources, list):
            resources = {"patterns": resources}
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._patterns = resources["patterns"]
        self._not_stated = list(resources.get("not_stated") or [])
        self._not_stated_rules = vocabulary.build_not_stated_rules(self._not_stated)
        self._spelling = dict(resources.get("spelling_variants") or {})
        self._correct = vocabulary.spelling_corrector(self._spelling)
        self._nlp, self._matcher = self._build_matcher(self._patterns)

    @staticmethod
    def required_packages() -> list[str]:
        """Any extra python dependencies required for this component to run."""
        return ["spacy"]

    @classmethod
    def resources_from_files(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Patterns of every vocabulary phrase (plus blockers) and the not_stated rules."""
        import yaml

        phrases = vocabulary.load_phrases(config["vocabulary_path"], config["domain_terms_path"])
        patterns = [{"text": p.text, "entity": p.entity, "value": p.value} for p in phrases]
        with open(vocabulary.resolve_path(config["domain_terms_path"]), encoding="utf-8") as handle:
            blockers = (yaml.safe_load(handle) or {}).get("jieba_terms") or []
        patterns += [{"text": str(term), "entity": BLOCKER, "value": None} for term in blockers]
        return {
            "patterns": patterns,
            "not_stated": vocabulary.not_stated_rules(config["domain_terms_path"]),
            "spelling_variants": vocabulary.spelling_variants(config["domain_terms_path"]),
        }

    def stored_resources(self) -> dict[str, Any]:
        return {
            "patterns": self._patterns,
            "not_stated": self._not_stated,
            "spelling_variants": self._spelling,
        }

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
        """Entities found in the text: entity, canonical value, start, end, extractor. Typos are read as
        the word meant (青蒲 is 青浦: domain_terms.yml, spelling_variants)."""
        text = self._correct(text)
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
            if pattern["entity"] == BLOCKER or self._not_stated_here(text, offsets, start, end, pattern):
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

    def _not_stated_here(
        self, text: str, offsets: list[tuple[str, int, int]], start: int, end: int, pattern: dict[str, Any]
    ) -> bool:
        """A phrase in a question about getting it, or about someone else (domain_terms: not_stated).
        It still takes part in the longest-match contest, so no shorter phrase inside it is emitted."""
        char_start, char_end = offsets[start][1], offsets[end - 1][2]
        return any(
            rule.applies(text, char_start, char_end, pattern["entity"], pattern["value"])
            for rule in self._not_stated_rules
        )

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
