"""Answers computed by the real policy engine and rendered through domain responses."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerPolicy, ActionExplainApplication, ActionExplainBasis
from actions.render import amount_and_duration, citation
from tests.actions.helpers import QINGPU_MASTER, domain, make_tracker, responses, slot_event, user_event


async def _answer(slots: dict, **message: Any) -> tuple[list[dict], CollectingDispatcher]:
    """The answer right after the topic question (the message that asked it is the latest)."""
    dispatcher = CollectingDispatcher()
    if slots.get("topic"):
        message.setdefault("intent", f"ask_{slots['topic']}")
    events = await ActionAnswerPolicy().run(dispatcher, make_tracker(slots, **message), domain())
    return events, dispatcher


def _remembered(events: list[dict]) -> list[dict]:
    return next(e["value"] for e in events if e.get("name") == "last_result") or []


async def test_without_a_topic_the_person_is_asked_for_one() -> None:
    events, dispatcher = await _answer({"district": "青浦"})
    assert events == []
    assert responses(dispatcher) == ["utter_ask_topic"]


async def test_a_personal_answer_leads_with_one_result_and_the_estimate_sentence() -> None:
    events, dispatcher = await _answer({**QINGPU_MASTER, "topic": "rent_subsidy"}, text="我能拿多少")
    names = responses(dispatcher)
    assert names[0] == "utter_lead_eligible" and names[-1] == "utter_estimate_disclaimer"
    # annex 4: a full-time master's with an associate senior title, 30, gets the class D rent subsidy
    assert [(r["policy_id"], r["status"]) for r in _remembered(events)] == [
        ("qingpu.housing.rent_subsidy", "eligible")
    ]
    assert events[0] == SlotSet("questions_asked", 0)
    assert SlotSet("answer_mode", "personal") in events
    first = dispatcher.messages[0]
    assert first["citation"].startswith("《") and "青委" in first["citation"]
    assert first["tier_text"] == "（D类）" and "4000" in first["amount"]
    # the scope rules nobody asked about are said as the office's checks, never hidden behind the ✅
    assert first["office_checks"].startswith("\n办理部门还将核实：")
    assert "参公管理除外" in first["office_checks"] and "未满5年" in first["office_checks"]


async def test_english_gets_the_same_results_with_english_wording() -> None:
    zh_events, zh = await _answer({**QINGPU_MASTER, "topic": "rent_subsidy"}, text="我符合吗")
    en_events, en = await _answer(
        {**QINGPU_MASTER, "topic": "rent_subsidy", "language": "en"}, text="Can I get it?"
    )
    assert responses(zh) == responses(en)
    assert [(r["policy_id"], r["status"]) for r in _remembered(zh_events)] == [
        (r["policy_id"], r["status"]) for r in _remembered(en_events)
    ]
    assert zh.messages[0]["tier_text"] == "（D类）" and en.messages[0]["tier_text"] == " (class D)"
    # the mark that lets the gateway offer a rating carries the answer's language
    marks = [m["custom"] for m in en.messages if (m.get("custom") or {}).get("answer") == "personal"]
    assert marks == [{"answer": "personal", "topic": "rent_subsidy", "district": "青浦", "language": "en"}]
    assert "up to 4,000 yuan a month" in en.messages[0]["amount"]


async def test_overview_lists_what_the_person_can_get_first() -> None:
    _, dispatcher = await _answer({**QINGPU_MASTER, "topic": "eligibility"})
    assert responses(dispatcher) == ["utter_overview", "utter_estimate_disclaimer"]
    lines = dispatcher.messages[0]["items_text"].split("\n")
    assert lines and lines == sorted(lines, key=lambda line: not line.startswith("✅"))


async def test_a_personalised_result_hands_the_case_to_staff() -> None:
    # a 青峰 candidate new to Qingpu, not in a key industry (so the special contribution reward is out):
    # the case-by-case 青峰 support leads, and only staff can settle it
    slots = {
        **QINGPU_MASTER,
        "answer_mode": "personal",
        "topic": "talent_award",
        "qingfeng_candidate": True,
        "years_worked_in_district": 0,
        "key_industry": False,
    }
    events, dispatcher = await _answer(slots, text="我能拿多少")
    assert [(r["policy_id"], r["status"]) for r in _remembered(events)] == [
        ("qingpu.qingfeng.support", "referral")
    ]
    assert responses(dispatcher) == [
        "utter_lead_referral",  # a referral estimates nothing: no estimate sentence (issue 15)
        "utter_handoff_personalised",
        "utter_handoff",
        None,
    ]
    assert events[-1] == ConversationPaused()
    handoff = [m["custom"]["handoff"] for m in dispatcher.messages if "handoff" in (m.get("custom") or {})]
    assert handoff[0]["reason"] == "personalised" and handoff[0]["result"]["personalised"] is True
    assert "utter_handoff_personalised" in responses(dispatcher)


async def test_an_engine_failure_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    import policies

    def broken(*args, **kwargs):
        raise RuntimeError("knowledge base unavailable")

    monkeypatch.setattr(policies, "evaluate", broken)
    events, dispatcher = await _answer({**QINGPU_MASTER, "topic": "rent_subsidy"})
    assert events == []
    assert responses(dispatcher) == ["utter_engine_error"]


REMEMBERED = [
    {
        "policy_id": "qingpu.housing.rent_subsidy",
        "title": "青浦高层次人才租房补贴",
        "district": "青浦",
        "status": "eligible",
        "how_to_apply": "由用人单位申请",
        "contact": "青浦区人才服务中心",
        "source": {
            "title": "若干意见",
            "title_en": "Opinions",
            "doc_number": "青委〔2020〕88号",
            "date": "2020-06-01",
            "article": "附件4第一条",
        },
    }
]


async def test_how_to_apply_and_basis_are_about_the_last_answer() -> None:
    for action, response in (
        (ActionExplainApplication(), "utter_how_to_apply"),
        (ActionExplainBasis(), "utter_policy_basis"),
    ):
        dispatcher = CollectingDispatcher()
        events = await action.run(dispatcher, make_tracker({"last_result": REMEMBERED}), domain())
        assert events == []
        assert responses(dispatcher) == [response]
        assert dispatcher.messages[0]["citation"] == "《若干意见》（青委〔2020〕88号，2020-06-01）附件4第一条"
        assert dispatcher.messages[0]["how_to_apply"] == "由用人单位申请"


async def test_follow_up_without_an_answer_asks_which_policy() -> None:
    dispatcher = CollectingDispatcher()
    await ActionExplainBasis().run(dispatcher, make_tracker({}), domain())
    assert responses(dispatcher) == ["utter_no_last_answer"]


def test_english_citation_keeps_the_official_chinese_title() -> None:
    source = REMEMBERED[0]["source"]
    assert citation(source, "en") == "若干意见 (Opinions), 青委〔2020〕88号, 2020-06-01, 附件4第一条"


async def test_a_plain_no_after_an_answer_does_not_repeat_it() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {**QINGPU_MASTER, "topic": "rent_subsidy", "last_result": REMEMBERED}, text="不用了", intent="deny"
    )
    assert await ActionAnswerPolicy().run(dispatcher, tracker, domain()) == []
    assert responses(dispatcher) == ["utter_anything_else"]


async def test_a_no_that_answered_the_last_question_gets_the_answer() -> None:
    # "曾任500强高管吗？" "没有" -> the form set the fact from the deny; the answer must follow, not "anything else?"
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {**QINGPU_MASTER, "topic": "rent_subsidy"},
        text="没有",
        intent="deny",
        trailing_slots={"former_executive_of": "无"},
    )
    events = await ActionAnswerPolicy().run(dispatcher, tracker, domain())
    assert "utter_anything_else" not in responses(dispatcher)
    assert responses(dispatcher)[-1] == "utter_estimate_disclaimer"
    assert _remembered(events)


async def test_a_correction_recomputes() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {**QINGPU_MASTER, "education": "博士", "topic": "rent_subsidy", "last_result": REMEMBERED},
        text="不对，我是博士",
        intent="deny",
        entities=[{"entity": "education", "value": "博士"}],
    )
    events = await ActionAnswerPolicy().run(dispatcher, tracker, domain())
    assert responses(dispatcher)[-1] == "utter_estimate_disclaimer"
    assert _remembered(events)


def test_citation_leaves_out_what_the_document_lacks() -> None:
    plan = {
        "title": "长宁区规划",
        "title_en": "Changning plan",
        "doc_number": "",
        "date": "2021-11-12",
        "article": "四（一）2",
    }
    assert citation(plan, "zh") == "《长宁区规划》（2021-11-12）四（一）2"
    assert citation(plan, "en") == "长宁区规划 (Changning plan), 2021-11-12, 四（一）2"
    assert citation({**plan, "article": ""}, "en") == "长宁区规划 (Changning plan), 2021-11-12"


def test_amount_line_and_its_tail_have_no_stop_between() -> None:
    monthly = {"max_amount": 4000, "unit": "yuan_per_month", "payout": "按月发放", "duration": "最长5年"}
    assert amount_and_duration(monthly, "zh") == {
        "amount_text": "金额：最高每月4000元",
        "duration_text": "，按月发放，最长5年",
    }
    in_kind = {
        "max_amount": None,
        "unit": None,
        "benefit": "优先入住人才公寓。",
        "payout": "文件未规定",
        "duration": "最长6年",
    }
    assert amount_and_duration(in_kind, "zh") == {
        "amount_text": "待遇：优先入住人才公寓",
        "duration_text": "，最长6年",
    }


async def test_a_message_with_nothing_in_it_is_met_with_a_question_not_an_answer() -> None:
    """A bare "1" typed after an answer that offered no options: ask what they mean, offer the last
    topic again, the overview and a person; never a goodbye, never a guess."""
    events, dispatcher = await _answer({**QINGPU_MASTER, "topic": "rent_subsidy"}, text="1", intent="inform")
    assert events == []
    assert responses(dispatcher) == ["utter_what_do_you_mean"]
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/ask_rent_subsidy", "/ask_eligibility", "/request_human"]


async def test_every_overview_line_cites_its_document() -> None:
    _, dispatcher = await _answer({**QINGPU_MASTER, "topic": "eligibility"})
    lines = dispatcher.messages[0]["items_text"].split("\n")
    assert lines and all("【依据" in line and "〔" in line for line in lines)
    _, english = await _answer({**QINGPU_MASTER, "topic": "eligibility", "language": "en"})
    english_lines = english.messages[0]["items_text"].split("\n")
    assert len(english_lines) == len(lines) and all("[source: " in line for line in english_lines)


async def test_facts_the_form_re_validates_on_start_are_no_new_fact() -> None:
    """On start the form sets the facts it already knows again (district 杨浦 -> 杨浦): a bare "1" after
    an answer still carries nothing."""
    earlier = [user_event("杨浦的租房补贴有吗", "ask_rent_subsidy"), slot_event("district", "杨浦")]
    tracker = make_tracker(
        {"topic": "rent_subsidy", "district": "杨浦"},
        text="1",
        intent="inform",
        events=earlier,
        trailing_slots={"district": "杨浦"},
    )
    dispatcher = CollectingDispatcher()
    await ActionAnswerPolicy().run(dispatcher, tracker, domain())
    assert responses(dispatcher) == ["utter_what_do_you_mean"]


async def test_a_discretionary_rule_is_the_offices_decision_with_a_way_to_ask_for_it() -> None:
    """The 70-year-old agricultural team leader with five years abroad (附件3第二条（一）1: 一般不超过60周岁，
    海外经历3年以上可适当放宽): never ✅, the office decides, and one press asks an officer for it."""
    leader = {
        "district": "青浦",
        "age": 70,
        "overseas_experience_years": 5,
        "sector": "农业",
        "agri_team_role": "带头人",
        "agri_team_class": "A",
        "employer_registered_in_district": True,
        "tax_and_social_insurance_in_district": True,
        "education": "硕士",
        "full_time": True,
        "senior_post_years": 5,
        "paid_in_capital_wan": 300,
        "legal_rep_and_largest_shareholder": True,
        "founders_shareholding_percent": 60,
    }
    _, dispatcher = await _answer({**leader, "topic": "entrepreneur_support"}, text="我们团队能拿多少奖励")
    names = responses(dispatcher)
    assert names[0] == "utter_lead_review" and "utter_lead_eligible" not in names
    buttons = [b for m in dispatcher.messages for b in m.get("buttons") or []]
    assert {"title": "请工作人员审核我的情况", "payload": "/request_human"} in buttons
