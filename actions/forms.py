"""The dynamic policy form and the validation of every profile answer.

`validate_policy_form` asks policies/ which facts are still missing for the current topic and requests
only the next, most decisive one. The same validators also run outside the form
(`action_validate_slot_mappings`), so "不对，我是博士" or "我35岁" is checked wherever it is said.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction, ValidationAction
from rasa_sdk.types import DomainDict

from actions.config import profile_fields, settings
from actions.mode import RULE_MODE, answer_mode, follows_up_on_topic, starts_a_question
from actions.pending import (
    answers_yes_no,
    keep_pending_answer,
    named_numbers,
    previous_value,
    unusable_answer,
)
from actions.profile import conversation_language, normalise_field, profile_from_tracker
from actions.render import noted_facts_text
from actions.results import OVERVIEW_TOPIC
from actions.understanding import UNSURE, number_for, understanding, without_other_facts, yes_no_meaning

logger = logging.getLogger(__name__)

Validator = Callable[[Any, CollectingDispatcher, Tracker, DomainDict], dict[str, Any]]


def _flatten(values: Any) -> list[Any]:
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        return [values]
    flat: list[Any] = []
    for value in values:
        flat.extend(_flatten(value))
    return flat


def _parse_number(value: Any) -> float | None:
    """A number given as a value or inside a text ("三年", "两百万"), read by nlu.numbers."""
    from nlu import numbers

    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    number = numbers.first_number(str(value))
    return float(number) if number is not None else None


def _enum_from_text(value: Any, allowed: list[str]) -> Any:
    """A canonical value named inside a free-text answer ("我在教育系统" -> 教育); else the text itself."""
    text = str(value).strip()
    if text in allowed:
        return text
    found = [option for option in allowed if option and option in text]
    return max(found, key=len) if len(found) >= 1 else text


def is_skip_answer(value: Any) -> bool:
    """ "不知道", "跳过", "skip" ... (actions/config.yml), or the deny quick reply of a question; also
    a sentence that contains a skip phrase ("不清楚，跳过吧")."""
    text = str(value).strip().lower()
    form = settings()["form"]
    return text in form["skip_answers"] or any(phrase in text for phrase in form["skip_phrases"])


def accepts_none(spec: dict[str, Any]) -> bool:
    """Fields where "none" is a real answer (honours: 无), so "没有" is not a skip."""
    return "无" in spec["values"]


def bare_number_kind(field: str) -> str | None:
    """number | salary when a bare "35" typed as the answer is read by the form (the NLU tags a number
    only with a cue word: "35岁", "年薪120万"); None otherwise."""
    return profile_fields().get(field, {}).get("bare_number")


class ProfileValidators:
    """validate_<field> for every field of policies/profile.yml, resolved on demand."""

    def __getattr__(self, name: str) -> Validator:
        field = name.removeprefix("validate_")
        if name.startswith("validate_") and field in profile_fields():
            return lambda value, dispatcher, tracker, domain: self.validate_profile_field(
                field, value, dispatcher, tracker
            )
        raise AttributeError(name)

    def validate_profile_field(
        self, field: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Canonical value of one answer, or None plus a polite re-ask reason."""
        from policies import ProfileError

        if value is None:
            return {field: None}
        spec = profile_fields()[field]
        kind = spec.get("type")
        if field != "district" and kind != "bool" and is_skip_answer(value) and not accepts_none(spec):
            # "不知道"/"跳过": not asked again in this conversation; the answer says what is still open
            skipped = list(dict.fromkeys([*(tracker.get_slot("skipped_facts") or []), field]))
            return {field: None, "skipped_facts": skipped}
        try:
            if field == "honors":
                return {field: self._merge_honors(value, tracker)}
            if kind in ("int", "number"):
                number = self._number_answer(field, value, tracker)
                if number is None:
                    return {field: None}  # not a number for this fact: the form gives a hint and a skip
                if field == "age":
                    low, high = settings()["form"]["age_range"]
                    if not low <= number <= high:
                        if tracker.get_slot("requested_slot") == field:
                            dispatcher.utter_message(response="utter_invalid_age")
                        return {field: None}
                value = int(number) if kind == "int" or float(number).is_integer() else number
            elif kind == "bool" and isinstance(value, str):
                value = self._yes_no_answer(field, value)
                if value is None:
                    return {field: None}
            elif kind == "enum" and field != "district":
                value = _enum_from_text(value, spec["values"])
            return {field: normalise_field(field, value)}
        except ProfileError as error:
            logger.info("rejected %s=%r: %s", field, value, error)
            if spec["answer"] == "text" and tracker.latest_message.get("entities"):
                # the message was about something else ("那长宁呢？" while asked for a sector): no scolding
                return {field: None}
            if field == "district":
                dispatcher.utter_message(response="utter_invalid_district")
            elif kind in ("int", "number"):
                dispatcher.utter_message(response="utter_invalid_number")
            else:
                dispatcher.utter_message(response="utter_invalid_choice")
            return {field: None}

    @staticmethod
    def _yes_no_answer(field: str, value: str) -> bool | None:
        """A yes/no fact from a word: the vocabulary's aliases ("非全日制"), else what the words mean."""
        from policies import ProfileError

        try:
            return bool(normalise_field(field, value))
        except ProfileError:
            meaning = yes_no_meaning(value, field)
            return meaning if isinstance(meaning, bool) else None

    @staticmethod
    def _number_answer(field: str, value: Any, tracker: Tracker) -> float | int | None:
        """The number that answers `field`: by its unit among several numbers of the message; points of
        one kind never fill the other kind; a unit-less number only for the question asked."""
        asked = tracker.get_slot("requested_slot") == field
        text = str((tracker.latest_message or {}).get("text") or "")
        if isinstance(value, bool):
            return None
        from_message = isinstance(value, str) and value.strip() == text.strip()
        several = isinstance(value, list | tuple)  # the NLU tagged several numbers with this fact
        if field in understanding()["numbers"]["named"] or from_message or several:
            number = number_for(field, text, asked)
        else:
            # the NLU keeps the last of several tagged numbers ("我38岁…5年…500万" -> age 500): the
            # number written in this fact's unit wins
            by_unit = number_for(field, text, asked)
            number = by_unit if by_unit is not None else _parse_number(value)
        return float(number) if number is not None else None

    @staticmethod
    def _merge_honors(value: Any, tracker: Tracker) -> list[str] | None:
        """Honours accumulate across messages (one per message is common). "None of these" (无) stays
        only when nothing real is known; policies/ drops it beside a real honour."""
        earlier = _flatten(previous_value(tracker, "honors"))
        merged = list(dict.fromkeys(earlier + _flatten(value)))
        return normalise_field("honors", merged) or None


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


def bare_number_answer(tracker: Tracker, field: str) -> float | int | None:
    """The number of a message that is only a number ("35", "一百二十"), read as `field` would be."""
    from nlu import numbers

    text = str((tracker.latest_message or {}).get("text") or "").strip()
    if not numbers.is_bare_number(text):
        return None
    return numbers.parse_salary(text) if bare_number_kind(field) == "salary" else numbers.parse_number(text)


def volunteered_facts(events: list[EventType], pending: str | None) -> list[tuple[str, Any]]:
    """Facts recorded from a message that answered something other than the pending question."""
    recorded = [
        (event["name"], event["value"])
        for event in events
        if event.get("event") == "slot"
        and event.get("name") in profile_fields()
        and event.get("value") not in (None, "skip", [])
    ]
    if not pending or all(name == pending for name, _ in recorded):
        return []
    return list(dict(recorded).items())


def facts_answered_now(tracker: Tracker) -> list[str]:
    """Profile facts given in the latest message (the slot candidates at the end of the events)."""
    return [name for name in tracker.slots_to_validate() if name in profile_fields()]


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
            return lambda dispatcher, tracker, domain: self.extract_bare_number(field, tracker)
        if name.startswith("extract_") and profile_fields().get(field, {}).get("type") == "bool":
            return lambda dispatcher, tracker, domain: self.extract_yes_no(field, dispatcher, tracker)
        return super().__getattr__(name)

    @staticmethod
    def extract_yes_no(field: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
        """The answer to the yes/no question asked, read from the words ("单身" -> no to the spouse
        question), which win over the intent's yes/no when they say something; mixed signals ("是也不是")
        are asked back, never guessed."""
        if tracker.get_slot("requested_slot") != field:
            return {}
        message = tracker.latest_message or {}
        text = without_other_facts(message.get("text") or "", message.get("entities") or [], field)
        meaning = yes_no_meaning(text, field)
        if meaning is None and text != (message.get("text") or ""):
            return {field: None}  # "不是上海户口": the no was about the hukou (undo a deny-intent mapping)
        if meaning == UNSURE:
            dispatcher.utter_message(response="utter_ask_back_yes_no")
            return {field: None}
        return {field: meaning} if isinstance(meaning, bool) else {}

    @staticmethod
    def extract_bare_number(field: str, tracker: Tracker) -> dict[str, Any]:
        """extract_age & co.: a bare number answering the question about this very fact."""
        if tracker.get_slot("requested_slot") != field or tracker.get_slot(field) is not None:
            return {}
        number = bare_number_answer(tracker, field)
        return {} if number is None else {field: number}

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = tracker.get_slot("requested_slot")
        language = conversation_language(tracker)
        kept_answer = keep_pending_answer(tracker, pending) + named_numbers(tracker, pending)
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
        noted = volunteered_facts(events, pending)
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


class ValidateSlotMappings(ProfileValidators, ValidationAction):
    """Validates profile facts extracted outside the form (corrections, volunteered facts)."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    def domain_slots(self, domain: DomainDict) -> list[str]:
        # rasa_sdk leaves out slots with a form-conditioned mapping (yes/no answers); a correction
        # like "不对，我是全日制" outside the form must be validated all the same
        return list(profile_fields())
