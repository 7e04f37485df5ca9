"""The evaluation memo (policies/memo.py): a repeated evaluation is answered from it, a changed profile,
topic, district, language, day or knowledge base never gets a stale outcome, and no caller shares a dict
or list with another caller or with the memo."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterator
from typing import Any

import pytest

from policies import evaluate, load_knowledge_base
from policies.engine import MEMO
from policies.memo import EvaluationMemo

ENGINEER = {
    "district": "青浦",
    "age": 33,
    "education": "硕士",
    "full_time": True,
    "title": "副高级",
    "employer_registered_in_district": True,
}


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    MEMO.clear()
    yield
    MEMO.clear()


def uncached(profile: dict, **kwargs: Any) -> dict:
    """What evaluate answers with nothing remembered."""
    MEMO.clear()
    return evaluate(profile, **kwargs)


def containers(value: Any) -> Iterator[Any]:
    """Every dict and list inside an outcome, itself included."""
    if isinstance(value, dict | list):
        yield value
        for item in value.values() if isinstance(value, dict) else value:
            yield from containers(item)


def test_a_repeated_evaluation_comes_from_the_memo() -> None:
    first = evaluate(ENGINEER, topic="rent_subsidy")
    hits = MEMO.hits
    assert evaluate(dict(ENGINEER), topic="rent_subsidy") == first
    assert MEMO.hits == hits + 1


def test_aliases_meet_the_same_entry() -> None:
    evaluate(ENGINEER, topic="rent_subsidy")
    hits = MEMO.hits
    evaluate({**ENGINEER, "district": "青浦区", "education": "master", "title": "副高"}, topic="rent_subsidy")
    assert MEMO.hits == hits + 1


@pytest.mark.parametrize(
    "change",
    [
        {"age": 36},
        {"age": None},
        {"education": "博士"},
        {"full_time": False},
        {"title": "正高级"},
        {"tax_and_social_insurance_in_district": True},
        {"tax_and_social_insurance_in_district": False},
        {"honors": ["国家杰青"]},
        {"employer_registered_in_district": None},
    ],
)
def test_a_changed_profile_never_gets_a_stale_outcome(change: dict) -> None:
    changed = {**ENGINEER, **change}
    expected = uncached(changed, topic="purchase_subsidy")
    MEMO.clear()
    for _ in range(2):  # with the original profile remembered, then with both
        evaluate(ENGINEER, topic="purchase_subsidy")
        assert evaluate(changed, topic="purchase_subsidy") == expected
    assert evaluate(ENGINEER, topic="purchase_subsidy") == uncached(ENGINEER, topic="purchase_subsidy")


def test_an_evaluation_without_a_topic_is_not_remembered() -> None:
    evaluate(ENGINEER)
    evaluate(ENGINEER)
    assert (len(MEMO), MEMO.hits) == (0, 0)


def test_list_facts_in_another_order_are_another_profile() -> None:
    one = {**ENGINEER, "honors": ["国家杰青", "长江学者"]}
    other = {**ENGINEER, "honors": ["长江学者", "国家杰青"]}
    evaluate(one, topic="talent_award")
    assert evaluate(other, topic="talent_award")["profile"]["honors"] == ["长江学者", "国家杰青"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"topic": "purchase_subsidy"},
        {"district": "all"},
        {"district": "松江"},
        {"language": "en"},
        {"on": datetime.date(2020, 1, 1)},
    ],
)
def test_every_argument_is_part_of_the_key(kwargs: dict) -> None:
    evaluate(ENGINEER, topic="rent_subsidy")
    expected = uncached(ENGINEER, **kwargs)
    evaluate(ENGINEER, topic="rent_subsidy")
    assert evaluate(ENGINEER, **kwargs) == expected


def test_another_knowledge_base_is_not_answered_from_the_default_ones_outcome() -> None:
    other = load_knowledge_base()
    other.policies = [p for p in other.policies if p.id != "qingpu.housing.rent_subsidy"]
    evaluate(ENGINEER, topic="rent_subsidy")
    ids = {r["policy_id"] for r in evaluate(ENGINEER, topic="rent_subsidy", knowledge=other)["results"]}
    assert "qingpu.housing.rent_subsidy" not in ids


def edit_deep_inside(outcome: dict) -> None:
    outcome["results"][0]["conditions"][0]["outcome"] = "edited"
    outcome["results"][0]["source"]["article"] = "edited"
    outcome["results"][0]["missing_facts"].append("edited")
    outcome["profile"]["age"] = 99
    outcome["results"].clear()


def test_outcomes_are_not_shared_mutable_objects() -> None:
    computed, remembered, again = (evaluate(ENGINEER, topic="rent_subsidy") for _ in range(3))
    assert computed == remembered == again
    seen = [{id(c) for c in containers(outcome)} for outcome in (computed, remembered, again)]
    assert not seen[0] & seen[1] and not seen[1] & seen[2] and not seen[0] & seen[2]
    # a caller that edits its outcome, deep inside, computed or remembered, changes nothing for the next
    expected = copy.deepcopy(uncached(ENGINEER, topic="rent_subsidy"))
    MEMO.clear()
    edit_deep_inside(evaluate(ENGINEER, topic="rent_subsidy"))
    edit_deep_inside(evaluate(ENGINEER, topic="rent_subsidy"))
    assert evaluate(ENGINEER, topic="rent_subsidy") == expected


def test_the_callers_profile_is_not_kept() -> None:
    profile = {**ENGINEER, "honors": ["国家杰青"]}
    outcome = evaluate(profile, topic="talent_award")
    profile["honors"].append("长江学者")
    assert outcome["profile"]["honors"] == ["国家杰青"]
    again = evaluate({**ENGINEER, "honors": ["国家杰青"]}, topic="talent_award")
    assert again["profile"]["honors"] == ["国家杰青"]


def test_the_memo_is_bounded_and_forgets_the_least_recently_used() -> None:
    memo = EvaluationMemo(size=3)
    for key in "abcd":
        memo.put(key, None, {"k": [key]})
        if key == "c":
            assert memo.get("a", None) == {"k": ["a"]}  # a is used again: b is now the oldest
    assert len(memo) == 3
    assert memo.get("b", None) is None
    assert memo.get("a", None) == {"k": ["a"]}


def test_the_memo_stays_within_its_size_under_many_profiles() -> None:
    for age in range(18, 18 + MEMO.size + 20):
        evaluate({**ENGINEER, "age": min(age, 80), "annual_salary_wan": age}, topic="rent_subsidy")
    assert len(MEMO) == MEMO.size
