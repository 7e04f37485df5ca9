"""Reports on conversations and cases (issue 13, item 6, the part the database already records): per local
day, by channel, district and language; how many conversations staff never had to answer; handoff reasons;
median and 90th-percentile first-response and resolution times in working time; targets met; top topics;
and one CSV row per case. Days are the office's local days (console.yml ``office_hours.utc_offset_hours``).

Not here yet: satisfaction (好差评) and the messages the assistant did not understand — the database does
not record ratings or NLU outcomes today.
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

from ..store import cases, conversations, messages
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
    }


def counted(rows: list[dict[str, Any]], key: str, label: Any = None) -> list[dict[str, Any]]:
    counts = Counter(row.get(key) for row in rows)
    return [
        {"key": value, "label": label(value) if label else value, "count": count}
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    ]


CSV_COLUMNS = (
    "case_id", "opened_local", "channel", "district", "topic", "language", "reason", "status", "assignee",
    "first_response_working_minutes", "first_response_target", "resolution_working_minutes",
    "resolution_target", "outcome",
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
            ]
        )
    return "\ufeff" + out.getvalue()
