"""Retention for Rasa's SQL tracker store (``events``: id, sender_id, type_name, timestamp, ...; Rasa
3.6's ``SQLTrackerStore``), read over SQL only — the gateway never imports ``rasa``.

Whole conversations idle longer than the retention period are deleted (never part of one: a tracker
missing its early events would lose its slots). Conversations with an open staff case are kept.
"""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text

from .base import sqlite_path

IDLE_CONVERSATIONS = """
    SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff
"""


def purge_tracker(url: str, older_than_days: float, keep: set[str] | None = None) -> int:
    """Delete the events of conversations whose last event is older than ``older_than_days``, except the
    sender ids in ``keep``; returns how many conversations went. A missing SQLite file is nothing to do."""
    path = sqlite_path(url)
    if url.startswith("sqlite") and (path is None or not path.exists()):
        return 0
    engine = create_engine(url, future=True)
    cutoff = time.time() - older_than_days * 86400
    try:
        with engine.begin() as conn:
            idle = [row[0] for row in conn.execute(text(IDLE_CONVERSATIONS), {"cutoff": cutoff})]
            idle = [sender for sender in idle if sender not in (keep or set())]
            for sender in idle:
                conn.execute(text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender})
        return len(idle)
    finally:
        engine.dispose()
