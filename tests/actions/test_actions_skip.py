"""'I don't know' skips the question asked, whatever the NLU made of it (seen live with the trained
model): "不知道" to a yes/no question is intent deny and was stored as a no, which then showed an ❌ for a
condition the person never answered; "不清楚，跳过吧" to the sector question was read as a greeting, which
the question's mapping ignores, and the same question came back verbatim."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidatePolicyForm
from tests.actions.helpers import QINGPU_MASTER, domain, make_tracker

PERSON = {"district": "青浦", "topic": "rent_subsidy", "answer_mode": "personal", "language": "zh"}


async def _form(slots: dict, **message: Any) -> list[dict]:
    return await ValidatePolicyForm().run(CollectingDispatcher(), make_tracker(slots, **message), domain())


def _last(events: list[dict], name: str) -> Any:
    values = [e["value"] for e in events if e.get("name") == name]
    return values[-1] if values else None


@pytest.mark.parametrize("text", ["不知道", "不清楚", "不确定，跳过", "not sure"])
async def test_dont_know_to_a_yes_no_question_is_a_skip_not_a_no(text: str) -> None:
    field = "employer_registered_in_district"
    slots = {**PERSON, "requested_slot": field}
    # what the deny intent's mapping sets before the form runs
    events = await _form(slots, text=text, intent="deny", trailing_slots={field: False})
    assert _last(events, field) is None
    assert field in (_last(events, "skipped_facts") or [])
    assert _last(events, "requested_slot") != field


async def test_a_plain_no_to_a_yes_no_question_is_still_a_no() -> None:
    field = "employer_registered_in_district"
    slots = {**PERSON, "requested_slot": field}
    events = await _form(slots, text="不是", intent="deny", trailing_slots={field: False})
    assert _last(events, field) is False
    assert field not in (_last(events, "skipped_facts") or [])


async def test_a_typed_skip_the_nlu_read_as_a_greeting_skips_a_choice_question() -> None:
    slots = {**QINGPU_MASTER, **PERSON, "requested_slot": "sector"}
    slots.pop("sector", None)
    events = await _form(slots, text="不清楚，跳过吧", intent="greet")
    assert "sector" in (_last(events, "skipped_facts") or [])
    assert _last(events, "requested_slot") != "sector"
