"""The gateway database (transcript, channel state, staff cases): one ``Store`` per process.

``schema`` holds the tables and migrations, ``base`` the engine and owner-only files, ``transcript`` the
messages and their replay leases, ``channel_state`` WeChat quotas, token cache and nonces.
"""

from __future__ import annotations

from .base import OWNER_ONLY_DIR, OWNER_ONLY_FILE, sqlite_path
from .channel_state import ChannelStateStore
from .schema import (
    CASE_TABLES,
    MIGRATIONS,
    audit_log,
    canned_replies,
    case_notes,
    cases,
    conversations,
    handoffs,
    kv_cache,
    login_failures,
    login_throttle,
    messages,
    metadata,
    rating_offers,
    ratings,
    review_items,
    schema_version,
    staff_accounts,
    staff_districts,
    staff_sessions,
    utcnow,
    wechat_nonces,
    wechat_quota,
)
from .transcript import PENDING, TranscriptStore


class Store(TranscriptStore, ChannelStateStore):
    """Transcript, WeChat quotas, nonces and the shared token cache (the console adds its case tables)."""


__all__ = [
    "CASE_TABLES",
    "MIGRATIONS",
    "OWNER_ONLY_DIR",
    "OWNER_ONLY_FILE",
    "PENDING",
    "Store",
    "audit_log",
    "canned_replies",
    "case_notes",
    "cases",
    "conversations",
    "handoffs",
    "kv_cache",
    "login_failures",
    "login_throttle",
    "messages",
    "rating_offers",
    "ratings",
    "review_items",
    "metadata",
    "schema_version",
    "sqlite_path",
    "staff_accounts",
    "staff_districts",
    "staff_sessions",
    "utcnow",
    "wechat_nonces",
    "wechat_quota",
]
