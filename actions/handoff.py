"""Handing a conversation to staff: a localised notice, a structured case payload, a pause."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.config import label, settings
from actions.profile import conversation_language, profile_from_tracker

# long digit runs (phone and ID numbers) never reach the staff summary in clear
LONG_NUMBER = re.compile(r"\d{7,}[\dXx]?")
HANDOFF_INTENTS = {"request_human", "complain"}


def mask_numbers(text: str) -> str:
    return LONG_NUMBER.sub(lambda match: match.group()[:3] + "*" * (len(match.group()) - 3), text)


def handoff_summary(tracker: Tracker, reason: str) -> str:
    """One line for the staff console, in Chinese (the console's language)."""
    config = settings()["handoff"]
    topic = tracker.get_slot("topic")
    return config["summary_template"].format(
        reason=config["reason_labels"].get(reason, reason),
        topic=label("topic_labels", "zh", topic) if topic else "—",
        district=tracker.get_slot("district") or "—",
        last_message=mask_numbers(tracker.latest_message.get("text") or ""),
    )


def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    result: Mapping[str, Any] | None = None,
) -> list[EventType]:
    """Tell the person, give the gateway the case, and pause the conversation."""
    language = conversation_language(tracker)
    if reason == "personalised":
        dispatcher.utter_message(response="utter_handoff_personalised")
    dispatcher.utter_message(
        response="utter_handoff", office_hours=settings()["handoff"]["office_hours"][language]
    )
    try:
        profile = profile_from_tracker(tracker)
    except Exception:  # an engine outage must not stop the person from reaching a human
        profile = {}
    dispatcher.utter_message(
        json_message={
            "handoff": {
                "reason": reason,
                "summary": handoff_summary(tracker, reason),
                "profile": profile,
                "result": dict(result) if result else None,
                "language": language,
            }
        }
    )
    return [ConversationPaused()]


class ActionHandoff(Action):
    """On request_human and complain (rules); the reason is the intent that led here."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = intent if intent in HANDOFF_INTENTS else "request_human"
        return hand_off(dispatcher, tracker, reason)
