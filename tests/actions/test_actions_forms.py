"""The dynamic policy form: which fact it asks next, when it stops, what is skipped and what an answer's topic is."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from policies.questions import next_question
from tests.actions.helpers import (
    make_tracker,
    only_requested,
    run_form,
    slot_event,
    user_event,
)


async def test_district_is_asked_first_when_unknown() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy"},
        text="租房补贴怎么领",
        intent="ask_rent_subsidy",
        trailing_slots={"topic": "rent_subsidy"},
    )
    events, dispatcher = await run_form(tracker)
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
    events, _ = await run_form(tracker)
    expected = next_question({"district": "青浦"}, "rent_subsidy", "青浦")
    assert expected in evaluate({"district": "青浦"}, topic="rent_subsidy")["missing_facts"]
    assert events[0] == SlotSet("district", "青浦")
    assert only_requested(events) == expected
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
    events, _ = await run_form(tracker)
    assert events == [SlotSet(last_fact, last_value), SlotSet("requested_slot", None)]


async def test_the_question_cap_ends_the_form() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "questions_asked": 8},
        text="是的",
        intent="affirm",
        trailing_slots={"employer_registered_in_district": True},
    )
    events, _ = await run_form(tracker)
    assert events == [SlotSet("employer_registered_in_district", True), SlotSet("requested_slot", None)]


async def test_dont_know_skips_a_question_for_good() -> None:
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "requested_slot": "agri_team_role"},
        text="不知道",
        intent="deny",
        trailing_slots={"agri_team_role": "skip"},
    )
    events, _ = await run_form(tracker)
    assert events[:2] == [SlotSet("agri_team_role", None), SlotSet("skipped_facts", ["agri_team_role"])]
    assert only_requested(events) != "agri_team_role"


async def test_the_district_cannot_be_skipped() -> None:
    tracker = make_tracker({"topic": "hukou"}, text="不知道", trailing_slots={"district": "不知道"})
    events, _ = await run_form(tracker)
    assert only_requested(events) == "district"
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
    events, _ = await run_form(tracker)
    asked = only_requested(events)
    assert eligible and (asked in worth if worth else asked is None)


async def test_a_plain_no_after_an_answer_starts_no_questions() -> None:
    remembered = [{"policy_id": "qingpu.housing.rent_subsidy"}]
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "last_result": remembered}, text="不用了", intent="deny"
    )
    events, _ = await run_form(tracker)
    assert events == [SlotSet("requested_slot", None)]


async def test_a_message_with_nothing_in_it_after_an_answer_starts_no_questions() -> None:
    tracker = make_tracker({"topic": "rent_subsidy", "district": "青浦"}, text="1", intent="inform")
    events, dispatcher = await run_form(tracker)
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
    events, _ = await run_form(_after_a_rent_answer(text))
    assert SlotSet("topic", "rent_subsidy") in events
    # the topic's own questions follow, never the overview's
    assert only_requested(events) == next_question(
        {"district": "青浦", "education": "硕士", "age": 33}, "rent_subsidy", "青浦"
    )


@pytest.mark.parametrize("text", ["我能享受哪些政策", "/ask_eligibility", "what can I get"])
async def test_asking_for_every_policy_is_the_overview(text: str) -> None:
    events, _ = await run_form(_after_a_rent_answer(text))
    assert not [e for e in events if e.get("name") == "topic"]
