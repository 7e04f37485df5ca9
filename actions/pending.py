"""The pending question's answer: kept when it carries topic words, skipped with a hint when unusable."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.config import profile_fields
from actions.understanding import UNSURE, number_for, says_any, understanding, yes_no_meaning

# intents of a message that answers the pending question (others are interruptions handled by rules)
ANSWER_INTENTS = {"inform", "affirm", "deny"}


def previous_value(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest user message (validators see the new candidate already)."""
    latest_user = max((i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=-1)
    value = None
    for event in tracker.events[: max(latest_user, 0)]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
    return value


def keep_pending_answer(tracker: Tracker, pending: str | None) -> list[EventType]:
    """ "有居住证" to "您持有《上海市居住证》吗？" is an answer, not a new topic: the yes/no question
    keeps its answer and the conversation keeps its topic."""
    if not pending or profile_fields().get(pending, {}).get("type") != "bool":
        return []
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    before = previous_value(tracker, "topic")
    if not intent.startswith("ask_") or not before or tracker.get_slot("topic") == before:
        return []
    meaning = yes_no_meaning((tracker.latest_message or {}).get("text"), pending)
    if not isinstance(meaning, bool):
        return []
    return [SlotSet("topic", before), SlotSet(pending, meaning)]


def unusable_answer(
    tracker: Tracker, pending: str | None, events: list[EventType], collector: CollectingDispatcher
) -> list[EventType]:
    """The skip of a pending question the latest answer did not answer (nor skip, nor correct with a
    hint of its own); empty when the answer was usable or the message was not an answer."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if not pending or pending == "district" or pending not in profile_fields():
        return []
    if intent not in ANSWER_INTENTS or collector.messages:
        return []
    answered = any(e.get("name") == pending and e.get("value") is not None for e in events)
    told_something = any(
        e.get("name") in profile_fields() and e.get("value") is not None for e in events
    )  # a volunteered fact or another district: not an answer to this question
    if told_something:
        return []
    skipped = tracker.get_slot("skipped_facts") or []
    now_skipped = any(e.get("name") == "skipped_facts" and pending in (e.get("value") or []) for e in events)
    if answered or now_skipped or pending in skipped:
        return []
    if (
        profile_fields()[pending].get("type") == "bool"
        and yes_no_meaning((tracker.latest_message or {}).get("text"), pending) == UNSURE
    ):
        return []  # mixed signals: the question is asked again after the "did you mean" hint
    return [SlotSet(pending, None), SlotSet("skipped_facts", list(dict.fromkeys([*skipped, pending])))]


def named_numbers(tracker: Tracker, pending: str | None) -> list[EventType]:
    """Numbers volunteered with the name of their fact ("人才积分通用指标有50分" in the first message):
    recorded, so the question is never asked. The pending question's own answer is left to the form."""
    text = (tracker.latest_message or {}).get("text")
    events: list[EventType] = []
    for field, words in (understanding()["numbers"].get("named") or {}).items():
        if field == pending or tracker.get_slot(field) is not None or not says_any(text, words):
            continue
        number = number_for(field, text, asked=False)
        if number is not None:
            events.append(SlotSet(field, number))
    return events


def answers_yes_no(tracker: Tracker, pending: str | None) -> bool:
    """The latest message says yes or no to the pending yes/no question."""
    if pending not in profile_fields() or profile_fields()[pending].get("type") != "bool":
        return False
    return isinstance(yes_no_meaning((tracker.latest_message or {}).get("text"), pending), bool)
