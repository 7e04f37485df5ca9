"""What a number in a message is about: its unit, the profile field its context names, and whether it is
a bound ("还没到120") rather than a value.

Pure Python, no rasa import. `nlu.number_mentions.numbers_by_unit` uses it; the NumberNormaliser uses `bound_of`
and `points_field` so that a bound is never an entity and Qingpu talent points are never taken for
residence-permit points.

The cue words are the words people put next to a number when they say what it is; they are listed per
unit kind, in priority order (the first field with a cue in the number's clause wins: "海外工作过5年" is
overseas experience, not work experience in general).
"""

from __future__ import annotations

import re

# unit kind -> [(profile field, cue words)]; a cue is searched in the number's clause (see `clause_around`).
FIELD_CUES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "years": [
        ("overseas_experience_years", ("海外", "国外", "境外", "出国", "留学", "overseas", "abroad")),
        (
            "senior_post_years",
            ("中高级", "高管", "副教授", "职务", "总监", "senior position", "senior role", "executive"),
        ),
        (
            "years_worked_in_district",
            (
                "本区",
                "区内",
                "区里",
                "该区",
                "这边",
                "这里",
                "青浦",
                "松江",
                "长宁",
                "杨浦",
                "in the district",
                "qingpu",
                "songjiang",
                "changning",
                "yangpu",
            ),
        ),
        (
            "relevant_work_years",
            ("工作", "从业", "经验", "经历", "干了", "做了", "上班", "experience", "worked", "working"),
        ),
    ],
    "points": [
        ("talent_points", ("人才积分", "通用指标", "人才分", "talent points", "talent score")),
        ("residence_permit_points", ("居住证", "residence permit", "residence points")),
    ],
    "wan": [
        ("paid_in_capital_wan", ("实缴", "实际到位", "到位", "货币出资", "出资", "paid-in", "paid in")),
        ("registered_capital_wan", ("注册资本", "注册资金", "registered capital")),
        ("annual_output_wan", ("年产值", "产值", "营收", "销售额", "output", "revenue", "turnover")),
    ],
    "yuan": [
        ("social_insurance_base", ("基数", "社保基数", "缴费基数", "contribution base")),
    ],
    "percent": [
        (
            "founders_shareholding_percent",
            ("持股", "股份", "股权", "占股", "占了", "shareholding", "stake", "shares"),
        ),
    ],
}

# Words right before a number (or right after its unit) that make it a bound, not a value.
_BELOW_BEFORE = re.compile(
    r"(?:还没到|没到|还不到|不到|不足|未满|没满|低于|少于|小于|不超过|没超过|less than|under|below|not yet)\s*$"
)
_ABOVE_BEFORE = re.compile(r"(?:超过|高于|多于|大于|已超|过了|more than|over|above|at least)\s*$")
# (the number's unit may stand between: 35岁以下, 120分以上, 5 years or more)
_UNIT = r"^\s*(?:周岁|岁|分|万元|万|元|块|个|年|w|k|%|points?|years?)?\s*"
_BELOW_AFTER = re.compile(_UNIT + r"(?:以下|以内|之内|不到|or less|or under|or below)")
_ABOVE_AFTER = re.compile(_UNIT + r"(?:以上|多(?!少|大|久)|出头|开外|\+|or more|plus)")

_CLAUSE_END = re.compile(r"[，,。;；!！?？\n]")
# how far a cue may be from the number inside its clause
CUE_WINDOW = 24


def clause_around(folded: str, start: int, end: int) -> tuple[str, str]:
    """The number's clause: up to CUE_WINDOW characters before it and after it, cut at punctuation."""
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(folded, 0, start)), default=0)
    clause_end = _CLAUSE_END.search(folded, end)
    before = folded[max(clause_start, start - CUE_WINDOW) : start]
    after = folded[end : min(clause_end.start() if clause_end else len(folded), end + CUE_WINDOW)]
    return before, after


def bound_of(folded: str, start: int, end: int) -> str:
    """ "<" when the number folded[start:end] is an upper bound (还没到120, 35岁以下), ">" a lower bound
    (超过5年, 120分以上), else "=" (a value, also when approximate: 大概1.2万)."""
    before = folded[max(0, start - 6) : start]
    after = folded[end : end + 10]
    if _BELOW_BEFORE.search(before) or _BELOW_AFTER.match(after):
        return "<"
    if _ABOVE_BEFORE.search(before) or _ABOVE_AFTER.match(after):
        return ">"
    return "="


def field_for(kind: str, folded: str, start: int, end: int) -> str | None:
    """The profile field a number of this unit kind is about, from the cue words in its clause."""
    before, after = clause_around(folded, start, end)
    for field, cues in FIELD_CUES.get(kind, []):
        if any(cue in before or cue in after for cue in cues):
            return field
    return None


def points_field(folded: str, start: int, end: int) -> str | None:
    """residence_permit_points or talent_points when the words near the number say which; else None."""
    return field_for("points", folded, start, end)
