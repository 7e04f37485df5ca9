"""Answers: the engine computes, these actions only choose response names and fill their variables."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.config import settings
from actions.fallback import intent_title
from actions.forms import OVERVIEW_TOPIC, carries_nothing, is_plain_no
from actions.handoff import hand_off
from actions.profile import conversation_language, profile_from_tracker
from actions.render import result_variables, value_label

logger = logging.getLogger(__name__)

RESPONSE_BY_STATUS = {
    "eligible": "utter_result_eligible",
    "referral": "utter_result_referral",
    "needs_info": "utter_result_needs_info",
    "superseded": "utter_result_superseded",
    "ineligible": "utter_result_ineligible",
}
# the order results are shown in: what the person can get first
STATUS_RANK = {"eligible": 0, "referral": 1, "needs_info": 2, "superseded": 3, "ineligible": 4}
PERSONAL_STATUSES = {"eligible", "referral"}
# what "怎么申请"/"依据是什么" later needs of each shown result
REMEMBERED_KEYS = ("policy_id", "title", "district", "status", "how_to_apply", "contact", "source", "topic")


def results_to_show(results: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Current results, best first; ineligible ones only when nothing better exists."""
    current = [r for r in results if r.get("status") in STATUS_RANK]
    current.sort(key=lambda r: (STATUS_RANK[r["status"]], -(r.get("max_amount") or 0)))
    hopeful = [r for r in current if r["status"] != "ineligible"]
    return (hopeful or current)[: settings()["answer"]["max_results"]]


def best_of(remembered: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Follow-ups are about what the person can get; only when there is nothing, about all of it."""
    for statuses in (PERSONAL_STATUSES, {"needs_info"}):
        chosen = [r for r in remembered if r.get("status") in statuses]
        if chosen:
            return chosen
    return list(remembered)


def remember(results: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{key: result.get(key) for key in REMEMBERED_KEYS} for result in results]


def overview_items(results: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Eligible results (largest amount first), then those exactly one fact away."""
    eligible = [r for r in results if r.get("status") == "eligible"]
    eligible.sort(key=lambda r: -(r.get("max_amount") or 0))
    one_fact = [
        r for r in results if r.get("status") == "needs_info" and len(r.get("missing_facts") or []) == 1
    ]
    return (eligible + one_fact)[: settings()["answer"]["max_overview_items"]]


class ActionAnswerPolicy(Action):
    """Answers the current topic (or the overview) for the current district and profile."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        topic, district = tracker.get_slot("topic"), tracker.get_slot("district")
        language = conversation_language(tracker)
        if is_plain_no(tracker):
            # "不用了" after an answer changes nothing: no need to repeat the answer
            dispatcher.utter_message(response="utter_anything_else")
            return []
        if not topic:
            dispatcher.utter_message(response="utter_ask_topic")
            return []
        if carries_nothing(tracker):
            # a bare "1" where no options were offered: ask, never guess (or say goodbye)
            ask_what_they_mean(dispatcher, tracker, language)
            return []
        from policies import evaluate

        try:
            outcome = evaluate(
                profile_from_tracker(tracker),
                topic=None if topic == OVERVIEW_TOPIC else topic,
                district=district,
                language=language,
            )
        except Exception:
            logger.exception("policy engine failed for topic %s", topic)
            dispatcher.utter_message(response="utter_engine_error")
            return []
        results = list(outcome.get("results", []))
        events: list[EventType] = [SlotSet("questions_asked", 0)]
        if topic == OVERVIEW_TOPIC:
            shown = self.render_overview(dispatcher, results, district, language)
        else:
            shown = self.render_topic(dispatcher, results, district, language)
        events.append(SlotSet("last_result", remember(shown) or None))
        # a case-by-case policy the person may really get goes to staff; one still "one fact away"
        # in the overview does not
        personalised = [r for r in shown if r.get("personalised") and r.get("status") in PERSONAL_STATUSES]
        if personalised:
            events.extend(hand_off(dispatcher, tracker, "personalised", personalised[0]))
        return events

    @staticmethod
    def render_topic(
        dispatcher: CollectingDispatcher,
        results: list[Mapping[str, Any]],
        district: str | None,
        language: str,
    ) -> list[Mapping[str, Any]]:
        """Each result in full (tier, amount, conditions, how to apply, citation)."""
        return render_answer(
            dispatcher,
            results_to_show(results),
            district,
            language,
            empty="utter_no_policy_found",
            item=lambda result: (RESPONSE_BY_STATUS[result["status"]], result_variables(result, language)),
        )

    @staticmethod
    def render_overview(
        dispatcher: CollectingDispatcher,
        results: list[Mapping[str, Any]],
        district: str | None,
        language: str,
    ) -> list[Mapping[str, Any]]:
        """One line per policy (amount or the one missing fact) with its document number."""

        def line(result: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
            variables = result_variables(result, language)
            if result["status"] == "eligible":
                return "utter_overview_item_eligible", variables
            return "utter_overview_item_one_fact", variables

        return render_answer(
            dispatcher,
            overview_items(results),
            district,
            language,
            empty="utter_overview_empty",
            item=line,
            header="utter_overview_header",
            footer="utter_overview_more",
        )


def render_answer(
    dispatcher: CollectingDispatcher,
    items: list[Mapping[str, Any]],
    district: str | None,
    language: str,
    empty: str,
    item: Callable[[Mapping[str, Any]], tuple[str, dict[str, str]]],
    header: str | None = None,
    footer: str | None = None,
) -> list[Mapping[str, Any]]:
    """The shape every answer shares: [header] one message per result [footer] disclaimer; or, with no
    result, the `empty` response. Returns the results shown (remembered for the follow-ups)."""
    district_label = value_label(district, language)
    if not items:
        dispatcher.utter_message(response=empty, district_label=district_label)
        return []
    if header:
        dispatcher.utter_message(response=header, district_label=district_label)
    for result in items:
        response, variables = item(result)
        dispatcher.utter_message(response=response, **variables)
    if footer:
        dispatcher.utter_message(response=footer)
    dispatcher.utter_message(response="utter_estimate_disclaimer")
    return items


def ask_what_they_mean(dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> None:
    """A message with nothing to act on ("1"): say so, and offer the last topic, the overview, a person."""
    topic = tracker.get_slot("topic")
    intents = [f"ask_{topic}"] if topic and topic != OVERVIEW_TOPIC else []
    intents += ["ask_eligibility", "request_human"]
    buttons = [{"title": intent_title(intent, language), "payload": f"/{intent}"} for intent in intents]
    dispatcher.utter_message(response="utter_what_do_you_mean", buttons=buttons)


class _AboutLastAnswer(Action, ABC):
    """Shared by "怎么申请" and "依据是什么": one message per result of the last answer.
    Abstract, so the action server does not register it as an action of its own."""

    response = ""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        remembered = tracker.get_slot("last_result") or []
        if not remembered:
            dispatcher.utter_message(response="utter_no_last_answer")
            return []
        language = conversation_language(tracker)
        for result in best_of(remembered):
            dispatcher.utter_message(response=self.response, **result_variables(result, language))
        return []


class ActionExplainApplication(_AboutLastAnswer):
    response = "utter_how_to_apply"

    def name(self) -> str:
        return "action_explain_application"


class ActionExplainBasis(_AboutLastAnswer):
    response = "utter_policy_basis"

    def name(self) -> str:
        return "action_explain_basis"
