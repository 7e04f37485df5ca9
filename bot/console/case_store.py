"""The database side of cases: one transaction per state change, every change conditional on the state
it starts from, so two officers (or two gateway processes) acting at once cannot both win.

Synchronous (SQLAlchemy Core); async code calls these through ``Store.call``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..store import (
    Store,
    canned_replies,
    case_notes,
    cases,
    conversations,
    handoffs,
    messages,
    utcnow,
)
from . import privacy, routing
from .settings import config

OPEN_STATUSES = ("waiting", "assigned")
LIST_LIMIT = 200


def _row(row: Any) -> dict[str, Any] | None:
    return dict(row._mapping) if row is not None else None


class CaseStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    # -- opening -------------------------------------------------------------------------------------
    def open_case(
        self,
        conversation_id: str,
        *,
        reason: str,
        summary: str | None,
        payload: dict[str, Any] | None,
        language: str,
        opened_by: str,
        assignee: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Open a case and pause the assistant for the conversation, or return the case already open.

        Returns (case, newly opened). The unique ``open_key`` makes "one open case per conversation" hold
        even when the assistant's handoff and an officer's takeover race each other.
        """
        existing = self.open_case_for(conversation_id)
        if existing is not None:
            return existing, False
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                handoff_id = self._open_handoff(conn, conversation_id, reason, payload, now)
                result = conn.execute(
                    insert(cases).values(
                        conversation_id=conversation_id,
                        channel=conversation_id.split(":", 1)[0],
                        open_key=conversation_id,
                        handoff_id=handoff_id,
                        status="assigned" if assignee else "waiting",
                        reason=reason,
                        summary=summary,
                        payload=payload,
                        language=language,
                        opened_by=opened_by,
                        opened_at=now,
                        assignee=assignee,
                        assigned_at=now if assignee else None,
                        seen_message_id=0,
                        district=routing.district_of(payload),
                        topic=routing.topic_of(payload),
                    )
                )
                case_id = int(result.inserted_primary_key[0])
        except IntegrityError:
            existing = self.open_case_for(conversation_id)
            if existing is None:
                raise
            return existing, False
        return self.get(case_id), True

    @staticmethod
    def _open_handoff(
        conn: Connection, conversation_id: str, reason: str, payload: dict[str, Any] | None, now: Any
    ) -> int:
        """The handoffs row (the assistant's pause) that goes with a case; reuses one already open."""
        existing = conn.execute(
            select(handoffs.c.id).where(
                handoffs.c.conversation_id == conversation_id, handoffs.c.status == "open"
            )
        ).first()
        if existing is not None:
            handoff_id = int(existing[0])
        else:
            handoff_id = int(
                conn.execute(
                    insert(handoffs).values(
                        conversation_id=conversation_id,
                        status="open",
                        reason=reason[:200],
                        payload=payload,
                        opened_at=now,
                    )
                ).inserted_primary_key[0]
            )
        conn.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(handoff_open=True)
        )
        return handoff_id

    # -- state changes ---------------------------------------------------------------------------------
    def claim(self, case_id: int, login: str, limit: int | None = None) -> bool:
        """waiting → assigned to ``login``; exactly one of several simultaneous claims succeeds, and none
        while ``login`` already holds ``limit`` cases (checked in the same UPDATE)."""
        condition = [cases.c.id == case_id, cases.c.status == "waiting"]
        with self.engine.begin() as conn:
            if limit is not None:
                return routing.assign_within_limit(conn, condition, login, limit)
            result = conn.execute(
                update(cases)
                .where(*condition)
                .values(status="assigned", assignee=login, assigned_at=utcnow(), seen_message_id=0)
            )
            return result.rowcount == 1

    def transfer(self, case_id: int, to_login: str, *, from_login: str | None, limit: int) -> bool:
        """Reassign an open case to an officer holding fewer than ``limit``. ``from_login`` None (an
        admin) takes any open case; otherwise only the current assignee's."""
        condition = [cases.c.id == case_id, cases.c.status.in_(OPEN_STATUSES)]
        if from_login is not None:
            condition += [cases.c.assignee == from_login, cases.c.status == "assigned"]
        with self.engine.begin() as conn:
            return routing.assign_within_limit(conn, condition, to_login, limit)

    def close(self, case_id: int, *, closed_by: str, outcome: str, assignee: str | None) -> bool:
        """Close an open case (``assignee`` None: whoever holds it) and end the assistant's pause."""
        now = utcnow()
        condition = [cases.c.id == case_id, cases.c.status.in_(OPEN_STATUSES)]
        if assignee is not None:
            condition.append(cases.c.assignee == assignee)
        with self.engine.begin() as conn:
            case = conn.execute(select(cases).where(cases.c.id == case_id)).first()
            result = conn.execute(
                update(cases)
                .where(*condition)
                .values(status="closed", open_key=None, closed_at=now, closed_by=closed_by, outcome=outcome)
            )
            if result.rowcount != 1:
                return False
            self._close_handoff(conn, case.conversation_id, closed_by, now)
            return True

    @staticmethod
    def _close_handoff(conn: Connection, conversation_id: str, closed_by: str, now: Any) -> bool:
        result = conn.execute(
            update(handoffs)
            .where(handoffs.c.conversation_id == conversation_id, handoffs.c.status == "open")
            .values(status="closed", closed_at=now, closed_by=closed_by)
        )
        conn.execute(
            update(conversations).where(conversations.c.id == conversation_id).values(handoff_open=False)
        )
        return result.rowcount > 0

    def close_conversation(
        self, conversation_id: str, *, closed_by: str, outcome: str
    ) -> tuple[int | None, bool]:
        """Close whatever is open for a conversation (its case and its pause). Returns (case id, closed)."""
        now = utcnow()
        with self.engine.begin() as conn:
            case = conn.execute(select(cases.c.id).where(cases.c.open_key == conversation_id)).first()
            case_closed = False
            if case is not None:
                case_closed = (
                    conn.execute(
                        update(cases)
                        .where(cases.c.id == case.id, cases.c.status.in_(OPEN_STATUSES))
                        .values(
                            status="closed",
                            open_key=None,
                            closed_at=now,
                            closed_by=closed_by,
                            outcome=outcome,
                        )
                    ).rowcount
                    == 1
                )
            handoff_closed = self._close_handoff(conn, conversation_id, closed_by, now)
            return (case.id if case is not None else None), (case_closed or handoff_closed)

    def cancel_waiting(self, conversation_id: str, outcome: str) -> int | None:
        """The person cancels their case while nobody has claimed it: closed with ``outcome`` and the
        pause ended in one transaction, only if still ``waiting`` (an officer's claim at the same moment
        wins or loses as a whole). Returns the case id, or None when it was not waiting."""
        now = utcnow()
        with self.engine.begin() as conn:
            case = conn.execute(select(cases.c.id).where(cases.c.open_key == conversation_id)).first()
            if case is None:
                return None
            result = conn.execute(
                update(cases)
                .where(cases.c.id == case.id, cases.c.status == "waiting")
                .values(status="closed", open_key=None, closed_at=now, closed_by="person", outcome=outcome)
            )
            if result.rowcount != 1:
                return None
            self._close_handoff(conn, conversation_id, "person", now)
            return int(case.id)

    def mark_seen(self, case_id: int, message_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(cases)
                .where(cases.c.id == case_id, cases.c.seen_message_id < message_id)
                .values(seen_message_id=message_id)
            )

    # -- reading -----------------------------------------------------------------------------------------
    def get(self, case_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return _row(conn.execute(select(cases).where(cases.c.id == case_id)).first())

    def open_case_for(self, conversation_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return _row(conn.execute(select(cases).where(cases.c.open_key == conversation_id)).first())

    def list(
        self, view: str, login: str, filters: dict[str, str] | None = None, mine: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """A view's cases; ``queue`` and ``all`` take the routing filters, ``mine`` (the viewer's
        districts) and the shared queue first."""
        query = select(cases)
        if view in ("queue", "all"):
            statuses = ("waiting",) if view == "queue" else OPEN_STATUSES
            query = routing.filtered(query.where(cases.c.status.in_(statuses)), filters or {}, mine or [])
        elif view == "mine":
            query = query.where(cases.c.status == "assigned", cases.c.assignee == login).order_by(
                cases.c.opened_at
            )
        else:  # closed
            query = query.where(cases.c.status == "closed").order_by(cases.c.closed_at.desc())
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query.limit(LIST_LIMIT))]

    def activity(self, conversation_id: str, seen_message_id: int) -> dict[str, Any]:
        """When anyone last wrote, the person's own last words (the preview: what they want, never the
        assistant's boilerplate), and how many of the person's messages are unread."""
        with self.engine.connect() as conn:
            last = conn.execute(
                select(messages.c.created_at)
                .where(messages.c.conversation_id == conversation_id, messages.c.status != "suppressed")
                .order_by(messages.c.id.desc())
                .limit(1)
            ).first()
            said = conn.execute(
                select(messages.c.text)
                .where(messages.c.conversation_id == conversation_id, messages.c.direction == "in")
                .order_by(messages.c.id.desc())
                .limit(1)
            ).first()
            unread = conn.execute(
                select(func.count())
                .select_from(messages)
                .where(
                    messages.c.conversation_id == conversation_id,
                    messages.c.direction == "in",
                    messages.c.id > seen_message_id,
                )
            ).scalar()
        return {
            "last_message_at": last.created_at if last else None,
            "person_last_text": said.text if said else None,
            "unread": int(unread or 0),
        }

    def conversations(
        self, query: str | None, limit: int = 50, *, clear: bool = False
    ) -> list[dict[str, Any]]:
        """Most recent conversations first, for the proactive takeover list; ``query`` matches a
        conversation id or the person's messages — their masked text unless ``clear`` (privacy.py)."""
        select_query = select(conversations).order_by(conversations.c.updated_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            if query and query.strip():
                select_query = select_query.where(
                    or_(
                        conversations.c.id.like(privacy.like_pattern(query.strip()[:80], clear=True), "\\"),
                        conversations.c.id.in_(self._matching_conversations(conn, query.strip()[:80], clear)),
                    )
                )
            rows = [_row(r) for r in conn.execute(select_query)]
            open_cases = {
                r.conversation_id: r.id
                for r in conn.execute(
                    select(cases.c.id, cases.c.conversation_id).where(
                        cases.c.open_key.in_([row["id"] for row in rows])
                    )
                )
            }
        for row in rows:
            row["open_case_id"] = open_cases.get(row["id"])
        return rows

    @staticmethod
    def _matching_conversations(conn: Connection, query: str, clear: bool) -> list[str]:
        """Conversations with a message of the person's that matches: LIKE narrows, ``privacy.matches``
        decides (a LIKE on the stored clear text alone would find what the list masks)."""
        candidates = conn.execute(
            select(messages.c.conversation_id, messages.c.text)
            .where(
                messages.c.direction == "in",
                messages.c.text.like(privacy.like_pattern(query, clear=clear), "\\"),
            )
            .order_by(messages.c.id.desc())
            .limit(int(config()["privacy"]["search_scan_messages"]))
        )
        found: dict[str, None] = {}
        for row in candidates:
            if privacy.matches(row.text, query, clear=clear):
                found.setdefault(row.conversation_id)
        return list(found)

    # -- notes -------------------------------------------------------------------------------------------
    def add_note(self, case_id: int, author: str, text: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(case_notes).values(case_id=case_id, author=author, text=text, created_at=utcnow())
            )
            note_id = int(result.inserted_primary_key[0])
            return _row(conn.execute(select(case_notes).where(case_notes.c.id == note_id)).first())

    def notes(self, case_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                _row(r)
                for r in conn.execute(
                    select(case_notes).where(case_notes.c.case_id == case_id).order_by(case_notes.c.id)
                )
            ]

    # -- canned replies ------------------------------------------------------------------------------------
    def canned(self, *, include_retired: bool = False) -> list[dict[str, Any]]:
        query = select(canned_replies).order_by(canned_replies.c.language, canned_replies.c.title)
        if not include_retired:
            query = query.where(canned_replies.c.retired.is_(False))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def add_canned(self, title: str, text: str, language: str, by: str) -> dict[str, Any]:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(canned_replies).values(
                    title=title,
                    text=text,
                    language=language,
                    retired=False,
                    created_by=by,
                    created_at=utcnow(),
                )
            )
            canned_id = int(result.inserted_primary_key[0])
            return _row(conn.execute(select(canned_replies).where(canned_replies.c.id == canned_id)).first())

    def update_canned(
        self, canned_id: int, title: str, text: str, language: str, by: str
    ) -> dict[str, Any] | None:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(canned_replies)
                .where(canned_replies.c.id == canned_id, canned_replies.c.retired.is_(False))
                .values(title=title, text=text, language=language, updated_by=by, updated_at=utcnow())
            )
            if result.rowcount != 1:
                return None
            return _row(conn.execute(select(canned_replies).where(canned_replies.c.id == canned_id)).first())

    def retire_canned(self, canned_id: int, by: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(canned_replies)
                .where(canned_replies.c.id == canned_id, canned_replies.c.retired.is_(False))
                .values(retired=True, updated_by=by, updated_at=utcnow())
            )
            return result.rowcount == 1
