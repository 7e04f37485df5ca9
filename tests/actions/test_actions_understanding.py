"""Reading the person's words (actions/understanding.yml): hesitations, near-miss districts, everyday facts."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionPlainYes
from actions.fallback import district_aliases
from actions.forms import ValidatePolicyForm
from actions.understanding import UNSURE, is_hesitation, near_miss_district, stated_facts, yes_no_meaning
from tests.actions.helpers import (
    QINGPU_MASTER,
    domain,
    make_tracker,
    responses,
    run_action,
)

# --- 3. a hesitation is no yes ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["hmm", "umm", "呃"])
async def test_a_hesitation_after_the_offer_starts_no_questions(text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "check_offered": True, "language": "en"}
    events, dispatcher = await run_action(ActionPlainYes(), slots, text=text, intent="affirm")
    assert events == []
    assert responses(dispatcher) == ["utter_what_do_you_mean"]


@pytest.mark.parametrize("text", ["hmm", "hmm...", "erm"])
async def test_a_hesitation_to_a_yes_no_question_is_asked_back(text: str) -> None:
    slots = {**QINGPU_MASTER, "spouse_receives_rent_subsidy": None, "topic": "rent_subsidy"}
    slots.update(requested_slot="spouse_receives_rent_subsidy", language="en", answer_mode="personal")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        slots, text=text, intent="affirm", trailing_slots={"spouse_receives_rent_subsidy": True}
    )
    events = await ValidatePolicyForm().run(dispatcher, tracker, domain())
    assert SlotSet("spouse_receives_rent_subsidy", True) not in events
    assert responses(dispatcher)[0] == "utter_ask_back_yes_no"


# --- the word lists behind them (actions/understanding.yml) ------------------------------------------


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("松降租房补贴多少", "松江"),
        ("青普的人才公寓", "青浦"),
        ("长凝落户", "长宁"),
        ("qinpu rent subsidy", "青浦"),
        ("songjian apartments", "松江"),
        ("changnin hukou", "长宁"),
        ("yangpoo", "杨浦"),
        # real words and names are no district; a district named right is no near miss
        ("I'm changing jobs", None),
        ("宋江是谁", None),
        ("青年人才", None),
        ("松江租房补贴", None),
        ("qingpu", None),
    ],
)
def test_near_miss_districts(text: str, district: str | None) -> None:
    assert near_miss_district(text, district_aliases()) == district


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("没有房", {"owns_home_in_district": False}),
        ("我没房子，在租房", {"owns_home_in_district": False, "rents_in_district": True}),
        ("有房", {"owns_home_in_district": True}),
        ("I don't own a home", {"owns_home_in_district": False}),
        ("单身", {"spouse_receives_rent_subsidy": False}),
        ("我27岁", {}),
    ],
)
def test_facts_stated_in_everyday_words(text: str, facts: dict) -> None:
    assert stated_facts(text) == facts


@pytest.mark.parametrize("text", ["hmm", "Hmm...", "umm", "erm", "呃", "让我想想"])
def test_hesitations_are_no_answer(text: str) -> None:
    assert is_hesitation(text) and yes_no_meaning(text) == UNSURE


@pytest.mark.parametrize("text", ["嗯", "嗯嗯", "yes", "hmm yes I do"])
def test_a_chinese_en_is_yes_and_a_yes_after_a_hmm_is_not_a_hesitation(text: str) -> None:
    assert not is_hesitation(text) and yes_no_meaning(text) is True
