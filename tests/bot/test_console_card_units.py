"""The case card's parts on their own (issue 13, item 1): the summary written from a conversation, the
assistant's profile read from tracker slots, a corrected fact and the engine re-run, the policy look-up."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.console import card, lookup, profile_check, summary
from policies import ProfileError
from tests.bot.misread_case import MISREAD_SLOTS

FALLBACK = "抱歉，我没太明白，您能换个说法吗？"
OPENED = dt.datetime(2026, 11, 23, 2, 0)


def said(text: str, kind: str = "text", minute: int = 0) -> dict:
    return {
        "direction": "in",
        "author": "person",
        "kind": kind,
        "text": text,
        "created_at": OPENED.replace(minute=minute),
    }


def answered(text: str, author: str = "bot") -> dict:
    return {"direction": "out", "author": author, "kind": "reply", "text": text}


# a takeover conversation: a question with facts outside the profile, the spouse question misread as "yes"
CONVERSATION = [
    said("你好"),
    said("青浦的积分租房补贴我能申请吗？英国硕士2024，中国国籍", minute=1),
    answered("请问您的配偶是否已享受青浦的人才租房补贴？"),
    said("是滴", minute=2),
    answered(
        "❌ 青浦人才积分租房补贴：根据您提供的情况暂不符合，未满足：配偶未享受本区人才租房补贴。\n政策依据：…"
    ),
    said('/inform{"district": "青浦"}', kind="button", minute=3),
    said("刚才说了我老婆没有拿补贴", minute=4),
    answered(FALLBACK),
    said("我能拿多少", minute=5),
    answered(FALLBACK),
    said("转人工", minute=6),
    answered("好的，已为您转接工作人员。以上为根据您提供的信息作出的预估，以办理部门审核为准。"),
]


def test_what_the_person_asked_is_their_first_substantive_words_not_greetings_or_payloads() -> None:
    assert summary.asked(CONVERSATION) == ["青浦的积分租房补贴我能申请吗？英国硕士2024，中国国籍", "是滴"]
    assert summary.asked([said("/ask_rent_subsidy", kind="button"), said("你好"), said("转人工")]) == []


def test_every_fact_stated_stays_in_the_persons_words_with_short_answers_given_their_question() -> None:
    facts = summary.stated_facts(CONVERSATION)
    assert facts[0] == "英国硕士2024，中国国籍"  # outside the profile vocabulary: as they wrote it
    assert facts[1] == "请问您的配偶是否已享受青浦的人才租房补贴？ — 是滴"
    assert "刚才说了我老婆没有拿补贴" in facts
    assert not any("能申请吗" in fact or "/inform" in fact for fact in facts)


def test_a_statement_split_into_clauses_keeps_only_the_clauses_that_state_facts() -> None:
    assert summary.fact_sentences("我35岁，在松江工作。请问有什么补贴？") == ["我35岁，在松江工作"]
    assert summary.fact_sentences("谢谢") == []


def test_the_assistants_results_are_its_result_lines_latest_last() -> None:
    rows = [
        answered("✅ A：您初步符合\n申请方式：…"),
        answered("❌ B：暂不符合"),
        answered("✅ A：您初步符合"),
    ]
    assert summary.result_lines(rows) == ["❌ B：暂不符合", "✅ A：您初步符合"]


def test_the_summary_names_what_went_wrong_and_why_it_was_handed_off() -> None:
    case = {"reason": "request_human", "opened_at": OPENED.replace(minute=6)}
    built = summary.build(case, CONVERSATION)
    assert built["answered"] == [
        "❌ 青浦人才积分租房补贴：根据您提供的情况暂不符合，未满足：配偶未享受本区人才租房补贴。"
    ]
    # the signals are going_wrong.py's, not a copy of them
    assert built["went_wrong"] == ["多次未听懂（2次）", "用户说“刚才说了”", "出现 ❌ 结果"]
    assert built["handed_off"] == "用户要求人工（用户最后说：“转人工”）"
    line = built["line"]
    assert line.startswith("用户所问：青浦的积分租房补贴我能申请吗？英国硕士2024，中国国籍")
    assert "英国硕士2024，中国国籍" in line and "以上为根据您提供的信息" not in line


def test_personal_numbers_are_masked_in_the_summary() -> None:
    built = summary.build(
        {"reason": "request_human"}, [said("身份证310101199001011234，电话13812345678，想问落户")]
    )
    assert "310101199001011234" not in str(built) and "138****5678" in built["line"]


SLOTS = {**MISREAD_SLOTS, "language": "zh", "requested_slot": None, "age": "not a number"}


def test_the_profile_is_the_profile_slots_the_engine_accepts() -> None:
    profile = profile_check.profile_from_slots(SLOTS)
    assert "topic" not in profile and "language" not in profile and "age" not in profile
    assert profile["spouse_receives_rent_subsidy"] is True and profile["talent_points"] == 130


def test_the_last_result_of_a_takeover_is_recomputed_from_the_tracker() -> None:
    profile = profile_check.profile_from_slots(SLOTS)
    result = profile_check.last_result(SLOTS, profile)
    [shown] = result["results"]
    assert shown["policy_id"] == "qingpu.housing.points_rent_subsidy" and shown["status"] == "ineligible"
    assert shown["conditions"][0] == "不符合：配偶未享受本区人才租房补贴（夫妻双方不重复享受）"
    assert profile_check.last_result({"topic": "rent_subsidy"}, profile) is None


def test_a_corrected_fact_re_runs_the_engine_on_the_same_policy() -> None:
    payload = {
        "source": "tracker",
        "profile": SLOTS,
        "result": profile_check.last_result(SLOTS, profile_check.profile_from_slots(SLOTS)),
        "topic": "rent_subsidy",
    }
    fixed, old, new = card.corrected_case(
        {"payload": payload, "topic": None}, "spouse_receives_rent_subsidy", "否"
    )
    assert (old, new) == (True, False)
    assert fixed["corrections"] == {"spouse_receives_rent_subsidy": False}
    [rerun] = fixed["rechecked"]["results"]
    assert rerun["policy_id"] == "qingpu.housing.points_rent_subsidy" and rerun["status"] == "can_register"
    assert rerun["amount"] == "每月1000元至2000元"
    assert card.corrected_profile(fixed)["spouse_receives_rent_subsidy"] is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("spouse_receives_rent_subsidy", "也许"),
        ("education", "院士"),
        ("honors", "长江学者"),
        ("nope", 1),
        ("age", ""),
    ],
)
def test_a_correction_outside_the_vocabulary_is_refused_naming_the_field(field, value) -> None:
    with pytest.raises(ProfileError):
        profile_check.correct({}, field, value)


def test_the_correction_form_offers_the_vocabulary() -> None:
    fields = {f["field"]: f for f in profile_check.field_choices()}
    assert [v["value"] for v in fields["education"]["values"]] == ["博士", "硕士", "本科", "大专", "其他"]
    assert fields["spouse_receives_rent_subsidy"]["values"] == [
        {"value": True, "label": "是"},
        {"value": False, "label": "否"},
    ]
    assert fields["age"]["type"] == "int" and "values" not in fields["age"]
    assert "honors" not in fields and "language" not in fields


def test_the_look_up_finds_policies_by_title_topic_and_district_words() -> None:
    found = [p["policy_id"] for p in lookup.search("青浦 租房补贴")]
    assert "qingpu.housing.points_rent_subsidy" in found and all(p.startswith("qingpu.") for p in found)
    assert [p["policy_id"] for p in lookup.search("积分租房")] == ["qingpu.housing.points_rent_subsidy"]
    assert lookup.search("   ") == [] and lookup.search("不存在的政策") == []


def test_the_inserted_text_quotes_amount_conditions_how_to_apply_and_citation() -> None:
    result = lookup.engine_result(
        "qingpu.housing.points_rent_subsidy", {"spouse_receives_rent_subsidy": False}
    )
    text = lookup.reply_text(result)
    assert text.startswith("【青浦人才积分租房补贴】")
    assert "金额：第一档每月1000元（入选人数的40%）" in text
    assert "- 符合：配偶未享受本区人才租房补贴（夫妻双方不重复享受）" in text
    assert "如何申请：先按《青浦区人才积分指标》自行模拟打分" in text
    assert (
        "政策依据：《关于推动人才高质量发展服务长三角生态绿色一体化发展示范区建设的若干意见》（青委〔2020〕88号，2020-06-01）附件4第二条"
        in text
    )
    assert lookup.engine_result("no.such.policy", {}) is None
