"""The offer after a rule answer ("想看看您本人能否申请、能拿多少吗？"): a reply that opens with a no declines
it, even when it carries a fact; a fact alone still starts the person's own check."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerPolicy
from actions.mode import PERSONAL_MODE, RULE_MODE, answer_mode
from actions.understanding import leading_answer
from tests.actions.helpers import domain, make_tracker, responses

OFFERED = {"district": "青浦", "topic": "children_school", "answer_mode": RULE_MODE, "check_offered": True}
NON_LOCAL = [{"entity": "hukou", "value": "外地", "start": 3, "end": 7}]


def test_the_first_clause_decides_the_reply() -> None:
    assert leading_answer("不是，外地户口") is False
    assert leading_answer("不用了 谢谢") is False
    assert leading_answer("外地户口，不是上海的") is None
    assert leading_answer("是的，外地户口") is True


def test_a_no_with_a_fact_keeps_the_rule_mode_and_a_fact_alone_starts_the_check() -> None:
    declined = make_tracker(OFFERED, text="不是，外地户口", entities=NON_LOCAL)
    assert answer_mode(declined) == RULE_MODE
    told = make_tracker(OFFERED, text="外地户口", entities=NON_LOCAL)
    assert answer_mode(told) == PERSONAL_MODE


async def test_a_declined_offer_does_not_resend_the_answer() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(OFFERED, text="不是，外地户口", entities=NON_LOCAL)
    events = await ActionAnswerPolicy().run(dispatcher, tracker, domain())
    assert responses(dispatcher) == ["utter_anything_else"]
    assert SlotSet("check_offered", False) in events


async def test_no_offer_to_check_a_case_where_the_documents_are_plans_and_referrals_only() -> None:
    """杨浦's hukou items are a plan and referrals: checking the person's case could tell them nothing."""
    dispatcher = CollectingDispatcher()
    slots = {"district": "杨浦", "topic": "hukou"}
    tracker = make_tracker(slots, text="杨浦落户有什么政策", intent="ask_hukou")
    events = await ActionAnswerPolicy().run(dispatcher, tracker, domain())
    assert "utter_offer_check" not in responses(dispatcher)
    assert SlotSet("check_offered", False) in events


async def test_the_offer_follows_a_rule_answer_that_depends_on_the_person() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"district": "青浦", "topic": "rent_subsidy"}, text="青浦租房补贴是多少", intent="ask_rent_subsidy"
    )
    events = await ActionAnswerPolicy().run(dispatcher, tracker, domain())
    assert responses(dispatcher)[-1] == "utter_offer_check"
    assert SlotSet("check_offered", True) in events
