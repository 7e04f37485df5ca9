"""Fail-over, one fault at a time, with what the person experiences printed.

* A Rasa node dies: its people are routed to the next node on the ring, which reads the same PostgreSQL
  tracker store, so the conversation (slots, history) goes on. Needs the trained model (the stand-in
  keeps conversations in memory).
* A gateway dies mid-turn: the turn is held mid-way by stopping the Rasa nodes (SIGSTOP), the gateway is
  SIGKILLed, Rasa is continued, and WeChat's retry of the same MsgId reaches the other gateway.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time

import httpx
import pytest
from cluster_harness import eventually, query, wechat_post

from bot.config import Settings
from bot.rasa_client import HashRing
from bot.texts import text as say

pytestmark = pytest.mark.cluster
APOLOGY = say("rasa_down", "zh")
ACKS = {say("slow_ack", "zh"), say("slow_ack_write_again", "zh")}


async def test_a_person_keeps_their_conversation_when_their_rasa_node_dies(running_cluster) -> None:
    rc = running_cluster
    if rc.rasa_mode != "model":
        pytest.skip("needs the trained model: the Rasa stand-in keeps no shared tracker")
    session = secrets.token_urlsafe(18)
    sender = f"web:{session}"
    owner = HashRing(rc.cluster.rasa_urls).node_for(sender)
    owner_name = f"rasa{rc.cluster.rasa_urls.index(owner)}"
    other = next(u for u in rc.cluster.rasa_urls if u != owner)
    async with httpx.AsyncClient(base_url=rc.url, timeout=60) as person:
        first = await person.post("/api/chat", json={"session": session, "text": "我是硕士，在青浦区工作"})
        assert first.status_code == 200
        rc.cluster.kill(owner_name)
        try:
            started = time.monotonic()
            second = await person.post("/api/chat", json={"session": session, "text": "我今年28岁"})
            waited = time.monotonic() - started
            tracker = (
                await person.get(
                    f"{other}/conversations/{sender}/tracker", params={"token": rc.cluster.rasa_token}
                )
            ).json()
        finally:
            await asyncio.to_thread(rc.cluster.start_service, owner_name)
    replies = [m["text"] for m in second.json()["messages"]]
    print(
        f"\nRasa node {owner_name} (owner of the conversation) SIGKILLed; next message answered in {waited:.2f} s"
    )
    print(f"  by the other node, replies: {replies}")
    slots = tracker["slots"]
    print(
        f"  its tracker (shared PostgreSQL store): education={slots.get('education')}, district="
        f"{slots.get('district')}, age={slots.get('age')}"
    )
    assert second.status_code == 200 and replies and APOLOGY not in replies
    # what the person said to the dead node is known to the other one: nothing to repeat
    assert slots.get("district") and slots.get("education") and slots.get("age")


async def test_a_wechat_retry_after_its_gateway_died_mid_turn_gets_exactly_one_answer(
    running_cluster,
) -> None:
    rc = running_cluster
    cluster = rc.cluster
    openid = "oMID" + secrets.token_hex(6)
    xml = rc.wechat.text_xml(openid, "租房补贴怎么申请", msg_id=rc.wechat.next_msg_id())
    rasa = [cluster.services[f"rasa{i}"].process for i in range(cluster.rasa_nodes)]
    for process in rasa:
        os.kill(process.pid, signal.SIGSTOP)  # the turn will hang after the message is stored
    stopped, restarted = True, False
    try:
        async with httpx.AsyncClient(timeout=5.0) as wechat:
            first = asyncio.create_task(wechat_post(wechat, rc, xml, cluster.gateway_url(0)))
            stored = await eventually(
                lambda: bool(
                    query(rc, "SELECT id FROM messages WHERE conversation_id = :c", c=f"wechat:{openid}")
                ),
                10,
            )
            assert stored
            cluster.kill("gateway0")
            for process in rasa:
                os.kill(process.pid, signal.SIGCONT)
            stopped = False
            try:
                await first
            except httpx.HTTPError:
                pass  # the connection died with the gateway: WeChat retries
            retry_status, retry_reply = await wechat_post(wechat, rc, xml)  # through the load balancer
        texts = [retry_reply] if retry_reply and retry_reply not in ACKS else []
        # the supervisor brings gateway0 back; the answer may come from it (a replay of what it left
        # unanswered) or from the retry's gateway: the person must get it exactly once either way
        await asyncio.to_thread(cluster.start_service, "gateway0")
        restarted = True
        # the retry came within the dead gateway's lease (acknowledged): the replay answers once it ran out
        lease = Settings.from_env(cluster.services["gateway0"].env).lease_seconds
        await eventually(lambda: texts or rc.standins.wechat_api.texts_to(openid), lease + 30)
        await asyncio.sleep(5)  # anything doubled arrives too
        texts += rc.standins.wechat_api.texts_to(openid)
    finally:
        if stopped:
            for process in rasa:
                os.kill(process.pid, signal.SIGCONT)
        if not restarted:
            await asyncio.to_thread(cluster.start_service, "gateway0")
    inbound = query(
        rc, "SELECT id FROM messages WHERE conversation_id = :c AND direction = 'in'", c=f"wechat:{openid}"
    )
    print(
        f"\ngateway0 SIGKILLed mid-turn; WeChat's retry via the load balancer: HTTP {retry_status}, "
        f"the person received {texts}"
    )
    assert len(inbound) == 1
    assert len(texts) == 1, texts
