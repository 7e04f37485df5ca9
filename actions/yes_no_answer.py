"""Reading the answer to a yes/no profile question from its words ("单身" -> no to the spouse question;
"入职以后就是了" -> not yet); mixed signals are asked back, never guessed."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.profile import normalise_field
from actions.understanding import UNSURE, without_other_facts, yes_no_meaning


def yes_no_answer(field: str, value: str) -> bool | None:
    """A yes/no fact from a word: the vocabulary's aliases ("非全日制"), else what the words mean."""
    from policies import ProfileError

    try:
        return bool(normalise_field(field, value))
    except ProfileError:
        meaning = yes_no_meaning(value, field)
        return meaning if isinstance(meaning, bool) else None


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
