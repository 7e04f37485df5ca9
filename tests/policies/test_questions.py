"""Question choice (policies/questions.py): a scheme the person put us on is settled by its own facts
first, and nothing that cannot matter for them is asked."""

from __future__ import annotations

import pytest

from policies.questions import own_facts, plausible, pointless, rank_questions, with_implied

AGRI_LEADER_PURCHASE = "qingpu.agriculture.leader_purchase_subsidy"
# what the NLU reads from "我是青浦农业创业团队的带头人，团队评的是B类，买房有补贴吗"
FARMER = {"district": "青浦", "sector": "农业", "agri_team_role": "带头人", "agri_team_class": "B"}
# the scheme's own decisive facts: without any of them the team leader gets nothing
DECISIVE_OWN = {"paid_in_capital_wan", "legal_rep_and_largest_shareholder", "founders_shareholding_percent"}
GENERIC = {"employer_registered_in_district", "tax_and_social_insurance_in_district", "education", "age"}


def test_the_agricultural_scheme_s_own_facts_are_the_rare_ones_it_reads() -> None:
    own = own_facts(AGRI_LEADER_PURCHASE)
    assert DECISIVE_OWN <= own
    assert not own & GENERIC


@pytest.mark.parametrize(
    "profile",
    [FARMER, {k: v for k, v in FARMER.items() if k != "sector"}],
    ids=["sector said", "only the team said"],
)
def test_a_farmer_team_leader_is_asked_the_scheme_s_own_decisive_facts_first(profile: dict) -> None:
    ranked = rank_questions(profile, "purchase_subsidy", "青浦")
    assert set(ranked[:3]) == DECISIVE_OWN
    assert not {"sector", "key_industry"} & set(ranked)


def test_the_farmer_s_questions_within_the_cap_settle_the_scheme() -> None:
    """Answered as a leader who meets them, the scheme's own facts leave only the common conditions."""
    from policies import evaluate

    answers = {
        "paid_in_capital_wan": 300,
        "legal_rep_and_largest_shareholder": True,
        "founders_shareholding_percent": 60,
    }
    profile = with_implied({**FARMER, **answers})
    result = next(
        r
        for r in evaluate(profile, topic="purchase_subsidy", district="青浦")["results"]
        if r["policy_id"] == AGRI_LEADER_PURCHASE
    )
    assert result["tier"] == "B"
    assert not DECISIVE_OWN & set(result["missing_facts"])
    # one answer that fails a decisive fact rules the scheme out at once
    short = evaluate({**profile, "paid_in_capital_wan": 100}, topic="purchase_subsidy", district="青浦")
    assert {r["policy_id"]: r["status"] for r in short["results"]}[AGRI_LEADER_PURCHASE] == "ineligible"


def test_a_team_s_role_implies_agriculture_unless_the_person_said_otherwise() -> None:
    assert with_implied({"agri_team_role": "带头人"})["sector"] == "农业"
    assert with_implied({"agri_entrepreneur": True})["sector"] == "农业"
    assert "sector" not in with_implied({"agri_entrepreneur": False})
    assert with_implied({"agri_team_role": "成员", "sector": "科研"})["sector"] == "科研"


def test_the_key_industry_list_is_never_asked_of_a_farmer() -> None:
    assert pointless("key_industry", {"sector": "农业"})
    assert not pointless("key_industry", {"sector": "产业"})


def test_a_farmer_is_not_shown_the_key_industry_scheme_he_is_never_asked_about() -> None:
    """Annex 2's industrial-talent purchase subsidy hangs on the key-industry question a farmer is never
    asked: it is not listed beside his own scheme (it stays behind "更多"); the degree-based one is."""
    worth = plausible(FARMER, "purchase_subsidy", "青浦")
    assert AGRI_LEADER_PURCHASE in worth and "qingpu.housing.purchase_subsidy" in worth
    assert "qingpu.industrial.purchase_subsidy" not in worth
    assert "qingpu.industrial.purchase_subsidy" in plausible({"district": "青浦"}, "purchase_subsidy", "青浦")


def test_without_a_hint_the_agricultural_facts_are_not_asked() -> None:
    """An engineer asking about the purchase subsidy is never asked about paid-in capital."""
    ranked = rank_questions({"district": "青浦"}, "purchase_subsidy", "青浦")
    assert not DECISIVE_OWN & set(ranked)
