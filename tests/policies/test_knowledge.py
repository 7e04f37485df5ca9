"""policies/knowledge.py: what the loaded knowledge base answers besides policies (the numbers its compiled
conditions compare facts with, which policies/questions.py probes)."""

from __future__ import annotations

from policies.knowledge import default_knowledge_base


def test_thresholds_come_from_the_compiled_conditions() -> None:
    base = default_knowledge_base()
    # Qingpu annex 4: class E at most 35; agricultural team leaders generally 60 or under (review)
    assert base.thresholds("age") == (35.0, 60.0)
    # annex 4 第二条: 45 talent points; 50万 (special contribution reward) and 100万 (class C) salary
    assert base.thresholds("talent_points") == (45.0,)
    assert base.thresholds("annual_salary_wan") == (50.0, 100.0)
    # facts that are not numbers, or that no condition compares, have none
    assert base.thresholds("education") == () and base.thresholds("no_such_fact") == ()


def test_a_bound_stands_for_a_value_only_where_every_condition_judges_its_values_alike() -> None:
    base = default_knowledge_base()
    # 居住证积分 at least 120: "还没到120" fails it whatever the exact points
    assert base.value_for_bound("residence_permit_points", "<", 120) == 119
    # 人才积分 at least 45: below 120 may be 44 or 100, the conditions tell them apart
    assert base.value_for_bound("talent_points", "<", 120) is None
    # age at most 35 and at most 60: "35岁以下" meets both; "35岁以上" may be 35 (class E) or 40 (not)
    assert base.value_for_bound("age", "<", 35) == 34
    assert base.value_for_bound("age", ">", 35) is None
    # 海外经历3年以上 against at least 3; 股份超过50% against more than 50 is not decided by "50 or more"
    assert base.value_for_bound("overseas_experience_years", ">", 3) == 3
    assert base.value_for_bound("founders_shareholding_percent", ">", 50) is None
