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
