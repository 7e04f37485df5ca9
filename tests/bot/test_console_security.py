"""The console under attack (issue 10, items 9, 10, 13, 14, 16), against a real gateway over real HTTP.

Addresses: a client bound to 127.0.0.2 is an untrusted peer (uvicorn trusts forwarded headers from
127.0.0.1 only, the default of TRUSTED_PROXIES); a client on 127.0.0.1 acts as the trusted reverse proxy
and names the person's address in X-Forwarded-For.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
import test_console_api
import test_gateway_postgres
from sqlalchemy import select
from test_console_api import ID_NUMBER, PASSWORD, PHONE, person_says
from test_gateway_postgres import INITDB

from bot.config import Settings
from bot.console import throttle
from bot.console.api import WEB
from bot.console.settings import config, error_text
from bot.store import Store, login_throttle, utcnow

# the fixtures of test_console_api (a gateway with three staff accounts, signed-in officers)
console, sign_in = test_console_api.console, test_console_api.sign_in
postgres_url = test_gateway_postgres.postgres_url  # a throw-away PostgreSQL cluster

LIMITS = config()["lockout"]


@contextlib.asynccontextmanager
async def client(running, *, source: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(base_url=running.url, transport=transport, timeout=60) as http:
        yield http


async def log_in(
    http: httpx.AsyncClient, login: str, password: str, via: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": via} if via else {}
    return await http.post("/console/api/login", json={"login": login, "password": password}, headers=headers)


async def audit_actions(running, action: str) -> list[dict]:
    entries = await running.gateway.store.call(running.gateway.cases.audit.entries, limit=1000)
    return [e for e in entries if e["action"] == action]


# -- 9: a stranger cannot lock an officer out ------------------------------------------------------------------
async def test_a_strangers_wrong_passwords_lock_only_the_strangers_address(console) -> None:
    per_pair = int(LIMITS["per_login_and_address"])
    async with client(console, source="127.0.0.2") as stranger, client(console) as office:
        answers = [(await log_in(stranger, "wang", f"guess-{i}")).status_code for i in range(per_pair + 1)]
        assert answers == [401] * (per_pair - 1) + [423, 423]
        assert (await log_in(stranger, "wang", PASSWORD)).status_code == 423  # the stranger stays out
        # the officer, from the office's own address, is not locked out
        assert (await log_in(office, "wang", PASSWORD)).status_code == 200
        # the same through the trusted proxy: X-Forwarded-For names each client
        for i in range(per_pair):
            await log_in(office, "li", f"guess-{i}", via="203.0.113.7")
        assert (await log_in(office, "li", PASSWORD, via="203.0.113.7")).status_code == 423
        assert (await log_in(office, "li", PASSWORD, via="198.51.100.4")).status_code == 200
    failed = await audit_actions(console, "login_failed")
    assert {e["detail"]["address"] for e in failed} == {"127.0.0.2", "203.0.113.7"}


async def test_an_untrusted_peer_cannot_choose_its_address_with_a_forwarded_header(console) -> None:
    per_pair = int(LIMITS["per_login_and_address"])
    async with client(console, source="127.0.0.2") as stranger:
        for i in range(per_pair):  # a fresh invented address each time: ignored, still 127.0.0.2
            await log_in(stranger, "wang", f"guess-{i}", via=f"192.0.2.{i + 1}")
        assert (await log_in(stranger, "wang", PASSWORD, via="192.0.2.99")).status_code == 423
    assert {e["detail"]["address"] for e in await audit_actions(console, "login_failed")} == {"127.0.0.2"}


async def test_an_address_with_many_failures_is_throttled_for_every_login(console) -> None:
    per_address = int(LIMITS["per_address"])
    async with client(console) as proxy:
        for i in range(per_address):  # one wrong password each for many logins: no pair is locked
            assert (await log_in(proxy, f"nobody{i}", "guess", via="203.0.113.9")).status_code == 401
        refused = await log_in(proxy, "wang", PASSWORD, via="203.0.113.9")
        assert refused.status_code == 429 and refused.json() == {
            "error": error_text("throttled", minutes=int(LIMITS["minutes"])),
            "code": "throttled",
        }
        assert (await log_in(proxy, "wang", PASSWORD, via="198.51.100.4")).status_code == 200
    assert len(await audit_actions(console, "login_throttled")) == 1


async def test_failures_from_many_addresses_lock_the_login_except_where_it_logs_in(console) -> None:
    per_pair, spread = int(LIMITS["per_login_and_address"]), int(LIMITS["per_login_from_new_addresses"])
    async with client(console) as proxy:
        assert (await log_in(proxy, "wang", PASSWORD, via="198.51.100.4")).status_code == 200  # her office
        addresses = [f"203.0.113.{n}" for n in range(1, spread // per_pair + 1)]
        for address in addresses:
            await asyncio.gather(*(log_in(proxy, "wang", f"guess-{i}", via=address) for i in range(per_pair)))
        fresh = await log_in(proxy, "wang", PASSWORD, via="192.0.2.50")
        assert fresh.status_code == 423  # a spread attack locks the login for new addresses …
        assert (await log_in(proxy, "wang", PASSWORD, via="198.51.100.4")).status_code == 200  # … not hers
    assert len(await audit_actions(console, "login_failed")) == spread


# -- 13: the failure count is atomic ---------------------------------------------------------------------------
async def test_sixty_concurrent_wrong_logins_record_exactly_the_allowed_number(console) -> None:
    per_pair = int(LIMITS["per_login_and_address"])
    async with client(console) as proxy:
        answers = await asyncio.gather(*(log_in(proxy, "wang", f"guess-{i}") for i in range(60)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) + codes.count(423) == 60
    assert len(await audit_actions(console, "login_failed")) == per_pair
    assert len(await audit_actions(console, "login_refused_locked")) == 60 - per_pair

    def stored() -> int:
        with console.gateway.store.engine.connect() as conn:
            return conn.execute(
                select(login_throttle.c.count).where(
                    login_throttle.c.scope == "pair", login_throttle.c.key == "wang|127.0.0.1"
                )
            ).scalar()

    assert await console.gateway.store.call(stored) == per_pair


def assert_sixty_threads_take_exactly_five(store: Store) -> None:
    barrier, results = threading.Barrier(60), []
    now = utcnow()

    def attempt() -> None:
        barrier.wait()
        taken = throttle.take(
            store.engine, "pair", "wang|203.0.113.1", limit=5, window=dt.timedelta(minutes=15), now=now
        )
        results.append(taken.ok)

    workers = [threading.Thread(target=attempt) for _ in range(60)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert (len(results), results.count(True)) == (60, 5)
    # a window later the counter starts again from one
    later = throttle.take(
        store.engine, "pair", "wang|203.0.113.1", limit=5, window=dt.timedelta(minutes=15),
        now=now + dt.timedelta(minutes=16),
    )  # fmt: skip
    assert (later.ok, later.count) == (True, 1)


def test_the_throttle_counter_is_atomic_on_sqlite(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'throttle.db'}")
    store.migrate()
    assert_sixty_threads_take_exactly_five(store)
    store.dispose()


@pytest.mark.skipif(INITDB is None, reason="PostgreSQL server binaries (initdb) not installed")
def test_the_throttle_counter_is_atomic_on_postgres(postgres_url: str) -> None:
    store = Store(postgres_url)
    store.migrate()
    with store.engine.begin() as conn:
        conn.execute(login_throttle.delete())
    assert_sixty_threads_take_exactly_five(store)
    store.dispose()


# -- 14: log-in CSRF ---------------------------------------------------------------------------------------------
async def test_a_log_in_another_site_could_forge_is_refused(console) -> None:
    body = json.dumps({"login": "wang", "password": PASSWORD})
    async with client(console) as http:
        plain = await http.post("/console/api/login", content=body, headers={"Content-Type": "text/plain"})
        assert (plain.status_code, plain.json()["code"]) == (415, "json_required")
        form = await http.post("/console/api/login", data={"login": "wang", "password": PASSWORD})
        assert (form.status_code, form.json()["code"]) == (415, "json_required")
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            crossed = await http.post("/console/api/login", content=body, headers={
                "Content-Type": "application/json", **headers})  # fmt: skip
            assert crossed.status_code == 403 and crossed.json() == {
                "error": error_text("cross_origin"),
                "code": "cross_origin",
            }
            assert "console_session" not in crossed.cookies
        same = await http.post("/console/api/login", content=body, headers={
            "Content-Type": "application/json; charset=utf-8", "Origin": console.url})  # fmt: skip
        assert same.status_code == 200


# -- 10: masking cannot be searched around -----------------------------------------------------------------------
async def test_search_matches_masked_text_unless_a_reason_is_stated_and_audited(console, sign_in) -> None:
    wang, boss = await sign_in("wang"), await sign_in("boss")
    session = (await person_says(console, f"我的身份证是{ID_NUMBER}，电话{PHONE}"))["session"]
    search = lambda **params: wang.get("/conversations", params=params)  # noqa: E731
    for hidden in ("310101", ID_NUMBER[:12], "1381234", PHONE):
        found = (await search(q=hidden)).json()
        assert (found["conversations"], found["matched"]) == ([], "masked"), hidden
    shown = (await search(q="138****5678")).json()["conversations"]  # what the list itself shows
    assert [c["conversation_id"] for c in shown] == [f"web:{session}"]
    short = await search(q="310101", reason="查")
    assert (short.status_code, short.json()["code"]) == (400, "reason_required")
    reasoned = (await search(q="310101", reason="来电核实身份，工单 2026-118")).json()
    assert [c["conversation_id"] for c in reasoned["conversations"]] == [f"web:{session}"]
    assert reasoned["matched"] == "clear" and ID_NUMBER not in json.dumps(reasoned, ensure_ascii=False)
    entries = (await boss.get("/audit", params={"limit": 50})).json()["entries"]
    searches = [e["detail"] for e in entries if e["action"] == "search" and e["actor"] == "wang"]
    assert len(searches) == 6  # every search, refused ones aside
    assert {"q": "310101", "results": 1, "reason": "来电核实身份，工单 2026-118"} in searches
    assert {"q": "138****5678", "results": 0} in searches  # the search for PHONE, never held in clear


async def test_a_takeover_is_masked_until_the_officer_states_a_reason(console, sign_in) -> None:
    wang, li = await sign_in("wang"), await sign_in("li")
    words = f"我的电话{PHONE}"
    session = (await person_says(console, words))["session"]
    conversation = f"web:{session}"
    case = (await wang.post(f"/conversations/{conversation}/takeover")).json()["case"]
    assert case["unmasked"] is False
    inbound = lambda data: [m["text"] for m in data["messages"] if m["direction"] == "in"]  # noqa: E731
    seen = (await wang.get(f"/cases/{case['id']}")).json()
    assert inbound(seen) == ["我的电话138****5678"] and seen["case"]["unmasked"] is False
    refused = await li.post(f"/cases/{case['id']}/reveal", {"reason": "同事想看看"})
    assert (refused.status_code, refused.json()["code"]) == (409, "not_yours")
    assert (await wang.post(f"/cases/{case['id']}/reveal", {})).json()["code"] == "reason_required"
    revealed = (await wang.post(f"/cases/{case['id']}/reveal", {"reason": "需回拨确认申请材料"})).json()
    assert inbound(revealed) == [words] and revealed["case"]["unmasked"] is True
    assert inbound((await li.get(f"/cases/{case['id']}")).json()) == ["我的电话138****5678"]
    [reveal] = [h for h in revealed["history"] if h["action"] == "reveal"]
    assert (reveal["actor"], reveal["detail"]) == ("wang", {"reason": "需回拨确认申请材料"})
    await wang.post(f"/cases/{case['id']}/close", {"outcome": "handed_back"})
    # a takeover with a reason shows the words at once, and the reason is on the takeover's audit row
    second = (
        await li.post(f"/conversations/{conversation}/takeover", {"reason": "投诉复核，需核对号码"})
    ).json()
    assert second["case"]["unmasked"] is True
    assert inbound((await li.get(f"/cases/{second['case']['id']}")).json())[0] == words


# -- 16: headers --------------------------------------------------------------------------------------------------
async def test_no_inline_script_and_nosniff_everywhere(console, sign_in) -> None:
    page = await console.http.get("/console")
    policy = page.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert script_src.split() == ["'self'"] and "unsafe-inline" not in policy
    assert re.findall(r"<script[^>]*>", page.text) == ['<script type="module" src="/console/main.js">']
    assert re.search(r"<script[^>]*>\s*[^<\s]", page.text) is None  # nothing inside a script tag
    assert re.search(r"\son[a-z]+=", page.text) is None  # no inline event handlers either
    script = await console.http.get("/console/main.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.content == (WEB / "main.js").read_bytes()
    # the modules main.js imports are served the same way; nothing else in web/ or beside it
    for name in re.findall(r'from "\./(\w+\.js)"', script.text):
        assert (await console.http.get(f"/console/{name}")).content == (WEB / name).read_bytes()
    for missing in ("nothing.js", "console.html", "..%2Fapi.py", "Main.js", "main.js.map"):
        assert (await console.http.get(f"/console/{missing}")).status_code == 404, missing
    wang = await sign_in("wang")
    answers = [
        page,
        script,
        await console.http.get("/console/console.css"),
        await console.http.get("/console/api/me"),  # 401
        await wang.get("/cases"),
        await wang.post("/cases/999/claim"),  # 404
        await console.http.post("/console/api/login", content="x", headers={"Content-Type": "text/plain"}),
    ]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert "strict-transport-security" not in answer.headers  # plain HTTP, no proxy said otherwise
    async with wang.http.stream("GET", "/console/api/events") as events:
        assert events.headers["x-content-type-options"] == "nosniff"


async def test_hsts_and_secure_cookie_follow_tls_as_told_by_a_trusted_proxy(console) -> None:
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}
    async with client(console) as proxy, client(console, source="127.0.0.2") as stranger:
        behind = await proxy.post(
            "/console/api/login", json={"login": "wang", "password": PASSWORD}, headers=tls
        )
        assert behind.status_code == 200
        assert behind.headers["strict-transport-security"] == "max-age=31536000"
        assert "secure" in behind.headers["set-cookie"].lower().split("; ")
        told = await stranger.post(
            "/console/api/login", json={"login": "li", "password": PASSWORD}, headers=tls
        )
        assert told.status_code == 200  # an untrusted peer's header is not believed
        assert "strict-transport-security" not in told.headers
        assert "secure" not in told.headers["set-cookie"].lower().split("; ")


def test_trusted_proxies_come_from_the_environment() -> None:
    """What `python -m bot` hands uvicorn as forwarded_allow_ips (bot/__main__.py)."""
    assert (
        Settings.from_env({"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1"}).trusted_proxies
        == "10.0.0.0/8, 192.0.2.1"
    )
    assert Settings.from_env({"FORWARDED_ALLOW_IPS": "192.0.2.7"}).trusted_proxies == "192.0.2.7"
    assert Settings.from_env({}).trusted_proxies == "127.0.0.1"


async def test_case_ids_out_of_range_are_not_found_not_a_server_error(console, sign_in) -> None:
    """Issue 10, item 11 (the console's part): a case id like 1e23 or 10**30."""
    wang = await sign_in("wang")
    for case_id in ("1e23", str(10**30), "0", "-5", str(2**63)):
        answer = await wang.get(f"/cases/{case_id}")
        assert (answer.status_code, answer.json()["code"]) == (404, "no_such_case"), case_id
        claimed = await wang.post(f"/cases/{case_id}/claim")
        assert claimed.status_code == 404, case_id


async def test_deep_or_oversized_json_is_refused_with_a_reason_not_a_server_error(console, sign_in) -> None:
    """The console's JSON endpoints read bodies like every public endpoint (bot/http_input.py): a body
    nested 20,000 levels deep once raised RecursionError inside the log-in (500)."""
    deep = b'{"login": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    nested = '{"login": "wang", "password": "x", "x": ' + "[" * 30 + "1" + "]" * 30 + "}"
    json_headers = {"Content-Type": "application/json"}
    async with client(console) as http:
        for body in (deep, nested.encode()):
            answer = await http.post("/console/api/login", content=body, headers=json_headers)
            assert answer.status_code == 400 and answer.json()["code"] == "bad_request", answer.text
            assert "deeply" in answer.json()["error"]
        large = await http.post(
            "/console/api/login",
            content=b" " * (console.gateway.settings.max_body_bytes + 1),
            headers=json_headers,
        )
        assert large.status_code == 413 and "too large" in large.json()["error"]
    wang = await sign_in("wang")
    for path in ("/cases/1/notes", "/conversations/web:x/takeover"):
        answer = await wang.http.post(
            f"/console/api{path}", content=deep, headers={**wang.headers, **json_headers}
        )
        assert answer.status_code == 400 and "deeply" in answer.json()["error"], (path, answer.text)
    # the officer's session survived: the next proper request works
    assert (await wang.get("/me")).status_code == 200
