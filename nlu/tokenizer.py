"""Jieba tokenizer with the assistant's domain dictionary, for Chinese and English messages."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu import vocabulary

if TYPE_CHECKING:
    import jieba

logger = logging.getLogger(__name__)

DICTIONARY_FILE = "domain_dictionary.txt"

# A token made of a number and a unit (三十五岁, 120w, 一百二十分) is split in two, so that an entity
# annotated on the number alone ([35](age)岁) or on both ([120w](annual_salary)) spans whole tokens.
_NUMBER_WITH_UNIT = re.compile(
    r"^(?P<number>[0-9０-９]+(?:[.．][0-9０-９]+)?|[零〇一二两俩三四五六七八九十百千]+(?:点[零〇一二三四五六七八九]+)?)"
    r"(?P<unit>周岁|岁|百万|万元|万|亿|千|元|块|分|w|W|k|K)$"
)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class DomainJiebaTokenizer(JiebaTokenizer):
    """Jieba with a dictionary built from policies/vocabulary.yml and nlu/domain_terms.yml.

    Differences from Rasa's JiebaTokenizer: the dictionary is generated (not hand-kept), it goes into
    a private jieba instance (the process-wide one stays untouched, so two models never mix
    dictionaries), it is stored in the model, whitespace is not a token, and numbers are split from
    their units.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            **JiebaTokenizer.get_default_config(),
            # the shared vocabulary: every Chinese canonical value and alias becomes a jieba word
            "vocabulary_path": vocabulary.DEFAULT_VOCABULARY_PATH,
            # NLU word lists: topic words for jieba, and numeral-like words never split (十分)
            "domain_terms_path": vocabulary.DEFAULT_DOMAIN_TERMS_PATH,
            # split "35岁" / "120w" into number + unit tokens
            "split_number_units": True,
            # jieba's HMM guesses words missing from its dictionary (names, new terms)
            "use_hmm": True,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        dictionary_lines: list[str] | None = None,
        numeral_words: list[str] | None = None,
    ) -> None:
        """Builds the private jieba instance from the dictionary lines."""
        super().__init__(config, model_storage, resource)
        self._dictionary_lines = list(dictionary_lines or [])
        self._numeral_words = set(numeral_words or [])
        self._jieba = self._build_jieba(self._dictionary_lines)

    @staticmethod
    def required_packages() -> list[str]:
        """Any extra python dependencies required for this component to run."""
        return ["jieba"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain when the vocabulary or the word lists change, not only when the config does."""
        return vocabulary.files_fingerprint([config["vocabulary_path"], config["domain_terms_path"]])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DomainJiebaTokenizer:
        """Creates the tokenizer from the vocabulary files (at training time)."""
        lines = vocabulary.jieba_words(config["vocabulary_path"], config["domain_terms_path"])
        if config.get("dictionary_path"):
            lines += cls._read_user_dictionaries(config["dictionary_path"])
        numeral_words = vocabulary.numeral_words(config["domain_terms_path"])
        return cls(config, model_storage, resource, lines, numeral_words)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> DomainJiebaTokenizer:
        """Loads the dictionary stored in the model (the repo's files are not needed at run time)."""
        try:
            with model_storage.read_from(resource) as directory:
                lines = (Path(directory) / DICTIONARY_FILE).read_text(encoding="utf-8").splitlines()
                numeral_file = Path(directory) / "numeral_words.txt"
                numeral_words = numeral_file.read_text(encoding="utf-8").splitlines()
        except (ValueError, FileNotFoundError):
            logger.warning(f"{cls.__name__}: no dictionary in the model; building it from the repo files.")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, lines, numeral_words)

    @staticmethod
    def _read_user_dictionaries(path: str) -> list[str]:
        """Lines of extra jieba user dictionaries (Rasa's `dictionary_path`: a folder of files)."""
        lines: list[str] = []
        for file in sorted(vocabulary.resolve_path(path).glob("*")):
            lines += [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        return lines

    def _build_jieba(self, lines: list[str]) -> jieba.Tokenizer:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        instance = jieba.Tokenizer()
        for line in lines:
            word, *rest = line.split()
            # no frequency: jieba then picks one high enough to keep the word whole
            freq = int(rest[0]) if rest and rest[0].isdigit() else None
            instance.add_word(word, freq)
        return instance

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the generated dictionary in the model."""
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Writes the dictionary and the numeral words into the model storage."""
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / DICTIONARY_FILE).write_text(
                "\n".join(self._dictionary_lines), encoding="utf-8"
            )
            (Path(directory) / "numeral_words.txt").write_text(
                "\n".join(sorted(self._numeral_words)), encoding="utf-8"
            )

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokens with character offsets into the original text; whitespace is dropped."""
        text = message.get(attribute)
        tokens: list[Token] = []
        for word, start, _end in self._jieba.tokenize(text, HMM=self._config["use_hmm"]):
            if not word.strip():
                continue
            tokens += self._split_number_unit(word, start)
        return self._apply_token_pattern(tokens)

    def _split_number_unit(self, word: str, start: int) -> list[Token]:
        match = _NUMBER_WITH_UNIT.match(word)
        if not self._config["split_number_units"] or not match or word in self._numeral_words:
            return [Token(word, start)]
        number, unit = match.group("number"), match.group("unit")
        return [Token(number, start), Token(unit, start + len(number))]
