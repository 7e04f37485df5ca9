"""Two kinds of answer: a question about the rule ("青浦租房补贴是多少") is answered at once from the
knowledge base; a question about the person's own case ("我能拿多少", "我符合吗", or facts given with
it) gets the personalised answer, with only the questions that can change it."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.config import profile_fields
from actions.results import OVERVIEW_TOPIC
from actions.understanding import asks_about_own_case, asks_for_overview, leading_answer
from policies.topics import overview_ids, topic_ids

RULE_MODE = "rule"
PERSONAL_MODE = "personal"
CHECK_INTENT = "check_my_case"
TOPIC_INTENT_PREFIX = "ask_"
OVERVIEW_INTENT = TOPIC_INTENT_PREFIX + overview_ids()[0]  # ask_eligibility: "which policies can I get"


def topic_of_intent(intent: str | None) -> str | None:
    """The engine topic an intent asks about (ask_<topic> for a topic of policies/topics.yml, the one
    home of the topics), else None: the overview's intent and the intents about the last answer
    (ask_application_process, ask_policy_basis, ask_more) name no topic."""
    intent = intent or ""
    topic = intent.removeprefix(TOPIC_INTENT_PREFIX)
    return topic if topic != intent and topic in topic_ids() else None


def facts_in_message(tracker: Tracker) -> list[str]:
    """Profile facts the latest message states (entities whose slot is a profile field)."""
    fields = set(profile_fields()) - {"district"}
    # the slots this message fills (candidates the validation actions see), plus entities for the
    # answer action, which runs after the candidates were validated
    filled = {name for name in tracker.slots_to_validate() if name in fields}
    entities = (tracker.latest_message or {}).get("entities") or []
    named = {e.get("entity") for e in entities}
    # entity names differ from slot names for a few (annual_salary -> annual_salary_wan)
    filled |= {name for name in named if name in fields or f"{name}_wan" in fields or name == "honor"}
    return sorted(filled)


def answer_mode(tracker: Tracker) -> str:
    """rule | personal for the latest message; an answer to a question or a bare district ("那松江呢？")
    keeps the mode the conversation is in."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name") or ""
    text = message.get("text") or ""
    if intent == CHECK_INTENT or tracker.get_slot("topic") == OVERVIEW_TOPIC:
        return PERSONAL_MODE
    if is_question_intent(intent):  # a topic's or the overview's question
        if asks_about_own_case(text) or facts_in_message(tracker):
            return PERSONAL_MODE
        return RULE_MODE
    if declines_check(tracker):
        return RULE_MODE
    if facts_in_message(tracker) or tracker.get_slot("requested_slot"):
        return PERSONAL_MODE
    return tracker.get_slot("answer_mode") or RULE_MODE


def declines_check(tracker: Tracker) -> bool:
    """A reply opening with a no to the offer to check the person's own case ("不是，外地户口" to
    "想看看您本人能否申请？"): the no wins, and the facts in it start no questions."""
    if not tracker.get_slot("check_offered") or tracker.get_slot("requested_slot"):
        return False
    return leading_answer((tracker.latest_message or {}).get("text")) is False


def is_question_intent(intent: str | None) -> bool:
    """A (new) policy question, or accepting the offer to check the person's case."""
    return intent in (CHECK_INTENT, OVERVIEW_INTENT) or topic_of_intent(intent) is not None


def starts_a_question(tracker: Tracker) -> bool:
    """The latest message asks a (new) policy question or accepts the offer to check the person's case."""
    return is_question_intent(((tracker.latest_message or {}).get("intent") or {}).get("name"))


def previous_topic(tracker: Tracker) -> str | None:
    """The conversation's topic before the latest message: the last topic set before it."""
    events = list(tracker.events or [])
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if not users:
        return None
    for event in reversed(events[: users[-1]]):
        if event.get("event") == "slot" and event.get("name") == "topic":
            return event.get("value")
    return None


def follows_up_on_topic(tracker: Tracker) -> str | None:
    """ "我能拿多少" right after the rent subsidy's answer asks about the rent subsidy for this person, not
    about every policy (the NLU reads it as the overview's intent): that topic, else None."""
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    # the value this message set (the form may already have put the earlier topic back in memory)
    candidate = tracker.slots_to_validate().get("topic", tracker.get_slot("topic"))
    if intent != OVERVIEW_INTENT or candidate != OVERVIEW_TOPIC:
        return None
    text = message.get("text") or ""
    if not asks_about_own_case(text) or asks_for_overview(text):
        return None
    topic = previous_topic(tracker)
    return topic if topic and topic != OVERVIEW_TOPIC else None
