"""The staff console's HTTP API (docs/console-api.md), the case lifecycle: a handoff opens a case, claim, reply,
note, transfer and close, the atomic claim, the assistant's payload on the case card, the page. Against a real
gateway on a free port, its SQLite database, and local stand-ins speaking the real protocols (Rasa's REST channel
and tracker API, Telegram's Bot API). Officers are real HTTP clients with their own cookies; the fixtures and
helpers here (a staffed gateway, signed-in officers, a person's message) are shared by the other console tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_harness import TELEGRAM_TOKEN, Running

from bot.console.case_store import CaseStore
from bot.console.settings import error_text, person_text
from bot.console.workcalendar import office_hours_text
from bot.models import InboundMessage
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
