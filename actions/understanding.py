"""Reading messages as people mean them (word lists in actions/understanding.yml).

- `asks_about_own_case`: "我能拿多少" (the person's case) versus "青浦租房补贴是多少" (the rule);
- `yes_no_meaning`: "单身" answers "does your spouse receive the subsidy?" with no; mixed signals: unsure;
- `numbers_by_unit`: "我38岁，海外工作过5年，注册资本500万" -> age 38, years 5, wan 500, each by its unit,
  read with the project's one number parser (`nlu.numbers`);
- `names_fact`: "年薪50万" names the salary; "300万" alone names no fact (the pending question decides);
- `near_miss_district`: "松降" or "qinpu" -> the district the person probably meant, to ask back;
- `stated_facts`: "没有房" after an answer -> owns_home_in_district false.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import yaml

from actions.config import ACTIONS_DIR

UNSURE = "unsure"
# a message this short is an answer as a whole ("是", "有的", "不是")
SHORT_ANSWER = 3


@lru_cache(maxsize=1)
def understanding() -> dict[str, Any]:
    with (ACTIONS_DIR / "understanding.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _fold(text: str | None) -> str:
    from nlu.vocabulary import fold_text

    return fold_text(str(text or "")).strip()


def _has_word(text: str, word: str) -> bool:
    """Latin words match whole words ("no" is not in "know"); Chinese phrases anywhere."""
    word = word.lower()
    if re.search(r"[a-z]", word):
        return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", text) is not None
    return word in text


def says_any(text: str | None, words: Iterable[str]) -> bool:
    folded = _fold(text)
    return any(_has_word(folded, word) for word in words)


def asks_about_own_case(text: str | None) -> bool:
    """Words that ask about the person's own case (any language's list: people mix them)."""
    lists = understanding()["personal_question"]
    return says_any(text, [word for words in lists.values() for word in words])


def asks_for_overview(text: str | None) -> bool:
    """Words that ask which policies there are at all ("我能享受哪些政策", "what can I get")."""
    lists = understanding()["overview_question"]
    return says_any(text, [word for words in lists.values() for word in words])


def names_scheme(title: str, text: str | None, district_names: Iterable[str] = ()) -> bool:
    """Whether the message names this scheme by a word of its own title (two characters or more left once
    the district and the words every title shares are taken out): "积分" names "青浦人才积分租房补贴"."""
    message = _fold(text)
    if not re.search(r"[\u3400-\u9fff]", title):
        # an English title: its own whole words ("points-based" names the points subsidy)
        generic = {w.lower() for w in understanding()["generic_title_words_en"]}
        words = [w for w in re.findall(r"[a-z]+", title.lower()) if len(w) >= 4 and w not in generic]
        return any(re.search(rf"(?<![a-z]){w}(?![a-z])", message) for w in words)
    rest = title
    for word in [*district_names, *understanding()["generic_title_words"]]:
        rest = rest.replace(word, " ")
    return any(
        part[i : i + 2] in message for part in rest.split() for i in range(len(part) - 1) if len(part) >= 2
    )


def asks_for_more(text: str | None) -> bool:
    folded = _fold(text).rstrip("?？!！。. ")
    lists = understanding()["more_words"]
    return any(folded == word.lower() for words in lists.values() for word in words)


def _matches(text: str, phrases: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for phrase in phrases:
        phrase = phrase.lower()
        if re.search(r"[a-z]", phrase):
            pattern = rf"(?<![a-z]){re.escape(phrase)}(?![a-z])"
        else:
            pattern = re.escape(phrase)
        spans.extend((m.start(), m.end()) for m in re.finditer(pattern, text))
    return spans


def is_hesitation(text: str | None) -> bool:
    """ "hmm", "呃", "let me think": the whole message hesitates (no answer in it)."""
    folded = _fold(text).strip(" .。…,，!！?？~")
    return bool(folded) and folded in {word.lower() for word in understanding()["hesitation"]}


def yes_no_meaning(text: str | None, question: str | None = None) -> bool | str | None:
    """True / False for an answer to a yes/no question, UNSURE for mixed signals or a hesitation ("hmm"),
    None for no signal.

    The longest phrase wins where phrases overlap ("没有" over "有", "入职以后就是了" over "是")."""
    folded = _fold(text)
    if not folded:
        return None
    if is_hesitation(folded):
        return UNSURE
    table = understanding()["yes_no"]
    found: list[tuple[int, int, bool]] = []
    for source in (table["default"], (table.get("by_question") or {}).get(question or "", {})):
        for key, value in (("yes", True), ("no", False)):
            for start, end in _matches(folded, source.get(key) or []):
                # a one-character 是/有/不 inside a sentence ("我是博士") is no answer; at the start it is
                if end - start == 1 and start > 0 and len(folded) > SHORT_ANSWER:
                    continue
                found.append((start, end, value))
    kept = [
        (s, e, v)
        for s, e, v in found
        if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in found)
    ]
    meanings = {value for _, _, value in kept}
    if len(meanings) == 1:
        return meanings.pop()
    if meanings:
        return UNSURE
    # a life situation that answers another question ("单身" to "do you own a home?"): not a yes
    for other in (table.get("by_question") or {}).values():
        for key in ("yes", "no"):
            if _matches(folded, other.get(key) or []):
                return UNSURE
    return None


def leading_answer(text: str | None) -> bool | str | None:
    """The yes/no meaning of the message's first clause ("不是，外地户口" -> False): a reply that opens with
    a no is a no, whatever facts follow it."""
    first = re.split(r"[，,。.;；!！?？\s]", (text or "").strip(), maxsplit=1)[0]
    return yes_no_meaning(first)


# the units nlu.number_mentions gives a number, by the kind of fact (understanding.yml numbers.fields)
UNITS_OF_KIND = {
    "age": {"岁"},
    "years": {"年"},
    "points": {"分"},
    "wan": {"万元", "万元/年"},
    "percent": {"%"},
}


def names_fact(field: str, text: str | None) -> bool:
    """Whether the message names this numeric fact in its own words ("年薪", "注册资本", "岁"), not only
    by a unit several facts share ("万", "年", "分")."""
    from nlu.number_context import FIELD_CUES

    config = understanding()["numbers"]
    cues = [
        cue for entries in FIELD_CUES.values() for name, words in entries if name == field for cue in words
    ]
    words = [
        *(config.get("own_words") or {}).get(field, []),
        *(config.get("named") or {}).get(field, []),
        *cues,
    ]
    return says_any(text, words)


def number_for(field: str, text: str | None, asked: bool) -> float | int | None:
    """The number of the message that answers `field`, read by nlu.number_mentions: the one its words give
    to this fact, else the one in the field's unit that names no other fact, else a number without a
    unit when this field was asked and it is the only one. Points go to the kind named. A bound ("还没到
    120", "3年以上") answers only where every condition on the fact judges all the values it allows alike
    (policies.KnowledgeBase.value_for_bound); else it is no answer and the exact number is needed."""
    config = understanding()["numbers"]
    named = config.get("named") or {}
    if config["fields"].get(field) == "points":
        other = [f for f in named if f != field]
        if any(says_any(text, named[f]) for f in other) and not says_any(text, named.get(field, [])):
            return None  # the message is about the other kind of points
        if not asked and not says_any(text, named.get(field, [])):
            return None
    from nlu import number_mentions

    mentions = number_mentions.numbers_by_unit(text or "")
    units = UNITS_OF_KIND.get(config["fields"].get(field), set())
    in_unit = [m for m in mentions if m.unit in units and m.field in (None, field)]
    in_unit += [
        m
        for m in mentions
        if m.unit in units and m.field not in (None, field) and not names_fact(m.field, text)
    ]
    bare = [m for m in mentions if not m.unit]
    for candidates in (
        [m for m in mentions if m.field == field],
        in_unit,
        bare if asked and len(bare) == 1 else [],
    ):
        if candidates:
            return _value_of(field, candidates[0])
    return None


def _value_of(field: str, mention: Any) -> float | int | None:
    if mention.bound == "=":
        return mention.value
    from policies import default_knowledge_base

    return default_knowledge_base().value_for_bound(field, mention.bound, mention.value)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def near_miss_district(text: str | None, districts: dict[str, list[str]]) -> str | None:
    """The one district a message probably names without naming it: "松降" (a sound-alike character) or
    "qinpu" (a Latin word a few letters off the pinyin name). `districts`: canonical name -> aliases
    (policies/vocabulary.yml). None when there is no such word, or when it could be two districts."""
    table = understanding()["district_near_miss"]
    folded = _fold(text)
    found: set[str] = set()
    for name in districts:
        for i, char in enumerate(name):
            for other in table["sounds_like"].get(char, []):
                if name[:i] + other + name[i + 1 :] in folded:
                    found.add(name)
    words = re.findall(r"[a-z]+", folded)
    for name, aliases in districts.items():
        latin = [a.lower() for a in aliases if re.fullmatch(r"[a-z]+", a.lower())]
        for word in words:
            if len(word) < table["min_letters"] or word in table.get("not_a_district", []):
                continue
            if any(word[0] == alias[0] and 0 < _edits(word, alias) <= table["max_edits"] for alias in latin):
                found.add(name)
    return found.pop() if len(found) == 1 else None


def stated_facts(text: str | None) -> dict[str, Any]:
    """Facts a short message states in everyday words ("没有房" -> owns_home_in_district false): the
    longest phrase of each field wins; a field whose phrases say both is left out."""
    folded = _fold(text)
    facts: dict[str, Any] = {}
    for field, by_value in (understanding().get("stated_facts") or {}).items():
        matches = [
            (end - start, value)
            for value, phrases in by_value.items()
            for start, end in _matches(folded, phrases)
        ]
        if not matches:
            continue
        longest = max(length for length, _ in matches)
        values = {value for length, value in matches if length == longest}
        if len(values) == 1:
            facts[field] = values.pop()
    return facts


# a negation right before another fact's words belongs to that fact ("不是上海户口")
NEGATION_BEFORE = re.compile(r"(?:不是|没有|并非|不|没|非)\s*$")


def without_other_facts(text: str, entities: Iterable[Mapping[str, Any]], question: str | None) -> str:
    """The message with the words of facts other than the one asked taken out, with a negation just before
    them: "不是上海户口" to "您是新引进的人才吗？" says something about the hukou and nothing about being
    newly recruited; "不是，户口也不在上海" still answers no."""
    spans = sorted(
        (int(e["start"]), int(e["end"]))
        for e in entities
        if e.get("entity") != question and isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
    )
    kept, position = [], 0
    for start, end in spans:
        if start < position:
            continue
        negation = NEGATION_BEFORE.search(text[position:start])
        cut = position + negation.start() if negation else start
        kept.append(text[position:cut])
        position = end
    kept.append(text[position:])
    return "".join(kept)
