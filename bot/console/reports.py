"""Reports on conversations and cases (issue 13, item 6): per local day, by channel, district and language;
how many conversations staff never had to answer; handoff reasons; median and 90th-percentile
first-response and resolution times in working time; targets met; top topics; satisfaction (好差评, both
kinds: staff cases and the assistant's personalised answers) by topic, district, channel and officer; the
messages the assistant did not understand, grouped by similarity (from the review queue, review.py); one
CSV row per case, one per rating, and any table of the report as CSV. Days and times are the office's
local ones (console.yml ``office_hours``: Asia/Shanghai).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..store import cases, conversations, messages, ratings
from . import review
from .settings import config, reason_label
from .targets import service_targets
from .workcalendar import work_calendar

MAX_DAYS = 366


# a 差评回访 follow-up (ratings.py) is not a handoff: the person never waited for it
HANDOFF_CASES = cases.c.rating_id.is_(None)


def date_range(start: str | None, end: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """``from``/``to`` query values (ISO dates, local); default the last 7 days. ValueError when invalid."""
    last = dt.date.fromisoformat(end) if end else today
    first = dt.date.fromisoformat(start) if start else last - dt.timedelta(days=6)
    if first > last or (last - first).days >= MAX_DAYS:
        raise ValueError("range")
    return first, last


def utc_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) local, as naive UTC (how times are stored)."""
    zone = work_calendar().zone
    low = dt.datetime.combine(start, dt.time(0), tzinfo=zone)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return (
        low.astimezone(dt.timezone.utc).replace(tzinfo=None),
        high.astimezone(dt.timezone.utc).replace(tzinfo=None),
    )


def local_day(stored: dt.datetime) -> str:
    return work_calendar().local(stored).date().isoformat()


def nearest_rank(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (p90 = the smallest value at least 90 % of values do not exceed)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 1)


def duration_summary(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Working minutes from opening to done, for targets that are done; how many met or breached."""
    items = list(items)
    done = [item for item in items if item["done_at"] is not None]
    calendar = work_calendar()
    minutes = [
        _minutes(calendar.working_time_between(item["opened_at"], item["done_at"]).total_seconds())
        for item in done
    ]
    met = sum(1 for item in done if item["state"] == "met")
    breached = sum(1 for item in items if item["state"] == "breached")
    return {
        "done": len(done),
        "median_minutes": round(statistics.median(minutes), 1) if minutes else None,
        "p90_minutes": nearest_rank(minutes, 0.9),
        "met": met,
        "breached": breached,
        "met_share": round(met / len(done), 3) if done else None,
    }


def report(
    engine: Engine,
    start: dt.date,
    end: dt.date,
    *,
    default_language: str = "zh",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    low, high = utc_bounds(start, end)
    with engine.connect() as conn:
        said = conn.execute(
            select(messages.c.conversation_id, messages.c.channel, messages.c.created_at).where(
                messages.c.direction == "in", messages.c.created_at >= low, messages.c.created_at < high
            )
        ).all()
        languages = dict(conn.execute(select(conversations.c.id, conversations.c.language)).all())
        opened = [
            dict(r._mapping)
            for r in conn.execute(
                select(cases).where(cases.c.opened_at >= low, cases.c.opened_at < high, HANDOFF_CASES)
            )
        ]
    active: dict[str, set[str]] = {}  # local day -> conversations the person wrote in
    channel_of: dict[str, str] = {}
    for row in said:
        active.setdefault(local_day(row.created_at), set()).add(row.conversation_id)
        channel_of[row.conversation_id] = row.channel
    person_cases = [c for c in opened if c["opened_by"] == "assistant"]
    days = []
    for offset in range((end - start).days + 1):
        day = (start + dt.timedelta(days=offset)).isoformat()
        talked = active.get(day, set())
        handed = {c["conversation_id"] for c in person_cases if local_day(c["opened_at"]) == day}
        days.append(
            {
                "date": day,
                "conversations": len(talked),
                "by_channel": dict(Counter(channel_of[c] for c in talked)),
                "by_language": dict(Counter(languages.get(c) or default_language for c in talked)),
                "cases": sum(1 for c in opened if local_day(c["opened_at"]) == day),
                "handoffs": len(handed),
                "handoff_rate": round(len(handed & talked) / len(talked), 3) if talked else None,
            }
        )
    everyone = set().union(*active.values()) if active else set()
    with_staff = {c["conversation_id"] for c in opened} & everyone
    targets = [(c, service_targets(c, now)) for c in person_cases]
    with_targets = [(c, t) for c, t in targets if t is not None]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "utc_offset_hours": int(config()["office_hours"]["utc_offset_hours"]),
        "days": days,
        "conversations": len(everyone),
        "answered_without_staff": len(everyone - with_staff),
        "answered_without_staff_share": round(len(everyone - with_staff) / len(everyone), 3)
        if everyone
        else None,
        "cases": len(opened),
        "by_reason": counted(opened, "reason", label=reason_label),
        "by_district": counted(opened, "district", label=lambda d: d or config()["routing_labels"]["shared"]),
        "by_channel": counted(opened, "channel"),
        "by_language": counted(opened, "language"),
        "top_topics": counted([c for c in opened if c.get("topic")], "topic")[:10],
        "first_response": duration_summary(
            {**t["first_response"], "opened_at": c["opened_at"]} for c, t in with_targets
        ),
        "resolution": duration_summary(
            {**t["resolution"], "opened_at": c["opened_at"]} for c, t in with_targets
        ),
        "satisfaction": satisfaction(rated_in(engine, low, high)),
        "misunderstood": review.misunderstood(engine, low, high),
    }


def rated_in(engine: Engine, low: dt.datetime, high: dt.datetime) -> list[dict[str, Any]]:
    """The ratings given in [low, high) (naive UTC), oldest first."""
    query = select(ratings).where(ratings.c.created_at >= low, ratings.c.created_at < high)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(ratings.c.id))]


def _scored(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Count, average score (5 非常满意 … 1 非常不满意), the share 基本满意 or better (好差评's 满意率) and how
    many were 不满意 or worse (each opened a 差评回访)."""
    scores = [row["score"] for row in rows]
    settings = config()["ratings"]
    satisfied = sum(1 for score in scores if score >= int(settings["satisfied_at_least"]))
    return {
        "count": len(scores),
        "average": round(statistics.mean(scores), 2) if scores else None,
        "satisfied_share": round(satisfied / len(scores), 3) if scores else None,
        "dissatisfied": sum(1 for score in scores if score <= int(settings["follow_up_at_most"])),
    }


def _grouped(rows: list[dict[str, Any]], key: Any, label: Any) -> list[dict[str, Any]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), str(item[0])))
    return [{"key": value, "label": label(value), **_scored(group)} for value, group in ordered]


def satisfaction(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """好差评 in the report: overall, by level, by kind (a staff case or the assistant's answer), topic,
    district, channel and officer (the assistant for an answer)."""
    labels = config()["routing_labels"]
    levels = {level["score"]: level["zh"] for level in config()["ratings"]["levels"]}
    kind = lambda row: "case" if row["case_id"] is not None else "answer"  # noqa: E731
    kinds = {"case": "人工服务", "answer": "助手个性化答复"}
    return {
        **_scored(rows),
        "by_level": [
            {"key": score, "label": name, "count": sum(1 for r in rows if r["score"] == score)}
            for score, name in sorted(levels.items(), reverse=True)
        ],
        "by_kind": _grouped(rows, kind, kinds.get),
        "by_topic": _grouped(rows, lambda r: r["topic"], lambda t: t or "—"),
        "by_district": _grouped(rows, lambda r: r["district"], lambda d: d or labels["shared"]),
        "by_channel": _grouped(rows, lambda r: r["channel"], lambda c: c),
        "by_officer": _grouped(
            rows, lambda r: r["officer"] if r["case_id"] is not None else None, lambda o: o or "助手"
        ),
    }


# the report's tables a CSV can be made of: name -> (path in the report, columns)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "days": (("days",), ("date", "conversations", "cases", "handoffs", "handoff_rate")),
    **{
        name: ((name,), ("key", "label", "count"))
        for name in ("by_reason", "by_district", "by_channel", "by_language", "top_topics")
    },
    **{
        f"satisfaction_{name}": (
            ("satisfaction", name),
            ("key", "label", "count", "average", "satisfied_share", "dissatisfied"),
        )
        for name in ("by_kind", "by_topic", "by_district", "by_channel", "by_officer")
    },
    "satisfaction_by_level": (("satisfaction", "by_level"), ("key", "label", "count")),
    "misunderstood": (("misunderstood",), ("example", "count", "others")),
}


def table_csv(found: dict[str, Any], name: str) -> str:
    """One table of a report as CSV (UTF-8 with BOM for Excel); KeyError for a table there is not."""
    path, columns = TABLES[name]
    rows: Any = found
    for part in path:
        rows = rows[part]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        values = [row.get(c) for c in columns]
        writer.writerow(["" if v is None else " | ".join(v) if isinstance(v, list) else v for v in values])
    return "\ufeff" + out.getvalue()


RATING_COLUMNS = (
    "rating_id", "rated_local", "kind", "case_id", "channel", "language", "district", "topic", "officer",
    "score", "level", "comment",
)  # fmt: skip


def ratings_csv(engine: Engine, start: dt.date, end: dt.date) -> str:
    """One row per rating given in the range, local time."""
    levels = {level["score"]: level["zh"] for level in config()["ratings"]["levels"]}
    calendar = work_calendar()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(RATING_COLUMNS)
    for row in rated_in(engine, *utc_bounds(start, end)):
        writer.writerow(
            [
                row["id"],
                calendar.local(row["created_at"]).strftime("%Y-%m-%d %H:%M"),
                "case" if row["case_id"] is not None else "answer",
                row["case_id"] or "",
                row["channel"],
                row["language"],
                row["district"] or "",
                row["topic"] or "",
                row["officer"] or "",
                row["score"],
                levels.get(row["score"], ""),
                row["comment"] or "",
            ]
        )
    return "\ufeff" + out.getvalue()


def counted(rows: list[dict[str, Any]], key: str, label: Any = None) -> list[dict[str, Any]]:
    counts = Counter(row.get(key) for row in rows)
    return [
        {"key": value, "label": label(value) if label else value, "count": count}
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    ]


CSV_COLUMNS = (
    "case_id", "opened_local", "channel", "district", "topic", "language", "reason", "status", "assignee",
    "first_response_working_minutes", "first_response_target", "resolution_working_minutes",
    "resolution_target", "outcome", "rating",
)  # fmt: skip


def worked_minutes(case: dict[str, Any], item: dict[str, Any] | None) -> str:
    """Working minutes from opening to a target's completion ('' while not done)."""
    if not item or item["done_at"] is None:
        return ""
    return str(
        _minutes(work_calendar().working_time_between(case["opened_at"], item["done_at"]).total_seconds())
    )


def cases_csv(engine: Engine, start: dt.date, end: dt.date, now: dt.datetime | None = None) -> str:
    """One row per case opened in the range, local times, working minutes (UTF-8 with BOM for Excel)."""
    low, high = utc_bounds(start, end)
    with engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                select(cases)
                .where(cases.c.opened_at >= low, cases.c.opened_at < high, HANDOFF_CASES)
                .order_by(cases.c.id)
            )
        ]
        rated = dict(
            conn.execute(
                select(ratings.c.case_id, ratings.c.score).where(
                    ratings.c.case_id.in_([case["id"] for case in rows])
                )
            ).all()
        )
    calendar = work_calendar()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for case in rows:
        targets = service_targets(case, now) or {}

        writer.writerow(
            [
                case["id"],
                calendar.local(case["opened_at"]).strftime("%Y-%m-%d %H:%M"),
                case["channel"],
                case.get("district") or "",
                case.get("topic") or "",
                case["language"],
                case["reason"],
                case["status"],
                case.get("assignee") or "",
                worked_minutes(case, targets.get("first_response")),
                (targets.get("first_response") or {}).get("state", ""),
                worked_minutes(case, targets.get("resolution")),
                (targets.get("resolution") or {}).get("state", ""),
                case.get("outcome") or "",
                rated.get(case["id"], ""),
            ]
        )
    return "\ufeff" + out.getvalue()
