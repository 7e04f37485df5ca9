"""Chinese and mixed numerals, ages, salaries and residence-permit points found in free text.

Pure Python (no rasa import): the NumberNormaliser component uses it, and actions may use
`parse_number` to read a bare reply such as "35" when a form has just asked for one fact.

How ambiguity is resolved (the cue decides the entity; without a cue there is no entity):
- age: a number followed by 岁/周岁/"years old"/"y/o", or preceded by 今年/年龄/年纪/"age"/"aged"/"I'm",
  or 快30了 ("nearly 30").
  "45岁以下" / "35岁以上" describe a threshold in a question, not the person: not extracted.
- annual_salary (万元/year): a number after a salary cue (年薪, 收入, salary, "earn", ...) or followed by
  a money unit (万, w, 千, k, 百万, million, 元). A money amount with no salary cue is a salary unless the
  message talks about another sum (房/首付/贷款/补贴/rent/loan/...): "买房花了300万" is not a salary.
  Monthly figures (月薪, "a month") are multiplied by 12. A salary figure without a unit is read in 万
  when below 1000 (people write 年薪50 for 50万) and in 元 from 1000 on (年薪300000 -> 30).
- residence_points: a number after 积分/"points"/"score", or followed by 分/"points". Chinese numerals
  followed by 分 count only with a 积分 cue or from 20 upwards, so 十分 ("very") is not ten points;
  分钟 / 分之 are never points.
- A bare number with no cue is never an entity, even when it is the whole message: what it means
  depends on the question the assistant just asked, which only the dialogue knows. The form's
  validation reads such a reply with `parse_number` (see actions/); NLU stays context-free.
- Spans found for different entity types never overlap: age cues win over salary, salary over points,
  in the order the patterns are tried; each character belongs to at most one number entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlu.number_context import bound_of, points_field
from nlu.vocabulary import fold_text

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_LARGE_UNITS = {"万": 10_000, "亿": 100_000_000}

_CN_NUMERAL = "[零〇一二两俩三四五六七八九十百千]"
# A number: arabic (with thousands separators or a decimal part) or Chinese (万 inside only when more
# numerals follow, as in 十二万五千; a trailing 万 is left to the unit).
NUMBER = (
    r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
    rf"|{_CN_NUMERAL}+(?:[万亿]{_CN_NUMERAL}+)*(?:点[零〇一二两三四五六七八九]+)?)"
)
_NUM = rf"(?P<num>{NUMBER})"
_NOT_AFTER_NUMBER = r"(?![\d.])"
_NOT_BEFORE_NUMBER = r"(?<![\d.])"

# Money units -> factor to 万元 (None = yuan-or-wan heuristic, see module docstring).
_SALARY_UNITS = [
    (r"百万元?|million|mn\b|m\b", 100.0),
    (r"万元?|w\b|wan\b|万块", 1.0),
    (r"千元?|k\b|千块", 0.1),
    (r"亿元?", 10_000.0),
    (r"元|块钱?|yuan\b|rmb\b|cny\b", None),
]
_UNIT = r"(?P<unit>" + "|".join(pattern for pattern, _ in _SALARY_UNITS) + ")"
# 两万五 is one number, not 两 + the unit 万: a unit is never followed by more numerals.
# (3万一个月: 一 starts 一个月, not the number.)
UNIT_TAIL = rf"(?:\s*{_UNIT}(?![零〇一二两俩三四五六七八九\d](?!个|年)))"

SALARY_CUE = r"(?:税前|税后)?(?:年薪|年收入|年工资|年入|年包|收入|工资|薪资|薪水|薪酬|待遇)|salary|income|earn(?:ing)?s?|make|paid|package"
MONTHLY_SALARY_CUE = r"月薪|月收入|月工资|月入|monthly salary|monthly income"
_MONTHLY_CUE = r"月薪|月收入|月工资|月入|每月|每个月|一个月|monthly|per month|a month|/month|/月"
_YEARLY_AFTER = r"(?:一年|每年|/年|年薪|a year|per year|per annum|annually|p\.?a\.?|/year|yearly)"
_OTHER_MONEY = re.compile(
    r"房|首付|贷款|补贴|奖励|资助|房租|租金|租房|买|存款|资金|投资|注册资本|实缴|出资|产值|营收|基数|rent|loan|subsid|"
    r"house|flat|apartment|price|deposit|grant|award|invest|capital|output|revenue"
)

_AGE_PATTERNS = [
    re.compile(_NOT_BEFORE_NUMBER + _NUM + r"\s*(?:周岁|岁)(?!\s*(?:以下|以上|以内|之前|之后|前|后))"),
    re.compile(
        r"(?:今年|年龄|年纪|岁数)\s*(?:是|有|为|:|：)?\s*(?:才|刚|已经)?\s*"
        + _NUM
        + _NOT_AFTER_NUMBER
        + r"(?!\s*(?:年|月|号|日|万|w|k|分|%|元|块))"
    ),
    re.compile(_NOT_BEFORE_NUMBER + _NUM + r"\s*-?\s*(?:(?:years?|yrs?)[\s-]*old|y/?o\b)"),
    # 快30了 / 马上三十了: "nearly 30", said of oneself
    re.compile(r"(?:快|马上|快要|马上就)\s*" + _NUM + r"\s*(?:岁)?了"),
    re.compile(r"\b(?:age|aged)\s*(?:is|of|:)?\s*" + _NUM + _NOT_AFTER_NUMBER),
    re.compile(
        r"\b(?:i'?m|i am)\s+"
        + _NUM
        + _NOT_AFTER_NUMBER
        + r"(?!\s*(?:%|k\b|w\b|m\b|万|千|分|points?|million|years? of|yuan|rmb|cny|/))"
    ),
]

_SALARY_PATTERNS = [
    # cue ... number [unit]: 年薪一百二十万, 年薪 120w, salary 800k, 月薪2万, "I earn about 1.2 million"
    re.compile(
        rf"(?P<cue>{SALARY_CUE}|{MONTHLY_SALARY_CUE})[^\d零〇一二两俩三四五六七八九十百千]{{0,8}}?"
        + _NUM
        + _NOT_AFTER_NUMBER
        # 待遇…一下 / 工资一直: 一 starts a word there, it is not a figure
        + r"(?!\s*(?:个|岁|周岁|分|%|年(?!薪)|月|天|次|人|套|号|points?|years?|下|起|些|样|直|般|共|定))"
        + rf"{UNIT_TAIL}?"
    ),
    # number unit [after-cue]: 120万, 1.2百万, 120w/年, "1.2 million a year", 3万一个月
    re.compile(_NOT_BEFORE_NUMBER + _NUM + rf"{UNIT_TAIL}\s*(?P<after>{_YEARLY_AFTER}|{_MONTHLY_CUE})?"),
]

_POINTS_PATTERNS = [
    re.compile(
        r"(?:积分|居住证积分|分数)\s*(?:是|有|为|能|达到|大概|约|:|：)*\s*"
        + _NUM
        + _NOT_AFTER_NUMBER
        + r"(?!\s*(?:岁|万|w|k|元|块|%|年))\s*分?"
    ),
    re.compile(_NOT_BEFORE_NUMBER + _NUM + r"\s*分(?!钟|之|期|配|开|享|别|析|红|类|局|店|公司)"),
    re.compile(_NOT_BEFORE_NUMBER + _NUM + r"\s*(?:points?|pts)\b"),
    re.compile(r"\b(?:points?|score)\s*(?:of|is|are|:)?\s*" + _NUM + _NOT_AFTER_NUMBER),
]

_BARE_NUMBER = re.compile(r"^\s*" + _NUM + r"\s*$")


@dataclass(frozen=True)
class NumberEntity:
    """A number entity found in text: its type, normalised value and character span."""

    entity: str
    value: float | int
    start: int
    end: int


def chinese_to_number(text: str) -> float | None:
    """三十五 -> 35, 一百二十 -> 120, 一百二 -> 120, 两万五 -> 25000, 一点二 -> 1.2, 一二零 -> 120."""
    if not text:
        return None
    integer_part, point, decimal_part = text.partition("点")
    if point and not decimal_part:
        return None  # 三点 is a time of day
    if not any(ch in CN_DIGITS or ch == "十" for ch in integer_part + decimal_part):
        return None  # a unit alone (万, 百) is not a number
    if decimal_part and not all(ch in CN_DIGITS for ch in decimal_part):
        return None
    if integer_part and all(ch in CN_DIGITS for ch in integer_part) and len(integer_part) > 1:
        # digits read out one by one: 一二零 -> 120
        value: float = int("".join(str(CN_DIGITS[ch]) for ch in integer_part))
    else:
        value = _chinese_integer(integer_part) if integer_part else 0
        if value is None:
            return None
    if decimal_part:
        value = float(f"{int(value)}." + "".join(str(CN_DIGITS[ch]) for ch in decimal_part))
    return value


def _chinese_integer(text: str) -> int | None:
    total, section, digit = 0, 0, None
    last_unit, previous = 0, ""
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in CN_SMALL_UNITS:
            unit = CN_SMALL_UNITS[ch]
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        elif ch in CN_LARGE_UNITS:
            unit = CN_LARGE_UNITS[ch]
            section += digit or 0
            total += max(section, 1) * unit
            section, digit, last_unit = 0, None, unit
        else:
            return None
        previous = ch
    if digit is not None:
        # colloquial abbreviation: 一百二 = 120, 两万五 = 25000, 三十五 = 35 (the unit after the last digit
        # is one step below the last unit spoken); after 零 the digit is taken as is (一百零五 = 105).
        abbreviated = previous in CN_DIGITS and last_unit >= 100 and not text.endswith("零" + previous)
        section += digit * (last_unit // 10) if abbreviated else digit
    return total + section


def parse_number(text: str) -> float | int | None:
    """A number written in digits, Chinese numerals or a mix: "35", "3,000", "1.2", "一百二十", "三万五"."""
    folded = fold_text(text).strip()
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", folded):
        value: float | int | None = float(folded.replace(",", ""))
    else:
        value = chinese_to_number(folded)
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def tidy(value: float) -> float | int:
    value = round(value, 4)
    return int(value) if float(value).is_integer() else value


def unit_factor(unit: str | None) -> float | None:
    if not unit:
        return None
    for pattern, factor in _SALARY_UNITS:
        if re.fullmatch(pattern, unit.strip()):
            return factor
    return None


def salary_in_wan(number: float, unit: str | None, monthly: bool = False) -> float | int:
    """A salary figure in 万元 per year: units 万/w, 千/k, 百万/million, 亿, 元; no unit = 万 below 1000."""
    factor = unit_factor(unit)
    if factor is None:
        factor = 1.0 if number < 1000 else 0.0001
    return tidy(number * factor * (12 if monthly else 1))


def parse_salary(text: str) -> float | int | None:
    """A salary span as another extractor annotated it ("120w", "一百二十万", "1.2 million") -> 万元/year."""
    folded = fold_text(text)
    match = re.search(_NUM + rf"{UNIT_TAIL}?", folded)
    if not match:
        return None
    number = parse_number(match.group("num"))
    if number is None:
        return None
    monthly = re.search(_MONTHLY_CUE, folded) is not None
    return salary_in_wan(number, match.group("unit"), monthly)


def first_number(text: str) -> float | int | None:
    """The first number in a span ("35岁" -> 35, "120 points" -> 120)."""
    match = re.search(NUMBER, fold_text(text))
    return parse_number(match.group(0)) if match else None


def is_bare_number(text: str) -> bool:
    """True when the whole message is just a number (see the module docstring for why it matters)."""
    return _BARE_NUMBER.match(fold_text(text)) is not None


def is_free_span(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e in taken)


def extract_numbers(text: str) -> list[NumberEntity]:
    """Every age, annual salary (万元) and residence-points figure in the text, in text order."""
    folded = fold_text(text)
    found: list[NumberEntity] = []
    taken: list[tuple[int, int]] = []

    def add(entity: str, value: float | int | None, start: int, end: int) -> None:
        # a bound (积分还没到120, 年薪不到30万) says what the value is not: never an entity
        if value is not None and is_free_span(taken, start, end) and bound_of(folded, start, end) == "=":
            found.append(NumberEntity(entity, value, start, end))
            taken.append((start, end))

    for pattern in _AGE_PATTERNS:
        for match in pattern.finditer(folded):
            age = parse_number(match.group("num"))
            if age is not None and 0 < age < 120 and float(age).is_integer():
                add("age", int(age), match.start("num"), match.end("num"))

    other_money = _OTHER_MONEY.search(folded) is not None
    for index, pattern in enumerate(_SALARY_PATTERNS):
        for match in pattern.finditer(folded):
            number = parse_number(match.group("num"))
            unit = match.group("unit")
            if number is None:
                continue
            if index == 1 and other_money and not match.group("after"):
                continue  # a sum of money, but about a flat, a loan or a subsidy
            context = match.group(0) + folded[match.end() : match.end() + 12]
            cue = match.groupdict().get("cue") or ""
            after = match.groupdict().get("after") or ""
            monthly = bool(re.fullmatch(_MONTHLY_CUE, cue) or re.fullmatch(_MONTHLY_CUE, after))
            if not monthly and re.match(r"\s*(?:" + _MONTHLY_CUE + ")", context[len(match.group(0)) :]):
                monthly = True
            end = match.end("unit") if unit else match.end("num")
            add("annual_salary", salary_in_wan(number, unit, monthly), match.start("num"), end)

    has_points_cue = re.search(r"积分|points?|score", folded) is not None
    for index, pattern in enumerate(_POINTS_PATTERNS):
        for match in pattern.finditer(folded):
            raw = match.group("num")
            points = parse_number(raw)
            if points is None or not 0 <= points <= 1000:
                continue
            chinese = not re.match(r"\d", raw)
            if index == 1 and chinese and not has_points_cue and (points < 20 or raw == "十"):
                continue  # 十分 is "very", not ten points
            if points_field(folded, match.start("num"), match.end("num")) == "talent_points":
                continue  # Qingpu talent points (人才积分) are another fact than residence-permit points
            add("residence_points", tidy(points), match.start("num"), match.end("num"))

    return sorted(found, key=lambda entity: entity.start)
