"""The reply to "还有什么需要帮您查询的吗？" (utter_anything_else, also ending utter_youre_welcome): a bare
"是"/"有"/"yes" gets the topic choice, "不用了"/"没有了" a goodbye; the question is never repeated."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.understanding import yes_no_meaning

# responses that end with the anything-else question
ANYTHING_ELSE_RESPONSES = {"utter_anything_else", "utter_youre_welcome"}


def last_bot_response(tracker: Tracker) -> str | None:
    """The response name of the assistant's last message before the person's latest one (Rasa records it
    as the bot event's `utter_action`), or None."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None  # the person spoke twice with no message in between
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            return (event.get("metadata") or {}).get("utter_action")
    return None


def answer_anything_else(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Answers a yes or no to the anything-else question just asked; False when the message is not one."""
    if last_bot_response(tracker) not in ANYTHING_ELSE_RESPONSES:
        return False
    meaning = yes_no_meaning((tracker.latest_message or {}).get("text"))
    if meaning is True:
        dispatcher.utter_message(response="utter_choose_topic")
    elif meaning is False:
        dispatcher.utter_message(response="utter_goodbye")
    return isinstance(meaning, bool)
