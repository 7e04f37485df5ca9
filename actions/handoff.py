"""Handing a conversation to staff: a localised notice, a structured case payload, a pause.

The payload carries what the officer needs so nobody asks the person everything again: the reason, a
summary, the collected profile, and the last personalised answer recomputed by the engine (tier, amount,
payout, duration, conditions, how to apply, citation), in Chinese, the console's language.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.profile import conversation_language, profile_from_tracker
from actions.results import OVERVIEW_TOPIC, best_of
from policies.present import console_result
from policies.topics import topic_label

logger = logging.getLogger(__name__)

HANDOFF_INTENTS = {"request_human", "complain"}
# the staff console is Chinese: results in the payload are rendered in Chinese whatever the person speaks
CONSOLE_LANGUAGE = "zh"


def case_result(topic: str | None, results: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    results = list(results)
    shown = [console_result(r, CONSOLE_LANGUAGE) for r in results]
    if not shown:
        return None
    title = topic_label(topic, CONSOLE_LANGUAGE) if topic else None
    return {
        "topic": topic,
        "title": title,
        # a case-by-case (一事一议) policy: only an officer can settle the amount
        "personalised": any(bool(r.get("personalised")) for r in results),
        "results": shown,
    }


def recomputed(tracker: Tracker, profile: Mapping[str, Any], topic: str, policy_ids: list[str]) -> list[dict]:
    """The engine's results for these policies, in the console's language, best first as remembered."""
    from policies import evaluate

    outcome = evaluate(
        profile,
        topic=None if topic == OVERVIEW_TOPIC else topic,
        district=tracker.get_slot("district"),
        language=CONSOLE_LANGUAGE,
    )
    by_id = {r["policy_id"]: r for r in outcome.get("results", [])}
    return [by_id[policy] for policy in policy_ids if policy in by_id]


def last_personalised_result(tracker: Tracker, profile: Mapping[str, Any]) -> dict[str, Any] | None:
    """The last answer the person got (slots ``last_result`` and ``topic``), recomputed in full for the
    officer; None when nothing was answered yet or nothing is known about the person."""
    remembered = tracker.get_slot("last_result") or []
    topic = tracker.get_slot("topic")
    if not remembered or not topic or not profile:
        return None
    wanted = [r.get("policy_id") for r in best_of(remembered) if r.get("policy_id")]
    return case_result(topic, recomputed(tracker, profile, topic, wanted))


def result_for_handoff(
    tracker: Tracker, profile: Mapping[str, Any], result: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The case's result: the policy that caused the handoff (in Chinese), else the last answer."""
    if not result:
        return last_personalised_result(tracker, profile)
    topic = result.get("topic") or tracker.get_slot("topic")
    again = recomputed(tracker, profile, topic, [result["policy_id"]]) if result.get("policy_id") else []
    return case_result(topic, again or [result])


def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    result: Mapping[str, Any] | None = None,
) -> list[EventType]:
    """Tell the person, give the gateway the case, and pause the conversation. ``result``: the engine
    result that caused the handoff (a personalised policy); otherwise the last answer is recomputed."""
    language = conversation_language(tracker)
    if reason == "personalised":
        dispatcher.utter_message(response="utter_handoff_personalised")
    # who answers; when they answer is the gateway's to say (it knows the office's calendar)
    dispatcher.utter_message(response="utter_handoff")
    try:
        profile = profile_from_tracker(tracker)
    except Exception:  # an engine outage must not stop the person from reaching a human
        profile = {}
    try:
        case = result_for_handoff(tracker, profile, result)
    except Exception:  # the officer can still read the transcript
        logger.exception("could not recompute the last result for the handoff")
        case = None
    dispatcher.utter_message(
        json_message={
            "handoff": {
                "reason": reason,
                "profile": profile,
                "result": case,
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
