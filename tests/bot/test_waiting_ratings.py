"""好差评 after a staff case closes (issue 13, item 4), on the web chat and Telegram stand-ins over real
HTTP: five levels offered with the closing notice, a comment, a 不满意 opening a 差评回访 follow-up case due
within 15 working days and listed apart until its callback is recorded; rating is never required.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import test_console_api
import test_gateway_postgres
from gateway_harness import wait_for
from sqlalchemy import select, update
from test_console_api import opened_case, person_says

from bot.console.settings import config, person_text
from bot.console.workcalendar import work_calendar
from bot.store import MIGRATIONS, cases, ratings
from bot.testing.telegram_standin import callback_update, text_update
from bot.texts import text as say

console, sign_in = test_console_api.console, test_console_api.sign_in
postgres_url = test_gateway_postgres.postgres_url  # a throw-away PostgreSQL cluster
LEVELS_ZH = [level["zh"] for level in config()["ratings"]["levels"]]


async def handled_and_closed(running, wang) -> tuple[str, dict, dict]:
    """A web chat case claimed, answered and closed by 王芳: what the person saw last."""
    session, case = await opened_case(running, wang)
    assert (await wang.post(f"/cases/{case['id']}/claim")).status_code == 200
    assert (await wang.post(f"/cases/{case['id']}/reply", {"text": "您好，已为您查询"})).status_code == 200
    assert (await wang.post(f"/cases/{case['id']}/close", {"outcome": "answered"})).status_code == 200
    rows = await running.gateway.store.call(running.gateway.store.messages, f"web:{session}")
    return session, case, [r for r in rows if r["direction"] == "out"][-1]


def english_case(store, case_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id == case_id).values(language="en"))


async def rows_of(running, table) -> list[dict]:
    def read() -> list[dict]:
        with running.gateway.store.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]

    return await running.gateway.store.call(read)


async def press(running, session: str, message_id: int, index: int) -> list[str]:
    answer = await running.http.post(
        "/api/chat", json={"session": session, "button": {"message_id": message_id, "index": index}}
    )
    assert answer.status_code == 200, answer.text
    return [m["text"] for m in answer.json()["messages"]]


async def test_a_dissatisfied_rating_opens_a_follow_up_until_the_callback_is_recorded(
    console, sign_in
) -> None:
    wang, li = await sign_in("wang"), await sign_in("li")
    session, case, prompt = await handled_and_closed(console, wang)
    assert prompt["text"] == say("rating_prompt", "zh")
    assert [b["title"] for b in prompt["data"]["buttons"]] == LEVELS_ZH
    rows = await console.gateway.store.call(console.gateway.store.messages, f"web:{session}")
    assert [r["text"] for r in rows if r["direction"] == "out"][-2] == person_text("case_closed", "zh")
    before = dt.datetime.now(dt.timezone.utc)
    # 不满意 (the fourth level)
    assert await press(console, session, prompt["id"], 3) == [
        say("rating_thanks_follow_up", "zh", days=config()["ratings"]["follow_up_working_days"])
    ]
    assert await person_says(console, "意见：等得太久了", session) and True
    [rating] = await rows_of(console, ratings)
    assert {k: rating[k] for k in ("case_id", "conversation_id", "channel", "language", "officer", "score")} == {
        "case_id": case["id"], "conversation_id": f"web:{session}", "channel": "web", "language": "zh",
        "officer": "wang", "score": 2,
    }  # fmt: skip
    assert rating["comment"] == "等得太久了" and rating["district"] == case["district"]
    # shown apart: not in any officer's queue, in the follow-up list with its rating and due time
    assert all(c["status"] != "followup" for c in await li.queue())
    [follow_up] = (await li.get("/followups")).json()["follow_ups"]
    assert (follow_up["rated_case"], follow_up["officer"], follow_up["level"]) == (
        case["id"],
        "wang",
        "不满意",
    )
    assert follow_up["comment"] == "等得太久了"
    calendar = work_calendar()
    day = dt.datetime.combine(dt.date.min, calendar.end) - dt.datetime.combine(dt.date.min, calendar.start)
    due = dt.datetime.fromisoformat(follow_up["due_at"].replace("Z", "+00:00"))
    after = dt.datetime.now(dt.timezone.utc)
    assert calendar.add_working_time(before, day * 15) - dt.timedelta(seconds=1) <= due
    assert due <= calendar.add_working_time(after, day * 15) + dt.timedelta(seconds=1)
    [opened] = [r for r in await rows_of(console, cases) if r["status"] == "followup"]
    assert opened["reason"] == "差评回访" and opened["open_key"] is None  # the person keeps the assistant
    assert [m["text"] for m in (await person_says(console, "再问个问题", session))["messages"]] == [
        "收到：再问个问题"
    ]
    # the follow-up is not a handoff in the reports: one case, the one the person asked for
    boss = await sign_in("boss")
    assert (await boss.get("/reports")).json()["cases"] == 1
    # the callback's outcome closes it
    empty = await li.post(f"/followups/{follow_up['id']}/callback", {"outcome": " "})
    assert (empty.status_code, empty.json()["code"]) == (400, "callback_outcome_required")
    done = await li.post(f"/followups/{follow_up['id']}/callback", {"outcome": "已电话回访，解释了审核时限"})
    assert done.status_code == 200
    assert (await li.get("/followups")).json()["follow_ups"] == []
    again = await li.post(f"/followups/{follow_up['id']}/callback", {"outcome": "再次"})
    assert (again.status_code, again.json()["code"]) == (404, "no_such_follow_up")


async def test_rating_is_never_required_and_a_good_one_opens_nothing(console, sign_in) -> None:
    wang = await sign_in("wang")
    session, _, prompt = await handled_and_closed(console, wang)
    # the person just goes on asking: the assistant answers; the old levels have expired
    assert [m["text"] for m in (await person_says(console, "租房补贴", session))["messages"]] == [
        "收到：租房补贴"
    ]
    assert (await press(console, session, prompt["id"], 0))[0] == say("stale_button_current", "zh")
    assert await rows_of(console, ratings) == []
    # a second case, rated 非常满意: recorded, thanked, no follow-up; rating twice is refused
    _, _, prompt = await handled_and_closed(console, wang)
    session2 = prompt["conversation_id"].split(":", 1)[1]
    assert await press(console, session2, prompt["id"], 0) == [say("rating_thanks", "zh")]
    assert [r["score"] for r in await rows_of(console, ratings)] == [5]
    assert not [r for r in await rows_of(console, cases) if r["status"] == "followup"]
    # a cancelled case (nobody handled it) is not offered a rating
    session3, _ = await opened_case(console, wang)
    cancelled = await person_says(console, "取消人工", session3)
    assert say("rating_prompt", "zh") not in [m["text"] for m in cancelled["messages"]]


async def test_telegram_person_rates_with_the_inline_buttons_in_english(
    console, sign_in, telegram_api
) -> None:
    chat = 737373
    wang = await sign_in("wang")
    headers = {"X-Telegram-Bot-Api-Secret-Token": console.gateway.settings.telegram_secret}

    async def post(update: dict) -> None:
        assert (await console.http.post("/telegram/webhook", json=update, headers=headers)).status_code == 200

    await console.gateway.store.call(console.gateway.store.set_language, "telegram", str(chat), "en")
    await post(text_update(chat, "handoff", language_code="en"))
    await wait_for(lambda: telegram_api.sent(chat))
    [case] = [c for c in await wang.queue() if c["conversation_id"] == f"telegram:{chat}"]
    # the case speaks its handoff payload's language (the Rasa stand-in always says zh; the trained
    # assistant says en to an English speaker)
    await console.gateway.store.call(english_case, console.gateway.store, case["id"])
    assert (await wang.post(f"/cases/{case['id']}/claim")).status_code == 200
    assert (await wang.post(f"/cases/{case['id']}/close", {"outcome": "answered"})).status_code == 200
    await wait_for(lambda: telegram_api.sent(chat)[-1]["text"] == say("rating_prompt", "en"))
    keyboard = telegram_api.sent(chat)[-1]["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [level["en"] for level in config()["ratings"]["levels"]]
    await post(callback_update(chat, keyboard[4][0]["callback_data"]))  # Very dissatisfied
    days = config()["ratings"]["follow_up_working_days"]
    await wait_for(
        lambda: telegram_api.sent(chat)[-1]["text"] == say("rating_thanks_follow_up", "en", days=days)
    )
    [rating] = await rows_of(console, ratings)
    assert (rating["channel"], rating["language"], rating["score"], rating["officer"]) == (
        "telegram",
        "en",
        1,
        "wang",
    )


async def test_wechat_person_rates_with_a_numbered_reply(wechat_gateway, wechat_server, wechat_api) -> None:
    """WeChat has no buttons: the levels come as numbered options in the closing message (one
    customer-service message with the notice) and "4" is 不满意; its thanks is the free passive reply."""
    from test_gateway_wechat import OPENID, send

    gateway = wechat_gateway.gateway
    conversation = f"wechat:{OPENID}"
    await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "转人工"))
    case = await gateway.store.call(gateway.cases.cases.open_case_for, conversation)
    assert await gateway.store.call(gateway.cases.cases.claim, case["id"], "wang")
    assert await gateway.cases.close(conversation, "staff:wang", outcome="answered")
    await wait_for(lambda: any(say("rating_prompt", "zh") in t for t in wechat_api.texts_to(OPENID)))
    [closing] = [t for t in wechat_api.texts_to(OPENID) if say("rating_prompt", "zh") in t]
    assert person_text("case_closed", "zh") in closing
    assert all(f"{n}" in closing and level in closing for n, level in enumerate(LEVELS_ZH, start=1))
    _, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "4"))
    days = config()["ratings"]["follow_up_working_days"]
    assert reply == say("rating_thanks_follow_up", "zh", days=days)
    [rating] = await rows_of(wechat_gateway, ratings)
    assert (rating["channel"], rating["score"], rating["officer"]) == ("wechat", 2, "wang")


def test_migration_6_adds_ratings_to_an_existing_database(tmp_path) -> None:
    from sqlalchemy import inspect
    from sqlalchemy import text as sql_text

    from bot.store import Store

    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    store.migrate()
    with store.engine.begin() as conn:  # a version-5 database, as deployed before ratings
        for column in ("due_at", "rating_id"):
            conn.execute(sql_text(f"ALTER TABLE cases DROP COLUMN {column}"))
        for table in ("ratings", "rating_offers", "review_items"):
            conn.execute(sql_text(f"DROP TABLE {table}"))
        conn.execute(sql_text("DELETE FROM schema_version WHERE version >= 6"))
    assert store.version() == 5
    assert store.migrate() == len(MIGRATIONS)
    with store.engine.connect() as conn:
        assert {"due_at", "rating_id"} <= {c["name"] for c in inspect(conn).get_columns("cases")}
        assert "score" in {c["name"] for c in inspect(conn).get_columns("ratings")}


def migration_7_on_a_version_6_database(url: str) -> None:
    """A version-6 database (ratings.case_id NOT NULL, one rating) migrates: the rating kept, case_id
    optional, the offers and review tables there."""
    from sqlalchemy import insert, inspect
    from sqlalchemy import text as sql_text

    from bot.store import Store

    store = Store(url)
    store.migrate()
    timestamp = "TIMESTAMP" if store.engine.dialect.name == "postgresql" else "DATETIME"
    with store.engine.begin() as conn:
        for table in ("ratings", "rating_offers", "review_items"):
            conn.execute(sql_text(f"DROP TABLE {table}"))
        conn.execute(sql_text("DELETE FROM schema_version WHERE version >= 7"))
        conn.execute(
            sql_text(
                "CREATE TABLE ratings (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL,"
                " conversation_id VARCHAR(200) NOT NULL, channel VARCHAR(20) NOT NULL,"
                " language VARCHAR(8) NOT NULL, district VARCHAR(20), topic VARCHAR(60), officer VARCHAR(80),"
                f" score INTEGER NOT NULL, comment TEXT, created_at {timestamp} NOT NULL)"
            )
        )
        conn.execute(sql_text("CREATE INDEX ix_ratings_case_id ON ratings (case_id)"))
        conn.execute(
            sql_text(
                "INSERT INTO ratings VALUES (1, 9, 'web:a', 'web', 'zh', 'songjiang', 'hukou', 'wang', 2,"
                " '慢', '2026-11-30 02:00:00')"
            )
        )
    assert store.migrate() == 7
    with store.engine.begin() as conn:
        assert {c["name"]: c["nullable"] for c in inspect(conn).get_columns("ratings")}["case_id"]
        conn.execute(
            insert(ratings).values(
                id=2, case_id=None, conversation_id="web:b", channel="web", language="zh", score=5,
                created_at=dt.datetime(2026, 11, 30, 3),
            )
        )  # fmt: skip
        kept = conn.execute(sql_text("SELECT id, case_id, officer, comment FROM ratings ORDER BY id"))
        assert [tuple(r) for r in kept] == [(1, 9, "wang", "慢"), (2, None, None, None)]
        assert {"rating_offers", "review_items"} <= set(inspect(conn).get_table_names())
    store.dispose()


def test_migration_7_keeps_the_ratings_and_lets_an_answer_rating_have_no_case(tmp_path) -> None:
    migration_7_on_a_version_6_database(f"sqlite:///{tmp_path / 'v6.db'}")


@pytest.mark.skipif(
    shutil.which("initdb") is None, reason="PostgreSQL server binaries (initdb) not installed"
)
def test_migration_7_on_postgresql(postgres_url: str) -> None:
    migration_7_on_a_version_6_database(postgres_url)
