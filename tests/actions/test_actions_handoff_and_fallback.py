from __future__ import annotations

from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionClarify
from actions.handoff import ActionHandoff, hand_off
from actions.results import ordered, remember
from policies import evaluate
from tests.actions.helpers import QINGPU_MASTER, domain, make_tracker, responses, user_event


def _answered(profile: dict, topic: str, language: str) -> list[dict]:
    """The ``last_result`` slot as action_answer_policy leaves it after answering ``topic``."""
    outcome = evaluate(profile, topic=topic, district=profile.get("district"), language=language)
    return remember(ordered(outcome["results"])[:4])


def _handoff_payload(dispatcher: CollectingDispatcher) -> dict:
    payloads = [m["custom"]["handoff"] for m in dispatcher.messages if "handoff" in (m.get("custom") or {})]
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
    # the action server states no office hours: the gateway, which knows the calendar, says when
    assert "office_hours" not in dispatcher.messages[0]
    payload = _handoff_payload(dispatcher)
    assert payload["reason"] == "request_human"
    assert payload["language"] == "en"
    assert payload["profile"] == {"district": "青浦", "education": "博士"}
    assert payload["result"] is None
    # the console writes the case's summary from the conversation (bot/console/summary.py), masked by the
    # gateway's one rule: the payload carries no summary and so no personal number of its own
    assert "summary" not in payload and "13912345678" not in str(payload)


async def test_complaint_is_the_reason() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="你们这个太慢了，我要投诉", intent="complain")
    await ActionHandoff().run(dispatcher, tracker, domain())
    assert _handoff_payload(dispatcher)["reason"] == "complain"
    assert _handoff_payload(dispatcher)["language"] == "zh"


async def test_first_unclear_message_with_two_close_readings_offers_the_likeliest_intents() -> None:
    dispatcher = CollectingDispatcher()
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_rent_subsidy", "confidence": 0.3},
        {"name": "affirm", "confidence": 0.1},
        {"name": "ask_hukou", "confidence": 0.2},
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
    # asked again, not handed off (no intent is likely, so the topics are offered)
    assert responses(dispatcher) == ["utter_choose_topic"]


async def test_filler_is_offered_the_topics_not_the_noise_of_the_ranking() -> None:
    """ "问下补贴": the filler intent takes nearly all the confidence; the real intents behind it are
    noise, so the topics to choose from are offered instead."""
    dispatcher = CollectingDispatcher()
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.99},
        {"name": "unclear", "confidence": 0.99},
        {"name": "ask_entrepreneur_support", "confidence": 0.004},
        {"name": "complain", "confidence": 0.003},
    ]
    tracker = make_tracker(text="问下补贴", intent="nlu_fallback", intent_ranking=ranking)
    assert await ActionClarify().run(dispatcher, tracker, domain()) == []
    assert responses(dispatcher) == ["utter_choose_topic"]


async def test_handoff_after_an_answer_carries_the_answer_recomputed_in_chinese() -> None:
    """An English speaker asked about the rent subsidy, then for a person: the officer gets the full result
    (tier, amount, payout, duration, conditions, how to apply, citation) in the console's language."""
    slots = {
        **QINGPU_MASTER,
        "topic": "rent_subsidy",
        "language": "en",
        "last_result": _answered(QINGPU_MASTER, "rent_subsidy", "en"),
    }
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots, text="can I talk to someone", intent="request_human")
    events = await ActionHandoff().run(dispatcher, tracker, domain())
    assert events == [ConversationPaused()]
    payload = _handoff_payload(dispatcher)
    assert payload["language"] == "en"
    result = payload["result"]
    assert (result["topic"], result["title"], result["personalised"]) == ("rent_subsidy", "租房补贴", False)
    # only what the person can get is carried (best_of), not the superseded alternatives
    [answer] = result["results"]
    assert (
        answer["policy"] == "青浦高层次人才租房补贴" and answer["policy_id"] == "qingpu.housing.rent_subsidy"
    )
    assert (answer["status"], answer["tier"], answer["payout"]) == ("eligible", "D", "按月发放")
    assert "4000元" in answer["amount"] and "5年" in answer["duration"]
    assert answer["conditions"] and all(isinstance(c, str) for c in answer["conditions"])
    assert "用人单位" in answer["how_to_apply"]
    assert answer["citation"]["number"] == "青委〔2020〕88号" and answer["citation"]["article"]
    assert answer["citation"]["document"] and "青委〔2020〕88号" in answer["citation"]["text"]


async def test_no_result_without_an_answer_or_without_a_profile() -> None:
    for slots in (
        {**QINGPU_MASTER, "topic": "rent_subsidy"},  # asked, never answered
        {
            "topic": "rent_subsidy",
            "last_result": _answered(QINGPU_MASTER, "rent_subsidy", "zh"),
        },  # no profile
    ):
        dispatcher = CollectingDispatcher()
        await ActionHandoff().run(dispatcher, make_tracker(slots, intent="request_human"), domain())
        assert _handoff_payload(dispatcher)["result"] is None


async def test_a_personalised_policy_is_the_result_of_its_own_handoff() -> None:
    """action_answer_policy passes the engine result that needs an officer (in the person's language)."""
    outcome = evaluate(QINGPU_MASTER, topic="rent_subsidy", language="en")
    english = next(r for r in outcome["results"] if r["policy_id"] == "qingpu.housing.rent_subsidy")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {**QINGPU_MASTER, "topic": "rent_subsidy", "language": "en"}, intent="ask_rent_subsidy"
    )
    events = hand_off(dispatcher, tracker, "personalised", {**english, "personalised": True})
    assert events == [ConversationPaused()]
    assert responses(dispatcher) == ["utter_handoff_personalised", "utter_handoff", None]
    [answer] = _handoff_payload(dispatcher)["result"]["results"]
    assert answer["policy"] == "青浦高层次人才租房补贴"  # recomputed in Chinese for the console
