"""actions.understanding.number_for: the number of a message that answers one fact, read by the one
number reader (nlu.number_mentions) — by the words naming the fact, by unit, a bare number only when
asked, and a bound only where it decides every condition on the fact."""

from __future__ import annotations

import pytest

from actions.understanding import number_for

SEVERAL = "我38岁，海外工作过5年，注册资本500万"


@pytest.mark.parametrize(
    ("field", "text", "asked", "expected"),
    [
        ("age", SEVERAL, False, 38),
        ("overseas_experience_years", SEVERAL, False, 5),
        ("registered_capital_wan", SEVERAL, False, 500),
        # Chinese numerals in the field's unit, as the form's own question is answered
        ("relevant_work_years", "三年", True, 3),
        ("paid_in_capital_wan", "两百万", True, 200),
        # the words give each amount its fact
        ("paid_in_capital_wan", "货币出资300万，年薪50万", True, 300),
        # a bare number answers only the question asked about it
        ("age", "38", True, 38),
        ("age", "38", False, None),
        # bounds: decisive for 居住证积分 ≥120, not for 人才积分 ≥45; "3年以上" meets "at least 3"
        ("residence_permit_points", "积分还没到120", True, 119),
        ("talent_points", "积分还没到120", True, None),
        ("overseas_experience_years", "海外工作3年以上", False, 3),
        ("age", "35岁以上", True, None),
    ],
)
def test_the_number_that_answers_a_fact(field: str, text: str, asked: bool, expected: float | None) -> None:
    assert number_for(field, text, asked) == expected
