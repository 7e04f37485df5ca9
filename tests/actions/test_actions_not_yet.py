"""'Not yet' to the questions about working and paying tax in the district ("入职以后就是了", "还没入职"):
a no, whatever the "是" in it or the NLU's affirm (actions/understanding.yml, yes_no.by_question)."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidatePolicyForm
from actions.understanding import yes_no_meaning
from tests.actions.helpers import domain, make_tracker

QUESTIONS = ["employer_registered_in_district", "tax_and_social_insurance_in_district"]
NOT_YET = [
    "入职以后就是了",
    "还没入职",
    "入职后就是",
    "等入职了就是",
    "下个月入职",
    "还在办入职",
    "not yet, once I join it will be",
    "I haven't started there yet",
]


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("text", NOT_YET)
async def test_not_yet_working_there_is_no(question: str, text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "answer_mode": "personal", "questions_asked": 1}
    tracker = make_tracker(
        {**slots, "requested_slot": question}, text=text, intent="affirm", trailing_slots={question: True}
    )
    events = await ValidatePolicyForm().run(CollectingDispatcher(), tracker, domain())
    assert SlotSet(question, False) in events
    assert SlotSet(question, True) not in events


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize(("text", "meaning"), [("是的", True), ("已经入职了", True), ("不是", False)])
def test_plain_answers_keep_their_meaning(question: str, text: str, meaning: bool) -> None:
    assert yes_no_meaning(text, question) is meaning
