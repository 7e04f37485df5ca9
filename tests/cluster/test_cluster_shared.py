"""Nothing is tied to one gateway process: console events, WeChat dedupe, web chat limits and case claims
hold across the cluster's two gateways (each addressed directly here, to pick the process)."""

from __future__ import annotations

import asyncio
import multiprocessing
import secrets

import httpx
import pytest
from cluster_harness import add_officer, officer, query, read_events, wechat_post

from bot.texts import text as say

pytestmark = pytest.mark.cluster
ACKS = {say("slow_ack", "zh"), say("slow_ack_write_again", "zh")}


async def test_an_officer_on_gateway_a_sees_a_case_opened_through_gateway_b(running_cluster) -> None:
    rc = running_cluster
    add_officer(rc, "li")
    console = await officer(rc.cluster.gateway_url(0), "li")
    events: list[tuple[str, dict]] = []
    async with console.stream("GET", "/console/api/events") as stream:
        reader = asyncio.create_task(read_events(stream, events))
        await asyncio.sleep(1.0)  # the stream's relay is subscribed
        session = secrets.token_urlsafe(18)
        async with httpx.AsyncClient(base_url=rc.cluster.gateway_url(1), timeout=60) as person:
            response = await person.post("/api/chat", json={"session": session, "text": "转人工"})
        assert response.status_code == 200
        conversation = f"web:{session}"
        for _ in range(50):
            if any(k == "case_opened" and e["case"]["conversation_id"] == conversation for k, e in events):
                break
            await asyncio.sleep(0.1)
        reader.cancel()
    await console.aclose()
    opened = [e for k, e in events if k == "case_opened" and e["case"]["conversation_id"] == conversation]
    assert len(opened) == 1, events


async def test_a_wechat_retry_on_the_other_gateway_is_stored_once_and_answered_once(running_cluster) -> None:
    rc = running_cluster
    openid = "o" + secrets.token_hex(8)
    xml = rc.wechat.text_xml(openid, "租房补贴怎么申请", msg_id=rc.wechat.next_msg_id())
    async with httpx.AsyncClient(timeout=10) as client:
        first, second = await asyncio.gather(
            wechat_post(client, rc, xml, rc.cluster.gateway_url(0)),
            wechat_post(client, rc, xml, rc.cluster.gateway_url(1)),
        )
    rows = query(
        rc, "SELECT id FROM messages WHERE conversation_id = :c AND direction = 'in'", c=f"wechat:{openid}"
    )
    assert len(rows) == 1
    assert first[0] == 200 and second[0] == 200
    # WeChat shows a message's passive reply at most once; both responses may carry it (the second
    # repeats the stored one), one says 'success', or, while the first gateway is still in the turn, the
    # second says the answer follows: what the person sees is one answer either way.
    passive = {r for _, r in (first, second) if r and r not in ACKS}
    assert len(passive) <= 1


async def test_web_chat_limits_hold_per_person_across_gateways(running_cluster) -> None:
    rc = running_cluster
    session = secrets.token_urlsafe(18)
    statuses = []
    async with httpx.AsyncClient(timeout=60) as client:
        for i in range(7):  # burst 5 per session (bot/README.md), alternating the two gateways
            base = rc.cluster.gateway_url(i % 2)
            response = await client.post(f"{base}/api/chat", json={"session": session, "text": f"第{i}条"})
            statuses.append(response.status_code)
    assert statuses[:5] == [200] * 5
    assert 429 in statuses[5:], statuses


def _claim(url: str, case_id: int, login: str, barrier, results) -> None:
    from bot.console.case_store import CaseStore
    from bot.store import Store

    store = Store(url)
    cases = CaseStore(store)
    barrier.wait()
    results.put((login, cases.claim(case_id, login)))
    store.dispose()


def test_a_case_claim_is_atomic_across_processes(running_cluster) -> None:
    """Six processes claim the same waiting case at the same moment, three times: one wins each time."""
    from bot.console.case_store import CaseStore
    from bot.store import Store

    url = running_cluster.cluster.database_url("gateway")
    store = Store(url)
    cases = CaseStore(store)
    context = multiprocessing.get_context("spawn")
    winners = []
    for round_ in range(3):
        case, _ = cases.open_case(
            f"web:claim{round_}{secrets.token_hex(4)}",
            reason="request_human",
            summary=None,
            payload=None,
            language="zh",
            opened_by="assistant",
        )
        barrier, results = context.Barrier(6), context.Queue()
        workers = [
            context.Process(target=_claim, args=(url, case["id"], f"officer{i}", barrier, results))
            for i in range(6)
        ]
        for w in workers:
            w.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for w in workers:
            w.join(timeout=30)
        won = [login for login, ok in outcomes if ok]
        assert len(won) == 1, outcomes
        assert cases.get(case["id"])["assignee"] == won[0]
        winners.append(won[0])
    store.dispose()
    print(f"claim races: 3 rounds x 6 processes, one winner each: {winners}")


async def test_two_officers_on_two_gateways_claim_one_case_one_wins(running_cluster) -> None:
    rc = running_cluster
    add_officer(rc, "zhao")
    add_officer(rc, "qian")
    session = secrets.token_urlsafe(18)
    async with httpx.AsyncClient(timeout=60) as person:
        await person.post(f"{rc.url}/api/chat", json={"session": session, "text": "转人工"})
    case_id = query(rc, "SELECT id FROM cases WHERE conversation_id = :c", c=f"web:{session}")[0]["id"]
    a = await officer(rc.cluster.gateway_url(0), "zhao")
    b = await officer(rc.cluster.gateway_url(1), "qian")
    ra, rb = await asyncio.gather(
        a.post(f"/console/api/cases/{case_id}/claim"), b.post(f"/console/api/cases/{case_id}/claim")
    )
    await a.aclose()
    await b.aclose()
    assert sorted([ra.status_code, rb.status_code]) == [200, 409]
