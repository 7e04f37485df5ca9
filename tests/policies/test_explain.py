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


LEADER_70 = {
    "district": "青浦", "age": 70, "overseas_experience_years": 5, "sector": "农业", "agri_team_role": "带头人",
    "employer_registered_in_district": True, "tax_and_social_insurance_in_district": True, "education": "硕士",
    "full_time": True, "senior_post_years": 5, "paid_in_capital_wan": 300, "legal_rep_and_largest_shareholder": True,
    "founders_shareholding_percent": 60, "agri_team_class": "A", "talent_points": 50, "owns_home_in_district": False,
    "rents_in_district": True, "spouse_receives_rent_subsidy": False,
}  # fmt: skip


def test_explain_shows_review_and_can_register_in_chinese() -> None:
    text = explain(evaluate(LEADER_70))
    assert "文件允许酌情放宽、由办理部门个案决定的政策" in text
    assert "可以申请登记、按年度排名评定的政策（不保证获得）" in text
    assert "青浦农业创业团队一次性奖励（A类）：文件规定带头人年龄一般不超过60周岁" in text
    assert (
        "金额：第一档每月1000元（入选人数的40%）；第二档每月1500元（入选人数的30%）；第三档每月2000元（入选人数的30%）"
        in text
    )
    assert "未核实（由办理部门审核）：团队包括1名带头人和至少4名成员" in text
    assert "符合：团队包括" not in text


def test_explain_shows_review_and_can_register_in_english() -> None:
    text = explain(evaluate(LEADER_70, language="en"), "en")
    assert "Policies whose rule the office may relax: decided case by case" in text
    assert "Policies you may register for; recipients are chosen by yearly ranking (not guaranteed)" in text
    assert "Decided case by case by the office: the leader is generally 60 or under" in text
    assert "Amount: first band 1,000 yuan a month (40% of those selected)" in text
