"""Live updates (server-sent events at /console/api/events) and the gateway process around the console:
the staff CLI, the start-up hint, and a stop that an open event stream does not hold up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gateway_harness import wait_for

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "console-test-password-1"


@pytest.fixture
async def web(rasa, gateway_factory):
    async with gateway_factory((rasa.url,), webchat_session_per_minute=0, webchat_ip_per_minute=0) as running:
        accounts = running.gateway.cases.accounts
        await running.gateway.store.call(accounts.add, "wang", PASSWORD, role="officer", display_name="王芳")
        yield running


async def read_events(response: httpx.Response, into: list[tuple[str, dict]]) -> None:
    event = None
    try:
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event:
                into.append((event, json.loads(line[len("data: ") :])))
                event = None
    except (httpx.ReadError, httpx.StreamClosed):
        pass  # the test closed the stream


async def test_stream_carries_cases_and_messages_and_ends_when_the_client_leaves(web) -> None:
    bus = web.gateway.bus
    async with httpx.AsyncClient(base_url=web.url, timeout=30) as officer:
        me = (await officer.post("/console/api/login", json={"login": "wang", "password": PASSWORD})).json()
        events: list[tuple[str, dict]] = []
        async with officer.stream("GET", "/console/api/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            reader = asyncio.create_task(read_events(stream, events))
            await wait_for(lambda: bus.subscriber_count() == 1)
            session = (await web.http.post("/api/chat", json={"text": "handoff"})).json()["session"]
            await wait_for(lambda: any(kind == "case_opened" for kind, _ in events))
            [opened] = [data for kind, data in events if kind == "case_opened"]
            case_id = opened["case"]["id"]
            assert (
                opened["case"]["status"] == "waiting"
                and opened["case"]["conversation_id"] == f"web:{session}"
            )
            claimed = await officer.post(
                f"/console/api/cases/{case_id}/claim", headers={"X-CSRF-Token": me["csrf_token"]}
            )
            assert claimed.status_code == 200
            await wait_for(
                lambda: (
                    ("case_updated", "assigned") in [(k, d.get("case", {}).get("status")) for k, d in events]
                )
            )
            await web.http.post(
                "/api/chat", json={"session": session, "text": "电话 13812345678，身份证310101199001011234"}
            )
            await wait_for(
                lambda: any(
                    k == "message"
                    and d["case_id"] == case_id
                    and d["message"]["direction"] == "in"
                    and d["message"]["text"] != "handoff"
                    for k, d in events
                )
            )
            [words] = [
                d
                for k, d in events
                if k == "message"
                and d["case_id"] == case_id
                and d["message"]["direction"] == "in"
                and d["message"]["text"] != "handoff"  # rendered after its case opened (timing)
            ]
            # the assignee sees the person's words as written
            assert words["message"]["text"] == "电话 13812345678，身份证310101199001011234"
            await officer.post(
                f"/console/api/cases/{case_id}/notes",
                json={"text": "核实中"},
                headers={"X-CSRF-Token": me["csrf_token"]},
            )
            await wait_for(lambda: any(k == "note" for k, _ in events))
            first_message = next(d for k, d in events if k == "message")
            assert first_message["message"]["text"] == "handoff"  # the case opens during its turn
            reader.cancel()
        # the client went away: the stream ended and left the bus
        await wait_for(lambda: bus.subscriber_count() == 0)


async def test_stream_masks_numbers_for_officers_who_do_not_hold_the_case(web) -> None:
    accounts = web.gateway.cases.accounts
    await web.gateway.store.call(accounts.add, "li", PASSWORD, role="officer", display_name="李强")
    async with httpx.AsyncClient(base_url=web.url, timeout=30) as li:
        await li.post("/console/api/login", json={"login": "li", "password": PASSWORD})
        events: list[tuple[str, dict]] = []
        async with li.stream("GET", "/console/api/events") as stream:
            reader = asyncio.create_task(read_events(stream, events))
            await wait_for(lambda: web.gateway.bus.subscriber_count() == 1)
            await web.http.post("/api/chat", json={"text": "转人工 13812345678"})
            await wait_for(
                lambda: any(k == "message" and d["message"]["direction"] == "in" for k, d in events)
            )
            [words] = [d for k, d in events if k == "message" and d["message"]["direction"] == "in"]
            assert words["message"]["text"] == "转人工 138****5678"
            reader.cancel()


async def test_stream_ends_as_soon_as_the_gateway_begins_to_stop(web) -> None:
    async with httpx.AsyncClient(base_url=web.url, timeout=30) as officer:
        await officer.post("/console/api/login", json={"login": "wang", "password": PASSWORD})
        async with officer.stream("GET", "/console/api/events") as stream:
            await wait_for(lambda: web.gateway.bus.subscriber_count() == 1)
            started = time.monotonic()
            web.gateway.begin_shutdown()
            body = [line async for line in stream.aiter_lines()]  # returns once the server ends the stream
            assert time.monotonic() - started < 3 and body[0] == "retry: 3000"
    web.gateway.stopping = False


# -- the process ----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bot_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "staff", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_staff_cli_and_a_gateway_that_stops_promptly_with_an_open_stream(tmp_path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "BOT_PORT": str(port),
        "RASA_URL": "http://127.0.0.1:9",
        "RASA_TELEMETRY_ENABLED": "false",
        "TELEGRAM_BOT_TOKEN": "",
        "WECHAT_TOKEN": "",
    }
    env.pop("STAFF_PASSWORD", None)
    assert bot_cli(env, "list").stdout.strip() == "no staff accounts"
    no_password = bot_cli(env, "add", "wang", "--role", "officer", "--name", "王芳")
    assert no_password.returncode == 2 and "STAFF_PASSWORD" in no_password.stderr
    short = bot_cli({**env, "STAFF_PASSWORD": "short"}, "add", "wang")
    assert short.returncode == 2 and "at least 10" in short.stderr
    gateway = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        for line in gateway.stdout:
            lines.append(line)
            if "staff console: no staff account yet" in line:
                break
        assert "python -m bot staff add <login> --role admin" in lines[-1]
        added = bot_cli(
            {**env, "STAFF_PASSWORD": PASSWORD}, "add", "wang", "--role", "officer", "--name", "王芳"
        )
        assert added.returncode == 0 and "created officer wang (王芳)" in added.stdout
        again = bot_cli({**env, "STAFF_PASSWORD": PASSWORD}, "add", "wang")
        assert again.returncode == 2 and "already exists" in again.stderr
        listed = bot_cli(env, "list").stdout
        assert "wang" in listed and "officer" in listed and "active" in listed and PASSWORD not in listed
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as officer:
            deadline = time.monotonic() + 30
            while True:
                try:
                    login = officer.post("/console/api/login", json={"login": "wang", "password": PASSWORD})
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "gateway did not start"
                    time.sleep(0.2)
            assert login.status_code == 200
            with officer.stream("GET", "/console/api/events") as stream:
                assert next(stream.iter_lines()) == "retry: 3000"
                started = time.monotonic()
                gateway.send_signal(signal.SIGTERM)
                gateway.wait(timeout=15)
                stopped_after = time.monotonic() - started
        # the event stream ended at once instead of holding the stop for the 5 s grace period (uvicorn
        # re-raises the SIGTERM it handled once it has shut down, hence -15)
        assert gateway.returncode in (0, -signal.SIGTERM) and stopped_after < 3, stopped_after
        print(f"gateway stopped {stopped_after:.2f} s after SIGTERM with an open event stream")
        assert bot_cli(env, "disable", "wang").returncode == 0
        assert "disabled" in bot_cli(env, "list").stdout
        assert bot_cli(env, "disable", "wang").returncode == 1
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
