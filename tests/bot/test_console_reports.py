"""Reports against a seeded database with fixed dates (issue 13, item 6: exact counts), and the admin routes."""

from __future__ import annotations

import csv
import datetime as dt
import io

import test_console_api
from sqlalchemy import insert

from bot.console import reports
from bot.store import Store, cases, conversations, messages

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
