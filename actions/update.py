"""A fact given after an answer ("27岁", "没有房"): taken, and said in a line or two — what it changed, or that
it changes nothing — instead of the whole answer again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.compose import choose_for_person, lead_state
from actions.config import profile_fields
from actions.mode import PERSONAL_MODE, is_question_intent
from actions.profile import normalise_field
from actions.render import noted_facts_text, value_label
from actions.results import OVERVIEW_TOPIC
from actions.understanding import stated_facts


def facts_stated_in_words(tracker: Tracker) -> list[EventType]:
    """Facts a short reply states in everyday words ("没有房", "I'm renting") that nothing else took: the
    form was not asking, and the NLU found no entity for them. Only a message that answers (inform,
    deny, affirm) counts; a new question keeps its own meaning."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    # nlu_fallback too: "没有房" alone was once read below the threshold, and its words are clear
    if intent not in ("inform", "deny", "affirm", "nlu_fallback") or tracker.get_slot("requested_slot"):
        return []
    named = {e.get("entity") for e in message.get("entities") or []}
    events: list[EventType] = []
    for field, value in stated_facts(message.get("text")).items():
        if field in named or field not in profile_fields() or tracker.get_slot(field) == value:
            continue
        events.append(SlotSet(field, normalise_field(field, value)))
    return events


def last_answer_index(tracker: Tracker) -> int | None:
    """Where in the events the last answer was given (None before any)."""
    for index in range(len(tracker.events) - 1, -1, -1):
        event = tracker.events[index]
        if event.get("event") == "action" and event.get("name") == "action_answer_policy":
            return index
    return None


def slots_at(tracker: Tracker, index: int) -> dict[str, Any]:
    """Slot values as they stood at events[index] (replayed from the slot events before it)."""
    values: dict[str, Any] = {}
    for event in tracker.events[:index]:
        if event.get("event") == "slot":
            values[event["name"]] = event.get("value")
    return values


def after_answer(tracker: Tracker, index: int) -> int:
    """The end of the last answer's own events (its slots come right after the action): the next message."""
    for later in range(index + 1, len(tracker.events)):
        if tracker.events[later].get("event") == "user":
            return later
    return len(tracker.events)


def asked_since(tracker: Tracker, index: int) -> bool:
    """A message since events[index] asked a question ("积分租房补贴我能拿多少", then its form's answers):
    that question gets its whole answer, not a line about what changed."""
    return any(
        event.get("event") == "user"
        and is_question_intent(((event.get("parse_data") or {}).get("intent") or {}).get("name"))
        for event in tracker.events[index + 1 :]
    )


def updates_last_answer(tracker: Tracker, mode: str) -> bool:
    """The person added facts to a personalised answer of the same topic and district (no new question):
    say what changed, not the whole answer again."""
    index = last_answer_index(tracker)
    if index is None or mode != PERSONAL_MODE or asked_since(tracker, index):
        return False
    then = slots_at(tracker, after_answer(tracker, index))
    return (
        bool(tracker.get_slot("last_result"))
        and then.get("answer_mode") == PERSONAL_MODE
        and then.get("topic") == tracker.get_slot("topic")
        and then.get("district") == tracker.get_slot("district")
        and tracker.get_slot("topic") != OVERVIEW_TOPIC
    )


def profile_of_last_answer(tracker: Tracker) -> dict[str, Any] | None:
    """The profile the last answer was computed from."""
    from policies import ProfileError

    index = last_answer_index(tracker)
    if index is None:
        return None
    profile = {}
    for name, value in slots_at(tracker, index).items():
        if name in profile_fields() and value is not None:
            try:
                profile[name] = normalise_field(name, value)
            except ProfileError:
                continue
    return profile


def lead_signature(result: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """What the person reads of a result: which scheme, its status, tier and amount."""
    if result is None:
        return ()
    keys = ("policy_id", "status", "tier", "max_amount", "min_amount")
    return tuple(result.get(key) for key in keys)


def render_update(
    dispatcher: CollectingDispatcher,
    earlier: Mapping[str, Any],
    profile: Mapping[str, Any],
    results: list[Mapping[str, Any]],
    worth: set[str],
    tracker: Tracker,
    language: str,
    more_button: dict[str, str],
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """A fact given after a personalised answer: "已记下：年龄：27。这不改变上面的结果（…）" or what it
    changed, in one or two lines. Returns (shown, hidden) like render_topic."""
    from policies import evaluate
    from policies.questions import plausible

    topic, district = tracker.get_slot("topic"), tracker.get_slot("district")
    before = evaluate(dict(earlier), topic=topic, district=district, language=language)["results"]
    old_lead, _, _ = choose_for_person(list(before), plausible(dict(earlier), topic, district), earlier)
    lead, others, rest = choose_for_person(results, worth, profile)
    if lead is None:
        dispatcher.utter_message(
            response="utter_no_policy_found", district_label=value_label(district, language)
        )
        return [], []
    changed = [(name, value) for name, value in profile.items() if earlier.get(name) != value]
    response = (
        "utter_fact_changes_nothing"
        if lead_signature(lead) == lead_signature(old_lead)
        else "utter_fact_changed"
    )
    buttons = [more_button] if rest else []
    dispatcher.utter_message(
        response=response,
        facts_text=noted_facts_text(changed, language),
        title=str(lead.get("title") or lead.get("policy_id") or ""),
        state=lead_state(lead, language),
        buttons=buttons,
    )
    return [lead, *others], rest
