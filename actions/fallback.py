"""Low-confidence messages: offer the likeliest intents as quick replies; after a second unclear
message in a row, hand the conversation to staff."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.config import label, settings
from actions.handoff import hand_off
from actions.profile import conversation_language
from policies.topics import topic_label

FALLBACK_INTENT = "nlu_fallback"
# intents that make no sense as a suggestion
NOT_SUGGESTED = {FALLBACK_INTENT, "affirm", "deny", "goodbye", "thank", "bot_challenge", "greet"}
TOPIC_OF_INTENT_PREFIX = "ask_"


def unclear_messages_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages in a row fell below the NLU threshold."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count


def intent_title(intent: str, language: str) -> str:
    """Quick-reply title: topic intents by their topic's name, the others from intent_labels."""
    topic = intent.removeprefix(TOPIC_OF_INTENT_PREFIX)
    if intent.startswith(TOPIC_OF_INTENT_PREFIX) and topic != intent:
        title = topic_label(topic, language, "")
        if title:
            return title
    return label("intent_labels", language, intent)


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        config = settings()["fallback"]
        if unclear_messages_in_a_row(tracker) >= config["failures_before_handoff"]:
            return hand_off(dispatcher, tracker, "clarification_failed")
        language = conversation_language(tracker)
        ranking = tracker.latest_message.get("intent_ranking") or []
        candidates = [r["name"] for r in ranking if r.get("name") not in NOT_SUGGESTED]
        buttons = [
            {"title": intent_title(intent, language), "payload": f"/{intent}"}
            for intent in candidates[: config["max_options"]]
        ]
        buttons.append(
            {"title": label("intent_labels", language, "request_human"), "payload": "/request_human"}
        )
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []
