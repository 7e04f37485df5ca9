"""WeChat official account, protocol level: requests signed and AES-encrypted with wechatpy's own crypto,
the customer-service API replaced by a local stand-in with WeChat's real error codes."""

from __future__ import annotations

import asyncio
import time

import pytest
from gateway_harness import WECHAT_APP_ID, WECHAT_TOKEN, Running, cases_of, wait_for

from bot.models import Reply
from bot.testing.wechat_standin import WeChatServer, sign
from bot.texts import text as say

OPENID = "oABCD1234567890abcdefghijklm"


async def send(running: Running, server: WeChatServer, xml: str, **kwargs) -> tuple[int, str | None]:
    request = server.request(xml, **kwargs)
    response = await running.http.post("/wechat", params=request.params, content=request.body)
    if response.status_code != 200:
        return response.status_code, None
    return 200, server.read_reply(response.text, request.params)


async def transcript(running: Running, openid: str = OPENID) -> list[dict]:
    store = running.gateway.store
    return await store.call(store.messages, f"wechat:{openid}")


async def replies_in_transcript(running: Running, count: int, timeout: float = 5.0) -> list[str]:
    """The assistant's replies in the transcript, once there are ``count`` of them (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await transcript(running)
        replies = [r["text"] for r in rows if r["direction"] == "out" and r["kind"] == "reply"]
        if len(replies) >= count or time.monotonic() > deadline:
            return replies
        await asyncio.sleep(0.02)


async def test_url_verification_echoes_only_when_signed(wechat_gateway: Running) -> None:
    params = {"timestamp": "1700000000", "nonce": "n1", "echostr": "echo-123"}
    good = await wechat_gateway.http.get(
        "/wechat", params={**params, "signature": sign(WECHAT_TOKEN, "1700000000", "n1")}
    )
    assert good.status_code == 200 and good.text == "echo-123"
    bad = await wechat_gateway.http.get("/wechat", params={**params, "signature": "0" * 40})
    assert bad.status_code == 403


async def test_text_in_safe_mode_gets_encrypted_passive_reply(wechat_gateway, wechat_server, rasa) -> None:
    status, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "你好"))
    assert status == 200
    assert reply == "收到：你好"
    assert rasa.received[-1]["sender"] == f"wechat:{OPENID}"
    assert rasa.received[-1]["metadata"] == {"channel": "wechat", "language": "zh"}
    # the inbound message's state is written after the passive reply left (a crash in between replays it)
    store = wechat_gateway.gateway.store
    await wait_for(lambda: store.messages(f"wechat:{OPENID}")[0]["status"] != "received")
    rows = await transcript(wechat_gateway)
    assert [(r["direction"], r["text"], r["status"]) for r in rows] == [
        ("in", "你好", "forwarded"),
        ("out", "收到：你好", "sent_passive"),
    ]


async def test_plain_mode_is_accepted_without_an_aes_key(rasa, gateway_factory) -> None:
    async with gateway_factory((rasa.url,), wechat_token=WECHAT_TOKEN, wechat_app_id=WECHAT_APP_ID) as gw:
        plain = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID)
        status, reply = await send(gw, plain, plain.text_xml(OPENID, "明文"))
        assert (status, reply) == (200, "收到：明文")


async def test_bad_signature_is_refused_and_nothing_stored(
    wechat_gateway, wechat_server, rasa, caplog
) -> None:
    request = wechat_server.request(wechat_server.text_xml(OPENID, "伪造"))
    request.params["signature"] = "f" * 40
    response = await wechat_gateway.http.post("/wechat", params=request.params, content=request.body)
    assert response.status_code == 403
    assert "invalid signature" in caplog.text
    forged = WeChatServer("another-token", WECHAT_APP_ID, wechat_server.aes_key)
    status, _ = await send(wechat_gateway, forged, forged.text_xml(OPENID, "伪造"))
    assert status == 403
    assert rasa.received == [] and await transcript(wechat_gateway) == []


async def test_message_signature_checked_in_safe_mode(wechat_gateway, wechat_server) -> None:
    request = wechat_server.request(wechat_server.text_xml(OPENID, "x"))
    request.params["msg_signature"] = "0" * 40
    response = await wechat_gateway.http.post("/wechat", params=request.params, content=request.body)
    assert response.status_code == 403


@pytest.mark.parametrize("body", [b"<xml><broken", b"not xml at all", b"<xml><Foo>1</Foo></xml>", b""])
async def test_malformed_bodies_get_400(rasa, gateway_factory, body) -> None:
    async with gateway_factory((rasa.url,), wechat_token=WECHAT_TOKEN, wechat_app_id=WECHAT_APP_ID) as gw:
        now = str(int(time.time()))
        params = {"timestamp": now, "nonce": "n", "signature": sign(WECHAT_TOKEN, now, "n")}
        response = await gw.http.post("/wechat", params=params, content=body)
        assert response.status_code == 400
        encrypted = await gw.http.post(
            "/wechat", params={**params, "encrypt_type": "aes", "msg_signature": "x"}, content=body
        )
        assert encrypted.status_code in (400, 403)


async def test_oversize_body_gets_413(wechat_gateway, wechat_server) -> None:
    request = wechat_server.request(wechat_server.text_xml(OPENID, "长" * 40000))
    response = await wechat_gateway.http.post("/wechat", params=request.params, content=request.body)
    assert response.status_code == 413


async def test_overlong_text_is_kept_but_not_forwarded(wechat_gateway, wechat_server, rasa) -> None:
    status, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "问" * 1500))
    assert status == 200 and "太长" in reply
    assert rasa.received == []
    rows = await transcript(wechat_gateway)
    assert rows[0]["text"] == "问" * 1500


async def test_retries_of_one_msgid_get_one_answer(wechat_gateway, wechat_server, rasa) -> None:
    xml = wechat_server.text_xml(OPENID, "重复", msg_id=987654321)
    first = await send(wechat_gateway, wechat_server, xml)
    second = await send(wechat_gateway, wechat_server, xml)
    third = await send(wechat_gateway, wechat_server, xml)
    assert first == (200, "收到：重复")
    # The retry repeats the same passive reply (WeChat shows it once), Rasa sees the message once.
    assert second == third == (200, "收到：重复")
    assert rasa.messages_of(f"wechat:{OPENID}") == ["重复"]
    assert [r["direction"] for r in await transcript(wechat_gateway)] == ["in", "out"]


async def test_concurrent_retries_while_processing_answer_once(wechat_gateway, wechat_server, rasa) -> None:
    xml = wechat_server.text_xml(OPENID, "slow 0.3 并发重试", msg_id=555)
    results = await asyncio.gather(*(send(wechat_gateway, wechat_server, xml) for _ in range(3)))
    assert len(rasa.messages_of(f"wechat:{OPENID}")) == 1
    assert {r for r in results} == {(200, "收到：slow 0.3 并发重试")}


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


async def test_buttons_become_numbered_options_mapped_server_side(
    wechat_gateway, wechat_server, rasa
) -> None:
    _, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "buttons"))
    assert "1. 租房补贴" in reply and "2. 购房补贴" in reply
    _, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "2"))
    assert reply == "payload /ask_purchase_subsidy"
    # A number with no options on offer is just text.
    _, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "2"))
    assert reply == "收到：2"


async def test_long_reply_split_passive_then_customer_service(
    wechat_gateway, wechat_server, wechat_api
) -> None:
    _, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "long 1500"))
    assert len(reply.encode()) <= 2000
    await wait_for(lambda: len(reply) + sum(len(t) for t in wechat_api.texts_to(OPENID)) >= 1500)
    rest = wechat_api.texts_to(OPENID)
    assert len(rest) == 2 and all(len(t.encode()) <= 2000 for t in rest)
    assert reply + "".join(rest) == ("这是一段很长的政策说明。" * 200)[:1500]


async def test_quota_exhausted_reply_held_and_delivered_with_next_message(
    wechat_gateway, wechat_server, wechat_api, rasa
) -> None:
    wechat_api.fail_next = [45047]
    _, ack = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "slow 1.3 配额"))
    assert "稍后" in ack
    await wait_for(lambda: wechat_api.refused)
    await asyncio.sleep(0.2)
    assert wechat_api.refused[0][0] == 45047 and wechat_api.sent == []
    store = wechat_gateway.gateway.store
    held = await store.call(store.held_replies, f"wechat:{OPENID}")
    assert [h["text"] for h in held] == ["收到：slow 1.3 配额"]
    assert (await store.call(store.quota, OPENID))["remaining"] == 0
    # The person writes again: the kept answer comes with this passive reply.
    _, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "在吗"))
    assert "收到：slow 1.3 配额" in reply and "收到：在吗" in reply
    assert await store.call(store.held_replies, f"wechat:{OPENID}") == []


async def test_window_closed_45015_keeps_reply(wechat_gateway, wechat_server, wechat_api) -> None:
    wechat_api.fail_next = [45015]
    await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "slow 1.3 窗口"))
    await wait_for(lambda: wechat_api.refused)
    await asyncio.sleep(0.2)
    store = wechat_gateway.gateway.store
    assert [h["text"] for h in await store.call(store.held_replies, f"wechat:{OPENID}")] == [
        "收到：slow 1.3 窗口"
    ]


async def test_invalid_token_40001_refreshes_and_retries(wechat_gateway, wechat_server, wechat_api) -> None:
    await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "slow 1.2 第一次"))
    await wait_for(lambda: wechat_api.sent)
    wechat_api.expire_token()
    await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "slow 1.2 第二次"))
    await wait_for(lambda: len(wechat_api.sent) == 2)
    assert wechat_api.texts_to(OPENID) == ["收到：slow 1.2 第一次", "收到：slow 1.2 第二次"]
    assert wechat_api.refused[0][0] == 40001
    # Another holder had refreshed: normal mode gave the new token; no force_refresh (rationed, and it
    # would invalidate the token every other gateway process holds).
    assert not any(call.get("force_refresh") for call in wechat_api.token_calls)


async def test_token_still_refused_after_normal_renewal_is_force_refreshed(
    wechat_gateway, wechat_server, wechat_api
) -> None:
    await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "slow 1.2 第一次"))
    await wait_for(lambda: wechat_api.sent)
    wechat_api.revoke_token()
    await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "slow 1.2 第二次"))
    await wait_for(lambda: len(wechat_api.sent) == 2)
    assert wechat_api.texts_to(OPENID) == ["收到：slow 1.2 第一次", "收到：slow 1.2 第二次"]
    assert [bool(call.get("force_refresh")) for call in wechat_api.token_calls] == [False, False, True]


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


async def test_retry_reaching_another_gateway_process_is_not_answered_twice(
    rasa, wechat_api, aes_key, wechat_server, tmp_path
) -> None:
    """Two gateway processes on one database: WeChat's retry lands on the second one."""
    from gateway_harness import WECHAT_SECRET, make_settings, running_gateway

    settings = make_settings(
        tmp_path,
        (rasa.url,),
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_SECRET,
        wechat_aes_key=aes_key,
        wechat_api_base_url=f"{wechat_api.url}/cgi-bin/",
    )
    async with running_gateway(settings) as first, running_gateway(settings) as second:
        xml = wechat_server.text_xml(OPENID, "两台网关", msg_id=777)
        assert await send(first, wechat_server, xml) == (200, "收到：两台网关")
        assert await send(second, wechat_server, xml) == (
            200,
            "收到：两台网关",
        )  # same passive reply, repeated
        assert rasa.messages_of(f"wechat:{OPENID}") == ["两台网关"]
        # Both processes share the access token through the database: one stable_token call in all.
        await first.gateway.router.send(f"wechat:{OPENID}", [Reply("一")])
        await second.gateway.router.send(f"wechat:{OPENID}", [Reply("二")])
        assert wechat_api.texts_to(OPENID) == ["一", "二"] and len(wechat_api.token_calls) == 1


async def test_staff_message_past_the_quota_is_held_with_reason(
    wechat_gateway, wechat_server, wechat_api
) -> None:
    await send(wechat_gateway, wechat_server, wechat_server.event_xml(OPENID, "subscribe"))  # opens 3
    router = wechat_gateway.gateway.router
    conversation = f"wechat:{OPENID}"
    sent = [await router.send(conversation, [Reply(f"第{i}条")], author="staff:wang") for i in range(4)]
    assert [d[0].status for d in sent] == ["sent", "sent", "sent", "held"]
    assert sent[3][0].detail == "no customer-service quota left"
    assert wechat_api.texts_to(OPENID) == ["第0条", "第1条", "第2条"]
    store = wechat_gateway.gateway.store
    assert (await store.call(store.quota, OPENID))["remaining"] == 0
    rows = await store.call(store.messages, conversation, direction="out")
    assert rows[-1]["author"] == "staff:wang" and rows[-1]["status"] == "held"


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


async def test_two_gateway_os_processes_share_dedupe_and_token(
    rasa, wechat_api, aes_key, wechat_server, tmp_path
) -> None:
    """Item 9 with real processes: two `python -m bot` on one SQLite database (as two machines on one
    PostgreSQL would be), WeChat's retry reaching the other one, and one access token for both."""
    import os

    import httpx
    from gateway_harness import WECHAT_SECRET

    from bot.testing.process import free_port, start_gateway, wait_until_reachable

    keep = {"PATH", "HOME", "LANG"}
    base = {k: v for k, v in os.environ.items() if k in keep}
    base.update(
        BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'shared.db'}",
        RASA_URL=rasa.url,
        WECHAT_TOKEN=WECHAT_TOKEN,
        WECHAT_APP_ID=WECHAT_APP_ID,
        WECHAT_APP_SECRET=WECHAT_SECRET,
        WECHAT_ENCODING_AES_KEY=aes_key,
        WECHAT_API_BASE_URL=f"{wechat_api.url}/cgi-bin/",
        WECHAT_PASSIVE_DEADLINE="1.0",
        RASA_TELEMETRY_ENABLED="false",
    )
    ports, processes = [free_port(), free_port()], []
    try:
        # One after the other: two processes migrating a fresh database at the same instant can collide
        # (store.migrate, reported to the store's owner); a rolling start is what a deployment does.
        for port in ports:
            processes.append(start_gateway(dict(base, BOT_PORT=str(port))))
            url = f"http://127.0.0.1:{port}/healthz"
            await asyncio.to_thread(wait_until_reachable, url, processes[-1], 60)
        first, second = (
            Running(
                f"http://127.0.0.1:{p}", None, httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30)
            )
            for p in ports
        )
        xml = wechat_server.text_xml(OPENID, "两个进程", msg_id=8080)
        assert await send(first, wechat_server, xml) == (200, "收到：两个进程")
        assert await send(second, wechat_server, xml) == (200, "收到：两个进程")  # repeated, not re-asked
        assert rasa.messages_of(f"wechat:{OPENID}") == ["两个进程"]
        # A slow answer from each process goes by customer-service message with one shared token.
        for running, text in ((first, "slow 1.3 甲"), (second, "slow 1.3 乙")):
            _, reply = await send(running, wechat_server, wechat_server.text_xml(OPENID, text))
            assert "稍后" in reply
        await wait_for(lambda: len(wechat_api.sent) == 2, timeout=15)
        assert sorted(wechat_api.texts_to(OPENID)) == ["收到：slow 1.3 乙", "收到：slow 1.3 甲"]
        assert len(wechat_api.token_calls) == 1 and wechat_api.classic_token_calls == 0
        await first.http.aclose()
        await second.http.aclose()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.to_thread(process.wait, 20)
