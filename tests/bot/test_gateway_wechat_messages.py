"""WeChat message handling: slow or down Rasa, subscribe, menu clicks, unsupported types, order, handoff."""

from __future__ import annotations

import asyncio
import time

from gateway_harness import WECHAT_APP_ID, WECHAT_TOKEN, cases_of, wait_for
from test_gateway_wechat import OPENID, replies_in_transcript, send, transcript

from bot.texts import text as say


async def test_slow_rasa_acknowledges_then_delivers_once_by_customer_service(
    wechat_gateway, wechat_server, wechat_api, rasa
) -> None:
    started = time.monotonic()
    xml = wechat_server.text_xml(OPENID, "slow 1.6 慢问题", msg_id=4242)
    status, reply = await send(wechat_gateway, wechat_server, xml)
    assert time.monotonic() - started < 1.5
    assert status == 200 and "稍后" in reply
    # WeChat retries the same MsgId: it must not produce a second answer.
    assert await send(wechat_gateway, wechat_server, xml) == (200, None)
    await wait_for(lambda: wechat_api.texts_to(OPENID))
    await asyncio.sleep(0.3)
    assert wechat_api.texts_to(OPENID) == ["收到：slow 1.6 慢问题"]
    assert len(rasa.messages_of(f"wechat:{OPENID}")) == 1
    # The token came from stable_token; the classic endpoint (which invalidates other processes) was never used.
    assert wechat_api.token_calls and wechat_api.classic_token_calls == 0
    statuses = [(r["kind"], r["status"]) for r in await transcript(wechat_gateway) if r["direction"] == "out"]
    assert statuses == [("notice", "sent_passive"), ("reply", "sent")]
    # Nothing is left waiting on the slot (a leftover wait was logged as "Task was destroyed but it is
    # pending" once collected, and piled up under load).
    leftovers = [t for t in asyncio.all_tasks() if "Event.wait" in repr(t.get_coro())]
    assert leftovers == []


async def test_rasa_down_polite_reply_and_message_kept(tmp_path, gateway_factory, wechat_server) -> None:
    async with gateway_factory(
        ("http://127.0.0.1:9",),
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=WECHAT_APP_ID,
        wechat_aes_key=wechat_server.aes_key,
        rasa_connect_retries=1,
    ) as running:
        status, reply = await send(running, wechat_server, wechat_server.text_xml(OPENID, "还在吗"))
        # no customer-service API here: the replayed answer waits for the person's next message, and says so
        assert status == 200 and reply == say("rasa_down_write_again", "zh")
        store = running.gateway.store  # the state is written once the passive reply is on its way
        await wait_for(lambda: store.messages(f"wechat:{OPENID}")[0]["status"] == "rasa_unavailable")
        assert (await transcript(running))[0]["text"] == "还在吗"


async def test_subscribe_welcomes_with_privacy_notice(
    wechat_gateway, wechat_server, rasa, wechat_api
) -> None:
    status, reply = await send(wechat_gateway, wechat_server, wechat_server.event_xml(OPENID, "subscribe"))
    assert status == 200 and "欢迎" in reply and "隐私" in reply
    assert rasa.received == []
    quota = await wechat_gateway.gateway.store.call(wechat_gateway.gateway.store.quota, OPENID)
    assert quota["remaining"] == 3  # a subscription opens 3 messages for one minute


async def test_menu_click_maps_to_topic_payload(wechat_gateway, wechat_server, rasa) -> None:
    click = wechat_server.event_xml(OPENID, "CLICK", key="TOPIC_RENT_SUBSIDY", create_time=1763888000)
    assert await send(wechat_gateway, wechat_server, click) == (200, "payload /ask_rent_subsidy")
    # The same event re-sent (same FromUserName + CreateTime) is not handled twice ...
    await send(wechat_gateway, wechat_server, click)
    assert len(rasa.received) == 1
    # ... but a different click in the same second is.
    other = wechat_server.event_xml(OPENID, "CLICK", key="TOPIC_HUKOU", create_time=1763888000)
    assert await send(wechat_gateway, wechat_server, other) == (200, "payload /ask_hukou")
    assert await wechat_gateway.gateway.store.call(wechat_gateway.gateway.store.quota, OPENID) != {
        "remaining": 0,
        "expires_at": None,
    }


async def test_unsupported_types_answered_politely(wechat_gateway, wechat_server, rasa) -> None:
    for kind in ("image", "voice"):
        status, reply = await send(wechat_gateway, wechat_server, wechat_server.media_xml(OPENID, kind))
        assert status == 200 and "文字" in reply
    assert rasa.received == []


async def test_voice_with_speech_recognition_is_answered_as_text(wechat_gateway, wechat_server, rasa) -> None:
    xml = wechat_server.media_xml(OPENID, "voice", recognition="青浦区租房补贴")
    assert await send(wechat_gateway, wechat_server, xml) == (200, "收到：青浦区租房补贴")
    assert rasa.messages_of(f"wechat:{OPENID}") == ["青浦区租房补贴"]


async def test_leading_slash_cannot_steer_rasa(wechat_gateway, wechat_server, rasa) -> None:
    await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, '/ask_eligibility{"age": 20}'))
    await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "  /restart"))
    forwarded = rasa.messages_of(f"wechat:{OPENID}")
    assert forwarded == ['／ask_eligibility{"age": 20}', "／restart"]
    assert not any(m.startswith("/") for m in forwarded)


async def test_concurrent_messages_from_one_person_answered_in_order(
    wechat_gateway, wechat_server, wechat_api, rasa
) -> None:
    texts = [f"slow 0.1 第{i}条" for i in range(5)]

    async def one(i: int):
        await asyncio.sleep(0.02 * i)  # arrival order
        return await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, texts[i]))

    results = await asyncio.gather(*(one(i) for i in range(5)))
    # Late ones may be acknowledged and answered by customer-service message; either way, in order.
    answered = [r[1] for r in results if r[1].startswith("收到")]
    assert answered == [f"收到：{t}" for t in texts][: len(answered)]
    await wait_for(lambda: len(answered) + len(wechat_api.texts_to(OPENID)) == 5)
    assert wechat_api.texts_to(OPENID) == [f"收到：{t}" for t in texts][len(answered) :]
    # a customer-service message is recorded once WeChat's API took it: the transcript follows shortly
    replies = await replies_in_transcript(wechat_gateway, 5)
    assert replies == [f"收到：{t}" for t in texts]
    assert rasa.messages_of(f"wechat:{OPENID}") == texts


async def test_a_slow_nonce_check_does_not_let_a_later_message_overtake(
    wechat_gateway, wechat_server, rasa, monkeypatch
) -> None:
    """The cause of out-of-order answers, made certain: the first message's nonce check (a thread, before
    the turn) is slow, the second is sent meanwhile. It still waits for the first."""
    store = wechat_gateway.gateway.store
    remember_nonce, calls = store.remember_nonce, []

    def slow_for_the_first(*args):
        calls.append(args)
        if len(calls) == 1:
            time.sleep(0.3)
        return remember_nonce(*args)

    monkeypatch.setattr(store, "remember_nonce", slow_for_the_first)

    async def one(text: str, after: float):
        await asyncio.sleep(after)
        return await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, text))

    results = await asyncio.gather(one("第一条", 0), one("第二条", 0.05))
    assert [reply for _, reply in results] == ["收到：第一条", "收到：第二条"]
    assert rasa.messages_of(f"wechat:{OPENID}") == ["第一条", "第二条"]


async def test_handoff_silences_bot_until_closed(wechat_gateway, wechat_server, rasa) -> None:
    _, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "转人工"))
    assert "工作人员" in reply
    gateway = wechat_gateway.gateway
    [case] = cases_of(gateway, f"wechat:{OPENID}")
    assert case["status"] == "waiting" and case["payload"]["reason"] == "request_human"
    # While open, messages still reach Rasa (its tracker stays complete) but the assistant says nothing;
    # the gateway acknowledges in the passive reply (free: no customer-service message used), no buttons.
    status, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "我的情况是……"))
    assert status == 200 and "工作人员" in reply and "取消人工" in reply and "收到" in reply[:3]
    assert "收到：我的情况是" not in reply
    assert rasa.messages_of(f"wechat:{OPENID}")[-1] == "我的情况是……"
    assert await gateway.router.handoff.close(f"wechat:{OPENID}", "staff:test")
    assert (f"wechat:{OPENID}", {"event": "resume"}) in rasa.events
    _, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "还有问题"))
    assert reply == "收到：还有问题"


async def test_menu_definition_cli() -> None:
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "bot", "wechat-menu"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    menu = json.loads(out)
    keys = [b["key"] for top in menu["button"] for b in top.get("sub_button", [top])]
    assert "TOPIC_RENT_SUBSIDY" in keys and "REQUEST_HUMAN" in keys and len(menu["button"]) <= 3
