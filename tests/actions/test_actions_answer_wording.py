"""What answers say, on real Trackers (issue 15): the farmer's scheme first, 类 and English band labels, a fact
after an answer in a line, the estimate sentence only on personalised answers, Songjiang's schooling.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerPolicy
from actions.fallback import ActionClarify
from tests.actions.helpers import (
    QINGPU_MASTER,
    domain,
    make_tracker,
    rendered,
    responses,
    run_action,
    slot_event,
    user_event,
)

CJK = re.compile(r"[\u3400-\u9fff]")


# --- 2. the agricultural team leader ----------------------------------------------------------------

FARMER = {"district": "青浦", "sector": "农业", "agri_team_role": "带头人", "agri_team_class": "B"}
FARMER_ENTITIES = [{"entity": name, "value": value} for name, value in FARMER.items()]


def test_the_team_role_class_and_field_fill_their_slots_from_entities() -> None:
    for slot in ("agri_team_role", "agri_team_class", "sector"):
        mappings = domain()["slots"][slot]["mappings"]
        assert {"type": "from_entity", "entity": slot} in mappings
        assert slot in domain()["entities"]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我是青浦农业创业团队的带头人，团队评的是B类，买房有补贴吗"),
        (
            "en",
            "I'm the team leader of a class B team in agriculture in Qingpu. Is there a home purchase subsidy?",
        ),
    ],
)
async def test_the_farmers_answer_leads_with_the_agricultural_scheme(language: str, text: str) -> None:
    slots = {**FARMER, "topic": "purchase_subsidy", "language": language}
    events, dispatcher = await run_action(
        ActionAnswerPolicy(), slots, text=text, intent="ask_purchase_subsidy", entities=FARMER_ENTITIES
    )
    assert SlotSet("answer_mode", "personal") in events
    lead = dispatcher.messages[0]
    assert (
        lead["title"]
        == {
            "zh": "青浦农业创业团队带头人购房补贴",
            "en": "Qingpu home purchase subsidy for agricultural team leaders",
        }[language]
    )
    assert lead["tier_text"] == {"zh": "（B类）", "en": " (class B)"}[language]
    assert {"zh": "50万元", "en": "500,000"}[language] in lead["amount"]


# --- 4. and 5. the document's word for a tier; English band labels -----------------------------------


async def test_qingpu_classes_are_called_lei_as_the_document_calls_them() -> None:
    _, dispatcher = await run_action(
        ActionAnswerPolicy(),
        {"district": "青浦", "topic": "purchase_subsidy"},
        text="青浦购房补贴是多少",
        intent="ask_purchase_subsidy",
    )
    text = "\n".join(rendered(dispatcher))
    assert "· A类" in text and "档" not in text.split("政策依据")[0]


async def test_the_english_rule_answer_of_the_points_subsidy_has_english_band_labels() -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "language": "en"}
    _, dispatcher = await run_action(
        ActionAnswerPolicy(),
        slots,
        text="How much a month is the points-based rent subsidy in Qingpu?",
        intent="ask_rent_subsidy",
    )
    rule = dispatcher.messages[0]
    assert "band" in rule["tiers_text"] and not CJK.search(rule["tiers_text"])
    assert "first band 1,000 yuan a month (40% of those selected)" in rule["tiers_text"]


# --- 6. a fact after a personalised answer: one or two lines -------------------------------------------


async def _answered_then(profile: dict, text: str, intent: str, **message: Any) -> tuple[list, Any]:
    """A personalised rent-subsidy answer for `profile`, then the person's next message."""
    first = make_tracker({**profile, "topic": "rent_subsidy"}, text="我能拿多少", intent="ask_rent_subsidy")
    answer_events = await ActionAnswerPolicy().run(CollectingDispatcher(), first, domain())
    state = {e["name"]: e["value"] for e in answer_events if e.get("event") == "slot"}
    history = [
        *(slot_event(name, value) for name, value in {**profile, "topic": "rent_subsidy"}.items()),
        *first.events,
        {"event": "action", "name": "action_answer_policy"},
        *answer_events,
        {"event": "action", "name": "action_listen"},
    ]
    slots = {**profile, "topic": "rent_subsidy", **state}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(slots, text=text, intent=intent, events=history, **message)
    return await ActionAnswerPolicy().run(dispatcher, tracker, domain()), dispatcher


@pytest.mark.parametrize(("language", "text"), [("zh", "27岁"), ("en", "I'm 27 years old")])
async def test_a_fact_that_changes_nothing_is_said_in_one_line(language: str, text: str) -> None:
    profile = {**QINGPU_MASTER, "overseas_returnee": True, "language": language}
    events, dispatcher = await _answered_then(
        profile, text, "inform", entities=[{"entity": "age", "value": 27}], trailing_slots={"age": 27}
    )
    assert responses(dispatcher) == ["utter_fact_changes_nothing"]
    line = rendered(dispatcher, language)[0].split("\n")[0]  # then the "more" button
    assert (
        line
        == {
            "zh": "已记下：年龄：27。这不改变上面的结果（青浦高层次人才租房补贴：（D类）最高每月4000元）。",
            "en": "Noted: age: 27. This does not change the answer above "
            "(Qingpu high-level talent rent subsidy: (class D) up to 4,000 yuan a month).",
        }[language]
    )
    assert SlotSet("answer_mode", "personal") in events


async def test_a_fact_that_changes_the_answer_says_what_changed() -> None:
    profile = {**QINGPU_MASTER, "language": "zh"}
    intermediate = [{"entity": "title", "value": "中级"}]
    _, dispatcher = await _answered_then(
        profile, "不对，我是中级职称", "inform", entities=intermediate, trailing_slots={"title": "中级"}
    )
    assert responses(dispatcher) == ["utter_fact_changed"]
    line = rendered(dispatcher)[0].split("\n")[0]
    # the high-level subsidy's class D needs 副高: what is open now leads, in one line
    assert line.startswith("已记下：职称：中级。结果有变化——青浦人才积分租房补贴：还需确认")


@pytest.mark.parametrize(
    ("language", "text", "intent"), [("zh", "没有房", "deny"), ("en", "I don't own a home", "inform")]
)
async def test_a_fact_in_everyday_words_after_an_answer_is_taken(
    language: str, text: str, intent: str
) -> None:
    profile = {**QINGPU_MASTER, "owns_home_in_district": None, "language": language}
    events, dispatcher = await _answered_then(profile, text, intent)
    assert SlotSet("owns_home_in_district", False) in events
    assert responses(dispatcher)[0] in ("utter_fact_changed", "utter_fact_changes_nothing")
    assert "utter_what_do_you_mean" not in responses(dispatcher)


async def test_an_everyday_fact_the_nlu_was_unsure_of_is_still_taken() -> None:
    slots = {**QINGPU_MASTER, "owns_home_in_district": None, "topic": "rent_subsidy"}
    events, _ = await run_action(ActionClarify(), slots, text="没有房", intent="nlu_fallback")
    assert events == [SlotSet("owns_home_in_district", False), FollowupAction("action_answer_policy")]


# --- 7. the estimate sentence only on personalised answers ------------------------------------------


async def test_a_rule_answer_cites_the_document_and_carries_no_estimate_sentence() -> None:
    _, dispatcher = await run_action(
        ActionAnswerPolicy(),
        {"district": "青浦", "topic": "rent_subsidy"},
        text="青浦租房补贴是多少",
        intent="ask_rent_subsidy",
    )
    assert "utter_estimate_disclaimer" not in responses(dispatcher)
    assert "青委〔2020〕88号" in dispatcher.messages[0]["citation"]


async def test_a_scheme_stated_as_the_document_states_it_carries_no_estimate_sentence() -> None:
    # "我能享受吗" about Yangpu schooling with nothing told: a referral, not an estimate from facts
    slots = {"district": "杨浦", "topic": "children_school"}
    _, dispatcher = await run_action(
        ActionAnswerPolicy(), slots, text="我能享受吗", intent="ask_children_school"
    )
    assert "utter_estimate_disclaimer" not in responses(dispatcher)


async def test_a_personalised_answer_carries_the_estimate_sentence() -> None:
    _, dispatcher = await run_action(
        ActionAnswerPolicy(),
        {**QINGPU_MASTER, "topic": "rent_subsidy"},
        text="我能拿多少",
        intent="ask_rent_subsidy",
    )
    assert responses(dispatcher)[-1] == "utter_estimate_disclaimer"


# --- 8. Songjiang schooling ----------------------------------------------------------------------------


async def test_songjiang_schooling_is_answered_from_its_one_provision_with_the_citation() -> None:
    _, dispatcher = await run_action(
        ActionAnswerPolicy(),
        {"district": "松江", "topic": "children_school"},
        text="松江孩子上学有什么政策",
        intent="ask_children_school",
    )
    text = rendered(dispatcher)[0]
    assert text.startswith("松江引进卫生健康骨干人才子女入学便利")
    assert "沪松人〔2022〕27号" in text and "三（五）9" in text
    assert "没有作出规定" in text  # and it says plainly that nothing is stated for anyone else


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_songjiang_schooling_for_someone_it_does_not_cover_says_so_and_offers_an_officer(
    language: str,
) -> None:
    slots = {
        "district": "松江",
        "topic": "children_school",
        "sector": "产业",
        "title": "中级",
        "language": language,
    }
    _, dispatcher = await run_action(
        ActionAnswerPolicy(),
        slots,
        text="我在松江做工程师，孩子上学能照顾吗",
        intent="ask_children_school",
        entities=[{"entity": "title", "value": "中级"}],
    )
    assert responses(dispatcher) == ["utter_lead_ineligible", "utter_nothing_for_your_case"]
    assert {
        "title": {"zh": "请工作人员审核我的情况", "en": "Ask an officer to decide my case"}[language],
        "payload": "/request_human",
    } in dispatcher.messages[-1]["buttons"]


def test_a_question_asked_since_the_answer_gets_its_whole_answer_not_an_update() -> None:
    from actions.update import updates_last_answer

    answered = [
        user_event("青浦的积分租房补贴我能申请吗", "ask_rent_subsidy"),
        {"event": "action", "name": "action_answer_policy"},
        slot_event("answer_mode", "personal"),
        slot_event("topic", "rent_subsidy"),
        slot_event("district", "青浦"),
    ]
    slots = {"topic": "rent_subsidy", "district": "青浦", "answer_mode": "personal", "last_result": [{}]}
    # a fact after the answer: one line about what changed
    assert updates_last_answer(make_tracker(slots, text="没有房", events=answered), "personal")
    # a new question since (its form then asked the points): the whole answer
    asked = [*answered, user_event("积分租房补贴我能拿多少", "ask_rent_subsidy")]
    assert not updates_last_answer(make_tracker(slots, text="130分", events=asked), "personal")
