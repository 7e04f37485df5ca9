"""Issue 15 on real Trackers: information first, only the questions that matter, answers read as people
type them, replies that fit a phone. Each behaviour in Chinese and English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerPolicy, ActionPlainYes, ActionShowMore
from actions.compose import GENERIC_LEAD, LEAD_RESPONSE, Citations, choose, lead_variables
from actions.forms import ValidatePolicyForm
from policies import TOPICS, evaluate, normalise_profile
from tests.actions.helpers import QINGPU_MASTER, domain, make_tracker, rendered, reply_bytes, responses

ROOT = Path(__file__).resolve().parents[2]
WECHAT_PASSIVE_REPLY_BYTES = 2048


async def _form(slots: dict, **message: Any) -> tuple[list[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ValidatePolicyForm().run(dispatcher, make_tracker(slots, **message), domain())
    return events, dispatcher


async def _answer(slots: dict, **message: Any) -> tuple[list[dict], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerPolicy().run(dispatcher, make_tracker(slots, **message), domain())
    return events, dispatcher


def _requested(events: list[dict]) -> Any:
    asks = [e["value"] for e in events if e.get("name") == "requested_slot"]
    return asks[-1] if asks else None


# --- 1. a question about the rule is answered at once ----------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [("zh", "青浦租房补贴是多少"), ("en", "How much is the rent subsidy in Qingpu?")],
)
async def test_a_rule_question_is_answered_without_personal_questions(language: str, text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "language": language}
    events, _ = await _form(slots, text=text, intent="ask_rent_subsidy")
    assert _requested(events) is None  # no question: the form hands over to the answer
    events, dispatcher = await _answer(slots, text=text, intent="ask_rent_subsidy")
    assert responses(dispatcher)[0] == "utter_rule_answer"
    assert responses(dispatcher)[-1] == "utter_offer_check"
    first = dispatcher.messages[0]
    assert "4000" in first["tiers_text"].replace(",", "") and "3000" in first["tiers_text"].replace(",", "")
    assert "青委〔2020〕88号" in first["citation"]
    offer = dispatcher.messages[-1]["buttons"]
    assert offer[0]["payload"] == "/check_my_case"
    assert SlotSet("check_offered", True) in events and SlotSet("answer_mode", "rule") in events
    assert rendered(dispatcher, language)[0].count("88号") == 1


@pytest.mark.parametrize(
    ("language", "text"), [("zh", "我能拿多少租房补贴？"), ("en", "How much rent subsidy can I get?")]
)
async def test_a_question_about_the_persons_case_asks_what_can_change_it(language: str, text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "language": language}
    events, _ = await _form(slots, text=text, intent="ask_rent_subsidy")
    assert _requested(events) == "employer_registered_in_district"


@pytest.mark.parametrize(
    ("language", "text"), [("zh", "我能拿多少租房补贴？"), ("en", "What housing support can I get?")]
)
async def test_the_personal_kind_of_answer_lasts_through_the_questions(language: str, text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "language": language}
    events, _ = await _form(slots, text=text, intent="ask_rent_subsidy")
    assert SlotSet("answer_mode", "personal") in events
    # the last answer ("yes") ends the questions; the answer is the personal one, not the rule
    after = {**QINGPU_MASTER, "topic": "rent_subsidy", "language": language, "answer_mode": "personal"}
    _, dispatcher = await _answer(
        after, text="是的", intent="affirm", trailing_slots={"tax_and_social_insurance_in_district": True}
    )
    assert responses(dispatcher)[0] == "utter_lead_eligible"


@pytest.mark.parametrize(("language", "text"), [("zh", "好的"), ("en", "yes please")])
async def test_yes_to_the_offer_starts_the_questions(language: str, text: str) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"district": "青浦", "topic": "rent_subsidy", "check_offered": True, "language": language},
        text=text,
        intent="affirm",
    )
    events = await ActionPlainYes().run(dispatcher, tracker, domain())
    assert SlotSet("answer_mode", "personal") in events and events[-1] == FollowupAction("policy_form")
    form_events, _ = await _form(
        {"district": "青浦", "topic": "rent_subsidy", "answer_mode": "personal"}, text=text, intent="affirm"
    )
    assert _requested(form_events) == "employer_registered_in_district"


# --- 2. only the questions that matter, never twice -------------------------------------------------


async def _questions(slots: dict, know: dict, text: str, intent: str, limit: int = 10) -> list[str]:
    """Replays the form on real trackers: each question answered from `know` ("不知道" otherwise)."""
    slots = dict(slots)
    asked: list[str] = []
    events, _ = await _form(slots, text=text, intent=intent)
    for _ in range(limit):
        fact = _requested(events)
        if not fact:
            return asked
        asked.append(fact)
        slots.update({e["name"]: e["value"] for e in events if e.get("event") == "slot"})
        slots["requested_slot"] = fact
        if fact in know:
            answer = {"trailing_slots": {fact: know[fact]}, "text": str(know[fact]), "intent": "inform"}
        else:
            answer = {"trailing_slots": {fact: "不知道"}, "text": "不知道", "intent": "inform"}
        events, _ = await _form(slots, **answer)
    raise AssertionError(f"still asking after {limit} questions: {asked}")


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_hukou_holder_is_never_asked_about_a_residence_permit(language: str) -> None:
    person = {**QINGPU_MASTER, "hukou": "上海"}
    text = (
        "我有上海户口，能住人才公寓吗"
        if language == "zh"
        else "I have a Shanghai hukou, can I get a talent apartment?"
    )
    asked = await _questions(
        {"district": "青浦", "topic": "talent_apartment", "hukou": "上海", "language": language},
        person,
        text,
        "ask_talent_apartment",
    )
    assert "has_residence_permit" not in asked and "residence_permit_points" not in asked
    assert len(asked) == len(set(asked)) <= 4


async def test_the_qingpu_masters_rent_subsidy_needs_only_the_questions_that_change_it() -> None:
    asked = await _questions(
        {
            "district": "青浦",
            "topic": "rent_subsidy",
            "education": "硕士",
            "full_time": True,
            "title": "副高级",
            "age": 33,
        },
        QINGPU_MASTER,
        "全日制硕士，副高，33岁，在青浦能拿多少租房补贴",
        "ask_rent_subsidy",
    )
    assert asked == ["employer_registered_in_district", "tax_and_social_insurance_in_district"]
    rare = {"former_executive_of", "honors", "qingfeng_candidate", "remote_town_worker", "agri_team_class"}
    assert not rare & set(asked)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "人才积分通用指标有50分，青浦租房补贴我能拿吗"),
        ("en", "My Qingpu talent points are 50 points, can I get the rent subsidy?"),
    ],
)
async def test_a_volunteered_fact_is_never_asked(language: str, text: str) -> None:
    events, _ = await _form(
        {"district": "青浦", "topic": "rent_subsidy", "language": language},
        text=text,
        intent="ask_rent_subsidy",
    )
    assert SlotSet("talent_points", 50) in events
    asked = await _questions(
        {"district": "青浦", "topic": "rent_subsidy", "talent_points": 50, "language": language},
        {**QINGPU_MASTER, "talent_points": 50},
        text,
        "ask_rent_subsidy",
    )
    assert "talent_points" not in asked


@pytest.mark.parametrize(
    ("language", "text"), [("zh", "不知道"), ("zh", "不清楚，跳过吧"), ("en", "not sure, skip it")]
)
async def test_dont_know_to_the_points_question_skips_it_and_the_answer_says_it_is_open(
    language: str, text: str
) -> None:
    slots = {
        **QINGPU_MASTER,
        "education": "本科",
        "title": "无",
        "topic": "rent_subsidy",
        "requested_slot": "talent_points",
        "answer_mode": "personal",
        "language": language,
    }
    events, dispatcher = await _form(
        slots, text=text, intent="inform", trailing_slots={"talent_points": text}
    )
    skipped = [e["value"] for e in events if e.get("name") == "skipped_facts"][-1]
    assert "talent_points" in skipped
    assert _requested(events) != "talent_points"
    assert "utter_invalid_number" not in responses(dispatcher)
    _, answer = await _answer(
        {**slots, "requested_slot": None}, text=text, trailing_slots={"skipped_facts": skipped}
    )
    assert any(
        "talent" in m.get("open_text", "").lower() or "积分" in m.get("open_text", "")
        for m in answer.messages
    )


# --- 3. answers read as the person meant them -------------------------------------------------------


@pytest.mark.parametrize(("language", "text"), [("zh", "单身"), ("zh", "没结婚"), ("en", "I'm single")])
async def test_single_answers_the_spouse_question_with_no(language: str, text: str) -> None:
    slots = {**QINGPU_MASTER, "spouse_receives_rent_subsidy": None, "topic": "rent_subsidy"}
    slots.update(requested_slot="spouse_receives_rent_subsidy", language=language, answer_mode="personal")
    # the NLU took "单身" for a yes: the words decide
    events, _ = await _form(
        slots, text=text, intent="affirm", trailing_slots={"spouse_receives_rent_subsidy": True}
    )
    assert SlotSet("spouse_receives_rent_subsidy", False) in events
    assert SlotSet("spouse_receives_rent_subsidy", True) not in events


@pytest.mark.parametrize(("language", "text"), [("zh", "是也不是"), ("en", "yes and no")])
async def test_mixed_signals_are_asked_back_not_guessed(language: str, text: str) -> None:
    slots = {**QINGPU_MASTER, "spouse_receives_rent_subsidy": None, "topic": "rent_subsidy"}
    slots.update(requested_slot="spouse_receives_rent_subsidy", language=language, answer_mode="personal")
    events, dispatcher = await _form(
        slots, text=text, intent="affirm", trailing_slots={"spouse_receives_rent_subsidy": True}
    )
    assert SlotSet("spouse_receives_rent_subsidy", True) not in events
    assert SlotSet("spouse_receives_rent_subsidy", None) in events
    assert responses(dispatcher)[0] == "utter_ask_back_yes_no"
    assert _requested(events) == "spouse_receives_rent_subsidy"


async def test_a_life_situation_for_another_question_is_asked_back() -> None:
    # "单身" to "do you own a home in the district?" says nothing about the home (the NLU said yes)
    slots = {"district": "青浦", "topic": "rent_subsidy", "requested_slot": "owns_home_in_district"}
    slots["answer_mode"] = "personal"
    events, dispatcher = await _form(
        slots, text="单身", intent="affirm", trailing_slots={"owns_home_in_district": True}
    )
    assert SlotSet("owns_home_in_district", True) not in events
    assert responses(dispatcher)[0] == "utter_ask_back_yes_no"
    assert _requested(events) == "owns_home_in_district"  # asked again with its options


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_hukou_holder_is_not_told_a_residence_permit_is_still_open(language: str) -> None:
    slots = {"district": "青浦", "topic": "talent_apartment", "hukou": "上海", "language": language}
    slots.update(employer_registered_in_district=True, tax_and_social_insurance_in_district=True)
    _, dispatcher = await _answer(
        {**slots, "answer_mode": "personal"}, text="我能住人才公寓吗", intent="ask_talent_apartment"
    )
    lead = dispatcher.messages[0]
    assert lead["response"] == "utter_lead_needs_info"
    assert "居住证" not in lead["open_text"] and "residence permit" not in lead["open_text"]


@pytest.mark.parametrize(("text"), ["还没入职", "入职以后就是了"])
async def test_not_yet_is_no(text: str) -> None:
    slots = {"district": "青浦", "topic": "rent_subsidy", "employer_registered_in_district": True}
    slots.update(requested_slot="tax_and_social_insurance_in_district", answer_mode="personal")
    events, _ = await _form(
        slots, text=text, intent="affirm", trailing_slots={"tax_and_social_insurance_in_district": True}
    )
    assert SlotSet("tax_and_social_insurance_in_district", False) in events


@pytest.mark.parametrize(
    ("language", "text", "entities"),
    [
        ("zh", "我38岁，海外工作过5年，注册资本500万", {"age": 38}),
        ("en", "I'm 38, worked abroad for 5 years, registered capital 500万", {"age": 38}),
    ],
)
async def test_three_numbers_in_one_message_go_each_to_its_fact(
    language: str, text: str, entities: dict
) -> None:
    slots = {"district": "青浦", "topic": "talent_award", "requested_slot": "overseas_experience_years"}
    slots.update(answer_mode="personal", language=language)
    events, dispatcher = await _form(
        slots, text=text, intent="inform", trailing_slots={**entities, "overseas_experience_years": text}
    )
    assert SlotSet("overseas_experience_years", 5) in events
    assert SlotSet("age", 38) in events
    assert not [name for name in responses(dispatcher) if name and name.startswith("utter_invalid")]


async def test_several_numbers_tagged_as_age_keep_only_the_one_in_years_of_age() -> None:
    # the NLU tagged 38, 5 and 500 as ages in "我38岁，海外工作过5年，注册资本500万" (seen end to end)
    text = "我38岁，海外工作过5年，注册资本500万，在青浦创业有什么扶持？"
    events, dispatcher = await _form(
        {"district": "青浦", "topic": "entrepreneur_support"},
        text=text,
        intent="ask_entrepreneur_support",
        trailing_slots={"age": [38, 5, 500]},
    )
    assert SlotSet("age", 38) in events
    # Rasa itself keeps the last of several values for a number slot
    events, _ = await _form(
        {"district": "青浦", "topic": "entrepreneur_support"},
        text=text,
        intent="ask_entrepreneur_support",
        trailing_slots={"age": 500},
    )
    assert SlotSet("age", 38) in events
    assert "utter_invalid_age" not in responses(dispatcher)


async def test_points_of_one_kind_never_fill_the_other() -> None:
    slots = {
        "district": "青浦",
        "topic": "rent_subsidy",
        "requested_slot": "talent_points",
        "answer_mode": "personal",
    }
    events, _ = await _form(
        slots,
        text="60分",
        intent="inform",
        trailing_slots={"residence_permit_points": 60, "talent_points": "60分"},
    )
    assert SlotSet("talent_points", 60) in events
    assert SlotSet("residence_permit_points", None) in events


async def test_an_answer_with_topic_words_stays_an_answer() -> None:
    earlier = [{"event": "slot", "name": "topic", "value": "talent_apartment"}]
    slots = {"district": "青浦", "topic": "residence_permit", "requested_slot": "has_residence_permit"}
    slots["answer_mode"] = "personal"
    events, _ = await _form(
        slots,
        text="有居住证",
        intent="ask_residence_permit",
        events=[*earlier, {"event": "user", "text": "人才公寓"}],
    )
    assert SlotSet("topic", "talent_apartment") in events
    assert SlotSet("has_residence_permit", True) in events


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_an_ineligible_answer_names_the_condition_that_failed(language: str) -> None:
    person = {**QINGPU_MASTER, "tax_and_social_insurance_in_district": False, "topic": "rent_subsidy"}
    _, dispatcher = await _answer(
        {**person, "language": language, "answer_mode": "personal"},
        text="我能拿多少",
        intent="ask_rent_subsidy",
    )
    lead = dispatcher.messages[0]
    assert lead["response"] == "utter_lead_ineligible"
    assert (
        ("个人所得税" in lead["failed_text"]) if language == "zh" else ("income tax" in lead["failed_text"])
    )


# --- 4. short replies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "text"), [("zh", "更多"), ("en", "more")])
async def test_more_reveals_the_rest(language: str, text: str) -> None:
    events, dispatcher = await _answer(
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
    first_events, _ = await _answer(
        {**QINGPU_MASTER, "topic": "rent_subsidy"}, text="我能拿多少", intent="ask_rent_subsidy"
    )
    state = {e["name"]: e["value"] for e in first_events if e.get("event") == "slot"}
    _, again = await _answer(
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
                _, dispatcher = await _answer(slots, text=text, intent=f"ask_{topic}")
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
    _, dispatcher = await _answer(
        {"district": "青浦", "topic": "rent_subsidy"},
        text="青浦积分租房补贴是多少钱一个月",
        intent="ask_rent_subsidy",
    )
    first = dispatcher.messages[0]
    assert first["response"] == "utter_rule_answer" and "积分" in first["title"]
    # the three bands and their shares (附件4第二条（二）): a ranking, no promised payment
    assert all(f"{amount}元" in first["tiers_text"] for amount in (1000, 1500, 2000))
    assert "40%" in first["tiers_text"]
    _, plain = await _answer(
        {"district": "青浦", "topic": "rent_subsidy"}, text="青浦租房补贴是多少", intent="ask_rent_subsidy"
    )
    assert "高层次" in plain.messages[0]["title"]
