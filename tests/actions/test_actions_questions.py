"""Which questions the policy form asks a person, turn by turn on real Trackers (policies/questions.py
chooses; actions/forms.py asks within the cap)."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ValidatePolicyForm
from tests.actions.helpers import domain, make_tracker

FARMER_MESSAGE = "我是青浦农业创业团队的带头人，团队评的是B类，买房有补贴吗"
# as the vocabulary extractor reads the message (tests/nlu)
FARMER_ENTITIES = [
    {"entity": "district", "value": "青浦", "start": 2, "end": 4},
    {"entity": "sector", "value": "农业", "start": 4, "end": 6},
    {"entity": "agri_team_role", "value": "带头人", "start": 11, "end": 14},
    {"entity": "agri_team_class", "value": "B", "start": 15, "end": 22},
]
# how the team leader answers each question: (text, intent, the slot candidate Rasa's mapping gives)
FARMER_ANSWERS = {
    "paid_in_capital_wan": ("300万", "inform", "300万"),
    "legal_rep_and_largest_shareholder": ("是的", "affirm", True),
    "founders_shareholding_percent": ("60%", "inform", "60%"),
    "employer_registered_in_district": ("是", "affirm", True),
    "tax_and_social_insurance_in_district": ("是", "affirm", True),
    "senior_post_years": ("5年", "inform", "5年"),
    "education": ("硕士", "inform", "硕士"),
    "full_time": ("是", "affirm", True),
    "age": ("45", "inform", 45),
}


async def _form_turn(slots: dict, text: str, intent: str, candidates: dict, **kwargs) -> list[dict]:
    tracker = make_tracker(slots, text=text, intent=intent, trailing_slots=candidates, **kwargs)
    return await ValidatePolicyForm().run(CollectingDispatcher(), tracker, domain())


def _apply(slots: dict, events: list[dict]) -> dict:
    for event in events:
        if event.get("event") == "slot":
            slots[event["name"]] = event["value"]
    return slots


async def test_the_farmer_is_asked_the_scheme_s_own_facts_before_the_cap() -> None:
    """The agricultural team leader asking about the purchase subsidy: paid-in capital, legal
    representative and largest shareholder, the team's shareholding come first, all within the cap;
    the sector and the key-industry list are never asked."""
    first = {"district": "青浦", "sector": "农业", "agri_team_role": "带头人", "agri_team_class": "B"}
    slots = _apply(
        {"topic": "purchase_subsidy"},
        await _form_turn(
            {"topic": "purchase_subsidy"},
            FARMER_MESSAGE,
            "ask_purchase_subsidy",
            {"topic": "purchase_subsidy", **first},
            entities=FARMER_ENTITIES,
        ),
    )
    asked = []
    while slots.get("requested_slot"):
        fact = slots["requested_slot"]
        asked.append(fact)
        text, intent, value = FARMER_ANSWERS[fact]
        slots = _apply(slots, await _form_turn(slots, text, intent, {fact: value}))
    assert asked[:3] == [
        "paid_in_capital_wan",
        "legal_rep_and_largest_shareholder",
        "founders_shareholding_percent",
    ]
    assert len(asked) == 4  # the cap (actions/config.yml max_questions_per_topic)
    assert slots["paid_in_capital_wan"] == 300
    assert slots["founders_shareholding_percent"] == 60
    assert not {"sector", "key_industry"} & set(asked)
