"""WeChat replies: numbered options, long replies, customer-service quotas (45047, 45015) and tokens (40001)."""

from __future__ import annotations

import asyncio

from gateway_harness import wait_for
from test_gateway_wechat import OPENID, send

from bot.models import Reply


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
