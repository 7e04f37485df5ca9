"""The dynamic policy form: how answers are checked, read, acknowledged and asked again."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.validators import ValidateSlotMappings
from actions.yes_no_answer import extract_yes_no
from tests.actions.helpers import (
    AGE_NEXT,
    domain,
    make_tracker,
    only_requested,
    responses,
    run_form,
    slot_event,
    user_event,
)


async def test_an_age_out_of_range_is_refused_and_asked_again() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "age", "answer_mode": "personal"},
        text="我200岁",
        trailing_slots={"age": 200},
    )
    events, dispatcher = await run_form(tracker)
    assert events[0] == SlotSet("age", None)
    assert responses(dispatcher) == ["utter_invalid_age"]
    assert only_requested(events) is not None


async def test_an_age_nobody_asked_for_is_never_scolded() -> None:
    # "请输入16到80之间的年龄" only when the age was asked
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "talent_points"},
        text="我200岁",
        trailing_slots={"age": 200},
    )
    _, dispatcher = await run_form(tracker)
    assert "utter_invalid_age" not in responses(dispatcher)


async def test_a_district_without_policies_is_refused() -> None:
    tracker = make_tracker({"topic": "hukou"}, text="浦东", trailing_slots={"district": "浦东"})
    events, dispatcher = await run_form(tracker)
    assert events[0] == SlotSet("district", None)
    assert responses(dispatcher) == ["utter_invalid_district"]
    assert only_requested(events) == "district"


async def test_aliases_become_canonical_values() -> None:
    tracker = make_tracker(
        {"topic": "hukou", "district": "长宁"}, text="PhD", trailing_slots={"education": "phd"}
    )
    events, _ = await run_form(tracker)
    assert events[0] == SlotSet("education", "博士")


async def test_free_text_answers_to_choice_questions_are_understood() -> None:
    tracker = make_tracker(
        {"topic": "medical_service", "district": "青浦"},
        text="我在医院，做卫生工作",
        trailing_slots={"sector": "我在医院，做卫生工作"},
    )
    events, dispatcher = await run_form(tracker)
    assert events[0] == SlotSet("sector", "卫生")
    tracker = make_tracker(
        {"topic": "medical_service", "district": "青浦"},
        text="3年",
        trailing_slots={"relevant_work_years": "3年"},
    )
    events, _ = await run_form(tracker)
    assert events[0] == SlotSet("relevant_work_years", 3)


async def test_numbers_in_words_answer_number_questions() -> None:
    # one parser (nlu.numbers) for every numeric field: "三年" and "两百万" as well as "3年" and "200万"
    for field, text, expected in [
        ("relevant_work_years", "三年", 3),
        ("relevant_work_years", "3年", 3),
        ("paid_in_capital_wan", "两百万", 200),
        ("paid_in_capital_wan", "200万", 200),
    ]:
        tracker = make_tracker(
            {"topic": "entrepreneur_support", "district": "青浦", "requested_slot": field},
            text=text,
            trailing_slots={field: text},
        )
        events, dispatcher = await run_form(tracker)
        assert events[0] == SlotSet(field, expected), text
        assert "utter_invalid_number" not in responses(dispatcher)


async def test_a_non_number_for_a_number_question_gets_a_hint_and_a_skip() -> None:
    tracker = make_tracker(
        {"topic": "talent_award", "district": "青浦", "requested_slot": "senior_post_years"},
        text="很多",
        trailing_slots={"senior_post_years": "很多"},
    )
    events, dispatcher = await run_form(tracker)
    assert SlotSet("skipped_facts", ["senior_post_years"]) in events
    assert SlotSet("senior_post_years", None) in events
    assert responses(dispatcher) == ["utter_answer_skipped"]
    assert "senior_post_years" not in [e["value"] for e in events if e.get("name") == "requested_slot"]


async def test_honours_accumulate_across_messages() -> None:
    earlier = [user_event("我是院士", "inform"), slot_event("honors", ["两院院士"])]
    tracker = make_tracker(
        {"topic": "talent_award", "district": "青浦"},
        text="也入选了国家杰青",
        events=earlier,
        trailing_slots={"honors": ["国家杰青"]},
    )
    events, _ = await run_form(tracker)
    assert events[0] == SlotSet("honors", ["两院院士", "国家杰青"])


async def test_none_of_these_honours() -> None:
    tracker = make_tracker(
        {"topic": "talent_award", "district": "青浦", "requested_slot": "honors"},
        text="都没有",
        intent="deny",
        trailing_slots={"honors": "无"},
    )
    events, _ = await run_form(tracker)
    assert events[0] == SlotSet("honors", ["无"])


async def test_corrections_outside_the_form_are_validated_too() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "education": "硕士"},
        text="不对，我是博士，非全日制",
        intent="deny",
        trailing_slots={"education": "博士研究生", "full_time": "false", "age": 5},
    )
    events = await ValidateSlotMappings().run(dispatcher, tracker, domain())
    assert SlotSet("education", "博士") in events
    assert SlotSet("full_time", False) in events
    assert SlotSet("age", None) in events
    assert responses(dispatcher) == []  # the age was not asked: no "请输入年龄"


async def test_another_district_while_a_question_is_open_is_not_an_answer() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "sector"},
        text="那长宁呢？",
        entities=[{"entity": "district", "value": "长宁"}],
        trailing_slots={"district": "长宁", "sector": "那长宁呢？"},
    )
    events, dispatcher = await run_form(tracker)
    assert SlotSet("district", "长宁") in events and SlotSet("sector", None) in events
    # no scolding about the sector; only the new district is acknowledged
    assert responses(dispatcher) == ["utter_noted_facts"]
    assert dispatcher.messages[0]["facts_text"] == "所在区：长宁"
    assert only_requested(events) != "sector"


async def test_a_wrong_answer_to_the_requested_question_is_asked_again() -> None:
    bachelor = {
        "topic": "rent_subsidy",
        "district": "青浦",
        "education": "本科",
        "full_time": True,
        "title": "副高级",
        "employer_registered_in_district": True,
        "tax_and_social_insurance_in_district": True,
        "former_executive_of": "无",
        "requested_slot": "age",
    }
    tracker = make_tracker(bachelor, text="我200岁", trailing_slots={"age": 200})
    events, dispatcher = await run_form(tracker)
    assert responses(dispatcher) == ["utter_invalid_age"]
    assert only_requested(events) == "age"  # class E depends on the age: still the most decisive fact


async def test_facts_volunteered_out_of_turn_are_acknowledged_and_the_next_step_follows() -> None:
    """Asked about the employer for Qingpu's rent subsidy, the person says "我是博士，在松江": both facts
    are acknowledged, and since Songjiang has no rent subsidy to ask about, the form ends (the answer
    follows) instead of re-asking the employer question."""
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "employer_registered_in_district"},
        text="我是博士，在松江",
        entities=[{"entity": "education", "value": "博士"}, {"entity": "district", "value": "松江"}],
        trailing_slots={"education": "博士", "district": "松江"},
    )
    events, dispatcher = await run_form(tracker)
    assert responses(dispatcher) == ["utter_noted_facts"]
    assert dispatcher.messages[0]["facts_text"] == "学历：博士、所在区：松江"
    assert SlotSet("education", "博士") in events and SlotSet("district", "松江") in events
    assert only_requested(events) is None


async def test_a_volunteered_fact_is_acknowledged_before_the_question_still_needed() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "employer_registered_in_district"},
        text="I'm 34",
        entities=[{"entity": "age", "value": 34}],
        trailing_slots={"age": 34},
        metadata={"language": "en"},
    )
    tracker.slots["language"] = "en"
    events, dispatcher = await run_form(tracker)
    assert responses(dispatcher) == ["utter_noted_facts"]
    assert dispatcher.messages[0]["facts_text"] == "age: 34"
    assert only_requested(events) == "employer_registered_in_district"


async def test_the_answer_to_the_pending_question_alone_is_not_acknowledged() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "education"},
        text="博士",
        entities=[{"entity": "education", "value": "博士"}],
        trailing_slots={"education": "博士"},
    )
    _, dispatcher = await run_form(tracker)
    assert "utter_noted_facts" not in responses(dispatcher)


async def test_a_bare_number_answers_the_number_question_asked() -> None:
    tracker = make_tracker(AGE_NEXT, text="35", intent="inform")
    events, dispatcher = await run_form(tracker)
    assert SlotSet("age", 35) in events
    assert responses(dispatcher) == []


async def test_a_bare_number_out_of_range_is_asked_again() -> None:
    tracker = make_tracker(AGE_NEXT, text="1", intent="goodbye")
    events, dispatcher = await run_form(tracker)
    assert SlotSet("age", None) in events
    assert responses(dispatcher) == ["utter_invalid_age"]


async def test_a_bare_number_answers_no_other_question() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "employer_registered_in_district"},
        text="35",
    )
    events, _ = await run_form(tracker)
    assert not any(e.get("name") == "age" for e in events)


# a negation that belongs to another fact is no answer to the yes/no question asked
@pytest.mark.parametrize(
    ("text", "span", "answered"),
    [
        ("不是上海户口", (2, 6), None),  # about the hukou only: the new-hire question stays open
        ("不是，不是上海户口", (5, 9), False),  # the first 不是 answers the question
        ("是的，不是上海户口", (5, 9), True),
    ],
)
async def test_a_negation_of_another_fact_does_not_answer_the_question(
    text: str, span: tuple[int, int], answered: bool | None
) -> None:
    start, end = span
    entity = {"entity": "hukou", "value": "外地", "start": start, "end": end}
    slots = {"district": "松江", "topic": "children_school", "requested_slot": "newly_recruited"}
    tracker = make_tracker(slots, text=text, intent="deny", entities=[entity])
    extracted = extract_yes_no("newly_recruited", CollectingDispatcher(), tracker)
    assert extracted.get("newly_recruited") is answered
