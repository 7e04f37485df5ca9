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


# what the assistant had collected about a Qingpu renter when it misread the spouse question as "yes"
MISREAD_FACTS = {
    "district": "青浦",
    "education": "本科",
    "full_time": True,
    "employer_registered_in_district": True,
    "tax_and_social_insurance_in_district": True,
    "owns_home_in_district": False,
    "rents_in_district": True,
    "spouse_receives_rent_subsidy": True,
    "title": "无",
    "former_executive_of": "无",
    "age": 30,
    "newly_recruited": False,
    "sector": "产业",
    "has_residence_permit": True,
}
POINTS_SUBSIDY = "青浦人才积分租房补贴"


async def test_a_misread_fact_corrected_on_the_card_is_what_the_assistant_answers_from(
    assistant_services, gateway_factory
) -> None:
    """Issue 13: a takeover card shows the assistant's misread ❌; the officer corrects the fact and hands back;
    the assistant's next answer uses the corrected fact (its tracker got a ``slot`` event)."""
    rasa_url, token = assistant_services["rasa_url"], assistant_services["rasa_token"]
    async with gateway_factory(
        (rasa_url,),
        rasa_token=token,
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

        session = (await person("你好"))["session"]
        conversation = f"web:{session}"
        async with httpx.AsyncClient(base_url=rasa_url, timeout=60) as rasa:
            # the facts as the assistant had them, the spouse answer misread (one slot event each, as its
            # form sets them)
            seeded = await rasa.post(
                f"/conversations/{conversation}/tracker/events",
                params={"token": token},
                json=[{"event": "slot", "name": k, "value": v} for k, v in MISREAD_FACTS.items()],
            )
            assert seeded.status_code == 200, seeded.text
        wrong = [m["text"] for m in (await person("青浦的积分租房补贴我能申请吗", session))["messages"]]
        assert wrong[0].startswith(f"❌ {POINTS_SUBSIDY}") and "配偶未享受" in wrong[0], wrong

        async with httpx.AsyncClient(base_url=web.url, timeout=60) as officer:
            me = (
                await officer.post("/console/api/login", json={"login": "wang", "password": PASSWORD})
            ).json()
            headers = {"X-CSRF-Token": me["csrf_token"]}
            taken = await officer.post(
                f"/console/api/conversations/{conversation}/takeover", json={}, headers=headers
            )
            card = taken.json()["case"]
            # the takeover card: the assistant's profile and the ❌ it answered, read from its tracker
            profile = {p["field"]: p["value"] for p in card["profile"]}
            assert profile["spouse_receives_rent_subsidy"] == "是", profile
            assert card["result"]["results"][0]["policy"] == POINTS_SUBSIDY
            assert card["result"]["results"][0]["status"] == "ineligible"
            assert card["summary_parts"]["answered"][0].startswith(f"❌ {POINTS_SUBSIDY}")
            assert "出现 ❌ 结果" in card["summary_parts"]["went_wrong"]

            fixed = await officer.post(
                f"/console/api/cases/{card['id']}/facts",
                json={"field": "spouse_receives_rent_subsidy", "value": False},
                headers=headers,
            )
            assert fixed.status_code == 200, fixed.text
            rerun = fixed.json()["case"]["rechecked"]["results"][0]
            assert rerun["policy"] == POINTS_SUBSIDY and rerun["status"] != "ineligible", rerun
            closed = await officer.post(
                f"/console/api/cases/{card['id']}/close", json={"outcome": "handed_back"}, headers=headers
            )
            assert closed.status_code == 200
            history = (await officer.get(f"/console/api/cases/{card['id']}")).json()["history"]
            [corrected] = [h for h in history if h["action"] == "correct_fact"]
            assert corrected["actor"] == "wang"
            assert corrected["detail"] == {
                "field": "spouse_receives_rent_subsidy",
                "label": "配偶是否已享受租房补贴",
                "old": "是",
                "new": "否",
            }

        # the assistant continues from the corrected fact: no ❌ for the spouse any more
        answers = [m["text"] for m in (await person("积分租房补贴我能拿多少", session))["messages"]]
        if not any(POINTS_SUBSIDY in text for text in answers):  # it may first ask the points score
            answers = [m["text"] for m in (await person("130", session))["messages"]]
        assert not any("❌" in text for text in answers), answers
        [answer] = [text for text in answers if POINTS_SUBSIDY in text]
        assert answer.startswith(f"📝 {POINTS_SUBSIDY}：您可以登记申报"), answer
