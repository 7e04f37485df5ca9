"""The dynamic policy form: its flow over a turn.

`validate_policy_form` asks policies/ which facts are still missing for the current topic and requests
only the next, most decisive one. Each answer is read by its own module: numbers
(actions/numeric_answer.py), yes/no (actions/yes_no_answer.py), every field's validation
(actions/validators.py, also run outside the form); what a message did to the profile is
actions/message_facts.py.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.config import profile_fields, settings
from actions.message_facts import facts_answered_now, says_nothing_new, volunteered_facts
from actions.mode import RULE_MODE, answer_mode, follows_up_on_topic, starts_a_question
from actions.numeric_answer import bare_number_kind, extract_bare_number
from actions.pending import answers_yes_no, keep_pending_answer, named_numbers, unusable_answer
from actions.profile import conversation_language, profile_from_tracker
from actions.render import noted_facts_text
from actions.results import OVERVIEW_TOPIC
from actions.validators import ProfileValidators, skipped_in_words
from actions.yes_no_answer import extract_yes_no

logger = logging.getLogger(__name__)


def next_missing_fact(tracker: Tracker) -> str | None:
    """The next question for the topic (policies/questions.py), or None when it can answer."""
    topic = tracker.get_slot("topic")
    if not topic:
        return None
    if tracker.get_slot("district") is None:
        return "district"
    if topic == OVERVIEW_TOPIC or answer_mode(tracker) == RULE_MODE:
        # the overview uses what is known; a question about the rule is answered without personal questions
        return None
    if (tracker.get_slot("questions_asked") or 0) >= settings()["form"]["max_questions_per_topic"]:
        return None
    from policies.questions import next_question

    try:
        fact = next_question(
            profile_from_tracker(tracker),
            topic,
            district=tracker.get_slot("district"),
            skipped=tracker.get_slot("skipped_facts") or [],
            max_unknown=settings()["form"]["max_unknown_answers"],
        )
    except Exception:  # the answer step reports engine failures; the form must not loop on them
        logger.exception("policy engine failed while choosing the next question")
        return None
    return fact if fact in profile_fields() and tracker.get_slot(fact) is None else None


class ValidatePolicyForm(ProfileValidators, FormValidationAction):
    def name(self) -> str:
        return "validate_policy_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # facts just answered stay listed so they get validated; the next missing fact follows
        if tracker.get_slot("requested_slot") is None and says_nothing_new(tracker, "deny", "inform"):
            return []  # "不用了" or a bare "1" after an answer starts no new questions
        earlier_topic = follows_up_on_topic(tracker)
        if earlier_topic:
            # "我能拿多少" after a topic's answer: that topic (validate_topic sets it), its questions next
            tracker.slots["topic"] = earlier_topic
        skipped = set(tracker.get_slot("skipped_facts") or [])
        # facts in this message are listed to be validated; once refused (None) they drop out, and the
        # engine decides whether the question is worth asking again
        required = [
            fact
            for fact in facts_answered_now(tracker)
            if fact not in skipped and tracker.get_slot(fact) is not None
        ]
        pending = tracker.get_slot("requested_slot")
        if pending not in required and pending not in skipped and answers_yes_no(tracker, pending):
            required.append(pending)  # the answer to the question just asked is read even past the cap
        fact = next_missing_fact(tracker)
        if fact and fact not in required:
            required.append(fact)
        return ["topic", *required] if earlier_topic else required

    @staticmethod
    def validate_topic(value: Any, dispatcher: Any, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        """The topic required_slots settled on (a follow-up keeps the conversation's topic)."""
        return {"topic": tracker.get_slot("topic")}

    def __getattr__(self, name: str) -> Any:
        field = name.removeprefix("extract_")
        if name.startswith("extract_") and bare_number_kind(field):
            return lambda dispatcher, tracker, domain: extract_bare_number(field, tracker)
        if name.startswith("extract_") and profile_fields().get(field, {}).get("type") == "bool":
            return lambda dispatcher, tracker, domain: extract_yes_no(field, dispatcher, tracker)
        return super().__getattr__(name)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = tracker.get_slot("requested_slot")
        language = conversation_language(tracker)
        kept_answer = skipped_in_words(tracker, pending) or keep_pending_answer(
            tracker, pending
        ) + named_numbers(tracker, pending)
        if kept_answer:
            tracker.add_slots(kept_answer)
        collector = CollectingDispatcher()
        events = await super().run(collector, tracker, domain)
        unusable = unusable_answer(tracker, pending, events, collector)
        if unusable:
            # a hint and a skip, never the same question again: the next question (or the answer) follows
            tracker.add_slots(unusable)
            collector = CollectingDispatcher()
            label = profile_fields()[pending].get("label", {}).get(language, pending)
            collector.utter_message(response="utter_answer_skipped", fact_label=label)
            events = [*unusable, *await super().run(collector, tracker, domain)]
        asked_back = pending in profile_fields() and any(
            m.get("response") == "utter_ask_back_yes_no" for m in collector.messages
        )
        if asked_back:
            # mixed signals: never guessed; the same question with its options follows the ask-back
            kept = [e for e in events if e.get("name") != "requested_slot"]
            events = [SlotSet(pending, None), *kept, SlotSet("requested_slot", pending)]
        events = [*kept_answer, *events]
        # facts volunteered out of turn are acknowledged before anything else is said (a re-ask, the
        # next question, or the answer once the engine no longer needs the pending fact)
        noted = volunteered_facts(events, pending, tracker)
        if noted:
            dispatcher.utter_message(
                response="utter_noted_facts", facts_text=noted_facts_text(noted, language)
            )
        dispatcher.messages.extend(collector.messages)
        asks = [e for e in events if e.get("name") == "requested_slot" and e.get("value")]
        if asks and not asked_back:
            events.append(SlotSet("questions_asked", (tracker.get_slot("questions_asked") or 0) + 1))
        if starts_a_question(tracker):
            # the kind of answer is decided by the question; the answers to the form's questions keep it
            events.append(SlotSet("answer_mode", answer_mode(tracker)))
        return events
