"""The API contract the actions rely on: result shape, languages, sorting, missing-fact ranking, no invented amounts."""

from __future__ import annotations

import re

import pytest

from policies import TOPICS, default_knowledge_base, evaluate

RESULT_KEYS = {
    "policy_id", "district", "topic", "benefit", "tier", "status", "max_amount", "unit", "duration", "missing_facts",
    "reasons", "how_to_apply", "source", "payout", "duration_months", "personalised", "superseded_by", "summary", "title",
}  # fmt: skip
STATUS_ORDER = ["eligible", "needs_info", "referral", "superseded", "ineligible"]
UNITS = {"yuan", "yuan_per_month", "yuan_per_year", "percent_of_average_salary", None}
CHINESE = re.compile(r"[\u4e00-\u9fff]")

SCIENTIST = {
    "district": "青浦",
    "age": 33,
    "education": "博士",
    "full_time": True,
    "title": "副高级",
    "employer_registered_in_district": True,
    "tax_and_social_insurance_in_district": True,
}


@pytest.fixture(scope="module")
def everything() -> dict:
    return evaluate({}, district="all")


def test_result_shape(everything: dict) -> None:
    assert set(everything) == {"profile", "results", "missing_facts"}
    for result in everything["results"]:
        assert RESULT_KEYS <= set(result), result["policy_id"]
        assert result["status"] in STATUS_ORDER
        assert result["topic"] in TOPICS
        assert result["unit"] in UNITS
        assert isinstance(result["payout"], str) and isinstance(result["summary"], str) and result["summary"]
        assert result["duration_months"] is None or isinstance(result["duration_months"], int)
        assert set(result["source"]) >= {"title", "title_en", "doc_number", "date", "article"}
        assert result["source"]["date"] and result["source"]["article"]


def test_every_topic_has_policies_somewhere(everything: dict) -> None:
    assert {result["topic"] for result in everything["results"]} == set(TOPICS)


def test_descriptive_policies_never_claim_eligibility() -> None:
    for policy in default_knowledge_base().policies:
        if policy.kind != "computable":
            result = evaluate(
                {"district": policy.district, "qingfeng_candidate": True}, district=policy.district
            )
            statuses = {r["status"] for r in result["results"] if r["policy_id"] == policy.id}
            assert "eligible" not in statuses, policy.id


def test_results_are_sorted_by_status_then_amount() -> None:
    results = evaluate(SCIENTIST)["results"]
    ranks = [STATUS_ORDER.index(r["status"]) for r in results]
    assert ranks == sorted(ranks)
    eligible = [
        r for r in evaluate({**SCIENTIST, "honors": ["国家杰青"]})["results"] if r["status"] == "eligible"
    ]
    assert eligible[0]["policy_id"] == "qingpu.housing.purchase_subsidy"


def test_missing_facts_are_ranked_and_unique() -> None:
    evaluation = evaluate({"district": "青浦"}, topic="purchase_subsidy")
    facts = evaluation["missing_facts"]
    assert len(facts) == len(set(facts))
    assert facts[0] == "employer_registered_in_district"
    union = {fact for result in evaluation["results"] for fact in result["missing_facts"]}
    assert set(facts) <= union


def test_answering_the_first_missing_fact_removes_it() -> None:
    first = evaluate({"district": "青浦"}, topic="rent_subsidy")["missing_facts"][0]
    after = evaluate({"district": "青浦", first: False}, topic="rent_subsidy")
    assert first not in after["missing_facts"]
    assert all(
        r["status"] == "ineligible" for r in after["results"] if r["policy_id"].startswith("qingpu.housing")
    )


def test_english_texts_are_english_and_keep_official_chinese_names() -> None:
    results = evaluate(SCIENTIST, language="en")["results"]
    for result in results:
        for key in ("title", "benefit", "summary"):
            assert not CHINESE.search(result[key].split("(")[0][:20]), (key, result[key])
        assert CHINESE.search(result["source"]["title"])
        assert not CHINESE.search(result["source"]["title_en"])
    contacts = {r["contact"] for r in results}
    assert any("青浦区人才服务中心" in contact for contact in contacts)


def test_chinese_is_the_default_language() -> None:
    result = evaluate(SCIENTIST, topic="purchase_subsidy")["results"][0]
    assert CHINESE.search(result["summary"]) and CHINESE.search(result["reasons"][0])


def test_superseded_results_name_their_replacement() -> None:
    results = {r["policy_id"]: r for r in evaluate(SCIENTIST)["results"]}
    rent = results["qingpu.housing.rent_subsidy"]
    assert rent["status"] == "superseded"
    assert results[rent["superseded_by"]]["status"] == "eligible"


def test_no_amount_is_invented_for_referrals(everything: dict) -> None:
    for policy in default_knowledge_base().policies:
        if policy.max_amount is None and not policy.tiers:
            result = next(r for r in everything["results"] if r["policy_id"] == policy.id)
            assert result["max_amount"] is None and result["unit"] is None


def test_topic_and_district_filters() -> None:
    results = evaluate({"district": "松江"}, topic="hukou")["results"]
    assert results and all(r["topic"] == "hukou" and r["district"] == "松江" for r in results)


def test_evaluate_does_not_mutate_its_input() -> None:
    profile = {"district": "青浦区", "honors": ["杰青"]}
    evaluate(profile)
    assert profile == {"district": "青浦区", "honors": ["杰青"]}


def test_referrals_the_person_matches_come_before_general_ones() -> None:
    results = evaluate(
        {"district": "松江", "shortage_talent": True, "employer_registered_in_district": True}
    )["results"]
    referrals = [r["policy_id"] for r in results if r["status"] == "referral"]
    assert referrals[0] == "songjiang.g60.shortage_salary_subsidy"
