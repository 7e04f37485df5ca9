"""What the latest message did to the profile: set a fact, volunteered facts beside the pending
question, or carried nothing new ("不用了", a bare "1")."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType

from actions.config import profile_fields
from actions.pending import previous_value


def is_plain_no(tracker: Tracker) -> bool:
    """A "no" that carries no new fact ("不用了"): nothing to recompute.

    A "no" that answered the form's question ("名下有房吗？" "没有") did set a fact: that is not plain."""
    return says_nothing_new(tracker, "deny")


def says_nothing_new(tracker: Tracker, *intents: str) -> bool:
    """The latest message has one of these intents, no entity, and set no profile fact."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    return intent in intents and not message.get("entities") and not set_a_fact_since_last_message(tracker)


def set_a_fact_since_last_message(tracker: Tracker) -> bool:
    """Whether a profile fact changed after the person's latest message (e.g. set by the form from a
    yes/no). A fact set again to the value it had is no change: the form re-validates the facts it
    already knows each time it starts."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == "skipped_facts":
            return True  # "不知道" answered the question: the answer says what is still open
        if event.get("event") == "slot" and event.get("name") in profile_fields():
            if event.get("value") != previous_value(tracker, event["name"]):
                return True
    return False


def carries_nothing(tracker: Tracker) -> bool:
    """A message with no question and no fact in it ("1", "2" typed where no options were offered)."""
    return says_nothing_new(tracker, "inform")


def volunteered_facts(
    events: list[EventType], pending: str | None, tracker: Tracker | None = None
) -> list[tuple[str, Any]]:
    """Facts recorded from a message that answered something other than the pending question (with the
    tracker: only those it changed; a fact kept at its earlier value was not said now)."""
    recorded = [
        (event["name"], event["value"])
        for event in events
        if event.get("event") == "slot"
        and event.get("name") in profile_fields()
        and event.get("value") not in (None, "skip", [])
        and (tracker is None or event["value"] != previous_value(tracker, event["name"]))
    ]
    if not pending or all(name == pending for name, _ in recorded):
        return []
    return list(dict(recorded).items())


def facts_answered_now(tracker: Tracker) -> list[str]:
    """Profile facts given in the latest message (the slot candidates at the end of the events)."""
    return [name for name in tracker.slots_to_validate() if name in profile_fields()]
