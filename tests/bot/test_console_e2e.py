"""Issue 5's pause/resume contract with the real trained assistant (marked e2e): a web-chat person asks for
a human, the assistant stays silent while the case is open, an officer closes it through the console's API,
and the assistant answers the same question again. The gateway runs in-process in front of the Rasa and
action servers that tests/conftest.py's ``assistant_services`` starts."""

from __future__ import annotations

import httpx
import pytest

from bot.console.settings import person_text
from bot.texts import text as say

pytestmark = pytest.mark.e2e

PASSWORD = "console-e2e-password-1"
QUESTION = "青浦的租房补贴怎么领"
NOT_ANSWERS = {say("rasa_down", "zh"), say("rasa_down", "en")}


async def test_the_assistant_is_silent_while_a_case_is_open_and_answers_after_close(
    assistant_services, gateway_factory
) -> None:
    async with gateway_factory(
        (assistant_services["rasa_url"],),
        rasa_token=assistant_services["rasa_token"],
        rasa_timeout=60.0,
        webchat_session_per_minute=0,
        webchat_ip_per_minute=0,
    ) as web:
        accounts = web.gateway.cases.accounts
        await web.gateway.store.call(accounts.add, "wang", PASSWORD, role="officer", display_name="王芳")

        async def person(text: str, session: str | None = None) -> dict:
            body = {"text": text, "language": "zh", **({"session": session} if session else {})}
            response = await web.http.post("/api/chat", json=body)
            assert response.status_code == 200, response.text
            return response.json()

        human = await person("转人工")
        session = human["session"]
        assert human["messages"], "the person is told a human will answer"
        async with httpx.AsyncClient(base_url=web.url, timeout=60) as officer:
            me = (
                await officer.post("/console/api/login", json={"login": "wang", "password": PASSWORD})
            ).json()
            headers = {"X-CSRF-Token": me["csrf_token"]}
            queue = (await officer.get("/console/api/cases", params={"view": "queue"})).json()["cases"]
            [case] = [c for c in queue if c["conversation_id"] == f"web:{session}"]
            assert case["reason"] == "request_human" and case["language"] == "zh"
            detail = (await officer.get(f"/console/api/cases/{case['id']}")).json()["case"]
            assert detail["summary"]  # the assistant's summary of the conversation

            silent = await person(QUESTION, session)
            # paused: the assistant does not answer while the case is open; the gateway acknowledges
            assert [m["author"] for m in silent["messages"]] == ["gateway"]
            claimed = await officer.post(f"/console/api/cases/{case['id']}/claim", headers=headers)
            assert claimed.status_code == 200
            replied = await officer.post(
                f"/console/api/cases/{case['id']}/reply",
                json={"text": "您好，我是王芳，正在为您查询。"},
                headers=headers,
            )
            assert [d["status"] for d in replied.json()["deliveries"]] == ["sent"]
            closed = await officer.post(
                f"/console/api/cases/{case['id']}/close", json={"outcome": "answered"}, headers=headers
            )
            assert closed.status_code == 200 and closed.json()["case"]["status"] == "closed"

        rows = await web.gateway.store.call(web.gateway.store.messages, f"web:{session}")
        sent = [r["text"] for r in rows if r["direction"] == "out" and r["status"] == "sent"]
        assert "您好，我是王芳，正在为您查询。" in sent and sent[-2] == person_text("case_closed", "zh")
        # the person's question reached Rasa while paused (the transcript and slots stay complete)
        assert [r["status"] for r in rows if r["text"] == QUESTION] == ["forwarded"]

        answered = await person(QUESTION, session)
        texts = [m["text"] for m in answered["messages"]]
        assert texts and not set(texts) & NOT_ANSWERS, texts
        # the same answer a person who never talked to staff gets (before the fix in RasaClient.hand_back
        # it was the fallback and a second handoff)
        fresh = [m["text"] for m in (await person(QUESTION))["messages"]]
        assert texts == fresh, (texts, fresh)
