"""Who did what, when: one row per staff action (and per case the assistant opened), and one log line.

Details are masked before they are stored or logged: an ID-card or phone number never appears in clear.
Rows are only ever added.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert, select

from ..logsafe import mask_personal_numbers
from ..store import Store, audit_log, utcnow

log = logging.getLogger("bot.console.audit")


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_personal_numbers(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, actor: str, action: str, case_id: int | None = None, **detail: Any) -> None:
        detail = _masked(detail)
        with self.store.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(
                    at=utcnow(), actor=actor, action=action, case_id=case_id, detail=detail or None
                )
            )
        log.info(
            "audit actor=%s action=%s case=%s %s",
            actor,
            action,
            case_id if case_id is not None else "-",
            " ".join(f"{k}={v}" for k, v in detail.items()),
        )

    async def arecord(self, actor: str, action: str, case_id: int | None = None, **detail: Any) -> None:
        await self.store.call(self.record, actor, action, case_id, **detail)

    def entries(
        self,
        *,
        case_id: int | None = None,
        limit: int = 200,
        before: int | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> list[dict[str, Any]]:
        """A case's whole history (oldest first), or the log newest first: ``limit`` rows older than
        ``before`` (an id: the next page), optionally one actor's or one action's."""
        if case_id is not None:
            query = select(audit_log).where(audit_log.c.case_id == case_id).order_by(audit_log.c.id)
        else:
            query = select(audit_log).order_by(audit_log.c.id.desc()).limit(max(1, min(limit, 2000)))
            if before is not None:
                query = query.where(audit_log.c.id < before)
            if actor:
                query = query.where(audit_log.c.actor == actor)
            if action:
                query = query.where(audit_log.c.action == action)
        with self.store.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
