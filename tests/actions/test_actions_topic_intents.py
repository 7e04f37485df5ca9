"""Which intents ask a (new) policy question is derived from policies/topics.yml (actions/mode.py), never
listed by hand: the domain's topic intents and the topics must stay the same set."""

from __future__ import annotations

import pytest

from actions.fallback import likely_reading
from actions.mode import OVERVIEW_INTENT, is_question_intent, topic_of_intent
from policies.topics import overview_ids, topic_ids
from tests.actions.helpers import domain


def _topic_slot_intents() -> dict[str, str]:
    """The domain's own statement of which intent sets which topic (the `topic` slot's mappings)."""
    mappings = domain()["slots"]["topic"]["mappings"]
    return {m["intent"]: m["value"] for m in mappings if m.get("type") == "from_intent"}


def test_the_domains_topic_intents_are_exactly_the_topics_of_topics_yml() -> None:
    expected = {f"ask_{topic}": topic for topic in (*topic_ids(), *overview_ids())}
    assert _topic_slot_intents() == expected
    assert set(expected) <= set(domain()["intents"])


def test_every_ask_intent_of_the_domain_is_either_a_question_or_about_the_last_answer() -> None:
    asks = {i for i in domain()["intents"] if isinstance(i, str) and i.startswith("ask_")}
    questions = {i for i in asks if is_question_intent(i)}
    assert questions == set(_topic_slot_intents())
    # what remains asks about the last answer (how to apply, its basis, the rest of it)
    assert asks - questions == {"ask_application_process", "ask_policy_basis", "ask_more"}


@pytest.mark.parametrize("intent", ["ask_application_process", "ask_policy_basis", "ask_more"])
def test_intents_about_the_last_answer_name_no_topic_and_ask_no_new_question(intent: str) -> None:
    assert topic_of_intent(intent) is None and not is_question_intent(intent)


def test_topic_intents_name_their_topic_and_the_overview_is_a_question_without_one() -> None:
    assert topic_of_intent("ask_rent_subsidy") == "rent_subsidy"
    assert topic_of_intent(OVERVIEW_INTENT) is None and is_question_intent(OVERVIEW_INTENT)
    assert is_question_intent("check_my_case") and not is_question_intent("greet")


def test_did_you_mean_offers_no_topic_for_more_of_the_last_answer() -> None:
    class Unclear:
        latest_message = {
            "text": "再来点",
            "entities": [],
            "intent_ranking": [{"name": "ask_more", "confidence": 0.9}, {"name": "greet", "confidence": 0.1}],
        }

    assert likely_reading(Unclear()) is None


def test_a_fact_after_more_of_the_answer_updates_that_answer() -> None:
    """ "更多" (ask_more) asks for the rest of the last answer, not a new question: a fact the person adds
    afterwards updates that answer ("what changed") instead of repeating it whole (the hand list in
    actions/mode.py had missed ask_more, so it counted as a new question)."""
    from actions.update import asked_since, last_answer_index
    from tests.actions.helpers import make_tracker, user_event

    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "青浦", "answer_mode": "personal"},
        text="我今年28岁",
        intent="inform",
        events=[
            user_event("我能拿多少青浦租房补贴", "ask_rent_subsidy"),
            {"event": "action", "name": "action_answer_policy"},
            user_event("更多", "ask_more"),
            {"event": "action", "name": "action_show_more"},
        ],
    )
    assert not asked_since(tracker, last_answer_index(tracker))
