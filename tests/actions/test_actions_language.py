from __future__ import annotations

from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ActionDetectLanguage, ActionSessionStart, language_of_text
from tests.actions.helpers import domain, make_tracker


def test_script_of_the_text_decides() -> None:
    assert language_of_text("青浦租房补贴怎么领") == "zh"
    assert language_of_text("rent subsidy in Qingpu?") == "en"
    assert language_of_text("我是PhD") == "zh"
    assert language_of_text("/greet") is None
    assert language_of_text("👍 123") is None


async def test_first_english_message_sets_english() -> None:
    tracker = make_tracker(text="What housing support can I get?", intent="ask_eligibility")
    events = await ActionDetectLanguage().run(CollectingDispatcher(), tracker, domain())
    assert events == [SlotSet("language", "en")]


async def test_language_sticks_once_set() -> None:
    tracker = make_tracker({"language": "en"}, text="青浦呢", intent="inform")
    assert await ActionDetectLanguage().run(CollectingDispatcher(), tracker, domain()) == []


async def test_channel_metadata_wins_over_the_text() -> None:
    tracker = make_tracker(text="你好", intent="greet", metadata={"channel": "telegram", "language": "en-GB"})
    assert await ActionDetectLanguage().run(CollectingDispatcher(), tracker, domain()) == [
        SlotSet("language", "en")
    ]


async def test_switch_language_without_entity_uses_the_words() -> None:
    tracker = make_tracker({"language": "en"}, text="说中文吧", intent="switch_language")
    assert await ActionDetectLanguage().run(CollectingDispatcher(), tracker, domain()) == [
        SlotSet("language", "zh")
    ]
    tracker = make_tracker(text="能用英文回答吗", intent="switch_language")
    assert await ActionDetectLanguage().run(CollectingDispatcher(), tracker, domain()) == [
        SlotSet("language", "en")
    ]


async def test_switch_language_with_entity_is_left_to_the_slot_mapping() -> None:
    tracker = make_tracker(
        text="English please", intent="switch_language", entities=[{"entity": "language", "value": "en"}]
    )
    assert await ActionDetectLanguage().run(CollectingDispatcher(), tracker, domain()) == []


async def test_session_start_keeps_the_profile_and_takes_the_channel_language() -> None:
    tracker = make_tracker(
        {"district": "青浦", "education": "博士", "session_started_metadata": {"language": "en"}}
    )
    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, domain())
    assert events[0] == SessionStarted()
    assert SlotSet("district", "青浦") in events and SlotSet("education", "博士") in events
    assert events[-2:] == [SlotSet("language", "en"), ActionExecuted("action_listen")]
    assert not any(e.get("name") == "session_started_metadata" for e in events)
