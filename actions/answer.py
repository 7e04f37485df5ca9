"""Answers: the engine computes, these actions choose what to show and fill the response variables.

A question about a rule gets the rule at once (tiers, key conditions, payout and duration, how to apply,
the citation) and one offer to check the person's own case; a question about the person's case gets
one leading result, at most two other plausible items, and the rest behind "更多相关政策".
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.anything_else import answer_anything_else
from actions.compose import (
    GENERIC_LEAD,
    LEAD_RESPONSE,
    Citations,
    can_depend_on_the_person,
    choose,
    choose_for_person,
    is_personalised_answer,
    key_conditions,
    lead_variables,
    other_line,
    rule_lead,
    rule_variables,
)
from actions.config import label, settings
from actions.fallback import (
    SUGGESTION_SLOT,
    accept_suggestion,
    ask_back_near_miss,
    ask_what_they_mean,
    suggestion_pending,
)
from actions.handoff import hand_off
from actions.message_facts import carries_nothing, is_plain_no
from actions.mode import PERSONAL_MODE, RULE_MODE, answer_mode, declines_check
from actions.profile import conversation_language, profile_from_tracker
from actions.render import result_variables, value_label
from actions.results import OVERVIEW_TOPIC, best_of, is_found, remember
from actions.understanding import asks_for_more, is_hesitation
from actions.understanding import yes_no_meaning as meaning_of
from actions.update import (
    facts_stated_in_words,
    profile_of_last_answer,
    render_update,
    updates_last_answer,
)

logger = logging.getLogger(__name__)

MORE_PAYLOAD = "/ask_more"
CHECK_PAYLOAD = "/check_my_case"
HANDOFF_PAYLOAD = "/request_human"  # data/rules/handoff.yml: the officer takes the case


def overview_items(results: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Eligible results (largest amount first), then those exactly one fact away."""
    eligible = [r for r in results if r.get("status") == "eligible"]
    eligible.sort(key=lambda r: -(r.get("max_amount") or 0))
    one_fact = [
        r for r in results if r.get("status") == "needs_info" and len(r.get("missing_facts") or []) == 1
    ]
    return (eligible + one_fact)[: settings()["answer"]["max_overview_items"]]


def answer_key(topic: str, district: str | None, profile: Mapping[str, Any]) -> str:
    """What an answer depends on: the same key twice means the person asks about the answer just given
    (unless they now ask about their own case after a rule answer)."""
    raw = json.dumps([topic, district, profile], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


def still_relevant(tracker: Tracker, lead: Mapping[str, Any]) -> set[str] | None:
    """Facts that can still change the leading result (policies/questions.py), for "还需确认"."""
    if lead.get("status") != "needs_info" or not lead.get("topic"):
        return None
    from policies.questions import rank_questions

    try:
        return set(rank_questions(profile_from_tracker(tracker), lead["topic"], lead.get("district")))
    except Exception:  # the list of open facts is a courtesy; the answer stands without it
        logger.exception("could not rank the open facts")
        return None


def button(language: str, key: str, payload: str) -> dict[str, str]:
    return {"title": label("buttons", language, key), "payload": payload}


class ActionAnswerPolicy(Action):
    """Answers the current topic (or the overview) for the current district and profile."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        topic, district = tracker.get_slot("topic"), tracker.get_slot("district")
        language = conversation_language(tracker)
        told = facts_stated_in_words(tracker)
        if told:
            # "没有房" after an answer: a fact about the person, taken like an answer to its question
            tracker.add_slots(told)
        elif is_plain_no(tracker):
            if suggestion_pending(tracker):
                # "不是" to "您是想问青浦吗？": say so and offer the usual choices
                ask_what_they_mean(dispatcher, tracker, language)
                return [SlotSet(SUGGESTION_SLOT, None)]
            if not answer_anything_else(dispatcher, tracker):
                # "不用了" after an answer changes nothing: no need to repeat the answer
                dispatcher.utter_message(response="utter_anything_else")
            return []
        if declines_check(tracker):
            # "不是，外地户口" to the offer to check their case: the fact is kept, the answer is not re-sent
            dispatcher.utter_message(response="utter_anything_else")
            return [*told, SlotSet("check_offered", False)]
        asked_back = [] if told or not carries_nothing(tracker) else ask_back_near_miss(dispatcher, tracker)
        if asked_back:
            return asked_back  # "我在松降": "您是想问松江吗？"
        if not told and carries_nothing(tracker) and answer_anything_else(dispatcher, tracker):
            return []  # "有" / "没有了" (read as a statement) to "还有什么需要帮您查询的吗？"
        if not topic:
            dispatcher.utter_message(response="utter_ask_topic")
            return told
        if not told and carries_nothing(tracker):
            # a bare "1" where no options were offered: ask, never guess (or say goodbye)
            ask_what_they_mean(dispatcher, tracker, language)
            return []
        from policies import evaluate
        from policies.questions import plausible

        mode = PERSONAL_MODE if topic == OVERVIEW_TOPIC else answer_mode(tracker)
        profile = profile_from_tracker(tracker)
        key = answer_key(topic, district, profile)
        now_personal = mode == PERSONAL_MODE and tracker.get_slot("answer_mode") == RULE_MODE
        same = key == tracker.get_slot("last_answer_key") and tracker.get_slot("last_result")
        if same and not now_personal:
            # a follow-up about the answer just given: answer it, do not send the whole answer again
            return self.follow_up(dispatcher, tracker, language)
        try:
            scope = None if topic == OVERVIEW_TOPIC else topic
            outcome = evaluate(profile, topic=scope, district=district, language=language)
            worth = plausible(profile, scope, district)
        except Exception:
            logger.exception("policy engine failed for topic %s", topic)
            dispatcher.utter_message(response="utter_engine_error")
            return told
        results = list(outcome.get("results", []))
        events: list[EventType] = [
            *told,
            SlotSet("questions_asked", 0),
            SlotSet("answer_mode", mode),
            SlotSet("last_answer_key", key),
        ]
        earlier = profile_of_last_answer(tracker) if updates_last_answer(tracker, mode) else None
        if earlier is not None:
            more = button(language, "more", MORE_PAYLOAD)
            shown, hidden = render_update(
                dispatcher, earlier, profile, results, worth, tracker, language, more
            )
        elif topic == OVERVIEW_TOPIC:
            shown = render_overview(dispatcher, results, district, language)
            hidden: list[Mapping[str, Any]] = []
        else:
            shown, hidden = render_topic(
                dispatcher, tracker, results, worth, district, language, rule=mode == RULE_MODE
            )
        events.append(SlotSet("last_result", remember(shown) or None))
        events.append(SlotSet("more_results", [r["policy_id"] for r in hidden] or None))
        offered = mode == RULE_MODE and bool(shown) and can_depend_on_the_person(results)
        events.append(SlotSet("check_offered", offered))
        # a case-by-case policy the person may really get goes to staff
        personalised = [r for r in shown[:1] if r.get("personalised") and is_found(r)]
        if personalised and mode == PERSONAL_MODE:
            events.extend(hand_off(dispatcher, tracker, "personalised", personalised[0]))
        return events

    @staticmethod
    def follow_up(dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> list[EventType]:
        """The key conditions and how to apply of the answer just given, in one short message."""
        for result in best_of(tracker.get_slot("last_result") or [])[:1]:
            variables = result_variables(result, language)
            variables["conditions_text"] = key_conditions(result.get("policy_id") or "", language)
            dispatcher.utter_message(response="utter_follow_up", **variables)
        return []


def render_topic(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    results: list[Mapping[str, Any]],
    worth: set[str],
    district: str | None,
    language: str,
    rule: bool,
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """One leading result, at most two other lines, a "more" button for the rest. Returns (shown, hidden)."""
    if rule:
        lead, others, rest = choose(
            rule_lead(results, worth, tracker.latest_message.get("text")), worth, keep_order=True
        )
    else:
        text = (tracker.latest_message or {}).get("text")
        lead, others, rest = choose_for_person(results, worth, profile_from_tracker(tracker), text)
    if lead is None:
        dispatcher.utter_message(
            response="utter_no_policy_found", district_label=value_label(district, language)
        )
        return [], []
    cite = Citations(language)
    skipped = tracker.get_slot("skipped_facts") or []
    if rule:
        dispatcher.utter_message(response="utter_rule_answer", **rule_variables(lead, language, cite))
    else:
        response = LEAD_RESPONSE.get(str(lead.get("status")), GENERIC_LEAD)
        relevant = still_relevant(tracker, lead)
        dispatcher.utter_message(response=response, **lead_variables(lead, language, cite, skipped, relevant))
    if others:
        lines = "\n".join(other_line(r, language) for r in others)
        dispatcher.utter_message(response="utter_other_items", items_text=lines)
    buttons = [button(language, "more", MORE_PAYLOAD)] if rest else []
    if not rule and lead.get("status") == "review":
        # the document leaves it to the office: the person can ask for that decision straight away
        buttons.insert(0, button(language, "ask_officer", HANDOFF_PAYLOAD))
    if rule and can_depend_on_the_person(results):
        buttons.insert(0, button(language, "check_my_case", CHECK_PAYLOAD))
        dispatcher.utter_message(response="utter_offer_check", buttons=buttons)
    elif rule and buttons:
        dispatcher.messages[-1].setdefault("buttons", []).extend(buttons)
    elif all(r.get("status") == "ineligible" for r in results):
        # the documents provide for other people only: say so plainly, and offer an officer
        buttons.insert(0, button(language, "ask_officer", HANDOFF_PAYLOAD))
        dispatcher.utter_message(response="utter_nothing_for_your_case", buttons=buttons)
    elif is_personalised_answer(lead, profile_from_tracker(tracker)):
        # the marker tells the gateway this was a personalised answer: it offers a 好差评 rating
        marker = {
            "answer": "personal",
            "topic": tracker.get_slot("topic"),
            "district": district,
            "language": language,  # the answer's language: the offer follows it, not the page's setting
        }
        dispatcher.utter_message(response="utter_estimate_disclaimer", buttons=buttons, json_message=marker)
    elif buttons:
        # the scheme as the document states it: its citation is said, no estimate sentence
        dispatcher.messages[-1].setdefault("buttons", []).extend(buttons)
    return [lead, *others], rest


def render_overview(
    dispatcher: CollectingDispatcher,
    results: list[Mapping[str, Any]],
    district: str | None,
    language: str,
) -> list[Mapping[str, Any]]:
    """One line per policy (amount or the one missing fact) with its document number."""
    items = overview_items(results)
    district_label = value_label(district, language)
    if not items:
        dispatcher.utter_message(response="utter_overview_empty", district_label=district_label)
        return []
    lines = []
    for result in items:
        variables = result_variables(result, language)
        template = "overview_eligible" if result["status"] == "eligible" else "overview_one_fact"
        lines.append(label("fragments", language, template).format(**variables))
    dispatcher.utter_message(
        response="utter_overview", district_label=district_label, items_text="\n".join(lines)
    )
    dispatcher.utter_message(response="utter_estimate_disclaimer")
    return items


class ActionShowMore(Action):
    """ "更多相关政策" / "more": the rest of the last answer, one line each, recomputed for the profile now."""

    def name(self) -> str:
        return "action_show_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        wanted = tracker.get_slot("more_results") or []
        if not wanted:
            dispatcher.utter_message(response="utter_no_more")
            return []
        from policies import evaluate

        language = conversation_language(tracker)
        topic = tracker.get_slot("topic")
        outcome = evaluate(
            profile_from_tracker(tracker),
            topic=None if topic == OVERVIEW_TOPIC else topic,
            district=tracker.get_slot("district"),
            language=language,
        )
        by_id = {r["policy_id"]: r for r in outcome.get("results", [])}
        chosen = [by_id[p] for p in wanted if p in by_id][: settings()["answer"]["max_more_items"]]
        cite = Citations(language)
        lines = [f"{other_line(r, language)}（{cite(r.get('source'))}）" for r in chosen]
        if language == "en":
            lines = [line.replace("（", " (").replace("）", ")") for line in lines]
        dispatcher.utter_message(response="utter_more_items", items_text="\n".join(lines))
        remembered = (tracker.get_slot("last_result") or []) + remember(chosen)
        return [SlotSet("more_results", None), SlotSet("last_result", remembered)]


class ActionPlainYes(Action):
    """A "yes" outside a question: after the offer to check the person's case, start the questions;
    otherwise there is nothing to act on."""

    def name(self) -> str:
        return "action_plain_yes"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = tracker.latest_message.get("text")
        if suggestion_pending(tracker):
            # "是" to "您是想问青浦吗？": go on with that district (and topic)
            return accept_suggestion(dispatcher, tracker)
        if meaning_of(text) is not True:
            # "松降" read as a yes: a district named nearly is asked back, not taken as a yes
            asked_back = ask_back_near_miss(dispatcher, tracker)
            if asked_back:
                return asked_back
        if is_hesitation(text):
            # "hmm" is no yes (the NLU may still call it affirm): nothing to act on
            ask_what_they_mean(dispatcher, tracker, conversation_language(tracker))
            return []
        if asks_for_more(text) and tracker.get_slot("more_results"):
            return [FollowupAction("action_show_more")]
        if answer_anything_else(dispatcher, tracker):
            return []  # "有" to "还有什么需要帮您查询的吗？": the topics to choose from
        if tracker.get_slot("check_offered") and tracker.get_slot("topic"):
            return [
                SlotSet("answer_mode", PERSONAL_MODE),
                SlotSet("check_offered", False),
                SlotSet("last_answer_key", None),
                FollowupAction("policy_form"),
            ]
        dispatcher.utter_message(response="utter_anything_else")
        return []


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
