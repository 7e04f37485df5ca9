"""Low-confidence messages. When one reading is likely ("松降租房补贴" → 松江's rent subsidy), ask back that
one question with yes/no buttons ("您是想问松江的租房补贴吗？"), and a yes goes on with it; otherwise offer
the likeliest intents as quick replies. After a second unclear message in a row, hand over to staff."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.config import label, labels, settings
from actions.handoff import hand_off
from actions.mode import OVERVIEW_INTENT, TOPIC_INTENT_PREFIX, topic_of_intent
from actions.profile import conversation_language
from actions.render import value_label
from actions.results import OVERVIEW_TOPIC
from actions.understanding import asks_about_own_case, near_miss_district, understanding, yes_no_meaning
from policies.topics import topic_label

FALLBACK_INTENT = "nlu_fallback"
HUMAN_INTENT = "request_human"  # offered after the suggestions, whatever the ranking
SUGGESTION_SLOT = "suggestion"


def suggestable(intent: str | None) -> bool:
    """An intent worth a quick reply: a topic's question (titled in topics.yml) or another intent with a
    title in labels.yml's intent_labels. A yes, a thanks, a greeting or filler has no title, so it is
    never offered as what the person might have meant."""
    if not intent or intent == HUMAN_INTENT:
        return False
    if topic_of_intent(intent) is not None or intent == OVERVIEW_INTENT:
        return True
    return intent in labels().get("intent_labels", {}).get("zh", {})


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
    topic = intent.removeprefix(TOPIC_INTENT_PREFIX)
    if intent.startswith(TOPIC_INTENT_PREFIX) and topic != intent:
        title = topic_label(topic, language, "")  # the overview's intent is named in topics.yml too
        if title:
            return title
    return label("intent_labels", language, intent)


def ask_what_they_mean(dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
    """A message with nothing to act on ("1", "hmm"): say so, and offer the last topic, the overview, a
    person."""
    topic = tracker.get_slot("topic")
    intents = [f"ask_{topic}"] if topic and topic != OVERVIEW_TOPIC else []
    intents += [OVERVIEW_INTENT, HUMAN_INTENT]
    buttons = [{"title": intent_title(intent, language), "payload": f"/{intent}"} for intent in intents]
    dispatcher.utter_message(response="utter_what_do_you_mean", buttons=buttons)


def district_aliases() -> dict[str, list[str]]:
    """Canonical district -> its aliases, from the one vocabulary (via policies/profile)."""
    from policies import profile_fields

    spec = profile_fields()["district"]
    names: dict[str, list[str]] = {name: [] for name in spec.values}
    for alias, name in spec.aliases.items():
        names.setdefault(name, []).append(alias)
    return names


def likely_reading(tracker: Tracker) -> dict[str, Any] | None:
    """{district, topic, mode} when one reading of an unclear message is likely: a near-miss district
    ("松降", "qinpu") and/or a topic intent the NLU ranks first with some confidence; None otherwise."""
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    named = any(e.get("entity") == "district" for e in message.get("entities") or [])
    district = None if named else near_miss_district(text, district_aliases())
    ranking = [r for r in message.get("intent_ranking") or [] if suggestable(r.get("name"))]
    top = ranking[0] if ranking else {}
    name = str(top.get("name") or "")
    config = understanding()["did_you_mean"]
    confidence = float(top.get("confidence") or 0)
    runner_up = float(ranking[1].get("confidence") or 0) if len(ranking) > 1 else 0.0
    sure_enough = (
        confidence >= config["min_topic_confidence"] and confidence >= config["lead_factor"] * runner_up
    )
    topic = topic_of_intent(name) if sure_enough else None
    if not district and not topic:
        return None
    mode = "personal" if asks_about_own_case(text) else "rule"
    return {"district": district, "topic": topic, "mode": mode}


def ask_back(dispatcher: CollectingDispatcher, reading: dict[str, Any], language: str) -> None:
    """ "您是想问青浦吗？" / "…青浦的租房补贴吗？" / "…租房补贴吗？" with 是 / 不是 (buttons in domain.yml)."""
    district_label = value_label(reading.get("district"), language)
    topic_name = topic_label(reading["topic"], language) if reading.get("topic") else ""
    if district_label and topic_name:
        response = "utter_did_you_mean_both"
    else:
        response = "utter_did_you_mean_district" if district_label else "utter_did_you_mean_topic"
    dispatcher.utter_message(response=response, district_label=district_label, topic_label=topic_name)


def suggestion_pending(tracker: Tracker) -> bool:
    """The assistant asked back one reading in its reply to the previous message (the suggestion slot was
    set after it): the latest message answers that question."""
    if not tracker.get_slot(SUGGESTION_SLOT):
        return False
    latest_user = max((i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=-1)
    for event in reversed(tracker.events[: max(latest_user, 0)]):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == SUGGESTION_SLOT:
            return bool(event.get("value"))
    return False


def ask_back_near_miss(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """A message the NLU read with confidence but without a district, that names one nearly ("我在松降",
    "qinpu"): ask back "您是想问松江吗？" (empty when there is no near miss)."""
    message = tracker.latest_message or {}
    if any(e.get("entity") == "district" for e in message.get("entities") or []):
        return []
    district = near_miss_district(message.get("text"), district_aliases())
    if not district:
        return []
    text = message.get("text") or ""
    reading = {
        "district": district,
        "topic": None,
        "mode": "personal" if asks_about_own_case(text) else "rule",
    }
    ask_back(dispatcher, reading, conversation_language(tracker))
    return [SlotSet(SUGGESTION_SLOT, reading)]


def accept_suggestion(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """ "是" / "shi" / "对" to "您是想问青浦吗？": go on with that district (and topic) as if typed."""
    from actions.mode import RULE_MODE

    reading = tracker.get_slot(SUGGESTION_SLOT) or {}
    events: list[EventType] = [SlotSet(SUGGESTION_SLOT, None)]
    if reading.get("district"):
        events.append(SlotSet("district", reading["district"]))
    if reading.get("topic"):
        events.append(SlotSet("topic", reading["topic"]))
    if not (reading.get("topic") or tracker.get_slot("topic")):
        dispatcher.utter_message(response="utter_ask_topic")
        return events
    events += [
        SlotSet("answer_mode", reading.get("mode") or RULE_MODE),
        SlotSet("last_answer_key", None),
        FollowupAction("policy_form"),
    ]
    return events


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = (tracker.latest_message or {}).get("text")
        if suggestion_pending(tracker):
            # an answer to the ask-back the NLU was unsure of ("shi de ya"): its words decide
            meaning = yes_no_meaning(text)
            if meaning is True:
                return accept_suggestion(dispatcher, tracker)
            if meaning is False:
                ask_what_they_mean(dispatcher, tracker, conversation_language(tracker))
                return [SlotSet(SUGGESTION_SLOT, None)]
        from actions.update import facts_stated_in_words

        told = [] if tracker.active_loop.get("name") else facts_stated_in_words(tracker)
        if told and tracker.get_slot("topic"):
            # "没有房" after an answer, read as unclear: its words state a fact; the answer says what it changes
            return [*told, FollowupAction("action_answer_policy")]
        config = settings()["fallback"]
        if unclear_messages_in_a_row(tracker) >= config["failures_before_handoff"]:
            return hand_off(dispatcher, tracker, "clarification_failed")
        language = conversation_language(tracker)
        reading = None if tracker.active_loop.get("name") else likely_reading(tracker)
        if reading:
            ask_back(dispatcher, reading, language)
            return [SlotSet(SUGGESTION_SLOT, reading)]
        ranking = tracker.latest_message.get("intent_ranking") or []
        floor = config["min_option_confidence"]
        candidates = [
            r["name"] for r in ranking if suggestable(r.get("name")) and (r.get("confidence") or 0) >= floor
        ]
        if not candidates:
            # nothing is a likely reading: the topics to choose from, not three arbitrary intents
            dispatcher.utter_message(response="utter_choose_topic")
            return [SlotSet(SUGGESTION_SLOT, None)] if tracker.get_slot(SUGGESTION_SLOT) else []
        buttons = [
            {"title": intent_title(intent, language), "payload": f"/{intent}"}
            for intent in candidates[: config["max_options"]]
        ]
        buttons.append(
            {"title": label("intent_labels", language, HUMAN_INTENT), "payload": f"/{HUMAN_INTENT}"}
        )
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return [SlotSet(SUGGESTION_SLOT, None)] if tracker.get_slot(SUGGESTION_SLOT) else []
