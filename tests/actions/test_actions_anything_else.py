"""The reply to "还有什么需要帮您查询的吗？": a yes shows the topics, a no says goodbye, never the same
question again (actions/anything_else.py)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerPolicy, ActionPlainYes
from tests.actions.helpers import QINGPU_MASTER, domain, make_tracker, responses, slot_event, user_event

ANSWERED = {**QINGPU_MASTER, "topic": "rent_subsidy"}


def _bot(response: str) -> dict:
    """The assistant's message as Rasa records it (the response name in `utter_action`)."""
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}


def _after(response: str) -> list[dict]:
    return [
        user_event("青浦租房补贴我能拿多少", "ask_rent_subsidy"),
        slot_event("topic", "rent_subsidy"),
        _bot("utter_lead_eligible"),
        user_event("不用了", "deny"),
        _bot(response),
    ]


async def _reply(action, text: str, intent: str, asked: str = "utter_anything_else") -> list[str | None]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(ANSWERED, text=text, intent=intent, events=_after(asked))
    await action.run(dispatcher, tracker, domain())
    return responses(dispatcher)


@pytest.mark.parametrize("text", ["是", "有", "yes", "有的"])
async def test_a_yes_to_anything_else_shows_the_topics(text: str) -> None:
    assert await _reply(ActionPlainYes(), text, "affirm") == ["utter_choose_topic"]


async def test_a_yes_read_as_a_statement_shows_the_topics_too() -> None:
    # "有" classified as inform outside the form: the form finds nothing, the answer step replies
    assert await _reply(ActionAnswerPolicy(), "有", "inform") == ["utter_choose_topic"]


@pytest.mark.parametrize(("text", "intent"), [("不用了", "deny"), ("没有了", "deny"), ("没有了", "inform")])
async def test_a_no_to_anything_else_says_goodbye(text: str, intent: str) -> None:
    assert await _reply(ActionAnswerPolicy(), text, intent) == ["utter_goodbye"]


async def test_thanks_ends_with_the_same_question_and_the_same_replies() -> None:
    assert await _reply(ActionPlainYes(), "嗯", "affirm", asked="utter_youre_welcome") == [
        "utter_choose_topic"
    ]
    assert await _reply(ActionAnswerPolicy(), "不用了", "deny", asked="utter_youre_welcome") == [
        "utter_goodbye"
    ]


async def test_without_the_question_a_plain_no_still_asks_whether_anything_else() -> None:
    """ "不用了" right after an answer: the anything-else question (once)."""
    assert await _reply(ActionAnswerPolicy(), "不用了", "deny", asked="utter_lead_eligible") == [
        "utter_anything_else"
    ]
    assert await _reply(ActionPlainYes(), "是", "affirm", asked="utter_lead_eligible") == [
        "utter_anything_else"
    ]
