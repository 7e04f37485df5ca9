"""Counters in fixed windows, taken atomically: the console's log-in throttling (issue 10, items 9 and 13).

A counter is one ``login_throttle`` row per (scope, key). ``take`` adds one with a single conditional
UPDATE that also restarts a stale window — ``WHERE count < limit OR window_start <= cutoff`` — so of any
number of concurrent takers exactly ``limit`` succeed, on SQLite (one writer at a time) and on PostgreSQL
(the row lock re-checks the WHERE clause after waiting). A missing row is INSERTed; losing that race to
another process means the row now exists, and the UPDATE is tried again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..store import login_throttle

_T = login_throttle.c


@dataclass(frozen=True)
class Taken:
    """``ok``: a slot was taken and ``count`` is the count now; else ``until`` is when the window ends."""

    ok: bool
    count: int
    until: dt.datetime


def take(
    engine: Engine, scope: str, key: str, *, limit: int, window: dt.timedelta, now: dt.datetime
) -> Taken:
    """Add one to the counter unless it already holds ``limit`` within its window."""
    key = key[:200]
    cutoff = now - window
    stale = _T.window_start <= cutoff
    for _ in range(3):
        with engine.begin() as conn:
            changed = conn.execute(
                update(login_throttle)
                .where(_T.scope == scope, _T.key == key, or_(_T.count < limit, stale))
                .values(
                    count=case((stale, 1), else_=_T.count + 1),
                    window_start=case((stale, now), else_=_T.window_start),
                )
            ).rowcount
            row = conn.execute(
                select(_T.count, _T.window_start).where(_T.scope == scope, _T.key == key)
            ).first()
        if row is not None:
            return Taken(changed == 1, int(row.count), row.window_start + window)
        try:
            with engine.begin() as conn:
                conn.execute(insert(login_throttle).values(scope=scope, key=key, window_start=now, count=1))
            return Taken(True, 1, now + window)
        except IntegrityError:
            continue  # another process inserted it first: the UPDATE applies now
    raise RuntimeError(f"login_throttle {scope}: could not take a slot")


def give_back(engine: Engine, scope: str, key: str) -> None:
    """Undo one ``take`` that turned out not to be a failure (or was never tried)."""
    with engine.begin() as conn:
        conn.execute(
            update(login_throttle)
            .where(_T.scope == scope, _T.key == key[:200], _T.count > 0)
            .values(count=_T.count - 1)
        )


def clear(engine: Engine, scope: str, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(login_throttle).where(_T.scope == scope, _T.key == key[:200]))


def mark(engine: Engine, scope: str, key: str, now: dt.datetime) -> None:
    """Remember that something happened now (a successful log-in from an address)."""
    key = key[:200]
    with engine.begin() as conn:
        changed = conn.execute(
            update(login_throttle).where(_T.scope == scope, _T.key == key).values(window_start=now)
        ).rowcount
    if changed:
        return
    try:
        with engine.begin() as conn:
            conn.execute(insert(login_throttle).values(scope=scope, key=key, window_start=now, count=1))
    except IntegrityError:
        pass  # marked by a concurrent log-in a moment ago: as good


def marked_since(engine: Engine, scope: str, key: str, since: dt.datetime) -> bool:
    with engine.connect() as conn:
        at = conn.execute(select(_T.window_start).where(_T.scope == scope, _T.key == key[:200])).scalar()
    return at is not None and at > since
