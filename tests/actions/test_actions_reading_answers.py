"""Answers read as people type them, on real Trackers (issue 15), in Chinese and English."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from tests.actions.helpers import (
    QINGPU_MASTER,
    answer_turn,
    form_turn,
    last_requested,
    responses,
)

# --- 3. answers read as the person meant them -------------------------------------------------------


@pytest.mark.parametrize(("language", "text"), [("zh", "单身"), ("zh", "没结婚"), ("en", "I'm single")])
async def test_single_answers_the_spouse_question_with_no(language: str, text: str) -> None:
    slots = {**QINGPU_MASTER, "spouse_receives_rent_subsidy": None, "topic": "rent_subsidy"}
    slots.update(requested_slot="spouse_receives_rent_subsidy", language=language, answer_mode="personal")
    # the NLU took "单身" for a yes: the words decide
    events, _ = await form_turn(
        slots, text=text, intent="affirm", trailing_slots={"spouse_receives_rent_subsidy": True}
    )
    assert SlotSet("spouse_receives_rent_subsidy", False) in events
    assert SlotSet("spouse_receives_rent_subsidy", True) not in events


@pytest.mark.parametrize(("language", "text"), [("zh", "是也不是"), ("en", "yes and no")])
async def test_mixed_signals_are_asked_back_not_guessed(language: str, text: str) -> None:
    slots = {**QINGPU_MASTER, "spouse_receives_rent_subsidy": None, "topic": "rent_subsidy"}
    slots.update(requested_slot="spouse_receives_rent_subsidy", language=language, answer_mode="personal")
    events, dispatcher = await form_turn(
        slots, text=text, intent="affirm", trailing_slots={"spouse_receives_rent_subsidy": True}
    )
    assert SlotSet("spouse_receives_rent_subsidy", True) not in events
    assert SlotSet("spouse_receives_rent_subsidy", None) in events
    assert responses(dispatcher)[0] == "utter_ask_back_yes_no"
    assert last_requested(events) == "spouse_receives_rent_subsidy"


async def test_a_life_situation_for_another_question_is_asked_back() -> None:
    # "单身" to "do you own a home in the district?" says nothing about the home (the NLU said yes)
    slots = {"district": "青浦", "topic": "rent_subsidy", "requested_slot": "owns_home_in_district"}
    slots["answer_mode"] = "personal"
    events, dispatcher = await form_turn(
        slots, text="单身", intent="affirm", trailing_slots={"owns_home_in_district": True}
    )
    assert SlotSet("owns_home_in_district", True) not in events
    assert responses(dispatcher)[0] == "utter_ask_back_yes_no"
    assert last_requested(events) == "owns_home_in_district"  # asked again with its options


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_hukou_holder_is_not_told_a_residence_permit_is_still_open(language: str) -> None:
    slots = {"district": "青浦", "topic": "talent_apartment", "hukou": "上海", "language": language}
    slots.update(employer_registered_in_district=True, tax_and_social_insurance_in_district=True)
    _, dispatcher = await answer_turn(
        {**slots, "answer_mode": "personal"}, text="我能住人才公寓吗", intent="ask_talent_apartment"
    )
    lead = dispatcher.messages[0]
    assert lead["response"] == "utter_lead_needs_info"
    assert "居住证" not in lead["open_text"] and "residence permit" not in lead["open_text"]


@pytest.mark.parametrize(("text"), ["还没入职", "入职以后就是了"])
async def test_not_yet_is_no(text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "employer_registered_in_district": True}
    slots.update(requested_slot="tax_and_social_insurance_in_district", answer_mode="personal")
    events, _ = await form_turn(
        slots, text=text, intent="affirm", trailing_slots={"tax_and_social_insurance_in_district": True}
    )
    assert SlotSet("tax_and_social_insurance_in_district", False) in events


@pytest.mark.parametrize(
    ("language", "text", "entities"),
    [
        ("zh", "我38岁，海外工作过5年，注册资本500万", {"age": 38}),
        ("en", "I'm 38, worked abroad for 5 years, registered capital 500万", {"age": 38}),
    ],
)
async def test_three_numbers_in_one_message_go_each_to_its_fact(
    language: str, text: str, entities: dict
) -> None:
    slots = {"district": "青浦", "topic": "talent_award", "requested_slot": "overseas_experience_years"}
    slots.update(answer_mode="personal", language=language)
    events, dispatcher = await form_turn(
        slots, text=text, intent="inform", trailing_slots={**entities, "overseas_experience_years": text}
    )
    assert SlotSet("overseas_experience_years", 5) in events
    assert SlotSet("age", 38) in events
    assert not [name for name in responses(dispatcher) if name and name.startswith("utter_invalid")]


async def test_several_numbers_tagged_as_age_keep_only_the_one_in_years_of_age() -> None:
    # the NLU tagged 38, 5 and 500 as ages in "我38岁，海外工作过5年，注册资本500万" (seen end to end)
    text = "我38岁，海外工作过5年，注册资本500万，在青浦创业有什么扶持？"
    events, dispatcher = await form_turn(
        {"district": "青浦", "topic": "entrepreneur_support"},
        text=text,
        intent="ask_entrepreneur_support",
        trailing_slots={"age": [38, 5, 500]},
    )
    assert SlotSet("age", 38) in events
    # Rasa itself keeps the last of several values for a number slot
    events, _ = await form_turn(
        {"district": "青浦", "topic": "entrepreneur_support"},
        text=text,
        intent="ask_entrepreneur_support",
        trailing_slots={"age": 500},
    )
    assert SlotSet("age", 38) in events
    assert "utter_invalid_age" not in responses(dispatcher)


async def test_points_of_one_kind_never_fill_the_other() -> None:
    slots = {
        "district": "青浦",
        "topic": "rent_subsidy",
        "requested_slot": "talent_points",
        "answer_mode": "personal",
    }
    events, _ = await form_turn(
        slots,
        text="60分",
        intent="inform",
        trailing_slots={"residence_permit_points": 60, "talent_points": "60分"},
    )
    assert SlotSet("talent_points", 60) in events
    assert SlotSet("residence_permit_points", None) in events


async def test_an_answer_with_topic_words_stays_an_answer() -> None:
    earlier = [{"event": "slot", "name": "topic", "value": "talent_apartment"}]
    slots = {"district": "青浦", "topic": "residence_permit", "requested_slot": "has_residence_permit"}
    slots["answer_mode"] = "personal"
    events, _ = await form_turn(
        slots,
        text="有居住证",
        intent="ask_residence_permit",
        events=[*earlier, {"event": "user", "text": "人才公寓"}],
    )
    assert SlotSet("topic", "talent_apartment") in events
    assert SlotSet("has_residence_permit", True) in events


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_an_ineligible_answer_names_the_condition_that_failed(language: str) -> None:
    person = {**QINGPU_MASTER, "tax_and_social_insurance_in_district": False, "topic": "rent_subsidy"}
    _, dispatcher = await answer_turn(
        {**person, "language": language, "answer_mode": "personal"},
        text="我能拿多少",
        intent="ask_rent_subsidy",
    )
    lead = dispatcher.messages[0]
    assert lead["response"] == "utter_lead_ineligible"
    assert (
        ("个人所得税" in lead["failed_text"]) if language == "zh" else ("income tax" in lead["failed_text"])
    )
