"""The case card over real HTTP (issue 13, item 1): a takeover shows the assistant's profile and last result
read from the Rasa tracker (the stand-in speaks Rasa's tracker API), the officer corrects a fact and the
engine re-runs, hand-back appends the corrected facts as ``slot`` events before the resume, the audit log
says who corrected what, and the policy look-up finds and quotes policies."""

from __future__ import annotations

import time

import test_console_api
from test_console_api import person_says

from bot.console.settings import error_text
from bot.rasa_client import TRACKER_READ_SECONDS as RASA_TRACKER_READ_SECONDS
from tests.bot.misread_case import MISREAD_SLOTS

console, sign_in = test_console_api.console, test_console_api.sign_in

# what the assistant had collected when it misread "是滴" as the spouse already receiving the subsidy
SLOTS = {**MISREAD_SLOTS, "language": "zh"}
POLICY = "qingpu.housing.points_rent_subsidy"


async def test_a_takeover_card_corrected_and_handed_back_with_the_corrected_fact(
    console, sign_in, rasa
) -> None:
    wang, li = await sign_in("wang"), await sign_in("li")
    session = (await person_says(console, "青浦的积分租房补贴我能申请吗？英国硕士2024，中国国籍"))["session"]
    conversation = f"web:{session}"
    rasa.slots[conversation] = dict(SLOTS)
    taken = (await wang.post(f"/conversations/{conversation}/takeover")).json()["case"]
    # the assistant's profile and its misread answer, although the takeover has no handoff payload
    assert taken["assistant_view"] == "payload"
    profile = {p["field"]: p["value"] for p in taken["profile"]}
    assert profile["spouse_receives_rent_subsidy"] == "是" and profile["district"] == "青浦"
    assert "topic" not in profile and "last_result" not in profile
    [wrong] = taken["result"]["results"]
    assert (wrong["policy_id"], wrong["status"]) == (POLICY, "ineligible")
    assert taken["summary_parts"]["asked"] == ["青浦的积分租房补贴我能申请吗？英国硕士2024，中国国籍"]
    assert taken["summary_parts"]["facts"] == ["英国硕士2024，中国国籍"]

    fields = (await wang.get("/profile-fields")).json()["fields"]
    assert {
        "field": "spouse_receives_rent_subsidy",
        "label": "配偶是否已享受租房补贴",
        "type": "bool",
    }.items() <= {f["field"]: f for f in fields}["spouse_receives_rent_subsidy"].items()
    refused = await wang.post(
        f"/cases/{taken['id']}/facts", {"field": "spouse_receives_rent_subsidy", "value": "也许"}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "bad_fact"
    not_hers = await li.post(
        f"/cases/{taken['id']}/facts", {"field": "spouse_receives_rent_subsidy", "value": False}
    )
    assert (not_hers.status_code, not_hers.json()["error"]) == (409, error_text("not_yours"))

    fixed = await wang.post(
        f"/cases/{taken['id']}/facts", {"field": "spouse_receives_rent_subsidy", "value": False}
    )
    assert fixed.status_code == 200, fixed.text
    card = fixed.json()["case"]
    corrected = {p["field"]: p for p in card["profile"]}["spouse_receives_rent_subsidy"]
    assert corrected == {
        "field": "spouse_receives_rent_subsidy",
        "label": "配偶是否已享受租房补贴",
        "value": "否",
        "corrected": True,
    }
    [rerun] = card["rechecked"]["results"]
    assert (rerun["policy_id"], rerun["status"], rerun["amount"]) == (
        POLICY,
        "can_register",
        "每月1000元至2000元",
    )
    assert card["result"]["results"][0]["status"] == "ineligible"  # what the person was told stays visible

    history = (await wang.get(f"/cases/{taken['id']}")).json()["history"]
    [entry] = [h for h in history if h["action"] == "correct_fact"]
    assert (entry["actor"], entry["detail"]) == (
        "wang",
        {
            "field": "spouse_receives_rent_subsidy",
            "label": "配偶是否已享受租房补贴",
            "old": "是",
            "new": "否",
        },
    )

    events_before = len(rasa.events)
    closed = await wang.post(f"/cases/{taken['id']}/close", {"outcome": "handed_back"})
    assert closed.status_code == 200
    # the corrected fact reaches the tracker before the assistant resumes
    assert rasa.events[events_before:][:3] == [
        (conversation, {"event": "slot", "name": "spouse_receives_rent_subsidy", "value": False}),
        (conversation, {"event": "resume"}),
        (conversation, {"event": "action", "name": "action_listen"}),
    ]
    assert rasa.slots[conversation]["spouse_receives_rent_subsidy"] is False


async def test_a_takeover_card_says_so_when_rasa_cannot_be_read(console, sign_in, rasa) -> None:
    wang = await sign_in("wang")
    session = (await person_says(console, "你好"))["session"]
    rasa.token = "another-token"  # the tracker read is refused (401)
    try:
        case = (await wang.post(f"/conversations/web:{session}/takeover")).json()["case"]
    finally:
        rasa.token = None
    assert case["assistant_view"] == "unavailable" and case["profile"] == []
    again = (await wang.get(f"/cases/{case['id']}")).json()["case"]  # read once Rasa answers
    assert again["assistant_view"] == "payload"


async def test_a_slow_tracker_read_does_not_hold_the_case_page(console, sign_in, rasa) -> None:
    wang = await sign_in("wang")
    session = (await person_says(console, "你好"))["session"]
    rasa.tracker_delay = RASA_TRACKER_READ_SECONDS + 3
    started = time.monotonic()
    case = (await wang.post(f"/conversations/web:{session}/takeover")).json()["case"]
    assert case["assistant_view"] == "unavailable"
    assert time.monotonic() - started < RASA_TRACKER_READ_SECONDS + 2


async def test_the_policy_look_up_finds_and_quotes_a_policy_for_the_reply(console, sign_in) -> None:
    wang = await sign_in("wang")
    found = (await wang.get("/policies", params={"q": "青浦 积分租房"})).json()["policies"]
    assert found == [
        {
            "policy_id": POLICY,
            "title": "青浦人才积分租房补贴",
            "district": "青浦",
            "topic": "rent_subsidy",
            "topic_label": "租房补贴",
        }
    ]
    for bad in ("", "字" * 41):
        response = await wang.get("/policies", params={"q": bad})
        assert (response.status_code, response.json()["code"]) == (400, "lookup_query")
    text = (await wang.get(f"/policies/{POLICY}/reply")).json()["text"]
    assert text.startswith("【青浦人才积分租房补贴】") and "如何申请：" in text and "青委〔2020〕88号" in text
    assert (await wang.get("/policies/no.such/reply")).status_code == 404
    assert (await wang.get(f"/policies/{POLICY}/reply", params={"case": "x"})).status_code == 404
