"""Console API replies reaching the person: Telegram, a web chat taken over and handed back, WeChat's quota."""

from __future__ import annotations

import asyncio

import httpx
import test_console_api
from gateway_harness import wait_for
from test_console_api import PASSWORD, Officer, person_says, staffed

from bot.console.settings import held_explanation, person_text
from bot.testing.telegram_standin import text_update
from bot.texts import text as say

# the fixtures of test_console_api (a gateway with web chat and Telegram, three staff accounts)
console, sign_in = test_console_api.console, test_console_api.sign_in


async def test_reply_reaches_telegram_and_the_bot_stays_quiet(console, sign_in, telegram_api, rasa) -> None:
    chat = 515151
    wang = await sign_in("wang")

    async def post(text: str) -> None:
        response = await console.http.post(
            "/telegram/webhook",
            json=text_update(chat, text, language_code="en"),
            headers={"X-Telegram-Bot-Api-Secret-Token": console.gateway.settings.telegram_secret},
        )
        assert response.status_code == 200

    await post("转人工")
    await wait_for(lambda: telegram_api.sent(chat))
    [case] = await wang.queue()
    # the case speaks the assistant's language (its handoff payload: the Rasa stand-in always says zh)
    assert case["channel"] == "telegram" and case["language"] == "zh"
    assert (await wang.post(f"/cases/{case['id']}/claim")).status_code == 200
    sent = await wang.post(
        f"/cases/{case['id']}/reply", {"text": "Hello, this is Wang from the talent office."}
    )
    assert [d["status"] for d in sent.json()["deliveries"]] == ["sent"]
    assert telegram_api.sent(chat)[-1]["text"] == "Hello, this is Wang from the talent office."
    before = len(telegram_api.sent(chat))
    await post("my situation is ...")
    await wait_for(lambda: rasa.messages_of(f"telegram:{chat}")[-1:] == ["my situation is ..."])
    await asyncio.sleep(0.2)
    assert len(telegram_api.sent(chat)) == before  # the assistant's reply was suppressed
    assert (await wang.post(f"/cases/{case['id']}/close", {"outcome": "answered"})).status_code == 200
    await wait_for(lambda: telegram_api.sent(chat)[-1]["text"] == say("rating_prompt", "zh"))
    assert telegram_api.sent(chat)[-2]["text"] == person_text("case_closed", "zh")


async def test_takeover_pauses_the_assistant_and_hand_back_resumes_it(console, sign_in, rasa) -> None:
    wang, li = await sign_in("wang"), await sign_in("li")
    session = (await person_says(console, "你好"))["session"]
    conversation = f"web:{session}"
    listed = (await wang.get("/conversations")).json()["conversations"]
    assert [c["conversation_id"] for c in listed] == [conversation]
    assert listed[0]["open_case_id"] is None and listed[0]["last_message_preview"] == "你好"
    taken = await wang.post(f"/conversations/{conversation}/takeover")
    assert taken.status_code == 201
    case = taken.json()["case"]
    assert (case["status"], case["assignee"], case["reason"]) == ("assigned", "wang", "staff_takeover")
    assert (conversation, {"event": "pause"}) in rasa.events
    rows = await console.gateway.store.call(console.gateway.store.messages, conversation)
    assert rows[-1]["text"] == person_text("staff_joined", "zh")
    assert (await person_says(console, "buttons", session))["messages"] == []  # Rasa paused: nothing
    again = await li.post(f"/conversations/{conversation}/takeover")
    assert (again.status_code, again.json()["code"], again.json()["case_id"]) == (
        409,
        "case_open",
        case["id"],
    )
    missing = await li.post("/conversations/web:nobody-here-at-all/takeover")
    assert (missing.status_code, missing.json()["code"]) == (404, "no_such_conversation")
    listed = (await li.get("/conversations", params={"q": session[:8]})).json()["conversations"]
    assert [c["open_case_id"] for c in listed] == [case["id"]]
    handed_back = await wang.post(f"/cases/{case['id']}/close", {"outcome": "handed_back"})
    assert handed_back.json()["case"]["outcome_label"] == "交回智能助手"
    assert rasa.events[-2:] == [
        (conversation, {"event": "resume"}),
        (conversation, {"event": "action", "name": "action_listen"}),
    ]
    assert [m["text"] for m in (await person_says(console, "再问一下", session))["messages"]] == [
        "收到：再问一下"
    ]


# -- channel limits ----------------------------------------------------------------------------------------
async def test_wechat_reply_past_the_quota_is_refused_kept_and_sent_with_the_next_message(
    wechat_gateway, wechat_server, wechat_api, rasa
) -> None:
    openid = "oQuotaPerson0001"
    async with staffed(wechat_gateway):
        http = httpx.AsyncClient(base_url=wechat_gateway.url)
        async with http:
            me = (await http.post("/console/api/login", json={"login": "wang", "password": PASSWORD})).json()
            wang = Officer(http, me)

            async def person(text: str) -> str | None:
                request = wechat_server.request(wechat_server.text_xml(openid, text))
                response = await wechat_gateway.http.post(
                    "/wechat", params=request.params, content=request.body
                )
                return wechat_server.read_reply(response.text, request.params)

            assert "工作人员" in (await person("转人工"))
            [case] = await wang.queue()
            await wang.post(f"/cases/{case['id']}/claim")
            quota = (await wang.get(f"/cases/{case['id']}")).json()["case"]["quota"]
            assert (quota["remaining"], quota["limit"], quota["window_open"]) == (5, 5, True)
            for n in range(5):
                sent = (await wang.post(f"/cases/{case['id']}/reply", {"text": f"第{n + 1}条"})).json()
                assert sent["deliveries"][0]["status"] == "sent"
            assert wechat_api.texts_to(openid) == [f"第{n + 1}条" for n in range(5)]
            refused = (await wang.post(f"/cases/{case['id']}/reply", {"text": "请补充您的学历证明"})).json()
            assert refused["deliveries"][0]["status"] == "held"
            assert refused["explanation"] == held_explanation("no customer-service quota left")
            assert len(wechat_api.texts_to(openid)) == 5  # nothing went past the limit
            detail = (await wang.get(f"/cases/{case['id']}")).json()
            assert detail["case"]["quota"]["remaining"] == 0
            assert detail["messages"][-1]["status"] == "held"
            too_long = await wang.post(f"/cases/{case['id']}/reply", {"text": "很" * 700})
            assert (too_long.status_code, too_long.json()["code"]) == (400, "too_long")
            # the person writes again: the kept reply goes out with the passive answer, the assistant stays quiet
            passive = await person("好的")
            assert passive is not None and "请补充您的学历证明" in passive and "收到" not in passive
            rows = await wechat_gateway.gateway.store.call(
                wechat_gateway.gateway.store.messages, f"wechat:{openid}"
            )
            assert [r["status"] for r in rows if r["text"] == "请补充您的学历证明"] == ["resent"]
