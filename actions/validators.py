"""validate_<field> for every profile field: the canonical value of one answer, or None with a polite
re-ask. The same validators run inside the policy form (actions/forms.py) and outside it
(`action_validate_slot_mappings`), so "不对，我是博士" or "我35岁" is checked wherever it is said."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions.config import profile_fields, settings
from actions.numeric_answer import number_answer, stray_number
from actions.pending import previous_value
from actions.profile import normalise_field
from actions.yes_no_answer import yes_no_answer

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
    return text in settings()["form"]["skip_answers"] or says_skip(text)


def says_skip(text: Any) -> bool:
    """A skip phrase anywhere in the message ("不知道", "不清楚，跳过吧", "not sure"): unlike the bare
    skip answers (没有, 不是, no), never a real answer to a yes/no question."""
    folded = str(text or "").strip().lower()
    return any(phrase in folded for phrase in settings()["form"]["skip_phrases"])


def skipped_in_words(tracker: Tracker, pending: str | None) -> list[EventType]:
    """The question asked, skipped in words, whatever the NLU made of the message: "不知道" is intent
    deny (a yes/no question's mapping stored it as a no, and the answer showed an ❌ for a condition
    never answered) and "不清楚，跳过吧" was read as a greeting, which a question's text mapping ignores
    (the same question came back). Set before the form runs, so it asks the next question."""
    if pending in (None, "district") or pending not in profile_fields():
        return []
    if not says_skip((tracker.latest_message or {}).get("text")):
        return []
    return [SlotSet(pending, None), SlotSet("skipped_facts", skipped_with(tracker, pending))]


def skipped_with(tracker: Tracker, field: str) -> list[str]:
    """The conversation's skipped facts with `field` added: not asked again; the answer says it is open."""
    return list(dict.fromkeys([*(tracker.get_slot("skipped_facts") or []), field]))


def accepts_none(spec: dict[str, Any]) -> bool:
    """Fields where "none" is a real answer (honours: 无), so "没有" is not a skip."""
    return "无" in spec["values"]


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
            return {field: None, "skipped_facts": skipped_with(tracker, field)}  # "不知道"/"跳过"
        try:
            if field == "honors":
                return {field: self._merge_honors(value, tracker)}
            if kind in ("int", "number"):
                if stray_number(field, value, tracker):
                    return {field: previous_value(tracker, field)}  # the reply answers the question asked
                number = number_answer(field, value, tracker)
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
                value = yes_no_answer(field, value)
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
    def _merge_honors(value: Any, tracker: Tracker) -> list[str] | None:
        """Honours accumulate across messages (one per message is common). "None of these" (无) stays
        only when nothing real is known; policies/ drops it beside a real honour."""
        earlier = _flatten(previous_value(tracker, "honors"))
        merged = list(dict.fromkeys(earlier + _flatten(value)))
        return normalise_field("honors", merged) or None


class ValidateSlotMappings(ProfileValidators, ValidationAction):
    """Validates profile facts extracted outside the form (corrections, volunteered facts)."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    def domain_slots(self, domain: DomainDict) -> list[str]:
        # rasa_sdk leaves out slots with a form-conditioned mapping (yes/no answers); a correction
        # like "不对，我是全日制" outside the form must be validated all the same
        return list(profile_fields())
