"""Web chat page and its JSON API; the console-facing extension points (sender registry, event bus,
handoff hook) exercised the way the staff console will use them."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from gateway_harness import cases_of

from bot.models import Reply
from bot.texts import text as say


@pytest.fixture
async def web(rasa, gateway_factory):
    async with gateway_factory((rasa.url,)) as running:
        yield running


async def test_page_is_self_contained(web) -> None:
    page = await web.http.get("/")
    assert page.status_code == 200 and "人才直达车" in page.text
    # Offline machine: no external scripts, styles or fonts.
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page.text)
    assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_healthz(web) -> None:
    health = (await web.http.get("/healthz")).json()
    assert health["status"] == "ok" and health["schema_version"] >= 1
    assert health["channels"] == {"web": True, "wechat": False, "telegram": False}
    assert (await web.http.post("/wechat")).status_code == 404  # not configured: says so, no crash


async def test_chat_round_trip_and_transcript(web, rasa) -> None:
    first = (await web.http.post("/api/chat", json={"text": "你好", "language": "zh"})).json()
    session = first["session"]
    assert [m["text"] for m in first["messages"]] == ["收到：你好"]
    again = (await web.http.post("/api/chat", json={"session": session, "text": "/restart"})).json()
    assert again["session"] == session
    assert rasa.messages_of(f"web:{session}") == ["你好", "／restart"]
    assert rasa.received[0]["metadata"] == {"channel": "web", "language": "zh"}
    store = web.gateway.store
    rows = await store.call(store.messages, f"web:{session}")
    assert [(r["direction"], r["text"]) for r in rows] == [
        ("in", "你好"),
        ("out", "收到：你好"),
        ("in", "/restart"),
        ("out", "收到：／restart"),
    ]


async def test_buttons_mapped_from_what_was_offered(web, rasa) -> None:
    reply = (await web.http.post("/api/chat", json={"text": "buttons"})).json()
    session, offered = reply["session"], reply["messages"][0]
    assert [b["title"] for b in offered["buttons"]] == ["租房补贴", "购房补贴"]
    assert "payload" not in offered["buttons"][0]  # the browser never sees payloads
    chosen = await web.http.post(
        "/api/chat", json={"session": session, "button": {"message_id": offered["id"], "index": 0}}
    )
    assert chosen.json()["messages"][0]["text"] == "payload /ask_rent_subsidy"
    # Forged or foreign buttons are refused, nothing reaches Rasa.
    for forged in (
        {"message_id": offered["id"], "index": 5},
        {"message_id": 1, "index": 0},
        {"payload": "/restart"},
    ):
        response = await web.http.post("/api/chat", json={"session": session, "button": forged})
        assert response.status_code == 400
    other = (await web.http.post("/api/chat", json={"text": "hi"})).json()["session"]
    stolen = await web.http.post(
        "/api/chat", json={"session": other, "button": {"message_id": offered["id"], "index": 0}}
    )
    assert stolen.status_code == 400
    assert rasa.messages_of(f"web:{session}") == ["buttons", "/ask_rent_subsidy"]


async def test_bad_requests(web) -> None:
    assert (await web.http.post("/api/chat", content=b"{oops")).status_code == 400
    assert (await web.http.post("/api/chat", json=[1, 2])).status_code == 400
    assert (await web.http.post("/api/chat", json={"text": "  "})).status_code == 400
    assert (await web.http.get("/api/chat/poll", params={"session": "../../etc"})).status_code == 400


async def test_rasa_down_is_polite_and_kept(gateway_factory) -> None:
    async with gateway_factory(("http://127.0.0.1:9",), rasa_connect_retries=1) as running:
        reply = (await running.http.post("/api/chat", json={"text": "有人吗"})).json()
        assert "已保存" in reply["messages"][0]["text"]
        rows = await running.gateway.store.call(running.gateway.store.messages, f"web:{reply['session']}")
        assert rows[0]["text"] == "有人吗" and rows[0]["status"] == "rasa_unavailable"


async def test_officer_reply_reaches_the_page_through_the_sender_registry(web) -> None:
    session = (await web.http.post("/api/chat", json={"text": "你好"})).json()["session"]
    conversation = f"web:{session}"
    last = (await web.gateway.store.call(web.gateway.store.messages, conversation))[-1]["id"]
    poll = asyncio.create_task(web.http.get("/api/chat/poll", params={"session": session, "after": last}))
    await asyncio.sleep(0.1)
    deliveries = await web.gateway.router.send(conversation, [Reply("我是工作人员小王")], author="staff:wang")
    assert deliveries[0].status == "sent"
    messages = (await poll).json()["messages"]
    assert [(m["text"], m["author"]) for m in messages] == [("我是工作人员小王", "staff:wang")]


async def test_event_stream_per_conversation(web) -> None:
    bus = web.gateway.bus
    with bus.subscription() as everything:
        session = (await web.http.post("/api/chat", json={"text": "订阅"})).json()["session"]
        events = [everything.get_nowait() for _ in range(everything.qsize())]
    assert [(e["type"], e["direction"]) for e in events] == [("message", "in"), ("message", "out")]
    assert {e["conversation_id"] for e in events} == {f"web:{session}"}
    with bus.subscription(f"web:{session}") as mine, bus.subscription("web:someone-else-entirely") as theirs:
        await web.http.post("/api/chat", json={"session": session, "text": "再来"})
        assert mine.qsize() == 2 and theirs.qsize() == 0


async def test_handoff_notice_silence_and_resume(web, rasa) -> None:
    reply = (await web.http.post("/api/chat", json={"text": "转人工"})).json()
    session = reply["session"]
    # The assistant says staff will answer; the gateway adds when (the office's calendar), once.
    texts = [m["text"] for m in reply["messages"]]
    assert texts[0] == "好的，已为您转接工作人员，请稍候。" and len(texts) == 2 and "转接人工服务" in texts[1]
    silent = (await web.http.post("/api/chat", json={"text": "handoff"})).json()
    # Payload only: the gateway speaks, once. The wording is the handoff desk's (the staff console's
    # depends on office hours), so only its gist is checked here.
    [notice] = [m["text"] for m in silent["messages"]]
    assert "转接人工服务" in notice
    quiet = (await web.http.post("/api/chat", json={"session": session, "text": "我等着"})).json()
    # not silence: the gateway acknowledges (bot/console/waiting.py); the assistant's answer is kept back
    assert [m["author"] for m in quiet["messages"]] == ["gateway"]
    assert "收到：我等着" not in quiet["messages"][0]["text"]
    assert rasa.messages_of(f"web:{session}")[-1] == "我等着"
    assert await web.gateway.router.handoff.close(f"web:{session}", "staff:wang")
    assert not await web.gateway.router.handoff.close(f"web:{session}", "staff:wang")  # already closed
    back = (await web.http.post("/api/chat", json={"session": session, "text": "回来了"})).json()
    assert [m["text"] for m in back["messages"]] == ["收到：回来了"]
    [case] = cases_of(web.gateway, f"web:{session}")
    assert case["status"] == "closed" and case["closed_by"] == "staff:wang"


async def test_rate_limit_per_session_answers_429_and_stores_nothing(rasa, gateway_factory) -> None:
    async with gateway_factory((rasa.url,), webchat_session_burst=2, webchat_session_per_minute=60.0) as web:
        session = (await web.http.post("/api/chat", json={"text": "一"})).json()["session"]
        assert (await web.http.post("/api/chat", json={"session": session, "text": "二"})).status_code == 200
        refused = await web.http.post("/api/chat", json={"session": session, "text": "三"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        body = refused.json()
        assert body["stored"] is False and body["session"] == session and body["retry_after"] == 1
        assert body["message"] == say("rate_limited", "zh", seconds=1)
        english = await web.http.post("/api/chat", json={"session": session, "text": "3", "language": "en"})
        assert english.status_code == 429 and "too quickly" in english.json()["message"]
        # Refused turns reach neither Rasa nor the transcript: the person sends them again.
        assert rasa.messages_of(f"web:{session}") == ["一", "二"]
        rows = await web.gateway.store.call(web.gateway.store.messages, f"web:{session}", direction="in")
        assert [r["text"] for r in rows] == ["一", "二"]
        other = await web.http.post("/api/chat", json={"text": "另一个人"})
        assert other.status_code == 200  # another session has its own bucket
        await asyncio.sleep(1.05)  # one token back at 60 per minute
        again = await web.http.post("/api/chat", json={"session": session, "text": "三"})
        assert again.status_code == 200 and again.json()["messages"][0]["text"] == "收到：三"


async def test_rate_limit_per_client_address_behind_the_proxy(rasa, gateway_factory) -> None:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 (the reverse proxy); each address has its bucket.
    async with gateway_factory((rasa.url,), webchat_ip_burst=3, webchat_ip_per_minute=1.0) as web:
        office = {"X-Forwarded-For": "203.0.113.7"}
        for n in range(3):  # a new session each time: only the address limit applies
            assert (
                await web.http.post("/api/chat", json={"text": f"m{n}"}, headers=office)
            ).status_code == 200
        refused = await web.http.post("/api/chat", json={"text": "m3"}, headers=office)
        assert refused.status_code == 429 and refused.json()["retry_after"] == 60
        elsewhere = await web.http.post(
            "/api/chat", json={"text": "m3"}, headers={"X-Forwarded-For": "198.51.100.2"}
        )
        assert elsewhere.status_code == 200
    assert [r["message"] for r in rasa.received] == ["m0", "m1", "m2", "m3"]


def test_token_buckets_refill_refuse_without_taking_and_forget_idle_keys() -> None:
    from bot.config import Settings
    from bot.webchat_limits import TokenBuckets, WebChatLimits

    now = [0.0]
    buckets = TokenBuckets(per_minute=6, burst=2, clock=lambda: now[0], max_keys=2)  # one token per 10 s
    for _ in range(2):
        assert buckets.wait_seconds("a") == 0
        buckets.take("a")
    assert buckets.wait_seconds("a") == pytest.approx(10.0)
    now[0] = 4.0
    assert buckets.wait_seconds("a") == pytest.approx(6.0)
    now[0] = 10.0
    assert buckets.wait_seconds("a") == 0
    buckets.take("b")
    now[0] = 100.0  # "a" and "b" refilled completely: forgotten when the table outgrows max_keys
    buckets.take("c")
    assert set(buckets._buckets) == {"c"}
    assert TokenBuckets(per_minute=0, burst=1).wait_seconds("x") == 0  # 0 per minute: limit off

    limits = WebChatLimits(
        Settings(
            webchat_session_burst=1,
            webchat_session_per_minute=60,
            webchat_ip_burst=1,
            webchat_ip_per_minute=60,
        ),
        clock=lambda: now[0],
    )
    assert limits.admit("s1", "ip1") == 0
    assert limits.admit("s2", "ip1") > 0  # the address is spent ...
    assert limits.per_session.wait_seconds("s2") == 0  # ... and the refused turn took nothing from s2
    now[0] += 1.0
    assert limits.admit("s2", "ip1") == 0


async def test_only_a_stated_language_reaches_the_assistant(web, rasa) -> None:
    """The gateway's default language must not pin the conversation: someone who writes English in a page
    left on 中文 is answered in English (the assistant reads it from the words); a chosen one is passed on."""
    await web.http.post("/api/chat", json={"text": "Is there a rent subsidy in Qingpu?"})
    await web.http.post("/api/chat", json={"text": "hello", "language": "en"})
    unstated, chosen = rasa.received[-2:]
    assert unstated["message"] == "Is there a rent subsidy in Qingpu?"
    assert unstated["metadata"] == {"channel": "web"}
    assert chosen["metadata"] == {"channel": "web", "language": "en"}


async def test_a_resent_client_id_is_stored_once_and_gets_the_stored_answer(web, rasa) -> None:
    """The page resends a message (same client id) when its first attempt got no response: the gateway
    answers the resend with the answer it stored, never a second assistant turn."""
    session = "resend-session-000000001"
    body = {"session": session, "text": "租房补贴", "client_id": "c1a2b3c4d5"}
    first = (await web.http.post("/api/chat", json=body)).json()
    again = await web.http.post("/api/chat", json=body)
    assert again.status_code == 200
    assert (
        [m["text"] for m in again.json()["messages"]]
        == [m["text"] for m in first["messages"]]
        == ["收到：租房补贴"]
    )
    assert again.json()["inbound_id"] == first["inbound_id"] and again.json()["pending"] is False
    assert rasa.messages_of(f"web:{session}") == ["租房补贴"]  # Rasa was asked once
    rows = await web.gateway.store.call(web.gateway.store.messages, f"web:{session}")
    assert [(r["direction"], r["text"]) for r in rows] == [("in", "租房补贴"), ("out", "收到：租房补贴")]
    # the same client id in another conversation is another message
    other = {**body, "session": "resend-session-000000002"}
    assert [m["text"] for m in (await web.http.post("/api/chat", json=other)).json()["messages"]] == [
        "收到：租房补贴"
    ]
    for bad in ("short", "x" * 41, "bad id!!", 12345):
        refused = await web.http.post("/api/chat", json={**body, "client_id": bad})
        assert refused.status_code == 400 and "client_id" in refused.json()["error"]


async def test_a_resend_while_the_first_attempt_is_answered_gets_that_one_answer(web, rasa) -> None:
    """The first attempt is still inside this gateway (Rasa slow) when the page resends: the resend waits
    for it (one person's messages go one at a time) and gets its answer; Rasa is asked once. (A resend
    that reaches another gateway while the first one holds the message: the cluster's fault test.)"""
    session = "resend-session-000000003"
    body = {"session": session, "text": "slow 1.5 落户", "client_id": "slowclient01"}
    first = asyncio.create_task(web.http.post("/api/chat", json=body))
    await asyncio.sleep(0.5)
    again = (await web.http.post("/api/chat", json=body)).json()
    assert [m["text"] for m in again["messages"]] == ["收到：slow 1.5 落户"] and again["pending"] is False
    assert [m["text"] for m in (await first).json()["messages"]] == ["收到：slow 1.5 落户"]
    assert rasa.messages_of(f"web:{session}") == ["slow 1.5 落户"]


async def test_messages_sent_at_once_from_one_session_are_answered_in_order(web, rasa) -> None:
    """A session's messages sent 20 ms apart reach the assistant, and are answered, in the order sent
    (each takes its place in the session's line before the gateway's first look-up)."""
    session = "at-once-session-00000001"
    texts = [f"slow 0.1 第{i}条" for i in range(4)]  # within the session's burst of 5

    async def one(i: int):
        await asyncio.sleep(0.02 * i)  # arrival order
        body = {"session": session, "text": texts[i], "client_id": f"at-once-{i:04d}", "language": "zh"}
        return (await web.http.post("/api/chat", json=body)).json()

    answers = await asyncio.gather(*(one(i) for i in range(4)))
    assert [[m["text"] for m in a["messages"]] for a in answers] == [[f"收到：{t}"] for t in texts]
    assert rasa.messages_of(f"web:{session}") == texts
    assert [a["inbound_id"] for a in answers] == sorted(a["inbound_id"] for a in answers)


async def test_a_slow_look_up_does_not_let_a_later_message_of_the_session_overtake(
    web, rasa, monkeypatch
) -> None:
    """The cause of out-of-order answers, made certain: the first message's client-id look-up (a thread,
    before the turn) is slow, the second is sent meanwhile. It still waits for the first."""
    session = "at-once-session-00000002"
    store = web.gateway.store
    find_inbound = store.find_inbound

    def slow_for_the_first(channel: str, external_id: str):
        if external_id.endswith("/first-0001"):
            time.sleep(0.3)
        return find_inbound(channel, external_id)

    monkeypatch.setattr(store, "find_inbound", slow_for_the_first)

    async def one(text: str, client_id: str, after: float):
        await asyncio.sleep(after)
        body = {"session": session, "text": text, "client_id": client_id}
        return (await web.http.post("/api/chat", json=body)).json()

    await asyncio.gather(one("第一条", "first-0001", 0), one("第二条", "second-001", 0.05))
    assert rasa.messages_of(f"web:{session}") == ["第一条", "第二条"]
