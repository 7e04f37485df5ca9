"""explain(): grouped like an officer's answer, with citations and the one question to ask next."""

from __future__ import annotations

from policies import evaluate
from policies.explain import explain


def test_groups_in_order_with_citation_and_next_question() -> None:
    profile = {
        "district": "青浦",
        "education": "博士",
        "full_time": True,
        "title": "副高级",
        "honors": ["无"],
    }
    text = explain(evaluate(profile, topic="purchase_subsidy"))
    lines = text.splitlines()
    assert lines[0].startswith("根据您提供的信息（所在区：青浦；")
    headers = [line for line in lines if line[:2] in ("一、", "二、", "三、", "四、", "五、")]
    assert headers and headers[0].startswith("一、")
    assert "还需要补充信息" in text and "青委〔2020〕88号" in text
    assert lines[-1].startswith("为了给出更准确的答复，请先告诉我：您的用人单位注册在该区")


def test_english_explanation_uses_roman_numerals_and_english_labels() -> None:
    text = explain(
        evaluate({"district": "杨浦", "hukou": "外地"}, topic="children_school", language="en"), "en"
    )
    assert "I. Policies to discuss with the office" in text
    assert "杨府发〔2021〕19号" in text and "Yangpu District 14th Five-Year Talent Development Plan" in text


def test_no_matching_policy_says_so() -> None:
    text = explain(evaluate({"district": "长宁"}, topic="residence_permit"))
    assert "没有找到符合查询范围的政策" in text


def test_personalised_results_say_staff_will_follow_up() -> None:
    profile = {"district": "青浦", "qingfeng_candidate": True, "years_worked_in_district": 0}
    text = explain(evaluate(profile, topic="talent_award"))
    assert "一事一议" in text and "工作人员" in text
