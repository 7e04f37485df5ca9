"""nlu.number_mentions.numbers_by_unit: every number of a message, assigned by its unit and the words around it,
with character offsets into the original text (issue 15, item 3)."""

from __future__ import annotations

import pytest

from nlu.number_mentions import NumberMention, numbers_by_unit
from nlu.numbers import extract_numbers


def mentions(text: str) -> list[tuple]:
    return [(m.value, m.unit, m.field, m.bound, text[m.start : m.end]) for m in numbers_by_unit(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "我38岁，海外工作过5年，注册资本500万",
            [
                (38, "岁", "age", "=", "38"),
                (5, "年", "overseas_experience_years", "=", "5"),
                (500, "万元", "registered_capital_wan", "=", "500"),
            ],
        ),
        # no punctuation at all: each number still finds its own cue
        (
            "我38岁海外工作过5年注册资本500万",
            [
                (38, "岁", "age", "=", "38"),
                (5, "年", "overseas_experience_years", "=", "5"),
                (500, "万元", "registered_capital_wan", "=", "500"),
            ],
        ),
        ("积分还没到120", [(120, "分", None, "<", "120")]),
        ("基数大概1.2万", [(12000, "元", "social_insurance_base", "=", "1.2")]),
        (
            "人才积分通用指标有50分，居住证积分60分",
            [(50, "分", "talent_points", "=", "50"), (60, "分", "residence_permit_points", "=", "60")],
        ),
        ("60分", [(60, "分", None, "=", "60")]),
        ("38", [(38, "", None, "=", "38")]),
        (
            "在青浦工作了三年，两百万的注册资本",
            [
                (3, "年", "years_worked_in_district", "=", "三"),
                (200, "万元", "registered_capital_wan", "=", "两百"),
            ],
        ),
        ("月薪一万二", [(14.4, "万元/年", "annual_salary_wan", "=", "一万二")]),
        (
            "我今年三十五，工作过3年",
            [(35, "岁", "age", "=", "三十五"), (3, "年", "relevant_work_years", "=", "3")],
        ),
        ("在外企做了6年高管", [(6, "年", "senior_post_years", "=", "6")]),
        (
            "实缴到位200万，年产值3000万",
            [
                (200, "万元", "paid_in_capital_wan", "=", "200"),
                (3000, "万元", "annual_output_wan", "=", "3000"),
            ],
        ),
        ("团队持股51%", [(51, "%", "founders_shareholding_percent", "=", "51")]),
        ("2020年毕业，持股百分之六十", [(60, "%", "founders_shareholding_percent", "=", "六十")]),
        # 成 is tenths of the whole: what people say of a shareholding
        ("我们团队一共占了七成", [(70, "%", "founders_shareholding_percent", "=", "七")]),
        ("股份我们占两成", [(20, "%", "founders_shareholding_percent", "=", "两")]),
        ("年薪不到30万", [(30, "万元/年", "annual_salary_wan", "<", "30")]),
        ("35岁以下能申请吗", [(35, "岁", "age", "<", "35")]),
        ("积分120分以上", [(120, "分", None, ">", "120")]),
        ("工作5年多了", [(5, "年", "relevant_work_years", ">", "5")]),
        ("买房花了300万", [(300, "万元", None, "=", "300")]),
        (
            "I am 40 and have worked abroad for 5 years",
            [(40, "岁", "age", "=", "40"), (5, "年", "overseas_experience_years", "=", "5")],
        ),
        ("registered capital of 5 million", [(500, "万元", "registered_capital_wan", "=", "5")]),
    ],
)
def test_numbers_by_unit(text: str, expected: list[tuple]) -> None:
    assert mentions(text) == expected


@pytest.mark.parametrize(
    "text",
    ["我十分感谢", "一起去看看", "三年级的孩子能转学吗", "万一不行呢", "稍等一下", "一成不变", "三成员"],
)
def test_words_with_numerals_are_not_numbers(text: str) -> None:
    assert numbers_by_unit(text) == []


def test_offsets_are_offsets_of_the_original_text() -> None:
    text = "ＡＢ我３８岁，积分１２０分"  # full-width digits fold to ASCII without moving offsets
    found = numbers_by_unit(text)
    assert [(m.start, m.end, text[m.start : m.end]) for m in found] == [(3, 5, "３８"), (9, 12, "１２０")]
    assert found[0] == NumberMention(38, "岁", "age", "=", 3, 5)


@pytest.mark.parametrize(
    "text, expected",
    [
        # a bound is not a value: never an entity
        ("积分还没到120分", []),
        ("年薪不到30万", []),
        # Qingpu talent points are not residence-permit points (issue 15: "60分" was stored as both)
        ("人才积分通用指标有60分", []),
        ("人才积分60分，居住证积分110分", [("residence_points", 110, "110")]),
        # a contribution base or registered capital is not a salary
        ("基数大概1.2万", []),
        ("我38岁…海外工作过5年…注册资本500万", [("age", 38, "38")]),
    ],
)
def test_entities_from_a_message_with_several_numbers(text: str, expected: list[tuple]) -> None:
    assert [(e.entity, e.value, text[e.start : e.end]) for e in extract_numbers(text)] == expected
