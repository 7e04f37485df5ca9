"""Replies that fit a phone, on real Trackers (issue 15): more on request, follow-ups, one WeChat passive reply."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionPlainYes, ActionShowMore
from actions.compose import GENERIC_LEAD, LEAD_RESPONSE, Citations, choose, lead_variables
from policies import TOPICS, evaluate, normalise_profile
from tests.actions.helpers import (
    QINGPU_MASTER,
    answer_turn,
    domain,
    make_tracker,
    rendered,
    reply_bytes,
    responses,
)

ROOT = Path(__file__).resolve().parents[2]
WECHAT_PASSIVE_REPLY_BYTES = 2048


# --- 4. short replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "text"), [("zh", "更多"), ("en", "more")])
async def test_more_reveals_the_rest(language: str, text: str) -> None:
    events, dispatcher = await answer_turn(
        {**QINGPU_MASTER, "topic": "rent_subsidy", "language": language},
        text="我能拿多少",
        intent="ask_rent_subsidy",
    )
    hidden = next(e["value"] for e in events if e.get("name") == "more_results")
    assert hidden and dispatcher.messages[-1]["buttons"][-1]["payload"] == "/ask_more"
    shown = " ".join(rendered(dispatcher, language))
    assert "农业" not in shown and "agricultur" not in shown.lower()  # never hinted at: behind "more"
    typed = make_tracker(
        {**QINGPU_MASTER, "more_results": hidden, "language": language}, text=text, intent="affirm"
    )
    assert await ActionPlainYes().run(CollectingDispatcher(), typed, domain()) == [
        FollowupAction("action_show_more")
    ]
    more = CollectingDispatcher()
    tracker = make_tracker(
        {**QINGPU_MASTER, "topic": "rent_subsidy", "more_results": hidden, "language": language},
        text=text,
        intent="ask_more",
    )
    events = await ActionShowMore().run(more, tracker, domain())
    assert responses(more) == ["utter_more_items"]
    assert len(more.messages[0]["items_text"].split("\n")) == len(hidden)
    assert SlotSet("more_results", None) in events


async def test_a_follow_up_is_answered_not_the_whole_answer_again() -> None:
    first_events, _ = await answer_turn(
        {**QINGPU_MASTER, "topic": "rent_subsidy"}, text="我能拿多少", intent="ask_rent_subsidy"
    )
    state = {e["name"]: e["value"] for e in first_events if e.get("event") == "slot"}
    _, again = await answer_turn(
        {**QINGPU_MASTER, "topic": "rent_subsidy", **state},
        text="是要先买房再申请吗？",
        intent="ask_rent_subsidy",
    )
    assert responses(again) == ["utter_follow_up"]


def test_a_status_the_dialogue_does_not_know_is_rendered_generically() -> None:
    base = evaluate(QINGPU_MASTER, topic="rent_subsidy")["results"][0]
    for status, response in (
        ("review", "utter_lead_review"),
        ("can_register", "utter_lead_can_register"),
        ("new_kind", GENERIC_LEAD),
    ):
        lead, _, _ = choose([{**base, "status": status}], None)
        assert LEAD_RESPONSE.get(status, GENERIC_LEAD) == response
        variables = lead_variables(lead, "zh", Citations("zh"))
        assert variables["citation"] and variables["title"]


def _cases() -> list[dict]:
    profiles = []
    for path in sorted((ROOT / "tests" / "policies" / "cases").glob("*.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            profile = normalise_profile(case.get("profile") or {})
            if profile.get("district"):
                profiles.append(profile)
    return profiles


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_every_reply_fits_one_wechat_passive_reply(language: str) -> None:
    """Every policy case × topic, as a rule question and as a personal one: each turn ≤ 2048 bytes."""
    largest = 0
    for profile in _cases():
        for topic in TOPICS:
            for text, mode in (("是多少", "rule"), ("我能拿多少", "personal")):
                slots = {**profile, "topic": topic, "language": language, "answer_mode": mode}
                _, dispatcher = await answer_turn(slots, text=text, intent=f"ask_{topic}")
                size = reply_bytes(dispatcher, language)
                largest = max(largest, size)
                assert size <= WECHAT_PASSIVE_REPLY_BYTES, (
                    topic,
                    mode,
                    profile,
                    rendered(dispatcher, language),
                )
    assert largest > 500  # the check saw real answers


async def test_a_rule_question_naming_one_scheme_is_answered_with_that_scheme() -> None:
    """ "青浦积分租房补贴是多少钱一个月": the points subsidy's bands first, not the largest rent subsidy."""
    _, dispatcher = await answer_turn(
        {"district": "青浦", "topic": "rent_subsidy"},
        text="青浦积分租房补贴是多少钱一个月",
        intent="ask_rent_subsidy",
    )
    first = dispatcher.messages[0]
    assert first["response"] == "utter_rule_answer" and "积分" in first["title"]
    # the three bands and their shares (附件4第二条（二）): a ranking, no promised payment
    assert all(f"{amount}元" in first["tiers_text"] for amount in (1000, 1500, 2000))
    assert "40%" in first["tiers_text"]
    _, plain = await answer_turn(
        {"district": "青浦", "topic": "rent_subsidy"}, text="青浦租房补贴是多少", intent="ask_rent_subsidy"
    )
    assert "高层次" in plain.messages[0]["title"]
