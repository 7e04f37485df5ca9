"""The API contract the actions rely on: result shape, languages, sorting, missing-fact ranking, no invented amounts."""

from __future__ import annotations

import re

import pytest

from policies import TOPICS, default_knowledge_base, evaluate

RESULT_KEYS = {
    "policy_id", "district", "topic", "benefit", "tier", "status", "max_amount", "unit", "duration", "missing_facts",
    "reasons", "how_to_apply", "source", "payout", "duration_months", "personalised", "superseded_by", "summary", "title",
    "conditions",
}  # fmt: skip
STATUS_ORDER = ["eligible", "can_register", "review", "needs_info", "referral", "superseded", "ineligible"]
OUTCOMES = {"met", "unmet", "unknown", "not_checked", "review"}
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
    before = evaluate({"district": "青浦"}, topic="rent_subsidy")["missing_facts"]
    # the employer's registration and the person's tax decide every Qingpu housing subsidy: first
    assert before[:2] == ["employer_registered_in_district", "tax_and_social_insurance_in_district"]
    first = "employer_registered_in_district"
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


PROFILES_FOR_CONDITIONS = (
    {},
    SCIENTIST,
    {"district": "青浦", "sector": "农业", "agri_team_role": "带头人"},
    {
        "district": "青浦",
        "age": 70,
        "overseas_experience_years": 5,
        "sector": "农业",
        "agri_team_role": "带头人",
    },
    {"district": "青浦", "hukou": "上海", "education": "本科", "employer_type": "其他企业"},
)


@pytest.mark.parametrize("profile", PROFILES_FOR_CONDITIONS)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_conditions_are_data_and_reasons_never_print_an_unanswered_condition_as_met(
    profile: dict, language: str
) -> None:
    from policies.present import condition_lines, words

    met = words(language)["outcome"]["met"] + words(language)["colon"]
    for result in evaluate(profile, district=None if profile else "all", language=language)["results"]:
        for entry in result["conditions"]:
            assert {"condition", "outcome", "label", "article"} <= set(entry), entry
            assert entry["outcome"] in OUTCOMES
            if entry["outcome"] != "met" and entry.get("tier") is None:
                assert met + entry["label"] not in result["reasons"], (result["policy_id"], entry)
        lines = condition_lines(result, language)
        assert result["reasons"][: len(lines)] == lines  # reasons come from the one formatter


def test_ineligible_results_name_the_failing_condition_first() -> None:
    results = evaluate({**SCIENTIST, "tax_and_social_insurance_in_district": False})["results"]
    ineligible = [
        r for r in results if r["status"] == "ineligible" and r["policy_id"].startswith("qingpu.housing")
    ]
    assert ineligible
    for result in ineligible:
        assert result["reasons"][0].startswith("不符合："), result["reasons"]


def test_a_yearly_ranking_is_never_eligible_and_never_promises_an_amount() -> None:
    ranking = [p for p in default_knowledge_base().policies if p.decision == "yearly_ranking"]
    assert [p.id for p in ranking] == ["qingpu.housing.points_rent_subsidy"]
    profile = {
        "district": "青浦", "employer_registered_in_district": True, "tax_and_social_insurance_in_district": True,
        "talent_points": 80, "owns_home_in_district": False, "rents_in_district": True,
        "spouse_receives_rent_subsidy": False,
    }  # fmt: skip
    for language in ("zh", "en"):
        (result,) = [
            r
            for r in evaluate(profile, topic="rent_subsidy", language=language)["results"]
            if r["policy_id"] == "qingpu.housing.points_rent_subsidy"
        ]
        assert result["status"] == "can_register"
        assert (
            "最高每月2000元" not in result["summary"] and "up to 2,000 yuan a month" not in result["summary"]
        )


def test_present_functions_work_on_result_dictionaries() -> None:
    from policies.present import amount_text, bands_text, status_label

    (result,) = [
        r for r in evaluate(SCIENTIST, topic="purchase_subsidy")["results"]
        if r["policy_id"] == "qingpu.housing.purchase_subsidy"
    ]  # fmt: skip
    assert amount_text(result, "zh") == "最高100万元"
    assert amount_text(result, "en") == "up to 1,000,000 yuan"
    assert amount_text({"max_amount": None, "unit": None}, "zh") == "文件未规定具体金额"
    bands = [{"label": "第一档", "share_percent": 40, "amount": 1000}]
    assert bands_text({"bands": bands, "unit": "yuan_per_month"}, "zh") == "第一档每月1000元（入选人数的40%）"
    assert status_label("review", "en") == "The office decides case by case"
    assert status_label("can_register", "zh") == "可以申请登记，按年度排名评定"


def test_engine_and_render_import_without_a_cycle() -> None:
    import ast
    from pathlib import Path

    render = Path(__file__).resolve().parents[2] / "policies" / "render.py"
    imported = {
        node.module for node in ast.walk(ast.parse(render.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
    }  # fmt: skip
    assert "engine" not in imported


# Offices and services the documents never name or only plan (issue 12 point 10).
NOT_IN_THE_DOCUMENTS = ("区教育局", "卫生健康委", "Education Bureau", "Health Commission", "可在线办理")


def test_answers_name_no_office_the_documents_do_not_name(everything: dict) -> None:
    for language in ("zh", "en"):
        for result in evaluate({}, district="all", language=language)["results"]:
            text = " ".join([result["summary"], result["how_to_apply"], result["contact"], *result["notes"]])
            for phrase in NOT_IN_THE_DOCUMENTS:
                assert phrase not in text, (result["policy_id"], phrase)


def test_plans_are_worded_as_plans() -> None:
    for policy in default_knowledge_base().policies:
        benefit = policy.benefit["zh"]
        if "探索" in benefit:
            assert "提出" in benefit, policy.id  # 规划提出探索… / 方案提出…
