"""The number and amount normaliser's rules (nlu/numbers.py): a table of real-looking messages."""

from __future__ import annotations

import pytest

from nlu.numbers import chinese_to_number, extract_numbers, is_bare_number, parse_number, parse_salary


@pytest.mark.parametrize(
    "text, value",
    [
        ("三十五", 35),
        ("一百二十", 120),
        ("一百二", 120),
        ("一百零五", 105),
        ("两万五", 25000),
        ("十二万五千", 125000),
        ("十", 10),
        ("十八", 18),
        ("四十", 40),
        ("一点二", 1.2),
        ("一二零", 120),
        ("三万", 30000),
        ("一千二", 1200),
    ],
)
def test_chinese_numerals(text: str, value: float) -> None:
    assert chinese_to_number(text) == value


@pytest.mark.parametrize(
    "text, value", [("35", 35), ("3,000", 3000), ("1.2", 1.2), ("１２０", 120), ("三十五", 35)]
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "", "三点", "万"])
def test_parse_number_rejects_non_numbers(text: str) -> None:
    assert parse_number(text) is None


def found(text: str) -> list[tuple[str, float, str]]:
    return [(e.entity, e.value, text[e.start : e.end]) for e in extract_numbers(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        # age
        ("三十五岁", [("age", 35, "三十五")]),
        ("35岁", [("age", 35, "35")]),
        ("我35周岁", [("age", 35, "35")]),
        ("我今年32", [("age", 32, "32")]),
        ("年龄45", [("age", 45, "45")]),
        ("35 years old", [("age", 35, "35")]),
        ("I'm 34", [("age", 34, "34")]),
        ("I am 29, PhD", [("age", 29, "29")]),
        ("aged 40", [("age", 40, "40")]),
        ("28yo", [("age", 28, "28")]),
        ("快30了", [("age", 30, "30")]),
        ("马上三十岁了", [("age", 30, "三十")]),
        ("３５岁", [("age", 35, "３５")]),
        # annual salary in 万元
        ("年薪一百二十万", [("annual_salary", 120, "一百二十万")]),
        ("年薪120w", [("annual_salary", 120, "120w")]),
        ("年薪120W", [("annual_salary", 120, "120W")]),
        ("1.2百万", [("annual_salary", 120, "1.2百万")]),
        ("120万", [("annual_salary", 120, "120万")]),
        ("年薪 80 万元", [("annual_salary", 80, "80 万元")]),
        ("1.2 million a year", [("annual_salary", 120, "1.2 million")]),
        ("salary 800k", [("annual_salary", 80, "800k")]),
        ("I earn 1.2 million a year", [("annual_salary", 120, "1.2 million")]),
        ("年薪50", [("annual_salary", 50, "50")]),
        ("年薪300000", [("annual_salary", 30, "300000")]),
        ("年薪300,000元", [("annual_salary", 30, "300,000元")]),
        ("年薪两万五", [("annual_salary", 2.5, "两万五")]),
        ("月薪3万", [("annual_salary", 36, "3万")]),
        ("月薪两万五", [("annual_salary", 30, "两万五")]),
        ("3万一个月", [("annual_salary", 36, "3万")]),
        ("税前年薪大概六十万", [("annual_salary", 60, "六十万")]),
        # residence-permit points
        ("积分一百二十分", [("residence_points", 120, "一百二十")]),
        ("120分", [("residence_points", 120, "120")]),
        ("居住证积分有110", [("residence_points", 110, "110")]),
        ("120 points", [("residence_points", 120, "120")]),
        ("my points are 95", [("residence_points", 95, "95")]),
        ("一百零五分", [("residence_points", 105, "一百零五")]),
        # several facts in one message
        (
            "我35岁，博士，年薪80万，积分120分",
            [("age", 35, "35"), ("annual_salary", 80, "80万"), ("residence_points", 120, "120")],
        ),
        ("我今年三十二，年薪120w", [("age", 32, "三十二"), ("annual_salary", 120, "120w")]),
        ("I'm 34 and my salary is 800k", [("age", 34, "34"), ("annual_salary", 80, "800k")]),
    ],
)
def test_extract_numbers(text: str, expected: list) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "35",  # a bare number: the dialogue decides what it answers
        "120",
        "三十五",
        "十分感谢",  # 十分 = very
        "45岁以下可以申请吗",  # a threshold in a question, not the person's age
        "35岁以上有补贴吗",
        "我买房花了300万",  # a sum of money, not a salary
        "租房补贴每月2500元",
        "等了5分钟",
        "三分之一",
        "I'm 100% sure",
        "收入证明需要3个月",
        "第2套房",
        "快2点了",
        "",
    ],
)
def test_no_entity_without_a_cue(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "span, value",
    [
        ("120w", 120),
        ("一百二十万", 120),
        ("1.2 million", 120),
        ("800k", 80),
        ("50", 50),
        ("300000元", 30),
        ("两万五", 2.5),
    ],
)
def test_parse_salary_of_a_span(span: str, value: float) -> None:
    assert parse_salary(span) == value


@pytest.mark.parametrize("text, bare", [("35", True), (" 三十五 ", True), ("35岁", False), ("我35", False)])
def test_is_bare_number(text: str, bare: bool) -> None:
    assert is_bare_number(text) is bare
