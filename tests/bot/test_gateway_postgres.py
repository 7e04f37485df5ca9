"""The transcript store on PostgreSQL (what several gateway processes share), on a throw-away local
cluster; skipped when PostgreSQL's server binaries are not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from bot.models import InboundMessage
from bot.store import MIGRATIONS, Store
from bot.testing.process import free_port

INITDB = shutil.which("initdb")
pytestmark = pytest.mark.skipif(INITDB is None, reason="PostgreSQL server binaries (initdb) not installed")


def _as_postgres(args: list[str]) -> list[str]:
    # The server refuses to run as root; as root, run it as the postgres account.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="gw-pg-")
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    port = free_port()
    data = os.path.join(directory, "data")
    subprocess.run(
        _as_postgres([INITDB, "-D", data, "-U", "gw", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    options = f"-p {port} -k {directory} -c listen_addresses=''"
    subprocess.run(
        _as_postgres(
            ["pg_ctl", "-D", data, "-o", options, "-l", os.path.join(directory, "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield f"postgresql+psycopg2://gw@/postgres?host={directory}&port={port}"
    finally:
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", data, "-m", "fast", "stop"]), capture_output=True, timeout=60
        )
        shutil.rmtree(directory, ignore_errors=True)


def test_store_on_postgres_shared_by_two_processes(postgres_url: str) -> None:
    a, b = Store(postgres_url), Store(postgres_url)
    latest = MIGRATIONS[-1][0]
    assert a.migrate() == latest and b.migrate() == latest
    message = InboundMessage(
        channel="wechat", user_id="oPG", text="你好", external_id="pg-1", meta={"k": [1]}
    )
    first = a.record_inbound(message)
    assert first is not None and b.record_inbound(message) is None
    assert b.message(first)["data"] == {"k": [1]}
    b.open_quota("oPG", 2, 60)
    assert [a.take_quota("oPG"), b.take_quota("oPG"), a.take_quota("oPG")] == [True, True, False]
    a.cache_set("wechat:token", "T", 60)
    assert b.cache_get("wechat:token") == "T"
    # a nonce seen by one process is known to the other; the same message is claimed by one of them
    assert a.remember_nonce("1", "n", b"body", 600) and not b.remember_nonce("1", "n", b"other", 600)
    a.release(first, "rasa_unavailable")
    assert [a.claim_pending(first, 60), b.claim_pending(first, 60)] == [True, False]
    a.dispose()
    b.dispose()


async def test_web_chat_on_postgres(postgres_url: str, rasa, gateway_factory) -> None:
    async with gateway_factory((rasa.url,), database_url=postgres_url) as web:
        reply = (await web.http.post("/api/chat", json={"text": "数据库"})).json()
        assert [m["text"] for m in reply["messages"]] == ["收到：数据库"]
        rows = await web.gateway.store.call(web.gateway.store.messages, f"web:{reply['session']}")
        assert [r["direction"] for r in rows] == ["in", "out"]
