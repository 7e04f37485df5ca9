"""A number in a reply answers the question asked (actions/numeric_answer.py): another numeric fact is
filled only when the message names it in its own words."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidatePolicyForm
from actions.validators import ValidateSlotMappings
from tests.actions.helpers import AGE_NEXT, domain, make_tracker, responses

FARMER = {
    "topic": "purchase_subsidy",
    "district": "青浦",
    "sector": "农业",
    "agri_team_role": "带头人",
    "agri_team_class": "B",
    "answer_mode": "personal",
    "questions_asked": 1,
}
# the NLU reads a bare amount as a salary: "money without a cue is a salary" (nlu/numbers.py)
SALARY_300 = [{"entity": "annual_salary", "value": 300, "start": 0, "end": 4}]


def _paid_in_reply(text: str = "300万", **slots: object):
    return make_tracker(
        {**FARMER, "requested_slot": "paid_in_capital_wan", **slots},
        text=text,
        intent="inform",
        entities=SALARY_300,
        trailing_slots={"paid_in_capital_wan": text, "annual_salary_wan": 300},
    )


def _slot(events: list[dict], name: str) -> list[object]:
    return [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == name]


async def test_an_amount_to_the_paid_in_capital_question_is_no_salary() -> None:
    dispatcher = CollectingDispatcher()
    events = await ValidatePolicyForm().run(dispatcher, _paid_in_reply(), domain())
    assert SlotSet("paid_in_capital_wan", 300) in events
    assert _slot(events, "annual_salary_wan") == [None]
    assert "utter_noted_facts" not in responses(dispatcher)
    # the same candidate validated outside the form (action_extract_slots runs this first)
    events = await ValidateSlotMappings().run(CollectingDispatcher(), _paid_in_reply(), domain())
    assert _slot(events, "annual_salary_wan") == [None]


async def test_a_salary_known_before_stays_and_is_not_noted_again() -> None:
    dispatcher = CollectingDispatcher()
    tracker = _paid_in_reply(annual_salary_wan=50)
    tracker.events.insert(0, {"event": "slot", "name": "annual_salary_wan", "value": 50})
    events = await ValidatePolicyForm().run(dispatcher, tracker, domain())
    assert SlotSet("paid_in_capital_wan", 300) in events
    assert set(_slot(events, "annual_salary_wan")) == {50}
    assert "utter_noted_facts" not in responses(dispatcher)


@pytest.mark.parametrize("tagged", [{}, {"annual_salary_wan": 38}, {"residence_permit_points": 38}])
async def test_a_bare_number_to_the_age_question_is_the_age_only(tagged: dict) -> None:
    """The NLU's statistical tagger may give a bare "38" to another number slot too."""
    tracker = make_tracker(AGE_NEXT, text="38", intent="inform", trailing_slots=tagged)
    events = await ValidatePolicyForm().run(CollectingDispatcher(), tracker, domain())
    assert SlotSet("age", 38) in events
    for name in tagged:
        assert _slot(events, name) == [None]


async def test_other_facts_stated_in_their_own_words_are_kept() -> None:
    text = "我38岁，年薪50万"
    tracker = make_tracker(
        AGE_NEXT,
        text=text,
        intent="inform",
        entities=[
            {"entity": "age", "value": 38, "start": 1, "end": 3},
            {"entity": "annual_salary", "value": 50, "start": 7, "end": 10},
        ],
        trailing_slots={"age": 38, "annual_salary_wan": 50},
    )
    dispatcher = CollectingDispatcher()
    events = await ValidatePolicyForm().run(dispatcher, tracker, domain())
    assert SlotSet("age", 38) in events
    assert SlotSet("annual_salary_wan", 50) in events
    assert responses(dispatcher)[0] == "utter_noted_facts"


async def test_two_amounts_each_go_to_the_fact_they_name() -> None:
    text = "货币出资300万，我年薪50万"
    tracker = make_tracker(
        {**FARMER, "requested_slot": "paid_in_capital_wan"},
        text=text,
        intent="inform",
        entities=[{"entity": "annual_salary", "value": 50, "start": 11, "end": 14}],
        trailing_slots={"paid_in_capital_wan": text, "annual_salary_wan": 50},
    )
    events = await ValidatePolicyForm().run(CollectingDispatcher(), tracker, domain())
    assert SlotSet("paid_in_capital_wan", 300) in events
    assert SlotSet("annual_salary_wan", 50) in events
