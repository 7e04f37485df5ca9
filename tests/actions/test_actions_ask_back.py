"""Asking back ("您是想问青浦吗？") on real Trackers: a near-miss district or one likely topic, and the answer to it."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerPolicy, ActionPlainYes
from actions.fallback import ActionClarify
from tests.actions.helpers import (
    domain,
    make_tracker,
    rendered,
    responses,
    run_action,
    slot_event,
    user_event,
)


def _unsure(*ranked: tuple[str, float]) -> list[dict]:
    return [{"name": "nlu_fallback", "confidence": 0.55}, *({"name": n, "confidence": c} for n, c in ranked)]


# --- 1. "您是想问青浦吗？" -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "intent", "expected"),
    [
        ("zh", "松降租房补贴多少", "ask_rent_subsidy", "您是想问松江的租房补贴吗？\n1. 是\n2. 不是"),
        (
            "en",
            "qinpu talent apartment?",
            "ask_talent_apartment",
            "Did you mean the Talent apartment in Qingpu (青浦)?\n1. Yes\n2. No",
        ),
    ],
)
async def test_a_near_miss_district_is_asked_back_in_one_question(
    language: str, text: str, intent: str, expected: str
) -> None:
    ranking = _unsure((intent, 0.4), ("ask_hukou", 0.05))
    events, dispatcher = await run_action(
        ActionClarify(), {"language": language}, text=text, intent="nlu_fallback", intent_ranking=ranking
    )
    assert responses(dispatcher) == ["utter_did_you_mean_both"]
    assert rendered(dispatcher, language)[0].startswith(expected)
    district = {"zh": "松江", "en": "青浦"}[language]
    topic = intent.removeprefix("ask_")
    assert events == [SlotSet("suggestion", {"district": district, "topic": topic, "mode": "rule"})]


async def test_a_near_miss_district_alone_is_asked_back() -> None:
    events, dispatcher = await run_action(
        ActionClarify(), {}, text="我在青普", intent="nlu_fallback", intent_ranking=_unsure(("affirm", 0.3))
    )
    assert rendered(dispatcher) == ["您是想问青浦吗？\n1. 是\n2. 不是"]
    assert events == [SlotSet("suggestion", {"district": "青浦", "topic": None, "mode": "rule"})]


async def test_one_likely_topic_without_a_district_is_asked_back() -> None:
    ranking = _unsure(("ask_rent_subsidy", 0.35), ("affirm", 0.1), ("ask_hukou", 0.05))
    _, dispatcher = await run_action(
        ActionClarify(), {}, text="补贴那个", intent="nlu_fallback", intent_ranking=ranking
    )
    assert rendered(dispatcher) == ["您是想问租房补贴吗？\n1. 是\n2. 不是"]


async def test_no_ask_back_in_the_middle_of_the_questions() -> None:
    # the form asks its own question again right after: a second question would be one too many
    ranking = _unsure(("ask_rent_subsidy", 0.4))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"topic": "rent_subsidy"},
        text="松降",
        intent="nlu_fallback",
        intent_ranking=ranking,
        active_loop="policy_form",
    )
    await ActionClarify().run(dispatcher, tracker, domain())
    assert responses(dispatcher) == ["utter_clarify"]


def _asked_back(district: str, topic: str | None) -> list[dict]:
    return [
        user_event("松降那个咋弄", "nlu_fallback"),
        {"event": "action", "name": "action_clarify"},
        slot_event("suggestion", {"district": district, "topic": topic, "mode": "rule"}),
        {"event": "action", "name": "action_listen"},
    ]


@pytest.mark.parametrize("text", ["是", "对", "shi"])
async def test_yes_to_the_ask_back_goes_on_with_that_district_and_topic(text: str) -> None:
    suggestion = {"district": "松江", "topic": "rent_subsidy", "mode": "rule"}
    events, dispatcher = await run_action(
        ActionPlainYes(),
        {"suggestion": suggestion},
        text=text,
        intent="affirm",
        events=_asked_back("松江", "rent_subsidy"),
    )
    assert events == [
        SlotSet("suggestion", None),
        SlotSet("district", "松江"),
        SlotSet("topic", "rent_subsidy"),
        SlotSet("answer_mode", "rule"),
        SlotSet("last_answer_key", None),
        FollowupAction("policy_form"),
    ]
    assert dispatcher.messages == []


async def test_a_pinyin_yes_the_nlu_was_unsure_of_still_goes_on() -> None:
    suggestion = {"district": "松江", "topic": "rent_subsidy", "mode": "rule"}
    events, _ = await run_action(
        ActionClarify(),
        {"suggestion": suggestion},
        text="shi de ya",
        intent="nlu_fallback",
        events=_asked_back("松江", "rent_subsidy"),
    )
    assert SlotSet("district", "松江") in events and FollowupAction("policy_form") in events


async def test_no_to_the_ask_back_offers_the_usual_choices() -> None:
    suggestion = {"district": "松江", "topic": "rent_subsidy", "mode": "rule"}
    events, dispatcher = await run_action(
        ActionAnswerPolicy(),
        {"suggestion": suggestion},
        text="不是",
        intent="deny",
        events=_asked_back("松江", "rent_subsidy"),
    )
    assert events == [SlotSet("suggestion", None)]
    assert responses(dispatcher) == ["utter_what_do_you_mean"]


async def test_a_later_yes_does_not_revive_an_old_ask_back() -> None:
    earlier = [
        *_asked_back("松江", "rent_subsidy"),
        user_event("谢谢", "thank"),
        {"event": "action", "name": "utter_youre_welcome"},
    ]
    suggestion = {"district": "松江", "topic": "rent_subsidy", "mode": "rule"}
    events, dispatcher = await run_action(
        ActionPlainYes(), {"suggestion": suggestion}, text="好的", intent="affirm", events=earlier
    )
    assert events == [] and responses(dispatcher) == ["utter_anything_else"]


@pytest.mark.parametrize(
    ("action", "text", "intent", "expected"),
    [
        (ActionAnswerPolicy(), "我在松降", "inform", "您是想问松江吗？"),
        (ActionPlainYes(), "松降", "affirm", "您是想问松江吗？"),  # the trained NLU reads "松降" as affirm
        (ActionAnswerPolicy(), "qinpu", "inform", "您是想问青浦吗？"),
    ],
)
async def test_a_confident_reading_that_names_a_district_nearly_is_asked_back(
    action: Any, text: str, intent: str, expected: str
) -> None:
    slots = {"topic": "rent_subsidy", "check_offered": True}
    events, dispatcher = await run_action(action, slots, text=text, intent=intent)
    assert rendered(dispatcher)[0].startswith(expected)
    assert [e["name"] for e in events] == ["suggestion"]
