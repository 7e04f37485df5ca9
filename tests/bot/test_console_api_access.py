"""Who may do what on the console API: refusals, masking, the audited export, canned replies, nothing deleted."""

from __future__ import annotations

import datetime as dt
import json
import logging

import httpx
import test_console_api
from sqlalchemy import func, select, update
from test_console_api import ID_NUMBER, PASSWORD, PHONE, opened_case, person_says

from bot.console.settings import error_text
from bot.store import audit_log, canned_replies, case_notes, cases, login_throttle, staff_sessions, utcnow

# the fixtures of test_console_api (a gateway with web chat and Telegram, three staff accounts)
console, sign_in = test_console_api.console, test_console_api.sign_in


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
