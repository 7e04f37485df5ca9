"""Issue 10, findings 5, 6, 11, 15, 17 and 18: bounded input (4xx with a reason, never 500), tracebacks
masked, stale buttons, the whole conversation after a reload, owner-only files and retention."""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import time

import pytest
from gateway_harness import TELEGRAM_TOKEN, wait_for

from bot.logsafe import install_redaction
from bot.models import InboundMessage
from bot.store import Store, messages
from bot.testing.telegram_standin import callback_update, text_update
from bot.texts import text as say

CHAT = 616161


async def test_web_chat_body_size_is_limited_before_parsing(rasa, gateway_factory) -> None:
    """Finding 5: 8 MB of text was stored verbatim and a 40 MB body parsed."""
    async with gateway_factory((rasa.url,)) as web:
        big = await web.http.post("/api/chat", content=b'{"text": "' + b"a" * (8 * 1024 * 1024) + b'"}')
        assert big.status_code == 413 and "too large" in big.json()["error"]

        async def forty_megabytes():
            yield b'{"text": "'
            for _ in range(40):
                yield b"a" * (1024 * 1024)
            yield b'"}'

        chunked = await web.http.post("/api/chat", content=forty_megabytes())  # no Content-Length
        assert chunked.status_code == 413
        long_text = await web.http.post("/api/chat", json={"text": "问" * 5000})
        assert long_text.status_code == 413 and "too long" in long_text.json()["error"]
        assert rasa.received == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"text": "hi", "language": {"zh": 1}}, "language"),
        ({"text": "hi", "language": ["en"]}, "language"),
        ({"session": "x" * 20, "button": {"message_id": 2**70, "index": 0}}, "message_id"),
        ({"session": "x" * 20, "button": {"message_id": 1.5, "index": 0}}, "message_id"),
        ({"session": "x" * 20, "button": {"message_id": True, "index": 0}}, "message_id"),
        ({"session": "x" * 20, "button": {"message_id": 1, "index": 10**9}}, "index"),
        ({"session": "x" * 20, "button": "b:1:0"}, "button"),
        ({"text": 5}, "text"),
        ([1, 2], "object"),
    ],
)
async def test_web_chat_types_and_ranges_are_checked(rasa, gateway_factory, body, reason) -> None:
    """Finding 11: language as an object, message_id 2**70 ... answered 500 with a traceback."""
    async with gateway_factory((rasa.url,)) as web:
        response = await web.http.post("/api/chat", json=body)
        assert response.status_code == 400 and reason in response.json()["error"]


async def test_lone_surrogates_and_deep_json_are_refused(rasa, gateway_factory, caplog) -> None:
    async with gateway_factory((rasa.url,)) as web:
        surrogate = await web.http.post(
            "/api/chat", content=b'{"text": "\\ud800"}', headers={"Content-Type": "application/json"}
        )
        assert surrogate.status_code == 400 and "surrogate" in surrogate.json()["error"]
        deep = await web.http.post("/api/chat", content=b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
        assert deep.status_code in (400, 413)
        nested = await web.http.post(
            "/api/chat", content=b'{"text": "x", "a": ' + b"[" * 50 + b"]" * 50 + b"}"
        )
        assert nested.status_code == 400 and "deeply" in nested.json()["error"]
        invalid_utf8 = await web.http.post("/api/chat", content=b'{"text": "\xff"}')
        assert invalid_utf8.status_code == 400
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    "params", [{"after": "1e23"}, {"after": "-1"}, {"after": str(2**70)}, {"wait": "nan"}, {"wait": "inf"}]
)
async def test_poll_numbers_are_bounded(rasa, gateway_factory, params) -> None:
    async with gateway_factory((rasa.url,)) as web:
        response = await web.http.get("/api/chat/poll", params={"session": "s" * 20, "wait": "0", **params})
        assert response.status_code == 400 and response.json()["error"]


async def test_telegram_and_wechat_bodies_are_limited(rasa, telegram_api, gateway_factory) -> None:
    async with gateway_factory(
        (rasa.url,), telegram_token=TELEGRAM_TOKEN, telegram_api_base_url=f"{telegram_api.url}/bot"
    ) as tg:
        secret = {"X-Telegram-Bot-Api-Secret-Token": tg.gateway.settings.telegram_secret}
        big = await tg.http.post(
            "/telegram/webhook", content=b"{" + b" " * (1024 * 1024) + b"}", headers=secret
        )
        assert big.status_code == 413
        deep = await tg.http.post("/telegram/webhook", content=b"[" * 5000 + b"]" * 5000, headers=secret)
        assert deep.status_code == 400


async def test_tracebacks_are_masked_in_the_log(caplog) -> None:
    """Finding 6: a failed insert's traceback printed the person's ID-card and phone numbers in clear."""
    install_redaction()
    logger = logging.getLogger("bot.test_faults")
    try:
        raise ValueError("INSERT failed for 身份证 310101199001011234 手机 13812345678")
    except ValueError:
        logger.exception("wechat: unhandled error")
    formatted = logging.Formatter().format(caplog.records[-1])
    assert "Traceback" in formatted and "ValueError" in formatted
    assert "310101199001011234" not in formatted and "13812345678" not in formatted
    assert "310***********1234" in formatted and "138****5678" in formatted


async def test_a_stale_web_chat_button_gets_expired_and_the_current_question(rasa, gateway_factory) -> None:
    """Finding 15: old buttons stayed pressable after the conversation moved on."""
    async with gateway_factory((rasa.url,)) as web:
        asked = (await web.http.post("/api/chat", json={"text": "buttons"})).json()
        session, question = asked["session"], asked["messages"][0]
        pressed = {"message_id": question["id"], "index": 0}
        await web.http.post("/api/chat", json={"session": session, "button": pressed})
        moved_on = (
            await web.http.post("/api/chat", json={"session": session, "text": "buttons 第二个问题"})
        ).json()
        stale = await web.http.post("/api/chat", json={"session": session, "button": {**pressed, "index": 1}})
        assert stale.status_code == 200
        notice, again = stale.json()["messages"]
        assert notice["text"] == say("stale_button_current", "zh")
        assert again["text"] == moved_on["messages"][0]["text"] and [
            b["title"] for b in again["buttons"]
        ] == [
            "租房补贴",
            "购房补贴",
        ]
        assert [r["message"] for r in rasa.received] == ["buttons", "/ask_rent_subsidy", "buttons 第二个问题"]
        # the question offered again is current: its button works
        fresh = await web.http.post(
            "/api/chat", json={"session": session, "button": {"message_id": again["id"], "index": 1}}
        )
        assert fresh.json()["messages"][0]["text"] == "payload /ask_purchase_subsidy"


async def test_a_stale_telegram_button_gets_expired_and_the_current_question(
    rasa, telegram_api, gateway_factory
) -> None:
    async with gateway_factory(
        (rasa.url,), telegram_token=TELEGRAM_TOKEN, telegram_api_base_url=f"{telegram_api.url}/bot"
    ) as tg:
        secret = {"X-Telegram-Bot-Api-Secret-Token": tg.gateway.settings.telegram_secret}

        async def post(update):
            assert (await tg.http.post("/telegram/webhook", json=update, headers=secret)).status_code == 200

        await post(text_update(CHAT, "buttons"))
        await wait_for(lambda: telegram_api.sent(CHAT))
        old = telegram_api.sent(CHAT)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await post(text_update(CHAT, "别的问题"))
        await wait_for(lambda: len(telegram_api.sent(CHAT)) == 2)
        await post(callback_update(CHAT, old))
        await wait_for(lambda: len(telegram_api.sent(CHAT)) == 3)
        assert telegram_api.sent(CHAT)[2]["text"] == say("stale_button_current", "en")  # language_code en
        await post(callback_update(CHAT, "b:" + "9" * 30 + ":0"))  # finding 11: b:1e23:0 was dropped silently
        await wait_for(lambda: len(telegram_api.sent(CHAT)) == 5)
        assert telegram_api.sent(CHAT)[-1]["text"] == say("stale_button", "en")
        assert [r["message"] for r in rasa.received] == ["buttons", "别的问题"]


async def test_history_restores_both_sides_with_only_the_last_buttons_current(rasa, gateway_factory) -> None:
    """Finding 17: a reload dropped the person's own messages and re-armed old buttons."""
    async with gateway_factory((rasa.url,)) as web:
        session = (await web.http.post("/api/chat", json={"text": "buttons"})).json()["session"]
        await web.http.post("/api/chat", json={"session": session, "text": "你好"})
        history = (await web.http.get("/api/chat/history", params={"session": session})).json()["messages"]
        assert [(m["direction"], m["text"]) for m in history] == [
            ("in", "buttons"),
            ("out", "您想了解哪一项？"),
            ("in", "你好"),
            ("out", "收到：你好"),
        ]
        assert history[1]["stale"] is True and "stale" not in history[-1]


def test_database_files_are_owner_only(tmp_path) -> None:
    """Finding 18: the transcript was created world-readable (0644)."""
    os.umask(0o022)
    fresh = Store(f"sqlite:///{tmp_path / 'var' / 'gateway.db'}")
    fresh.migrate()
    fresh.dispose()
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700
    for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm"):
        path = tmp_path / "var" / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    Store(f"sqlite:///{old}").dispose()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


def test_retention_purges_old_transcripts_but_not_open_cases(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
    store.migrate()
    long_ago = time.time() - 40 * 86400
    store.record_inbound(InboundMessage("web", "old-person", text="旧消息", received_at=long_ago))
    store.record_inbound(InboundMessage("web", "held-person", text="旧但有工单", received_at=long_ago))
    store.record_inbound(InboundMessage("web", "new-person", text="新消息"))
    with store.engine.begin() as conn:
        from bot.store import conversations

        conn.execute(
            conversations.update().where(conversations.c.id == "web:held-person").values(handoff_open=True)
        )
        conn.execute(
            messages.update().values(created_at=dt.datetime(2020, 1, 1)).where(messages.c.text != "新消息")
        )
    assert store.purge_transcripts(30) == 1
    assert [r["text"] for r in store.messages("web:old-person")] == []
    assert [r["text"] for r in store.messages("web:held-person")] == ["旧但有工单"]
    assert [r["text"] for r in store.messages("web:new-person")] == ["新消息"]
    store.dispose()


def test_tracker_retention_deletes_whole_idle_conversations_only(tmp_path) -> None:
    """Finding 18, Rasa's side: a tracker store in Rasa's ``events`` schema; idle conversations go whole,
    active ones and those with an open staff case stay."""
    import sqlite3

    from bot.store.tracker_retention import purge_tracker

    path = tmp_path / "tracker.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255)"
            " NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
        )
        old, now = time.time() - 40 * 86400, time.time()
        rows = [
            ("web:idle", old),
            ("web:idle", old + 1),
            ("web:active", old),
            ("web:active", now),
            ("web:case", old),
        ]
        db.executemany("INSERT INTO events (sender_id, type_name, timestamp) VALUES (?, 'user', ?)", rows)
    assert purge_tracker(f"sqlite:///{path}", 30, keep={"web:case"}) == 1
    with sqlite3.connect(path) as db:
        left = db.execute(
            "SELECT sender_id, COUNT(*) FROM events GROUP BY sender_id ORDER BY sender_id"
        ).fetchall()
    assert left == [("web:active", 2), ("web:case", 1)]
    assert purge_tracker(f"sqlite:///{tmp_path / 'missing.db'}", 30) == 0
