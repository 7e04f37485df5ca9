"""Every number of a message, each assigned by its unit and the words around it (for the dialogue).

Pure Python (no rasa import). The NumberNormaliser uses it to tell which fact a number entity stands
for, and the form reads multi-number replies with it ("我38岁，海外工作过5年，注册资本500万"). The
number itself is read by the project's one parser, `nlu.numbers`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from nlu.number_context import bound_of, clause_around, field_for, points_field
from nlu.numbers import (
    MONTHLY_SALARY_CUE,
    NUMBER,
    SALARY_CUE,
    UNIT_TAIL,
    extract_numbers,
    is_bare_number,
    is_free_span,
    parse_number,
    salary_in_wan,
    tidy,
    unit_factor,
)
from nlu.vocabulary import fold_text


class NumberMention(NamedTuple):
    """A number in a message: value in the unit given, the profile field its context names (None when
    the words around it do not say: the pending question decides), and whether it is a value or a bound.

    units: 岁 | 年 | 分 | 万元 | 万元/年 (annual salary) | 元 | % | "" (no unit).
    bound: "=" a value (also when approximate: 大概1.2万), "<" an upper bound (还没到120, 35岁以下: the
    fact is below it), ">" a lower bound (超过5年, 120分以上). A bound is never stored as the fact.
    """

    value: float | int
    unit: str
    field: str | None
    bound: str
    start: int
    end: int


_YEARS_UNIT = re.compile(
    r"\s*(?:多)?(?:个)?(?:年(?!薪|级|龄|纪|底|初|终|代|前|后|收入|产值|度|月)|years?\b|yrs?\b)"
)
_AGE_UNIT = re.compile(r"\s*(?:周岁|岁|years?[\s-]*old)")
_POINTS_UNIT = re.compile(r"\s*(?:分(?!钟|之|期|配|开|享|别|析|红|类|局|店|公司)|points?\b|pts\b)")
_PERCENT_UNIT = re.compile(r"\s*(?:%|％|percent\b)")
# 七成 = 70 %: 成 after a number up to ten is tenths, unless it starts a word (成本, 成员, 成立, 成为 …)
_TENTHS_UNIT = re.compile(r"成(?!本|员|立|为|功|年|绩|熟|交|果|都|人|品|长|就|不)")
_POINTS_CUE = re.compile(r"积分|分数|points?|score")
_ENTITY_FIELDS = {"age": ("岁", "age"), "annual_salary": ("万元/年", "annual_salary_wan")}


def numbers_by_unit(text: str) -> list[NumberMention]:
    """Every number in the text, each assigned by its unit and the words around it, in text order.

    "我38岁，海外工作过5年，注册资本500万" -> (38, 岁, age), (5, 年, overseas_experience_years),
    (500, 万元, registered_capital_wan); "积分还没到120" -> (120, 分, None, bound "<"); "基数大概1.2万" ->
    (12000, 元, social_insurance_base). Ages and salaries are read exactly as the NLU entities are
    (`extract_numbers`); points say which points only when the words near them do (人才积分 vs 居住证积分).
    Chinese numerals count only with a unit or cue (一起, 一下 are not numbers).
    """
    folded = fold_text(text)
    mentions: list[NumberMention] = []
    taken: list[tuple[int, int]] = []
    for entity in extract_numbers(text):
        if entity.entity in _ENTITY_FIELDS:
            unit, field = _ENTITY_FIELDS[entity.entity]
            mentions.append(NumberMention(entity.value, unit, field, "=", entity.start, entity.end))
            taken.append((entity.start, entity.end))
    for match in re.finditer(NUMBER, folded):
        start, end = match.span()
        if not is_free_span(taken, start, end) or (start and folded[start - 1].isdigit()):
            continue
        mention = _mention(folded, match.group(0), start, end)
        if mention is not None:
            mentions.append(mention)
    return sorted(mentions, key=lambda mention: mention.start)


def _mention(folded: str, raw: str, start: int, end: int) -> NumberMention | None:
    value = parse_number(raw)
    if value is None:
        return None
    chinese = not raw[0].isdigit()
    bound = bound_of(folded, start, end)
    rest = folded[end:]

    def make(value: float | int, unit: str, field: str | None) -> NumberMention:
        return NumberMention(tidy(value), unit, field, bound, start, end)

    if _AGE_UNIT.match(rest):
        return make(value, "岁", "age")
    if _YEARS_UNIT.match(rest):
        if re.fullmatch(r"(?:19|20)\d\d", raw):
            return None  # 2020年: a date
        return make(value, "年", field_for("years", folded, start, end))
    money = re.match(UNIT_TAIL, rest)
    if money:
        factor = unit_factor(money.group("unit"))
        in_wan = value * factor if factor is not None else value / 10_000
        cue = re.search(rf"(?:{MONTHLY_SALARY_CUE})|(?:{SALARY_CUE})", clause_around(folded, start, end)[0])
        if cue:  # a salary the entity rules left out: a bound (年薪不到30万)
            monthly = re.fullmatch(MONTHLY_SALARY_CUE, cue.group(0)) is not None
            return make(salary_in_wan(value, money.group("unit"), monthly), "万元/年", "annual_salary_wan")
        if field_for("yuan", folded, start, end):
            return make(in_wan * 10_000, "元", "social_insurance_base")
        return make(in_wan, "万元", field_for("wan", folded, start, end))
    if _PERCENT_UNIT.match(rest) or folded[max(0, start - 3) : start] == "百分之":
        return make(value, "%", field_for("percent", folded, start, end))
    if _TENTHS_UNIT.match(rest) and 0 < value <= 10:
        return make(value * 10, "%", field_for("percent", folded, start, end))
    before, _ = clause_around(folded, start, end)
    if _POINTS_UNIT.match(rest) or _POINTS_CUE.search(before):
        if (
            _POINTS_UNIT.match(rest)
            and chinese
            and (value < 20 or raw == "十")
            and not _POINTS_CUE.search(before)
        ):
            return None  # 十分 is "very"
        return make(value, "分", points_field(folded, start, end))
    if chinese and not is_bare_number(folded):
        return None
    return make(value, "", None)
