"""The staff console's HTTP API (docs/console-api.md) against a real gateway on a free port, its SQLite
database, and local stand-ins speaking the real protocols (Rasa's REST channel and tracker API, Telegram's
Bot API, WeChat's servers and customer-service API). Officers are real HTTP clients with their own cookies.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_harness import TELEGRAM_TOKEN, Running, wait_for
from sqlalchemy import func, select, update

from bot.console.case_store import CaseStore
from bot.console.settings import error_text, held_explanation, person_text
from bot.console.workcalendar import office_hours_text
from bot.models import InboundMessage
from bot.store import audit_log, canned_replies, case_notes, cases, login_throttle, staff_sessions, utcnow
from bot.testing.telegram_standin import text_update
from bot.texts import text as say

PASSWORD = "console-test-password-1"
ID_NUMBER, PHONE = "310101199001011234", "13812345678"
STAFF = [("wang", "officer", "王芳"), ("li", "officer", "李强"), ("boss", "admin", "赵主任")]


@contextlib.asynccontextmanager
async def staffed(running: Running) -> AsyncIterator[Running]:
    accounts = running.gateway.cases.accounts
    for login, role, name in STAFF:
        await running.gateway.store.call(accounts.add, login, PASSWORD, role=role, display_name=name)
    yield running


@pytest.fixture
async def console(rasa, telegram_api, gateway_factory) -> AsyncIterator[Running]:
    """Web chat and Telegram (webhook) in front of the Rasa stand-in, three staff accounts."""
    async with (
        gateway_factory(
            (rasa.url,),
            telegram_token=TELEGRAM_TOKEN,
            telegram_api_base_url=f"{telegram_api.url}/bot",
            webchat_session_per_minute=0,
            webchat_ip_per_minute=0,
        ) as running,
        staffed(running),
    ):
        yield running


class Officer:
    """One browser: its own cookie jar, and the CSRF token the log-in returned."""

    def __init__(self, http: httpx.AsyncClient, me: dict) -> None:
        self.http, self.me = http, me
        self.headers = {"X-CSRF-Token": me["csrf_token"]}

    async def get(self, path: str, **kwargs) -> httpx.Response:
        return await self.http.get(f"/console/api{path}", **kwargs)

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.http.post(f"/console/api{path}", json=body or {}, headers=self.headers)

    async def queue(self) -> list[dict]:
        return (await self.get("/cases", params={"view": "queue"})).json()["cases"]


@pytest.fixture
async def sign_in(console) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    async def sign_in(login: str, running: Running | None = None) -> Officer:
        http = httpx.AsyncClient(base_url=(running or console).url, timeout=30)
        clients.append(http)
        response = await http.post("/console/api/login", json={"login": login, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return Officer(http, response.json())

    yield sign_in
    for http in clients:
        await http.aclose()


async def person_says(running: Running, text: str, session: str | None = None) -> dict:
    body = {"text": text, **({"session": session} if session else {})}
    response = await running.http.post("/api/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def opened_case(running: Running, officer: Officer, text: str = "handoff") -> tuple[str, dict]:
    """A web chat person asks for a human (the Rasa stand-in hands off, as action_handoff does)."""
    session = (await person_says(running, text))["session"]
    [case] = [c for c in await officer.queue() if c["conversation_id"] == f"web:{session}"]
    return session, case


# -- lifecycle ---------------------------------------------------------------------------------------------
async def test_handoff_opens_a_waiting_case_and_tells_the_person_when(console, sign_in) -> None:
    wang = await sign_in("wang")
    reply = await person_says(console, "handoff")
    # the assistant sent only the payload, so the gateway speaks: office hours, in the person's language
    [notice] = reply["messages"]
    assert "人工" in notice["text"] and office_hours_text("zh") in notice["text"]
    [case] = await wang.queue()
    assert case["conversation_id"] == f"web:{reply['session']}"
    assert (case["status"], case["reason"], case["reason_label"]) == (
        "waiting",
        "request_human",
        "用户要求人工",
    )
    assert case["assignee"] is None and case["language"] == "zh" and case["channel"] == "web"
    assert case["person"].startswith("网页用户") and reply["session"] not in case["person"]
    detail = (await wang.get(f"/cases/{case['id']}")).json()
    # the summary is written from the conversation (summary.py), not the assistant's template
    parts = detail["case"]["summary_parts"]
    assert parts["asked"] == ["handoff"] and parts["handed_off"] == "用户要求人工（用户最后说：“handoff”）"
    assert detail["case"]["summary"].endswith("转人工原因：用户要求人工（用户最后说：“handoff”）")
    assert detail["case"]["profile"] == [{"field": "district", "label": "所在区", "value": "songjiang"}]
    assert [h["action"] for h in detail["history"]] == ["case_opened"]
    assert await console.gateway.router.handoff.is_open(case["conversation_id"])


async def test_claim_reply_note_transfer_close_and_the_assistant_is_back(console, sign_in, rasa) -> None:
    wang, li = await sign_in("wang"), await sign_in("li")
    session, case = await opened_case(console, wang, "转人工")
    case_url = f"/cases/{case['id']}"
    claimed = await wang.post(f"{case_url}/claim")
    assert claimed.status_code == 200 and claimed.json()["case"]["assignee_name"] == "王芳"
    assert await wang.queue() == []
    # the officer's reply reaches the web chat page (its long poll)
    last = (await console.gateway.store.call(console.gateway.store.messages, f"web:{session}"))[-1]["id"]
    poll = asyncio.create_task(
        console.http.get("/api/chat/poll", params={"session": session, "after": last, "wait": 5})
    )
    await asyncio.sleep(0.1)
    sent = await wang.post(f"{case_url}/reply", {"text": "您好，我是王芳，请问您在哪个区工作？"})
    assert sent.status_code == 200
    assert [d["status"] for d in sent.json()["deliveries"]] == ["sent"] and "explanation" not in sent.json()
    polled = (await poll).json()["messages"]
    assert [(m["text"], m["author"]) for m in polled] == [
        ("您好，我是王芳，请问您在哪个区工作？", "staff:wang")
    ]
    # while the case is open the person's words reach Rasa, but the assistant stays silent
    quiet = await person_says(console, "我在青浦", session)
    assert quiet["messages"] == [] and rasa.messages_of(f"web:{session}")[-1] == "我在青浦"
    note = await wang.post(f"{case_url}/notes", {"text": "需核实社保缴纳情况"})
    assert note.status_code == 201 and note.json()["note"]["author_name"] == "王芳"
    moved = await wang.post(f"{case_url}/transfer", {"to": "li"})
    assert moved.status_code == 200 and moved.json()["case"]["assignee"] == "li"
    refused = await wang.post(f"{case_url}/reply", {"text": "还在吗"})
    assert (refused.status_code, refused.json()["code"]) == (409, "not_yours")
    closed = await li.post(f"{case_url}/close", {"outcome": "answered"})
    assert closed.status_code == 200
    done = closed.json()["case"]
    assert (done["status"], done["outcome"], done["closed_by"]) == ("closed", "answered", "staff:li")
    assert (f"web:{session}", {"event": "resume"}) in rasa.events
    rows = await console.gateway.store.call(console.gateway.store.messages, f"web:{session}")
    # the person is told, and offered to rate the service (好差评, bot/console/ratings.py)
    assert [r["text"] for r in rows[-2:]] == [person_text("case_closed", "zh"), say("rating_prompt", "zh")]
    back = await person_says(console, "还有个问题", session)
    assert [m["text"] for m in back["messages"]] == ["收到：还有个问题"]
    detail = (await li.get(case_url)).json()
    assert [n["text"] for n in detail["notes"]] == ["需核实社保缴纳情况"]
    assert [h["action"] for h in detail["history"]] == [
        "case_opened",
        "claim",
        "reply",
        "note",
        "transfer",
        "close",
    ]
    assert [h["actor"] for h in detail["history"]][1:] == ["wang", "wang", "wang", "wang", "li"]
    assert (await li.post(f"{case_url}/close", {"outcome": "answered"})).json()["code"] == "closed"
    closed_view = (await li.get("/cases", params={"view": "closed"})).json()["cases"]
    assert [c["id"] for c in closed_view] == [case["id"]]


async def test_two_officers_claiming_at_once_exactly_one_wins(console, sign_in) -> None:
    wang, li = await sign_in("wang"), await sign_in("li")
    _, case = await opened_case(console, wang)
    answers = await asyncio.gather(*(o.post(f"/cases/{case['id']}/claim") for o in (wang, li, wang, li)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409]
    winner = next(a for a in answers if a.status_code == 200).json()["case"]["assignee_name"]
    for lost in (a for a in answers if a.status_code == 409):
        assert lost.json() == {
            "error": error_text("already_claimed", name=winner),
            "code": "already_claimed",
        }


def test_claim_is_atomic_in_the_database(tmp_path) -> None:
    """Twenty threads, each with its own connection, claim one case: exactly one UPDATE matches."""
    from bot.store import Store

    store = Store(f"sqlite:///{tmp_path / 'claims.db'}")
    store.migrate()
    assert_one_claim_wins(store)
    store.dispose()


def assert_one_claim_wins(store, threads: int = 20) -> None:
    desk = CaseStore(store)
    store.record_inbound(InboundMessage(channel="web", user_id="race-person", text="转人工"))
    case, opened = desk.open_case(
        "web:race-person",
        reason="request_human",
        summary=None,
        payload={},
        language="zh",
        opened_by="assistant",
    )
    assert opened
    barrier, results = threading.Barrier(threads), []

    def claim(index: int) -> None:
        barrier.wait()
        results.append((index, desk.claim(case["id"], f"officer{index}")))

    workers = [threading.Thread(target=claim, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    winners = [index for index, won in results if won]
    assert len(results) == threads and len(winners) == 1
    assert desk.get(case["id"])["assignee"] == f"officer{winners[0]}"


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


async def test_assistant_payload_with_a_result_is_shown_on_the_case_card(console, sign_in) -> None:
    """The shape actions/handoff.py sends (tests/actions check the action side with real Trackers)."""
    wang = await sign_in("wang")
    session = (await person_says(console, "你好"))["session"]
    await person_says(console, f"我在青浦租房，电话{PHONE}", session)
    result = {
        "topic": "rent_subsidy",
        "title": "租房补贴",
        "personalised": True,
        "results": [
            {
                "policy": "青浦高层次人才租房补贴",
                "status": "eligible",
                "tier": "D",
                "amount": "每月最高4000元",
                "payout": "按月发放",
                "duration": "累计最长不超过5年",
                "conditions": ["用人单位注册在青浦并在青浦纳税"],
                "how_to_apply": "由用人单位作为申请主体……",
                "citation": {
                    "document": "关于推动人才高质量发展……的若干意见",
                    "number": "青委〔2020〕88号",
                    "article": "附件4第一条",
                },
            }
        ],
    }
    payload = {
        "reason": "personalised",
        "summary": f"原因：一事一议；电话{PHONE}",
        "profile": {"district": "青浦", "full_time": True, "honors": ["国家级"], "age": 34},
        "result": result,
        "language": "en",
    }
    message = InboundMessage(channel="web", user_id=session, text="…")
    replies = await console.gateway.router.handoff.on_handoff(message, payload, "zh")
    assert "staff member" in replies[0].text  # told in the person's language (the payload's)
    [case] = await wang.queue()
    detail = (await wang.get(f"/cases/{case['id']}")).json()["case"]
    assert detail["language"] == "en" and detail["reason_label"] == "一事一议/个性化政策"
    assert detail["result"] == result
    # the summary is written from the conversation, with personal numbers masked
    assert PHONE not in detail["summary"] and "138****5678" in detail["summary"]
    assert detail["summary_parts"]["facts"] == ["我在青浦租房，电话138****5678"]
    values = {p["field"]: p["value"] for p in detail["profile"]}
    assert values == {"district": "青浦", "full_time": "是", "honors": "国家级", "age": "34"}


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


# -- refusals ----------------------------------------------------------------------------------------------
async def test_wrong_passwords_lock_the_login_from_that_address_for_fifteen_minutes(console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as http:

        async def attempt(password: str) -> httpx.Response:
            return await http.post("/console/api/login", json={"login": "wang", "password": password})

        for _ in range(4):
            assert (await attempt("wrong-password")).json()["code"] == "bad_credentials"
        fifth = await attempt("wrong-password")
        assert fifth.status_code == 423 and fifth.json() == {
            "error": error_text("locked", minutes=15),
            "code": "locked",
        }
        still = await attempt(PASSWORD)  # even the right password, while locked
        assert still.status_code == 423 and "console_session" not in still.cookies
        unknown = await http.post("/console/api/login", json={"login": "nobody", "password": "x"})
        assert unknown.json()["code"] == "bad_credentials"  # same answer as a wrong password
        bad = await http.post(
            "/console/api/login", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert (bad.status_code, bad.json()["code"]) == (400, "bad_request")
        # fifteen minutes later (the failures moved back in time), the login works again
        store = console.gateway.store
        later = dt.timedelta(minutes=16)

        def age_failures() -> None:
            with store.engine.begin() as conn:
                conn.execute(
                    update(login_throttle).values(window_start=login_throttle.c.window_start - later)
                )

        await store.call(age_failures)
        assert (await attempt(PASSWORD)).status_code == 200
    audit = [
        (e["actor"], e["action"]) for e in await store.call(console.gateway.cases.audit.entries, limit=20)
    ]
    assert audit.count(("wang", "login_failed")) == 5 and ("wang", "login") in audit
    assert ("wang", "login_refused_locked") in audit


async def test_expired_session_missing_or_forged_csrf_and_no_cookie_are_refused(console, sign_in) -> None:
    wang = await sign_in("wang")
    _, case = await opened_case(console, wang)
    no_token = await wang.http.post(f"/console/api/cases/{case['id']}/claim")
    assert (no_token.status_code, no_token.json()["code"]) == (403, "csrf")
    forged = await wang.http.post(
        f"/console/api/cases/{case['id']}/claim", headers={"X-CSRF-Token": "forged"}
    )
    assert (forged.status_code, forged.json()["error"]) == (403, error_text("csrf"))
    li = await sign_in("li")  # another session's token is not this session's
    crossed = await wang.http.post(f"/console/api/cases/{case['id']}/claim", headers=li.headers)
    assert crossed.status_code == 403
    async with httpx.AsyncClient(base_url=console.url) as anonymous:
        response = await anonymous.get("/console/api/cases")
        assert (response.status_code, response.json()["code"]) == (401, "not_logged_in")
        events = await anonymous.get("/console/api/events")
        assert events.status_code == 401
    assert (await wang.get("/me")).status_code == 200
    store = console.gateway.store

    def idle_for_31_minutes() -> None:
        with store.engine.begin() as conn:
            conn.execute(update(staff_sessions).values(last_seen_at=utcnow() - dt.timedelta(minutes=31)))

    await store.call(idle_for_31_minutes)
    expired = await wang.get("/me")
    assert (expired.status_code, expired.json()) == (
        401,
        {"error": error_text("session_expired"), "code": "session_expired"},
    )
    claim = await wang.post(f"/cases/{case['id']}/claim")
    assert claim.status_code == 401  # nothing happened
    assert (await li.get("/me")).status_code == 401  # both sessions were idle


async def test_another_officers_case_and_admin_only_routes_are_refused(console, sign_in) -> None:
    wang, li, boss = await sign_in("wang"), await sign_in("li"), await sign_in("boss")
    _, case = await opened_case(console, wang)
    url = f"/cases/{case['id']}"
    waiting_reply = await wang.post(f"{url}/reply", {"text": "hi"})
    assert (waiting_reply.status_code, waiting_reply.json()["code"]) == (409, "not_yours")
    await wang.post(f"{url}/claim")
    for path, body in (
        (f"{url}/reply", {"text": "hi"}),
        (f"{url}/close", {"outcome": "answered"}),
        (f"{url}/transfer", {"to": "li"}),
    ):
        response = await li.post(path, body)
        assert (response.status_code, response.json()) == (
            409,
            {"error": error_text("not_yours"), "code": "not_yours"},
        ), path
    assert (await wang.post(f"{url}/close", {"outcome": "solved-it"})).json()["code"] == "bad_outcome"
    assert (await wang.post(f"{url}/reply", {"text": "   "})).json()["code"] == "empty"
    assert (await wang.post(f"{url}/reply", {"text": "长" * 2001})).json()["code"] == "too_long"
    assert (await wang.post(f"{url}/transfer", {"to": "ghost"})).json()["code"] == "no_such_officer"
    assert (await wang.get("/cases/99999")).json()["code"] == "no_such_case"
    assert (await wang.get("/cases", params={"view": "everything"})).status_code == 400
    for response in (
        await li.get(f"{url}/export"),
        await li.get("/audit"),
        await li.post("/canned", {"title": "t", "text": "x", "language": "zh"}),
        await li.http.put("/console/api/canned/1", json={"title": "t", "text": "x"}, headers=li.headers),
        await li.http.delete("/console/api/canned/1", headers=li.headers),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    # an admin may move any open case, and sees who did what
    assert (await boss.post(f"{url}/transfer", {"to": "li"})).json()["case"]["assignee"] == "li"
    actions = [(e["actor"], e["action"]) for e in (await boss.get("/audit")).json()["entries"]]
    assert ("boss", "transfer") in actions and ("wang", "claim") in actions


# -- privacy and audit ---------------------------------------------------------------------------------------
async def test_id_and_phone_numbers_masked_in_lists_previews_and_logs(console, sign_in, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    wang, li, boss = await sign_in("wang"), await sign_in("li"), await sign_in("boss")
    words = f"转人工，身份证{ID_NUMBER}，手机{PHONE}"
    session = (await person_says(console, words))["session"]
    await person_says(console, f"再说一遍 {PHONE}", session)
    [case] = await wang.queue()
    assert ID_NUMBER not in json.dumps(case, ensure_ascii=False)
    assert case["last_message_preview"] == "再说一遍 138****5678"
    listed = (await wang.get("/conversations")).json()["conversations"]
    assert PHONE not in json.dumps(listed, ensure_ascii=False)
    texts = lambda detail: [m["text"] for m in detail["messages"] if m["direction"] == "in"]  # noqa: E731
    unclaimed = (await wang.get(f"/cases/{case['id']}")).json()
    assert texts(unclaimed)[0] == "转人工，身份证310***********1234，手机138****5678"
    await wang.post(f"/cases/{case['id']}/claim")
    assert texts((await wang.get(f"/cases/{case['id']}")).json())[0] == words  # the assignee sees the words
    assert texts((await li.get(f"/cases/{case['id']}")).json())[0] != words  # a colleague does not
    assert texts((await boss.get(f"/cases/{case['id']}")).json())[0] == words  # an admin does
    await wang.post(f"/cases/{case['id']}/notes", {"text": f"回电 {PHONE}"})
    await wang.post(f"/cases/{case['id']}/reply", {"text": f"我们会致电{PHONE}"})
    logging.getLogger("bot.test").info("person wrote %s and %s", ID_NUMBER, PHONE)
    assert caplog.records, "nothing was logged"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert ID_NUMBER not in logged and PHONE not in logged and "138****5678" in logged
    entries = (await boss.get("/audit")).json()["entries"]
    assert PHONE not in json.dumps(entries, ensure_ascii=False)


async def test_admin_exports_a_transcript_and_the_export_is_audited(console, sign_in) -> None:
    wang, boss = await sign_in("wang"), await sign_in("boss")
    session, case = await opened_case(console, wang, f"转人工 {PHONE}")
    await wang.post(f"/cases/{case['id']}/claim")
    await wang.post(f"/cases/{case['id']}/reply", {"text": "您好"})
    export = await boss.get(f"/cases/{case['id']}/export")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/plain; charset=utf-8"
    assert export.headers["content-disposition"] == f'attachment; filename="case-{case["id"]}.txt"'
    assert f"转人工 {PHONE}" in export.text and "王芳：您好" in export.text and session in export.text
    assert "（时间均为 UTC+8 本地时间）" in export.text  # not UTC: the office reads its own clock
    entries = (await boss.get("/audit", params={"limit": 5})).json()["entries"]
    assert (entries[0]["actor"], entries[0]["action"], entries[0]["case_id"]) == (
        "boss",
        "export",
        case["id"],
    )


async def test_canned_replies_are_managed_by_admins_and_retired_never_deleted(console, sign_in) -> None:
    wang, boss = await sign_in("wang"), await sign_in("boss")
    made = await boss.post(
        "/canned", {"title": "办理时间", "text": "工作日 9:00–17:00 办理。", "language": "zh"}
    )
    assert made.status_code == 201
    canned_id = made.json()["canned"]["id"]
    edited = await boss.http.put(
        f"/console/api/canned/{canned_id}",
        json={"title": "办理时间", "text": "工作日 9:00–17:00 现场办理。", "language": "zh"},
        headers=boss.headers,
    )
    assert edited.json()["canned"]["text"] == "工作日 9:00–17:00 现场办理。"
    assert [c["title"] for c in (await wang.get("/canned")).json()["canned"]] == ["办理时间"]
    bad = await boss.post("/canned", {"title": "x", "text": "y", "language": "fr"})
    assert bad.json()["code"] == "bad_language"
    retired = await boss.http.delete(f"/console/api/canned/{canned_id}", headers=boss.headers)
    assert retired.status_code == 204
    assert (await wang.get("/canned")).json()["canned"] == []
    again = await boss.http.delete(f"/console/api/canned/{canned_id}", headers=boss.headers)
    assert again.json()["code"] == "no_such_canned"
    rows = await console.gateway.store.call(console.gateway.cases.cases.canned, include_retired=True)
    assert [(r["id"], r["retired"]) for r in rows] == [(canned_id, True)]
    actions = [e["action"] for e in (await boss.get("/audit")).json()["entries"]]
    assert {"canned_add", "canned_edit", "canned_retire"} <= set(actions)


async def test_nothing_is_deleted(console, sign_in) -> None:
    wang = await sign_in("wang")
    for _ in range(2):
        session, case = await opened_case(console, wang)
        await wang.post(f"/cases/{case['id']}/claim")
        await wang.post(f"/cases/{case['id']}/notes", {"text": "记录"})
        await wang.post(f"/cases/{case['id']}/close", {"outcome": "answered"})
    await console.gateway.store.call(console.gateway.cases.accounts.disable, "li")
    store = console.gateway.store

    def counts() -> dict[str, int]:
        with store.engine.connect() as conn:
            return {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                for table in (cases, case_notes, audit_log)
            }

    assert counts() == {"cases": 2, "case_notes": 2, "audit_log": counts()["audit_log"]}
    assert [a["login"] for a in await store.call(console.gateway.cases.accounts.list)] == [
        "boss",
        "li",
        "wang",
    ]
    officers = (await wang.get("/officers")).json()["officers"]
    assert [(o["login"], o["display_name"], o["role"]) for o in officers] == [
        ("boss", "赵主任", "admin"),
        ("wang", "王芳", "officer"),
    ]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(canned_replies)).scalar() == 0


# -- the page ------------------------------------------------------------------------------------------------
async def test_console_page_is_served_with_a_strict_policy(console) -> None:
    from bot.console.api import PAGE

    page = await console.http.get("/console")
    if PAGE.exists():
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    else:
        assert (page.status_code, page.text) == (503, "console page not built")
    outcomes = (await console.http.get("/console/api/outcomes")).json()
    assert outcomes["code"] == "not_logged_in"
