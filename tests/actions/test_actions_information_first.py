"""Information first on real Trackers (issue 15): a rule question answered at once, only the questions that matter."""

from __future__ import annotations

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionPlainYes
from tests.actions.helpers import (
    QINGPU_MASTER,
    answer_turn,
    domain,
    form_turn,
    last_requested,
    make_tracker,
    rendered,
    responses,
)

# --- 1. a question about the rule is answered at once ----------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh", "青浦租房补贴是多少"), ("en", "How much is the rent subsidy in Qingpu?")],
)
async def test_a_rule_question_is_answered_without_personal_questions(language: str, text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "language": language}
    events, _ = await form_turn(slots, text=text, intent="ask_rent_subsidy")
    assert last_requested(events) is None  # no question: the form hands over to the answer
    events, dispatcher = await answer_turn(slots, text=text, intent="ask_rent_subsidy")
    assert responses(dispatcher)[0] == "utter_rule_answer"
    assert responses(dispatcher)[-1] == "utter_offer_check"
    first = dispatcher.messages[0]
    assert "4000" in first["tiers_text"].replace(",", "") and "3000" in first["tiers_text"].replace(",", "")
    assert "青委〔2020〕88号" in first["citation"]
    offer = dispatcher.messages[-1]["buttons"]
    assert offer[0]["payload"] == "/check_my_case"
    assert SlotSet("check_offered", True) in events and SlotSet("answer_mode", "rule") in events
    assert rendered(dispatcher, language)[0].count("88号") == 1


@pytest.mark.parametrize(
    ("language", "text"), [("zh", "我能拿多少租房补贴？"), ("en", "How much rent subsidy can I get?")]
)
async def test_a_question_about_the_persons_case_asks_what_can_change_it(language: str, text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "language": language}
    events, _ = await form_turn(slots, text=text, intent="ask_rent_subsidy")
    assert last_requested(events) == "employer_registered_in_district"


@pytest.mark.parametrize(
    ("language", "text"), [("zh", "我能拿多少租房补贴？"), ("en", "What housing support can I get?")]
)
async def test_the_personal_kind_of_answer_lasts_through_the_questions(language: str, text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "language": language}
    events, _ = await form_turn(slots, text=text, intent="ask_rent_subsidy")
    assert SlotSet("answer_mode", "personal") in events
    # the last answer ("yes") ends the questions; the answer is the personal one, not the rule
    after = {**QINGPU_MASTER, "topic": "rent_subsidy", "language": language, "answer_mode": "personal"}
    _, dispatcher = await answer_turn(
        after, text="是的", intent="affirm", trailing_slots={"tax_and_social_insurance_in_district": True}
    )
    assert responses(dispatcher)[0] == "utter_lead_eligible"


@pytest.mark.parametrize(("language", "text"), [("zh", "好的"), ("en", "yes please")])
async def test_yes_to_the_offer_starts_the_questions(language: str, text: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"district": "青浦", "topic": "rent_subsidy", "check_offered": True, "language": language},
        text=text,
        intent="affirm",
    )
    events = await ActionPlainYes().run(dispatcher, tracker, domain())
    assert SlotSet("answer_mode", "personal") in events and events[-1] == FollowupAction("policy_form")
    form_events, _ = await form_turn(
        {"district": "青浦", "topic": "rent_subsidy", "answer_mode": "personal"}, text=text, intent="affirm"
    )
    assert last_requested(form_events) == "employer_registered_in_district"


# --- 2. only the questions that matter, never twice -------------------------------------------------


async def _questions(slots: dict, know: dict, text: str, intent: str, limit: int = 10) -> list[str]:
    """Replays the form on real trackers: each question answered from `know` ("不知道" otherwise)."""
    slots = dict(slots)
    asked: list[str] = []
    events, _ = await form_turn(slots, text=text, intent=intent)
    for _ in range(limit):
        fact = last_requested(events)
        if not fact:
            return asked
        asked.append(fact)
        slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
        slots["requested_slot"] = fact
        if fact in know:
            answer = {"trailing_slots": {fact: know[fact]}, "text": str(know[fact]), "intent": "inform"}
        else:
            answer = {"trailing_slots": {fact: "不知道"}, "text": "不知道", "intent": "inform"}
        events, _ = await form_turn(slots, **answer)
    raise AssertionError(f"still asking after {limit} questions: {asked}")


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_hukou_holder_is_never_asked_about_a_residence_permit(language: str) -> None:
    person = {**QINGPU_MASTER, "hukou": "上海"}
    text = (
        "我有上海户口，能住人才公寓吗"
        if language == "zh"
        else "I have a Shanghai hukou, can I get a talent apartment?"
    )
    asked = await _questions(
        {"district": "青浦", "topic": "talent_apartment", "hukou": "上海", "language": language},
        person,
        text,
        "ask_talent_apartment",
    )
    assert "has_residence_permit" not in asked and "residence_permit_points" not in asked
    assert len(asked) == len(set(asked)) <= 4


async def test_the_qingpu_masters_rent_subsidy_needs_only_the_questions_that_change_it() -> None:
    asked = await _questions(
        {
            "district": "青浦",
            "topic": "rent_subsidy",
            "education": "硕士",
            "full_time": True,
            "title": "副高级",
            "age": 33,
        },
        QINGPU_MASTER,
        "全日制硕士，副高，33岁，在青浦能拿多少租房补贴",
        "ask_rent_subsidy",
    )
    assert asked == ["employer_registered_in_district", "tax_and_social_insurance_in_district"]
    rare = {"former_executive_of", "honors", "qingfeng_candidate", "remote_town_worker", "agri_team_class"}
    assert not rare & set(asked)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "人才积分通用指标有50分，青浦租房补贴我能拿吗"),
        ("en", "My Qingpu talent points are 50 points, can I get the rent subsidy?"),
    ],
)
async def test_a_volunteered_fact_is_never_asked(language: str, text: str) -> None:
    events, _ = await form_turn(
        {"district": "青浦", "topic": "rent_subsidy", "language": language},
        text=text,
        intent="ask_rent_subsidy",
    )
    assert SlotSet("talent_points", 50) in events
    asked = await _questions(
        {"district": "青浦", "topic": "rent_subsidy", "talent_points": 50, "language": language},
        {**QINGPU_MASTER, "talent_points": 50},
        text,
        "ask_rent_subsidy",
    )
    assert "talent_points" not in asked


@pytest.mark.parametrize(
    ("language", "text"), [("zh", "不知道"), ("zh", "不清楚，跳过吧"), ("en", "not sure, skip it")]
)
async def test_dont_know_to_the_points_question_skips_it_and_the_answer_says_it_is_open(
    language: str, text: str
) -> None:
    slots = {
        **QINGPU_MASTER,
        "education": "本科",
        "title": "无",
        "topic": "rent_subsidy",
        "requested_slot": "talent_points",
        "answer_mode": "personal",
        "language": language,
    }
    events, dispatcher = await form_turn(
        slots, text=text, intent="inform", trailing_slots={"talent_points": text}
    )
    skipped = [e["value"] for e in events if e.get("name") == "skipped_facts"][-1]
    assert "talent_points" in skipped
    assert last_requested(events) != "talent_points"
    assert "utter_invalid_number" not in responses(dispatcher)
    _, answer = await answer_turn(
        {**slots, "requested_slot": None}, text=text, trailing_slots={"skipped_facts": skipped}
    )
    assert any(
        "talent" in m.get("open_text", "").lower() or "积分" in m.get("open_text", "")
        for m in answer.messages
    )
