"""The dynamic policy form: which fact it asks next, and how answers are checked."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidatePolicyForm
from actions.validators import ValidateSlotMappings
from actions.yes_no_answer import extract_yes_no
from policies.questions import next_question
from tests.actions.helpers import AGE_NEXT, domain, make_tracker, responses, slot_event, user_event


async def _run_form(tracker) -> tuple[list[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ValidatePolicyForm().run(dispatcher, tracker, domain())
    return events, dispatcher


def _requested(events: list[dict]) -> object:
    asks = [e["value"] for e in events if e.get("name") == "requested_slot"]
    assert len(asks) == 1
    return asks[0]


async def test_district_is_asked_first_when_unknown() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy"},
        text="租房补贴怎么领",
        intent="ask_rent_subsidy",
        trailing_slots={"topic": "rent_subsidy"},
    )
    events, dispatcher = await _run_form(tracker)
    assert events == [
        SlotSet("requested_slot", "district"),
        SlotSet("questions_asked", 1),
        SlotSet("answer_mode", "rule"),  # "怎么领" asks about the rule: answered once the district is known
    ]
    assert dispatcher.messages == []


async def test_after_the_district_the_engine_chooses_the_next_fact() -> None:
    from policies import evaluate

    tracker = make_tracker(
        {"topic": "rent_subsidy", "questions_asked": 1, "answer_mode": "personal"},
        text="青浦",
        trailing_slots={"district": "青浦"},
    )
    events, _ = await _run_form(tracker)
    expected = next_question({"district": "青浦"}, "rent_subsidy", "青浦")
    assert expected in evaluate({"district": "青浦"}, topic="rent_subsidy")["missing_facts"]
    assert events[0] == SlotSet("district", "青浦")
    assert _requested(events) == expected
    assert events[-1] == SlotSet("questions_asked", 2)


def _answer_everything(slots: dict, topic: str) -> dict:
    """Fill every fact the real engine asks for with a plain answer until it asks for nothing."""
    from actions.config import profile_fields
    from policies import evaluate

    plain = {"bool": False, "int": 0, "number": 0, "list": ["无"]}
    slots = dict(slots)
    for _ in range(len(profile_fields())):
        missing = evaluate(slots, topic=topic, district=slots["district"])["missing_facts"]
        if not missing:
            return slots
        spec = profile_fields()[missing[0]]
        slots[missing[0]] = plain.get(spec["type"], (spec.get("values") or ["无"])[-1])
    raise AssertionError("the engine kept asking")


async def test_the_form_ends_when_the_engine_needs_nothing_more() -> None:
    known = _answer_everything({"district": "青浦", "education": "博士", "full_time": True}, "rent_subsidy")
    last_fact, last_value = list(known.items())[-1]
    earlier = {name: value for name, value in known.items() if name != last_fact}
    tracker = make_tracker(
        {**earlier, "topic": "rent_subsidy"},
        text="好",
        intent="affirm",
        trailing_slots={last_fact: last_value},
    )
    events, _ = await _run_form(tracker)
    assert events == [SlotSet(last_fact, last_value), SlotSet("requested_slot", None)]


async def test_the_question_cap_ends_the_form() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "questions_asked": 8},
        text="是的",
        intent="affirm",
        trailing_slots={"employer_registered_in_district": True},
    )
    events, _ = await _run_form(tracker)
    assert events == [SlotSet("employer_registered_in_district", True), SlotSet("requested_slot", None)]


async def test_an_age_out_of_range_is_refused_and_asked_again() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "age", "answer_mode": "personal"},
        text="我200岁",
        trailing_slots={"age": 200},
    )
    events, dispatcher = await _run_form(tracker)
    assert events[0] == SlotSet("age", None)
    assert responses(dispatcher) == ["utter_invalid_age"]
    assert _requested(events) is not None


async def test_an_age_nobody_asked_for_is_never_scolded() -> None:
    # "请输入16到80之间的年龄" only when the age was asked
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "talent_points"},
        text="我200岁",
        trailing_slots={"age": 200},
    )
    _, dispatcher = await _run_form(tracker)
    assert "utter_invalid_age" not in responses(dispatcher)


async def test_a_district_without_policies_is_refused() -> None:
    tracker = make_tracker({"topic": "hukou"}, text="浦东", trailing_slots={"district": "浦东"})
    events, dispatcher = await _run_form(tracker)
    assert events[0] == SlotSet("district", None)
    assert responses(dispatcher) == ["utter_invalid_district"]
    assert _requested(events) == "district"


async def test_aliases_become_canonical_values() -> None:
    tracker = make_tracker(
        {"topic": "hukou", "district": "长宁"}, text="PhD", trailing_slots={"education": "phd"}
    )
    events, _ = await _run_form(tracker)
    assert events[0] == SlotSet("education", "博士")


async def test_free_text_answers_to_choice_questions_are_understood() -> None:
    tracker = make_tracker(
        {"topic": "medical_service", "district": "青浦"},
        text="我在医院，做卫生工作",
        trailing_slots={"sector": "我在医院，做卫生工作"},
    )
    events, dispatcher = await _run_form(tracker)
    assert events[0] == SlotSet("sector", "卫生")
    tracker = make_tracker(
        {"topic": "medical_service", "district": "青浦"},
        text="3年",
        trailing_slots={"relevant_work_years": "3年"},
    )
    events, _ = await _run_form(tracker)
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
        events, dispatcher = await _run_form(tracker)
        assert events[0] == SlotSet(field, expected), text
        assert "utter_invalid_number" not in responses(dispatcher)


async def test_a_non_number_for_a_number_question_gets_a_hint_and_a_skip() -> None:
    tracker = make_tracker(
        {"topic": "talent_award", "district": "青浦", "requested_slot": "senior_post_years"},
        text="很多",
        trailing_slots={"senior_post_years": "很多"},
    )
    events, dispatcher = await _run_form(tracker)
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
    events, _ = await _run_form(tracker)
    assert events[0] == SlotSet("honors", ["两院院士", "国家杰青"])


async def test_none_of_these_honours() -> None:
    tracker = make_tracker(
        {"topic": "talent_award", "district": "青浦", "requested_slot": "honors"},
        text="都没有",
        intent="deny",
        trailing_slots={"honors": "无"},
    )
    events, _ = await _run_form(tracker)
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


async def test_dont_know_skips_a_question_for_good() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "agri_team_role"},
        text="不知道",
        intent="deny",
        trailing_slots={"agri_team_role": "skip"},
    )
    events, _ = await _run_form(tracker)
    assert events[:2] == [SlotSet("agri_team_role", None), SlotSet("skipped_facts", ["agri_team_role"])]
    assert _requested(events) != "agri_team_role"


async def test_the_district_cannot_be_skipped() -> None:
    tracker = make_tracker({"topic": "hukou"}, text="不知道", trailing_slots={"district": "不知道"})
    events, _ = await _run_form(tracker)
    assert _requested(events) == "district"
    assert not any(e.get("name") == "skipped_facts" for e in events)


async def test_once_something_is_eligible_only_facts_that_change_it_are_asked() -> None:
    from policies import evaluate
    from policies.questions import pointless

    known = {
        "district": "青浦",
        "education": "硕士",
        "full_time": True,
        "title": "副高级",
        "employer_registered_in_district": True,
        "tax_and_social_insurance_in_district": True,
    }
    outcome = evaluate(known, topic="rent_subsidy", district="青浦")
    eligible = [r for r in outcome["results"] if r["status"] == "eligible"]
    # scope facts the answer states instead of asking (profile.yml stated_not_asked) are not worth a question
    worth = {fact for r in eligible for fact in r["missing_facts"] if not pointless(fact, known)}
    tracker = make_tracker({**known, "topic": "rent_subsidy"}, text="是", intent="affirm", trailing_slots={})
    events, _ = await _run_form(tracker)
    asked = _requested(events)
    assert eligible and (asked in worth if worth else asked is None)


async def test_a_plain_no_after_an_answer_starts_no_questions() -> None:
    remembered = [{"policy_id": "qingpu.housing.rent_subsidy"}]
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "last_result": remembered}, text="不用了", intent="deny"
    )
    events, _ = await _run_form(tracker)
    assert events == [SlotSet("requested_slot", None)]


async def test_another_district_while_a_question_is_open_is_not_an_answer() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "sector"},
        text="那长宁呢？",
        entities=[{"entity": "district", "value": "长宁"}],
        trailing_slots={"district": "长宁", "sector": "那长宁呢？"},
    )
    events, dispatcher = await _run_form(tracker)
    assert SlotSet("district", "长宁") in events and SlotSet("sector", None) in events
    # no scolding about the sector; only the new district is acknowledged
    assert responses(dispatcher) == ["utter_noted_facts"]
    assert dispatcher.messages[0]["facts_text"] == "所在区：长宁"
    assert _requested(events) != "sector"


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
    events, dispatcher = await _run_form(tracker)
    assert responses(dispatcher) == ["utter_invalid_age"]
    assert _requested(events) == "age"  # class E depends on the age: still the most decisive fact


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
    events, dispatcher = await _run_form(tracker)
    assert responses(dispatcher) == ["utter_noted_facts"]
    assert dispatcher.messages[0]["facts_text"] == "学历：博士、所在区：松江"
    assert SlotSet("education", "博士") in events and SlotSet("district", "松江") in events
    assert _requested(events) is None


async def test_a_volunteered_fact_is_acknowledged_before_the_question_still_needed() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "employer_registered_in_district"},
        text="I'm 34",
        entities=[{"entity": "age", "value": 34}],
        trailing_slots={"age": 34},
        metadata={"language": "en"},
    )
    tracker.slots["language"] = "en"
    events, dispatcher = await _run_form(tracker)
    assert responses(dispatcher) == ["utter_noted_facts"]
    assert dispatcher.messages[0]["facts_text"] == "age: 34"
    assert _requested(events) == "employer_registered_in_district"


async def test_the_answer_to_the_pending_question_alone_is_not_acknowledged() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "education"},
        text="博士",
        entities=[{"entity": "education", "value": "博士"}],
        trailing_slots={"education": "博士"},
    )
    _, dispatcher = await _run_form(tracker)
    assert "utter_noted_facts" not in responses(dispatcher)


async def test_a_bare_number_answers_the_number_question_asked() -> None:
    tracker = make_tracker(AGE_NEXT, text="35", intent="inform")
    events, dispatcher = await _run_form(tracker)
    assert SlotSet("age", 35) in events
    assert responses(dispatcher) == []


async def test_a_bare_number_out_of_range_is_asked_again() -> None:
    tracker = make_tracker(AGE_NEXT, text="1", intent="goodbye")
    events, dispatcher = await _run_form(tracker)
    assert SlotSet("age", None) in events
    assert responses(dispatcher) == ["utter_invalid_age"]


async def test_a_bare_number_answers_no_other_question() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "employer_registered_in_district"},
        text="35",
    )
    events, _ = await _run_form(tracker)
    assert not any(e.get("name") == "age" for e in events)


async def test_a_message_with_nothing_in_it_after_an_answer_starts_no_questions() -> None:
    tracker = make_tracker({"topic": "rent_subsidy", "district": "青浦"}, text="1", intent="inform")
    events, dispatcher = await _run_form(tracker)
    assert events == [SlotSet("requested_slot", None)]
    assert dispatcher.messages == []


# "我能拿多少" right after a topic's answer: the NLU reads the overview's intent, the person means the topic
def _after_a_rent_answer(text: str, intent: str = "ask_eligibility") -> object:
    earlier = [
        user_event("青浦租房补贴是多少", "ask_rent_subsidy"),
        slot_event("topic", "rent_subsidy"),
        slot_event("district", "青浦"),
    ]
    slots = {"district": "青浦", "topic": "eligibility", "education": "硕士", "age": 33}
    return make_tracker(
        slots, text=text, intent=intent, events=earlier, trailing_slots={"topic": "eligibility"}
    )


@pytest.mark.parametrize("text", ["我能拿多少", "那我能拿多少呢", "how much can I get"])
async def test_how_much_can_i_get_after_a_topic_keeps_the_topic(text: str) -> None:
    events, _ = await _run_form(_after_a_rent_answer(text))
    assert SlotSet("topic", "rent_subsidy") in events
    # the topic's own questions follow, never the overview's
    assert _requested(events) == next_question(
        {"district": "青浦", "education": "硕士", "age": 33}, "rent_subsidy", "青浦"
    )


@pytest.mark.parametrize("text", ["我能享受哪些政策", "/ask_eligibility", "what can I get"])
async def test_asking_for_every_policy_is_the_overview(text: str) -> None:
    events, _ = await _run_form(_after_a_rent_answer(text))
    assert not [e for e in events if e.get("name") == "topic"]


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
