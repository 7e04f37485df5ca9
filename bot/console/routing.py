"""Routing by district and topic (issue 13, item 2): which district queue a case is in, which districts an
officer serves, the queue's filters and order, and the per-officer limit on cases in hand.

A case's district is the one in the assistant's handoff profile when it is one of the districts
``policies/profile.yml`` knows (NULL otherwise: the shared queue every officer sees). Officers see their
own districts' cases and the shared queue first, longest waiting first. The limit is checked in the same
UPDATE that assigns the case, so two claims at once cannot pass it together.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy import case as when
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from ..config import REPO_ROOT
from ..store import cases, staff_accounts, staff_districts, utcnow
from .settings import config

PROFILE_FILE = REPO_ROOT / "policies" / "profile.yml"
VOCABULARY_FILE = REPO_ROOT / "policies" / "vocabulary.yml"
CHANNELS = ("wechat", "telegram", "web")
LANGUAGES = ("zh", "en")
SORTS = ("waiting", "newest")


@lru_cache(maxsize=1)
def districts() -> tuple[str, ...]:
    """The districts a case can be routed to: the profile's district values (one home)."""
    fields = (yaml.safe_load(PROFILE_FILE.read_text(encoding="utf-8")) or {}).get("fields") or {}
    return tuple(str(value) for value in (fields.get("district") or {}).get("values") or ())


@lru_cache(maxsize=1)
def district_names() -> dict[str, str]:
    """Every way a district is written (policies/vocabulary.yml: "松江区", "songjiang" …) -> its name."""
    names = {d.lower(): d for d in districts()}
    if VOCABULARY_FILE.exists():
        vocabulary = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8")) or {}
        for name, aliases in ((vocabulary.get("district") or {}).get("values") or {}).items():
            if name in districts():
                names.update({str(alias).lower(): name for alias in aliases or []})
    return names


def district_of(payload: Any) -> str | None:
    profile = payload.get("profile") if isinstance(payload, dict) else None
    value = profile.get("district") if isinstance(profile, dict) else None
    return district_names().get(value.strip().lower()) if isinstance(value, str) else None


def topic_of(payload: Any) -> str | None:
    result = payload.get("result") if isinstance(payload, dict) else None
    topic = result.get("topic") if isinstance(result, dict) else None
    return str(topic)[:60] if topic else None


def limit_per_officer() -> int:
    return int(config()["routing"]["max_open_cases_per_officer"])


# -- officers' districts ------------------------------------------------------------------------------------
def officer_districts(engine: Engine, login: str | None = None) -> dict[str, list[str]]:
    query = select(staff_districts).order_by(staff_districts.c.login, staff_districts.c.district)
    if login is not None:
        query = query.where(staff_districts.c.login == login)
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            found.setdefault(row.login, []).append(row.district)
    return found


def set_officer_districts(engine: Engine, login: str, chosen: list[str]) -> list[str]:
    """Replace an officer's districts (ValueError naming an unknown district or account)."""
    unknown = [d for d in chosen if d not in districts()]
    if unknown:
        raise ValueError(f"unknown district {unknown[0]!r}; known: {'、'.join(districts())}")
    chosen = sorted(set(chosen), key=districts().index)
    with engine.begin() as conn:
        if (
            conn.execute(select(staff_accounts.c.login).where(staff_accounts.c.login == login)).first()
            is None
        ):
            raise ValueError(f"no account {login!r}")
        conn.execute(delete(staff_districts).where(staff_districts.c.login == login))
        for district in chosen:
            conn.execute(insert(staff_districts).values(login=login, district=district))
    return chosen


# -- the queue ------------------------------------------------------------------------------------------------
def filtered(query: Select, filters: dict[str, str], mine: list[str]) -> Select:
    """Filters (district: a name or "shared"; topic; channel; language) and the order: the officer's
    districts and the shared queue first, then by waiting time (``sort``)."""
    district = filters.get("district")
    if district == "shared":
        query = query.where(cases.c.district.is_(None))
    elif district:
        query = query.where(cases.c.district == district)
    for name in ("topic", "channel", "language"):
        if filters.get(name):
            query = query.where(getattr(cases.c, name) == filters[name])
    own_first = when((or_(cases.c.district.is_(None), cases.c.district.in_(mine)), 0), else_=1)
    newest = filters.get("sort") == "newest"
    return query.order_by(own_first, cases.c.opened_at.desc() if newest else cases.c.opened_at, cases.c.id)


def check_filters(filters: dict[str, str]) -> dict[str, str]:
    """Only known values (ValueError otherwise): the filters come from a query string."""
    allowed = {
        "district": (*districts(), "shared"),
        "channel": CHANNELS,
        "language": LANGUAGES,
        "sort": SORTS,
    }
    for name, values in allowed.items():
        if filters.get(name) and filters[name] not in values:
            raise ValueError(name)
    if len(filters.get("topic") or "") > 60:
        raise ValueError("topic")
    return {k: v for k, v in filters.items() if v}


# -- limits ---------------------------------------------------------------------------------------------------
def _in_hand(login: Any) -> Any:
    """How many cases ``login`` holds now (a scalar subquery, evaluated inside the UPDATE)."""
    held = cases.alias("held")
    return (
        select(func.count())
        .select_from(held)
        .where(held.c.assignee == login, held.c.status == "assigned")
        .scalar_subquery()
    )


def serialise_officer(conn: Connection, login: str) -> None:
    """PostgreSQL: take the officer's account row lock, so two assignments to one officer queue up and
    the second one's count sees the first (SQLite already runs one writer at a time)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(staff_accounts.c.login).where(staff_accounts.c.login == login).with_for_update())


def assign_within_limit(conn: Connection, condition: list[Any], login: str, limit: int) -> bool:
    serialise_officer(conn, login)
    result = conn.execute(
        update(cases)
        .where(*condition, _in_hand(login) < limit)
        .values(status="assigned", assignee=login, assigned_at=utcnow(), seen_message_id=0)
    )
    return result.rowcount == 1


def in_hand(engine: Engine, login: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(_in_hand(login))).scalar() or 0)


def to_district_queue(engine: Engine, case_id: int, district: str | None, *, from_login: str | None) -> bool:
    """Put an open case back in a queue (a district's, or the shared one with None), unassigned."""
    condition = [cases.c.id == case_id, cases.c.status.in_(("waiting", "assigned"))]
    if from_login is not None:
        condition += [cases.c.assignee == from_login, cases.c.status == "assigned"]
    with engine.begin() as conn:
        result = conn.execute(
            update(cases)
            .where(*condition)
            .values(status="waiting", assignee=None, assigned_at=None, district=district, seen_message_id=0)
        )
        return result.rowcount == 1


def mark_first_response(engine: Engine, case_id: int) -> bool:
    """Record the first staff reply (once); True when this was it."""
    with engine.begin() as conn:
        return (
            conn.execute(
                update(cases)
                .where(cases.c.id == case_id, cases.c.first_response_at.is_(None))
                .values(first_response_at=utcnow())
            ).rowcount
            == 1
        )
