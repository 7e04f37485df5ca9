"""Reading a number that answers a profile question: by its unit among several numbers of the message
("我38岁…5年…500万" -> age 38), and a bare "35" only as the answer to the question asked about it; a
reply to a pending question fills another numeric fact only when it names that fact ("300万" to the
paid-in capital question is no salary)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.config import profile_fields
from actions.pending import previous_value
from actions.understanding import names_fact, number_for, understanding


def parse_number(value: Any) -> float | None:
    """A number given as a value or inside a text ("三年", "两百万"), read by nlu.numbers."""
    from nlu import numbers

    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    number = numbers.first_number(str(value))
    return float(number) if number is not None else None


def bare_number_kind(field: str) -> str | None:
    """number | salary when a bare "35" typed as the answer is read by the form (the NLU tags a number
    only with a cue word: "35岁", "年薪120万"); None otherwise."""
    return profile_fields().get(field, {}).get("bare_number")


def number_answer(field: str, value: Any, tracker: Tracker) -> float | int | None:
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
        number = by_unit if by_unit is not None else parse_number(value)
    return float(number) if number is not None else None


def stray_number(field: str, value: Any, tracker: Tracker) -> bool:
    """A number the NLU gave `field` from a reply to another question, without naming `field` in its own
    words: "300万" to the paid-in capital question is no salary. A fact re-validated with the value it
    already had is not stray (the form re-validates what it knows when it starts)."""
    pending = tracker.get_slot("requested_slot")
    if pending not in profile_fields() or pending == field or value == previous_value(tracker, field):
        return False
    return not names_fact(field, (tracker.latest_message or {}).get("text"))


def bare_number_answer(tracker: Tracker, field: str) -> float | int | None:
    """The number of a message that is only a number ("35", "一百二十"), read as `field` would be."""
    from nlu import numbers

    text = str((tracker.latest_message or {}).get("text") or "").strip()
    if not numbers.is_bare_number(text):
        return None
    return numbers.parse_salary(text) if bare_number_kind(field) == "salary" else numbers.parse_number(text)


def extract_bare_number(field: str, tracker: Tracker) -> dict[str, Any]:
    """extract_age & co.: a bare number answering the question about this very fact."""
    if tracker.get_slot("requested_slot") != field or tracker.get_slot(field) is not None:
        return {}
    number = bare_number_answer(tracker, field)
    return {} if number is None else {field: number}
