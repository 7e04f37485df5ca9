"""Jieba tokenizer with the assistant's domain dictionary, for Chinese and English messages."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from nlu import vocabulary
from nlu.stored import StoredResourcesMixin

if TYPE_CHECKING:
    import jieba

logger = logging.getLogger(__name__)

WORD_LISTS = ("dictionary", "phrases", "blockers", "numeral_words")

# Boundaries. Entities in the training data are annotated on the core word (副高 in 副高职称, 中文 in
# 说中文, 35 in 35岁, 九十 in 九十分), while jieba happily glues such words to their neighbours. So after
# jieba, token boundaries are adjusted:
#   - every occurrence of a vocabulary phrase starts and ends on a boundary (副高|职称, 说|中文,
#     副|研究员 — a longer phrase stays annotatable, it just spans two tokens), and jieba's own
#     boundaries inside a phrase are removed (诺|奖得主 -> 诺奖|得主);
#   - a phrase that cuts through a topic word is ignored (上海人 inside 上海人才公寓);
#   - a number is one token and its unit another (三十五|岁, 120|w, 九十|分), except inside ordinary
#     words (十分感谢, 千万) and domain words (一等奖, 一事一议).
_NUMERAL_RUN = re.compile(
    r"[0-9０-９]+(?:[.．][0-9０-９]+)?|[零〇一二两俩三四五六七八九十百千]+(?:[万亿][零〇一二两俩三四五六七八九十百千]+)*(?:点[零〇一二三四五六七八九]+)?"
)
_UNIT_AFTER_NUMBER = re.compile(r"周岁|岁|分|万|千|元|块|w|W|k|K|百万|亿|points?|years?")


def _occurrences(text: str, phrase: str) -> list[tuple[int, int]]:
    found, start = [], text.find(phrase)
    while start != -1:
        found.append((start, start + len(phrase)))
        start = text.find(phrase, start + 1)
    return found


def _crosses(span: tuple[int, int], other: tuple[int, int]) -> bool:
    """True when the spans overlap without one containing the other."""
    (a, b), (c, d) = span, other
    return a < d and c < b and not (a <= c and d <= b) and not (c <= a and b <= d)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class DomainJiebaTokenizer(StoredResourcesMixin, JiebaTokenizer):
    """Jieba with a dictionary built from policies/vocabulary.yml and nlu/domain_terms.yml.

    Differences from Rasa's JiebaTokenizer: the dictionary is generated (not hand-kept), it goes into
    a private jieba instance (the process-wide one stays untouched, so two models never mix
    dictionaries), it is stored in the model, whitespace is not a token, and numbers are split from
    their units, and typos from domain_terms.yml's spelling table are corrected (same offsets).
    """

    STORED_FILE = "word_lists.json"

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
        word_lists: dict[str, Any] | None = None,
    ) -> None:
        """word_lists: "dictionary" (jieba lines), "phrases" (vocabulary phrases to align tokens on),
        "blockers" (topic words phrases may not cut through), "numeral_words" (十分, 千万),
        "spelling_variants" (misspelling -> the word meant: tokens carry the corrected spelling)."""
        super().__init__(config, model_storage, resource)
        self._word_lists = {key: list((word_lists or {}).get(key, [])) for key in WORD_LISTS}
        self._spelling = dict((word_lists or {}).get("spelling_variants") or {})
        self._correct = vocabulary.spelling_corrector(self._spelling)
        self._phrases = [vocabulary.fold_text(p) for p in self._word_lists["phrases"]]
        self._blockers = [vocabulary.fold_text(b) for b in self._word_lists["blockers"]]
        self._whole_words = set(self._word_lists["numeral_words"]) | {
            line.split()[0] for line in self._word_lists["dictionary"] if line.split()
        }
        self._jieba = self._build_jieba(self._word_lists["dictionary"])

    @staticmethod
    def required_packages() -> list[str]:
        """Any extra python dependencies required for this component to run."""
        return ["jieba"]

    @classmethod
    def resources_from_files(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The word lists, generated from the vocabulary files (at training time)."""
        paths = config["vocabulary_path"], config["domain_terms_path"]
        lines = vocabulary.jieba_words(*paths)
        if config.get("dictionary_path"):
            lines += cls._read_user_dictionaries(config["dictionary_path"])
        return {
            "dictionary": lines,
            "phrases": sorted(
                {p.text for p in vocabulary.load_phrases(*paths) if not re.search(r"[a-zA-Z\s]", p.text)}
            ),
            "blockers": vocabulary.topic_words(config["domain_terms_path"]),
            "numeral_words": vocabulary.numeral_words(config["domain_terms_path"]),
            "spelling_variants": vocabulary.spelling_variants(config["domain_terms_path"]),
        }

    def stored_resources(self) -> dict[str, Any]:
        return {**self._word_lists, "spelling_variants": self._spelling}

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

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokens with character offsets into the original text; whitespace is dropped. A misspelling
        (domain_terms.yml, spelling_variants) becomes the word meant: 补帖 is the token 补贴."""
        text = self._correct(message.get(attribute))
        pieces = [(start, end) for _, start, end in self._jieba.tokenize(text, HMM=self._config["use_hmm"])]
        if self._config["split_number_units"]:
            pieces = self._realign(text, pieces)
        tokens = [Token(text[start:end], start) for start, end in pieces if text[start:end].strip()]
        return self._apply_token_pattern(tokens)

    def _realign(self, text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Moves jieba's boundaries so vocabulary phrases and numbers can be whole tokens (see top)."""
        folded = vocabulary.fold_text(text)
        boundaries = {0, len(text)} | {start for start, _ in pieces}
        forced: set[int] = set()
        accepted = [span for blocker in self._blockers for span in _occurrences(folded, blocker)]
        occurrences = [span for phrase in self._phrases for span in _occurrences(folded, phrase)]
        # longest first: a shorter phrase cutting through a longer one (高职 in 副高职称) is ignored
        for span in sorted(occurrences, key=lambda s: (s[0] - s[1], s[0])):
            if any(_crosses(span, other) for other in accepted):
                continue
            accepted.append(span)
            boundaries -= set(range(span[0] + 1, span[1]))
            forced |= {span[0], span[1]}
        for run in _NUMERAL_RUN.finditer(folded):
            if self._is_number(folded, run, pieces):
                boundaries -= set(range(run.start() + 1, run.end()))
                forced |= {run.start(), run.end()}
        cuts = sorted(boundaries | forced)
        return list(zip(cuts, cuts[1:], strict=False))

    def _is_number(self, folded: str, run: re.Match, pieces: list[tuple[int, int]]) -> bool:
        """A numeral run that is a number, not part of a word (一下, 一等奖, 十分感谢, 千人计划)."""
        number = run.group(0)
        inside = next(((s, e) for s, e in pieces if s <= run.start() and run.end() <= e), None)
        if inside and folded[inside[0] : inside[1]] in self._whole_words:
            return False  # 十分 in 十分感谢, 一等奖, 一事一议: a word of its own
        if number[0].isdigit() or len(number) > 1:
            return True
        return _UNIT_AFTER_NUMBER.match(folded, run.end()) is not None
