"""The vocabulary as the NLU components see it: phrases -> (entity, canonical value).

Pure Python (no rasa, no spaCy) so the tokenizer, the extractor, the normaliser and the tests share
one reading of policies/vocabulary.yml and nlu/domain_terms.yml.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VOCABULARY_PATH = "policies/vocabulary.yml"
DEFAULT_DOMAIN_TERMS_PATH = "nlu/domain_terms.yml"

_CJK = re.compile(r"[\u3400-\u9fff]")

# One-to-one character folding (full-width ASCII -> ASCII, curly quotes -> straight): the text keeps
# its length, so character offsets found on the folded text are offsets in the original message.
_FOLD_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD_TABLE.update({0x3000: 0x20, 0x2019: 0x27, 0x2018: 0x27, 0x201C: 0x22, 0x201D: 0x22, 0x3002: 0x3002})


def fold_text(text: str) -> str:
    """Full-width ASCII to half-width and curly to straight quotes, lower-cased, same length."""
    folded = text.translate(_FOLD_TABLE).lower()
    # str.lower() can change the length of a few exotic characters (e.g. 'İ'); keep offsets exact.
    if len(folded) != len(text):
        folded = "".join(ch.translate(_FOLD_TABLE).lower()[:1] or ch for ch in text)
    return folded


def resolve_path(path: str | Path) -> Path:
    """A configured path: as given if it exists (relative to cwd), else relative to the repo root."""
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate
    return REPO_ROOT / candidate


def files_fingerprint(paths: Iterable[str | Path]) -> str:
    """A hash of the files' contents, so Rasa retrains a component when its word lists change."""
    digest = hashlib.sha256()
    for path in paths:
        resolved = resolve_path(path)
        digest.update(str(path).encode())
        digest.update(resolved.read_bytes() if resolved.exists() else b"<missing>")
    return digest.hexdigest()


@dataclass(frozen=True)
class Phrase:
    """One surface form of a canonical value."""

    text: str
    entity: str
    value: Any


def _load_yaml(path: str | Path) -> dict[str, Any]:
    with open(resolve_path(path), encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def _section_phrases(section_name: str, section: dict[str, Any], skip: set[str]) -> list[Phrase]:
    entity = section.get("entity")
    values = section.get("values")
    if not entity or not isinstance(values, dict):
        raise ValueError(f"vocabulary section {section_name!r} needs 'entity' and 'values'")
    phrases = []
    for canonical, aliases in values.items():
        surface_forms = [] if str(canonical) in skip or isinstance(canonical, bool) else [str(canonical)]
        surface_forms += [str(alias) for alias in aliases or []]
        phrases += [Phrase(form, entity, canonical) for form in surface_forms]
    return phrases


def load_phrases(
    vocabulary_path: str | Path = DEFAULT_VOCABULARY_PATH,
    domain_terms_path: str | Path = DEFAULT_DOMAIN_TERMS_PATH,
) -> list[Phrase]:
    """Every phrase the vocabulary extractor matches, with its entity and canonical value."""
    vocabulary = _load_yaml(vocabulary_path)
    terms = _load_yaml(domain_terms_path)
    not_alone = terms.get("not_matched_alone") or {}
    phrases: list[Phrase] = []
    for name, section in vocabulary.items():
        skip = set(not_alone.get(section.get("entity", name), []))
        phrases += _section_phrases(name, section, skip)
    for name, section in (terms.get("extra_sections") or {}).items():
        phrases += _section_phrases(name, section, set(not_alone.get(section.get("entity", name), [])))
    for text, facts in (terms.get("compound_phrases") or {}).items():
        phrases += [Phrase(str(text), entity, value) for entity, value in facts.items()]
    return phrases


def jieba_words(
    vocabulary_path: str | Path = DEFAULT_VOCABULARY_PATH,
    domain_terms_path: str | Path = DEFAULT_DOMAIN_TERMS_PATH,
) -> list[str]:
    """Words for jieba's user dictionary: every Chinese phrase of the vocabulary plus the topic words.

    Phrases with spaces are left out: jieba splits on spaces whatever its dictionary says.
    """
    terms = _load_yaml(domain_terms_path)
    words = {phrase.text for phrase in load_phrases(vocabulary_path, domain_terms_path)}
    words |= {str(term) for term in terms.get("jieba_terms") or []}
    return sorted(word for word in words if _CJK.search(word) and not re.search(r"\s", word))


def topic_words(domain_terms_path: str | Path = DEFAULT_DOMAIN_TERMS_PATH) -> list[str]:
    """Topic words (人才公寓, 上海人才) that a shorter vocabulary phrase may not cut through."""
    return [str(term) for term in _load_yaml(domain_terms_path).get("jieba_terms") or []]


def numeral_words(domain_terms_path: str | Path = DEFAULT_DOMAIN_TERMS_PATH) -> list[str]:
    """Words that look like numeral + unit but are ordinary words (十分, 千万)."""
    return [str(word) for word in _load_yaml(domain_terms_path).get("numeral_words") or []]


def canonical_lookup(phrases: Iterable[Phrase]) -> dict[str, dict[str, Any]]:
    """entity -> {folded surface form -> canonical value}, canonical values included."""
    lookup: dict[str, dict[str, Any]] = {}
    for phrase in phrases:
        table = lookup.setdefault(phrase.entity, {})
        table.setdefault(fold_text(phrase.text), phrase.value)
        # the canonical value itself, and "true"/"false" as training data writes booleans
        table.setdefault(fold_text(str(phrase.value)), phrase.value)
    return lookup


# --- phrases that are not a fact about the person ------------------------------------------------
# A vocabulary phrase inside a question about getting it ("上海户口咋落") or about someone else
# ("孩子上初中") states nothing about the person; nlu/domain_terms.yml (not_stated) lists the cues.
_CLAUSE_END = re.compile(r"[，,。.!！?？；;、\n]")
_LEADING_PARTICLES = re.compile(r"^(?:\s|的)+")
_TRAILING_FILLERS = re.compile(r"(?:\s+|\b(?:a|an|the|my|your)\b)+$")


@dataclass(frozen=True)
class NotStatedRule:
    """Cues around a phrase of `entity` (only `values`, if given) that make it not a stated fact."""

    entity: str
    values: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    earlier_in_clause: tuple[str, ...] = ()

    def applies(self, text: str, start: int, end: int, entity: str, value: Any) -> bool:
        """Whether the phrase text[start:end] (entity, value) is not a stated fact here."""
        if entity != self.entity or (self.values and str(value) not in self.values):
            return False
        folded = fold_text(text)
        clause_start = max((m.end() for m in _CLAUSE_END.finditer(folded, 0, start)), default=0)
        before = _TRAILING_FILLERS.sub("", folded[clause_start:start])
        clause_end = _CLAUSE_END.search(folded, end)
        after = _LEADING_PARTICLES.sub("", folded[end : clause_end.start() if clause_end else len(folded)])
        return (
            any(_ends_with_word(before, cue) for cue in self.before)
            or any(_starts_with_word(after, cue) for cue in self.after)
            or any(_contains_word(folded[clause_start:start], cue) for cue in self.earlier_in_clause)
        )


def _ascii_boundary(text: str, index: int) -> bool:
    """No ASCII letter or digit at text[index] (so "get" does not match inside "target")."""
    return not (0 <= index < len(text) and text[index].isascii() and text[index].isalnum())


def _ends_with_word(text: str, cue: str) -> bool:
    return text.endswith(cue) and (not cue.isascii() or _ascii_boundary(text, len(text) - len(cue) - 1))


def _starts_with_word(text: str, cue: str) -> bool:
    return text.startswith(cue) and (not cue.isascii() or _ascii_boundary(text, len(cue)))


def _contains_word(text: str, cue: str) -> bool:
    index = text.find(cue)
    while index != -1:
        if not cue.isascii() or (
            _ascii_boundary(text, index - 1) and _ascii_boundary(text, index + len(cue))
        ):
            return True
        index = text.find(cue, index + 1)
    return False


def not_stated_rules(domain_terms_path: str | Path = DEFAULT_DOMAIN_TERMS_PATH) -> list[dict[str, Any]]:
    """The not_stated section of domain_terms.yml as plain dicts (JSON-serialisable, stored in the model)."""
    rules = _load_yaml(domain_terms_path).get("not_stated") or []
    known = {"entity", "values", "before", "after", "earlier_in_clause", "why"}
    for rule in rules:
        unknown = set(rule) - known
        if not rule.get("entity") or unknown:
            raise ValueError(
                f"{domain_terms_path}: not_stated rule {rule!r} needs 'entity' (unknown keys: {unknown})"
            )
    return [{key: value for key, value in rule.items() if key != "why"} for rule in rules]


def build_not_stated_rules(rules: Iterable[dict[str, Any]]) -> list[NotStatedRule]:
    """NotStatedRule objects from their stored form; cue words folded like the text they are matched on."""
    return [
        NotStatedRule(
            entity=rule["entity"],
            values=tuple(str(v) for v in rule.get("values") or []),
            before=tuple(fold_text(str(c)) for c in rule.get("before") or []),
            after=tuple(fold_text(str(c)) for c in rule.get("after") or []),
            earlier_in_clause=tuple(fold_text(str(c)) for c in rule.get("earlier_in_clause") or []),
        )
        for rule in rules
    ]


# --- typos and near-homophones ------------------------------------------------------------------
def spelling_variants(domain_terms_path: str | Path = DEFAULT_DOMAIN_TERMS_PATH) -> dict[str, str]:
    """spelling_variants of domain_terms.yml (folded): misspelling -> the word meant, same length each."""
    table = _load_yaml(domain_terms_path).get("spelling_variants") or {}
    variants = {fold_text(str(wrong)): fold_text(str(right)) for wrong, right in table.items()}
    uneven = [wrong for wrong, right in variants.items() if len(wrong) != len(right)]
    if uneven:
        raise ValueError(f"{domain_terms_path}: spelling_variants must keep the length: {uneven}")
    return variants


def spelling_corrector(variants: dict[str, str]) -> Callable[[str], str]:
    """A function text -> text with every misspelling (matched case-insensitively) replaced by the word
    meant; the rest of the text is left as typed and the length never changes, so offsets hold."""
    if not variants:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(wrong) for wrong in sorted(variants, key=len, reverse=True)))

    def correct(text: str) -> str:
        pieces, last = [], 0
        for match in pattern.finditer(fold_text(text)):
            pieces += [text[last : match.start()], variants[match.group(0)]]
            last = match.end()
        return "".join(pieces) + text[last:] if pieces else text

    return correct
