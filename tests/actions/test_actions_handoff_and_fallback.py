from __future__ import annotations

from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionClarify
from actions.handoff import ActionHandoff, mask_numbers
from tests.actions.helpers import domain, make_tracker, responses, user_event


def _handoff_payload(dispatcher: CollectingDispatcher) -> dict:
    payloads = [m["custom"]["handoff"] for m in dispatcher.messages if m.get("custom")]
    assert len(payloads) == 1
    return payloads[0]


async def test_request_human_pauses_with_a_case_payload() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"district": "青浦", "education": "博士", "topic": "rent_subsidy", "language": "en"},
        text="I want to talk to a person, call me on 13912345678",
        intent="request_human",
    )
    events = await ActionHandoff().run(dispatcher, tracker, domain())
    assert events == [ConversationPaused()]
    assert responses(dispatcher) == ["utter_handoff", None]
    assert dispatcher.messages[0]["office_hours"] == "working days 9:00–17:00 Beijing time"
    payload = _handoff_payload(dispatcher)
    assert payload["reason"] == "request_human"
    assert payload["language"] == "en"
    assert payload["profile"] == {"district": "青浦", "education": "博士"}
    assert payload["result"] is None
    assert "租房补贴" in payload["summary"] and "青浦" in payload["summary"]
    assert "13912345678" not in payload["summary"] and "139********" in payload["summary"]


async def test_complaint_is_the_reason() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="你们这个太慢了，我要投诉", intent="complain")
    await ActionHandoff().run(dispatcher, tracker, domain())
    assert _handoff_payload(dispatcher)["reason"] == "complain"
    assert _handoff_payload(dispatcher)["language"] == "zh"


def test_long_numbers_are_masked() -> None:
    assert mask_numbers("身份证310101199001011234") == "身份证310***************"
    assert mask_numbers("我35岁，年薪50万") == "我35岁，年薪50万"


async def test_first_unclear_message_offers_the_likeliest_intents() -> None:
    dispatcher = CollectingDispatcher()
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_rent_subsidy", "confidence": 0.35},
        {"name": "affirm", "confidence": 0.1},
        {"name": "ask_hukou", "confidence": 0.05},
    ]
    tracker = make_tracker(text="补贴那个", intent="nlu_fallback", intent_ranking=ranking)
    events = await ActionClarify().run(dispatcher, tracker, domain())
    assert events == []
    assert responses(dispatcher) == ["utter_clarify"]
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "租房补贴", "payload": "/ask_rent_subsidy"},
        {"title": "落户", "payload": "/ask_hukou"},
        {"title": "转人工", "payload": "/request_human"},
    ]


async def test_second_unclear_message_in_a_row_hands_off() -> None:
    dispatcher = CollectingDispatcher()
    earlier = [user_event("补贴那个", "nlu_fallback"), {"event": "action", "name": "action_clarify"}]
    tracker = make_tracker(text="就是那个啊", intent="nlu_fallback", events=earlier)
    events = await ActionClarify().run(dispatcher, tracker, domain())
    assert events == [ConversationPaused()]
    assert responses(dispatcher) == ["utter_handoff", None]
    assert _handoff_payload(dispatcher)["reason"] == "clarification_failed"


async def test_a_clear_message_in_between_resets_the_count() -> None:
    dispatcher = CollectingDispatcher()
    earlier = [user_event("补贴那个", "nlu_fallback"), user_event("青浦", "inform")]
    tracker = make_tracker(text="嗯嗯那个", intent="nlu_fallback", events=earlier)
    await ActionClarify().run(dispatcher, tracker, domain())
    assert responses(dispatcher) == ["utter_clarify"]
