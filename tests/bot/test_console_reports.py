"""Reports against a seeded database with fixed dates (issue 13, item 6: exact counts), and the admin routes."""

from __future__ import annotations

import csv
import datetime as dt
import io

import test_console_api
from sqlalchemy import insert

from bot.console import reports
from bot.store import Store, cases, conversations, messages, ratings, review_items

# the fixtures of test_console_api (a gateway with three staff accounts, signed-in officers)
console, sign_in = test_console_api.console, test_console_api.sign_in
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def stored(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Shanghai moment in 2025 as the database keeps it (naive UTC)."""
    local = dt.datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def seed(store: Store) -> None:
    people = {"web:a": "zh", "telegram:b": "en", "wechat:c": "zh", "web:d": "zh", "web:e": "zh"}
    said = [
        ("web:a", stored(10, 9, 10)),
        ("telegram:b", stored(10, 9, 16, 50)),
        ("wechat:c", stored(10, 9, 11)),
        ("wechat:c", stored(10, 10, 11)),
        ("web:d", stored(10, 10, 9)),
        ("web:e", stored(10, 8, 15)),  # the day before the report's range
    ]
    opened = [
        dict(conversation_id="web:a", reason="request_human", opened_by="assistant", opened_at=stored(10, 9, 10, 5),
             district="松江", topic="rent_subsidy", language="zh", status="closed", assignee="wang",
             first_response_at=stored(10, 9, 10, 35), closed_at=stored(10, 9, 11, 5), outcome="answered"),
        dict(conversation_id="telegram:b", reason="complain", opened_by="assistant", opened_at=stored(10, 9, 16, 55),
             district=None, topic=None, language="en", status="assigned", assignee="li",
             first_response_at=stored(10, 10, 10, 0), closed_at=None, outcome=None),
        dict(conversation_id="web:d", reason="staff_takeover", opened_by="staff:li", opened_at=stored(10, 10, 9, 10),
             district=None, topic=None, language="zh", status="assigned", assignee="li",
             first_response_at=None, closed_at=None, outcome=None),
    ]  # fmt: skip
    with store.engine.begin() as conn:
        for conversation_id, language in people.items():
            channel, user = conversation_id.split(":")
            when = stored(10, 8, 9)
            conn.execute(
                insert(conversations).values(id=conversation_id, channel=channel, user_id=user, language=language,
                                             handoff_open=False, created_at=when, updated_at=when)
            )  # fmt: skip
        for conversation_id, at in said:
            conn.execute(
                insert(messages).values(conversation_id=conversation_id, channel=conversation_id.split(":")[0],
                                        direction="in", kind="text", author="person", text="…", status="answered",
                                        created_at=at)
            )  # fmt: skip
        for case in opened:
            open_key = None if case["status"] == "closed" else case["conversation_id"]
            conn.execute(
                insert(cases).values(channel=case["conversation_id"].split(":")[0], open_key=open_key,
                                     seen_message_id=0, summary=None, payload=None, **case)
            )  # fmt: skip


def test_the_report_counts_a_seeded_week_exactly(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'reports.db'}")
    store.migrate()
    seed(store)
    now = dt.datetime(2025, 10, 10, 12, 0, tzinfo=SHANGHAI)
    found = reports.report(store.engine, dt.date(2025, 10, 9), dt.date(2025, 10, 10), now=now)
    assert found["days"] == [
        {"date": "2025-10-09", "conversations": 3, "by_channel": {"web": 1, "telegram": 1, "wechat": 1},
         "by_language": {"zh": 2, "en": 1}, "cases": 2, "handoffs": 2, "handoff_rate": 0.667},
        {"date": "2025-10-10", "conversations": 2, "by_channel": {"wechat": 1, "web": 1},
         "by_language": {"zh": 2}, "cases": 1, "handoffs": 0, "handoff_rate": 0.0},
    ]  # fmt: skip
    assert (
        found["conversations"],
        found["answered_without_staff"],
        found["answered_without_staff_share"],
    ) == (
        4,
        1,
        0.25,
    )
    assert found["cases"] == 3
    assert [(r["key"], r["count"]) for r in found["by_reason"]] == [
        ("complain", 1),
        ("request_human", 1),
        ("staff_takeover", 1),
    ]
    assert [(r["label"], r["count"]) for r in found["by_district"]] == [("共享队列", 2), ("松江", 1)]
    assert [(r["key"], r["count"]) for r in found["top_topics"]] == [("rent_subsidy", 1)]
    # working minutes: a answered after 30 and closed after 60; b answered after 5 + 60 (the night between)
    assert found["first_response"] == {
        "done": 2, "median_minutes": 47.5, "p90_minutes": 65.0, "met": 1, "breached": 1, "met_share": 0.5,
    }  # fmt: skip
    assert found["resolution"] == {
        "done": 1, "median_minutes": 60.0, "p90_minutes": 60.0, "met": 1, "breached": 0, "met_share": 1.0,
    }  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(reports.cases_csv(store.engine, dt.date(2025, 10, 9),
                                                              dt.date(2025, 10, 10), now=now).lstrip("\ufeff"))))  # fmt: skip
    assert [r["case_id"] for r in rows] == ["1", "2", "3"]
    assert {k: rows[0][k] for k in ("opened_local", "district", "topic", "first_response_working_minutes",
                                    "first_response_target", "resolution_working_minutes", "outcome")} == {
        "opened_local": "2025-10-09 10:05", "district": "松江", "topic": "rent_subsidy",
        "first_response_working_minutes": "30.0", "first_response_target": "met",
        "resolution_working_minutes": "60.0", "outcome": "answered",
    }  # fmt: skip
    assert (rows[1]["first_response_target"], rows[1]["resolution_target"]) == ("breached", "running")
    assert rows[2]["first_response_target"] == ""  # a takeover has no targets
    store.dispose()


def test_percentiles_are_nearest_rank() -> None:
    assert reports.nearest_rank([], 0.9) is None
    assert reports.nearest_rank([5.0], 0.9) == 5.0
    assert reports.nearest_rank([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert reports.nearest_rank([float(n) for n in range(1, 21)], 0.9) == 18.0


async def test_reports_are_for_admins_with_a_valid_range_and_the_export_is_audited(console, sign_in) -> None:
    wang, boss = await sign_in("wang"), await sign_in("boss")
    await test_console_api.person_says(console, "handoff")
    assert (await wang.get("/reports")).json()["code"] == "forbidden"
    week = (await boss.get("/reports")).json()
    assert len(week["days"]) == 7 and week["cases"] == 1 and week["conversations"] == 1
    for params in ({"from": "2025-10-10", "to": "2025-10-01"}, {"from": "yesterday"}, {"from": "2020-01-01"}):
        refused = await boss.get("/reports", params=params)
        assert (refused.status_code, refused.json()["code"]) == (400, "bad_range"), params
    exported = await boss.get("/reports/cases.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.text.lstrip("\ufeff").splitlines()[0].startswith("case_id,opened_local,channel")
    assert len(exported.text.strip().splitlines()) == 2
    entries = (await boss.get("/audit", params={"limit": 10})).json()["entries"]
    assert [e["action"] for e in entries if e["actor"] == "boss"][0] == "report_export"


async def test_the_audit_log_pages_and_filters(console, sign_in) -> None:
    wang, boss = await sign_in("wang"), await sign_in("boss")
    for n in range(5):
        await wang.get("/conversations", params={"q": f"查询{n}"})  # five audited searches
    first = (await boss.get("/audit", params={"limit": 3, "action": "search"})).json()
    assert [e["detail"]["q"] for e in first["entries"]] == ["查询4", "查询3", "查询2"]
    rest = (
        await boss.get("/audit", params={"limit": 3, "action": "search", "before": first["next_before"]})
    ).json()
    assert [e["detail"]["q"] for e in rest["entries"]] == ["查询1", "查询0"] and rest["next_before"] is None
    logins = (await boss.get("/audit", params={"actor": "wang", "action": "login"})).json()["entries"]
    assert [(e["actor"], e["action"]) for e in logins] == [("wang", "login")]
    for params in ({"limit": "0"}, {"limit": "many"}, {"before": "1e23"}, {"actor": "x" * 81}):
        refused = await boss.get("/audit", params=params)
        assert (refused.status_code, refused.json()["code"]) == (400, "bad_request"), params


def seed_ratings(store: Store) -> None:
    """Two staff cases' ratings and three of personalised answers (one the day before the range, one just
    after midnight after it: local days)."""
    given = [
        dict(case_id=1, conversation_id="web:a", channel="web", language="zh", district="松江",
             topic="rent_subsidy", officer="wang", score=5, created_at=stored(10, 9, 11, 10)),
        dict(case_id=2, conversation_id="telegram:b", channel="telegram", language="en", district=None,
             topic=None, officer="li", score=2, created_at=stored(10, 10, 10, 30), comment="too slow"),
        dict(case_id=None, conversation_id="web:d", channel="web", language="zh", district="松江",
             topic="rent_subsidy", officer=None, score=4, created_at=stored(10, 10, 9, 20)),
        dict(case_id=None, conversation_id="wechat:c", channel="wechat", language="zh", district="青浦",
             topic="hukou", officer=None, score=1, created_at=stored(10, 10, 23, 50)),
        dict(case_id=None, conversation_id="web:e", channel="web", language="zh", district="青浦",
             topic="hukou", officer=None, score=3, created_at=stored(10, 8, 15, 10)),
        dict(case_id=None, conversation_id="web:e", channel="web", language="zh", district="青浦",
             topic="hukou", officer=None, score=5, created_at=stored(10, 11, 0, 10)),
    ]  # fmt: skip
    with store.engine.begin() as conn:
        for rating in given:
            conn.execute(insert(ratings).values(**rating))


def test_satisfaction_by_kind_topic_district_channel_and_officer_is_counted_exactly(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ratings.db'}")
    store.migrate()
    seed(store)
    seed_ratings(store)
    now = dt.datetime(2025, 10, 10, 12, 0, tzinfo=SHANGHAI)
    found = reports.report(store.engine, dt.date(2025, 10, 9), dt.date(2025, 10, 10), now=now)
    happy = found["satisfaction"]
    assert {k: happy[k] for k in ("count", "average", "satisfied_share", "dissatisfied")} == {
        "count": 4, "average": 3.0, "satisfied_share": 0.5, "dissatisfied": 2,
    }  # fmt: skip
    assert [(r["label"], r["count"]) for r in happy["by_level"]] == [
        ("非常满意", 1), ("满意", 1), ("基本满意", 0), ("不满意", 1), ("非常不满意", 1),
    ]  # fmt: skip

    def rows(name: str) -> list[tuple]:
        return [
            (r["label"], r["count"], r["average"], r["satisfied_share"], r["dissatisfied"])
            for r in happy[name]
        ]

    assert rows("by_kind") == [("助手个性化答复", 2, 2.5, 0.5, 1), ("人工服务", 2, 3.5, 0.5, 1)]
    assert rows("by_topic") == [
        ("rent_subsidy", 2, 4.5, 1.0, 0),
        ("—", 1, 2, 0.0, 1),
        ("hukou", 1, 1, 0.0, 1),
    ]
    assert rows("by_district") == [
        ("松江", 2, 4.5, 1.0, 0),
        ("共享队列", 1, 2, 0.0, 1),
        ("青浦", 1, 1, 0.0, 1),
    ]
    assert rows("by_channel") == [
        ("web", 2, 4.5, 1.0, 0),
        ("telegram", 1, 2, 0.0, 1),
        ("wechat", 1, 1, 0.0, 1),
    ]
    assert rows("by_officer") == [("助手", 2, 2.5, 0.5, 1), ("li", 1, 2, 0.0, 1), ("wang", 1, 5, 1.0, 0)]
    # the same tables as CSV, and one row per rating in local time
    table = list(
        csv.reader(io.StringIO(reports.table_csv(found, "satisfaction_by_officer").lstrip("\ufeff")))
    )
    assert table == [
        ["key", "label", "count", "average", "satisfied_share", "dissatisfied"],
        ["", "助手", "2", "2.5", "0.5", "1"], ["li", "li", "1", "2", "0.0", "1"], ["wang", "wang", "1", "5", "1.0", "0"],
    ]  # fmt: skip
    given = list(csv.DictReader(io.StringIO(
        reports.ratings_csv(store.engine, dt.date(2025, 10, 9), dt.date(2025, 10, 10)).lstrip("\ufeff"))))  # fmt: skip
    assert [(r["rated_local"], r["kind"], r["level"], r["officer"]) for r in given] == [
        ("2025-10-09 11:10", "case", "非常满意", "wang"),
        ("2025-10-10 10:30", "case", "不满意", "li"),
        ("2025-10-10 09:20", "answer", "满意", ""),
        ("2025-10-10 23:50", "answer", "非常不满意", ""),
    ]
    per_case = list(csv.DictReader(io.StringIO(
        reports.cases_csv(store.engine, dt.date(2025, 10, 9), dt.date(2025, 10, 10), now=now).lstrip("\ufeff"))))  # fmt: skip
    assert [r["rating"] for r in per_case] == ["5", "2", ""]
    store.dispose()


async def test_each_report_table_and_the_ratings_export_as_csv(console, sign_in) -> None:
    boss = await sign_in("boss")
    await test_console_api.person_says(console, "handoff")
    by_channel = await boss.get("/reports/tables/by_channel.csv")
    assert by_channel.status_code == 200 and by_channel.headers["content-type"].startswith("text/csv")
    assert by_channel.text.lstrip("\ufeff").splitlines() == ["key,label,count", "web,web,1"]
    assert (await boss.get("/reports/tables/secrets.csv")).json()["code"] == "no_such_table"
    header = (await boss.get("/reports/ratings.csv")).text.lstrip("\ufeff").splitlines()
    assert header == [",".join(reports.RATING_COLUMNS)]
    chart = await boss.get("/reports/chart.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert 'data-channel="web" data-count="1"' in chart.text
    wang = await sign_in("wang")
    assert (await wang.get("/reports/ratings.csv")).json()["code"] == "forbidden"
    assert (await wang.get("/reports/chart.svg")).json()["code"] == "forbidden"


def test_messages_not_understood_are_grouped_by_similarity(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'misunderstood.db'}")
    store.migrate()
    queued = [
        ("青浦租房补贴怎么领取", "fallback", stored(10, 9, 10)),
        ("落户积分怎么算", "clarification", stored(10, 9, 11)),
        ("青浦租房补贴怎么领呢", "low_confidence", stored(10, 9, 12)),
        ("你们几点下班", "repeated_answer", stored(10, 9, 13)),  # understood, answered twice: not listed
        ("青浦租房补贴怎么领取", "fallback,bad_rating", stored(10, 10, 23, 50)),
        ("落户积分怎么算", "fallback", stored(10, 11, 0, 10)),  # after the range (local midnight)
    ]
    with store.engine.begin() as conn:
        for number, (text, reasons, at) in enumerate(queued, start=1):
            conn.execute(
                insert(review_items).values(message_id=number, conversation_id="web:q", channel="web", text=text,
                                            reasons=reasons, status="open", created_at=at)
            )  # fmt: skip
    found = reports.report(store.engine, dt.date(2025, 10, 9), dt.date(2025, 10, 10))
    assert found["misunderstood"] == [
        {"example": "青浦租房补贴怎么领取", "count": 3, "others": ["青浦租房补贴怎么领呢"]},
        {"example": "落户积分怎么算", "count": 1, "others": []},
    ]
    table = reports.table_csv(found, "misunderstood").lstrip("\ufeff").splitlines()
    assert table == [
        "example,count,others",
        "青浦租房补贴怎么领取,3,青浦租房补贴怎么领呢",
        "落户积分怎么算,1,",
    ]
    store.dispose()


def test_the_daily_chart_is_drawn_by_the_server_from_the_report(tmp_path) -> None:
    from xml.etree import ElementTree

    from bot.console.report_chart import daily_chart

    store = Store(f"sqlite:///{tmp_path / 'chart.db'}")
    store.migrate()
    seed(store)
    found = reports.report(store.engine, dt.date(2025, 10, 9), dt.date(2025, 10, 10))
    svg = ElementTree.fromstring(daily_chart(found))
    bars = [r for r in svg.iter("{http://www.w3.org/2000/svg}rect") if "data-day" in r.attrib]
    assert [(r.get("data-day"), r.get("data-channel"), r.get("data-count")) for r in bars] == [
        ("2025-10-09", "wechat", "1"), ("2025-10-09", "telegram", "1"), ("2025-10-09", "web", "1"),
        ("2025-10-10", "wechat", "1"), ("2025-10-10", "web", "1"),
    ]  # fmt: skip
    assert len({r.get("height") for r in bars}) == 1  # one conversation, one height
    marks = [
        t.get("data-handoffs")
        for t in svg.iter("{http://www.w3.org/2000/svg}text")
        if "data-handoffs" in t.attrib
    ]
    assert marks == ["2"]  # two handoffs on the 9th, none on the 10th
    store.dispose()
