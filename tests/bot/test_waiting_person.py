"""The person's wait for staff (issue 13, item 3), on the web chat and Telegram stand-ins over real HTTP:
an acknowledgement with the expected answer time (not silence), at most once per a few minutes; "取消人工"
typed or pressed closes a waiting case and gives the conversation back to the assistant, which answers
the question asked while waiting; an officer's hand-back has the assistant answer the last question too.
"""

from __future__ import annotations

import datetime as dt

import test_console_api
from gateway_harness import wait_for
from sqlalchemy import update
from test_console_api import opened_case, person_says

from bot.console.settings import person_text
from bot.console.waiting import CANCELLED_BY_PERSON
from bot.console.workcalendar import next_opening_text, work_calendar
from bot.store import kv_cache
from bot.testing.telegram_standin import callback_update, text_update
from bot.texts import text as say

# the fixtures of test_console_api (a gateway with web chat and Telegram, three staff accounts)
console, sign_in = test_console_api.console, test_console_api.sign_in


def expected_ack(language: str) -> str:
    """What the calendar says now (the test may run in or out of office hours)."""
    when = next_opening_text(dt.datetime.now(dt.timezone.utc), language)
    if when is None:
        return say("waiting_ack_in_hours", language, minutes=work_calendar().typical_wait_minutes)
    return say("waiting_ack_after_hours", language, when=when)


def texts(answer: dict) -> list[str]:
    return [m["text"] for m in answer["messages"]]


async def forget_throttle(running) -> None:
    """N minutes pass (the acknowledgement's key in the shared cache expires)."""
    store = running.gateway.store

    def expire() -> None:
        with store.engine.begin() as conn:
            conn.execute(update(kv_cache).where(kv_cache.c.key.like("waiting_ack:%")).values(expires_at=0))

    await store.call(expire)


async def test_web_chat_person_is_acknowledged_once_then_cancels_and_the_assistant_answers(
    console, sign_in, rasa
) -> None:
    wang = await sign_in("wang")
    session, case = await opened_case(console, wang)
    conversation = f"web:{session}"
    first = await person_says(console, "还在吗", session)
    [ack] = first["messages"]
    assert ack["text"] == expected_ack("zh") and "取消人工" in ack["text"]
    assert [b["title"] for b in ack["buttons"]] == [say("cancel_button", "zh")]
    # not spammed: the next message within the interval gets no second acknowledgement
    assert texts(await person_says(console, "青浦的租房补贴怎么领", session)) == []
    assert rasa.messages_of(conversation)[-1] == "青浦的租房补贴怎么领"  # Rasa's tracker stays complete
    # the old button was pressed after the person wrote again: expired, the cancel offered afresh
    stale = await console.http.post(
        "/api/chat", json={"session": session, "button": {"message_id": ack["id"], "index": 0}}
    )
    [notice, fresh] = stale.json()["messages"]
    assert notice["text"] == say("stale_button_waiting", "zh") and fresh["text"] == expected_ack("zh")
    pressed = await console.http.post(
        "/api/chat", json={"session": session, "button": {"message_id": fresh["id"], "index": 0}}
    )
    # cancelled, and the question asked while waiting answered by the assistant at once
    assert texts(pressed.json()) == [say("handoff_cancelled", "zh"), "收到：青浦的租房补贴怎么领"]
    closed = (await wang.get(f"/cases/{case['id']}")).json()["case"]
    assert (closed["status"], closed["outcome"], closed["closed_by"]) == (
        "closed",
        CANCELLED_BY_PERSON,
        "person",
    )
    assert [e for s, e in rasa.events if s == conversation][-2:] == [
        {"event": "resume"},
        {"event": "action", "name": "action_listen"},
    ]
    assert "/cancel_handoff" not in rasa.messages_of(conversation)  # the gateway's own, never Rasa's
    assert texts(await person_says(console, "谢谢", session)) == ["收到：谢谢"]
    # officers cannot pick the person's outcome, and it is not offered to them
    outcomes = (await wang.get("/outcomes")).json()["outcomes"]
    assert CANCELLED_BY_PERSON not in [o["tag"] for o in outcomes]


async def test_typed_cancel_after_a_claim_is_refused_and_the_interval_acknowledges_again(
    console, sign_in
) -> None:
    wang = await sign_in("wang")
    session, case = await opened_case(console, wang)
    assert texts(await person_says(console, "有人吗", session)) == [expected_ack("zh")]
    assert texts(await person_says(console, "有人吗？", session)) == []
    await forget_throttle(console)
    assert texts(await person_says(console, "有人吗？？", session)) == [expected_ack("zh")]
    assert (await wang.post(f"/cases/{case['id']}/claim")).status_code == 200
    await forget_throttle(console)
    # claimed, not answered yet: told the officer has it (no cancel offered)
    [claimed_ack] = (await person_says(console, "好的", session))["messages"]
    assert claimed_ack["text"] == say("waiting_ack_claimed", "zh") and claimed_ack["buttons"] == []
    assert texts(await person_says(console, " 取消 人工！", session)) == [
        say("handoff_cancel_too_late", "zh")
    ]
    assert (await wang.get(f"/cases/{case['id']}")).json()["case"]["status"] == "assigned"
    # once the officer has answered, no more acknowledgements: the conversation is with them
    assert (await wang.post(f"/cases/{case['id']}/reply", {"text": "您好，请讲"})).status_code == 200
    await forget_throttle(console)
    assert texts(await person_says(console, "我想问落户", session)) == []


async def test_hand_back_has_the_assistant_answer_the_last_question(console, sign_in) -> None:
    wang = await sign_in("wang")
    session, case = await opened_case(console, wang)
    await person_says(console, "第一个问题", session)
    assert (await wang.post(f"/cases/{case['id']}/claim")).status_code == 200
    assert (await wang.post(f"/cases/{case['id']}/reply", {"text": "第一个问题的答复"})).status_code == 200
    await person_says(console, "那人才公寓呢", session)
    closed = await wang.post(f"/cases/{case['id']}/close", {"outcome": "handed_back"})
    assert closed.status_code == 200
    rows = await console.gateway.store.call(console.gateway.store.messages, f"web:{session}")
    tail = [r["text"] for r in rows if r["direction"] == "out"][-3:]
    # the officer's answer covered the first question; the one after it goes to the assistant
    assert tail == [person_text("case_closed", "zh"), say("rating_prompt", "zh"), "收到：那人才公寓呢"]


async def test_telegram_person_is_acknowledged_and_cancels_with_the_button(
    console, telegram_api, rasa
) -> None:
    chat = 626262
    headers = {"X-Telegram-Bot-Api-Secret-Token": console.gateway.settings.telegram_secret}

    async def post(update: dict) -> None:
        response = await console.http.post("/telegram/webhook", json=update, headers=headers)
        assert response.status_code == 200

    await post(text_update(chat, "handoff", language_code="en"))
    await wait_for(lambda: telegram_api.sent(chat))
    await post(text_update(chat, "how long does the rent subsidy take?", language_code="en"))
    await wait_for(lambda: telegram_api.sent(chat)[-1]["text"] == expected_ack("en"))
    [[button]] = telegram_api.sent(chat)[-1]["reply_markup"]["inline_keyboard"]
    assert button["text"] == say("cancel_button", "en")
    await post(callback_update(chat, button["callback_data"]))
    await wait_for(
        lambda: telegram_api.sent(chat)[-1]["text"] == "收到：how long does the rent subsidy take?"
    )
    assert [m["text"] for m in telegram_api.sent(chat)[-2:]][0] == say("handoff_cancelled", "en")
    rows = await console.gateway.store.call(console.gateway.cases.cases.list, "closed", "wang")
    assert [(r["conversation_id"], r["outcome"]) for r in rows] == [(f"telegram:{chat}", CANCELLED_BY_PERSON)]
    assert (f"telegram:{chat}", {"event": "resume"}) in rasa.events
