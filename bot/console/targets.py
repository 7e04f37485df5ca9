"""Service-time targets (issue 13, item 5): first response and resolution, counted in working time on the
office's calendar from the moment a case opened (console.yml ``service_targets``).

A target is ``running`` (time left), ``due_soon`` (less than ``due_soon_minutes`` left), ``met`` (done
in time) or ``breached`` (done late, or not done and past due). Time left and overdue are working time:
a case opened on Friday at 16:30 with a 60-minute target is due on the next working day at 09:30.
Cases an officer opened by taking a conversation over have no targets (nobody was waiting).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .privacy import TAKEOVER
from .settings import config
from .workcalendar import work_calendar


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def target(
    opened: dt.datetime, amount: dt.timedelta, done: dt.datetime | None, now: dt.datetime
) -> dict[str, Any]:
    calendar = work_calendar()
    due = calendar.add_working_time(opened, amount)
    end = calendar.local(done or now)
    if end <= due:
        left = calendar.working_time_between(end, due)
        soon = dt.timedelta(minutes=float(config()["service_targets"]["due_soon_minutes"]))
        state = "met" if done else ("due_soon" if left <= soon else "running")
    else:
        left, state = -calendar.working_time_between(due, end), "breached"
    return {"due_at": _utc(due), "left_seconds": int(left.total_seconds()), "state": state, "done_at": done}


def service_targets(case: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any] | None:
    """``{first_response, resolution}`` for a case (naive-UTC datetimes, as stored), or None."""
    if case.get("reason") == TAKEOVER or case.get("opened_at") is None:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    settings = config()["service_targets"]
    first = dt.timedelta(minutes=float(settings["first_response_minutes"]))
    resolution = dt.timedelta(hours=float(settings["resolution_hours"]))
    return {
        # closing a case unanswered tells the person too: it ends the first-response clock
        "first_response": target(
            case["opened_at"], first, case.get("first_response_at") or case.get("closed_at"), now
        ),
        "resolution": target(case["opened_at"], resolution, case.get("closed_at"), now),
    }
