"""Filler trained as `unclear` leaves the pipeline as nlu_fallback; every other intent is untouched."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from nlu.unclear_intent import UnclearAsFallback, as_fallback


def _message(name: str, confidence: float, *others: tuple[str, float]) -> Message:
    ranking = [{"name": name, "confidence": confidence}] + [{"name": n, "confidence": c} for n, c in others]
    return Message(data={"text": "随便", "intent": dict(ranking[0]), "intent_ranking": ranking})


def test_unclear_becomes_the_fallback_with_its_confidence_and_leads_the_ranking() -> None:
    message = _message("unclear", 0.83, ("ask_rent_subsidy", 0.1), ("complain", 0.07))
    [processed] = UnclearAsFallback().process([message])
    assert processed.get("intent") == {"name": "nlu_fallback", "confidence": 0.83}
    names = [r["name"] for r in processed.get("intent_ranking")]
    # the real intents after it stay in order: the clarifying buttons are built from them
    assert names == ["nlu_fallback", "unclear", "ask_rent_subsidy", "complain"]


def test_a_real_intent_and_a_fallback_below_the_threshold_are_left_alone() -> None:
    for name in ("ask_rent_subsidy", "nlu_fallback"):
        message = _message(name, 0.9, ("unclear", 0.05))
        before = (dict(message.get("intent")), list(message.get("intent_ranking")))
        UnclearAsFallback().process([message])
        assert (message.get("intent"), message.get("intent_ranking")) == before


def test_unclear_lower_in_the_ranking_changes_nothing() -> None:
    parse = {"intent": {"name": "affirm", "confidence": 0.7}, "intent_ranking": [{"name": "unclear"}]}
    assert as_fallback(parse) is parse
