"""The transcript database: every inbound message before it is forwarded, every reply after it is sent.

SQLAlchemy 1.4 Core in 2.0 style (``future=True``); SQLite under var/ by default, PostgreSQL by URL.
The schema is versioned: ``MIGRATIONS`` is an ordered list, ``schema_version`` records what ran, and a
new version is a new entry appended at the end (issue 5 adds its case tables that way).
Methods are synchronous; async code calls them through ``Store.call`` (a worker thread).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import QueuePool

from .models import Button, InboundMessage

T = TypeVar("T")
MIGRATION_LOCK_KEY = 0x72637A64  # any constant shared by every gateway process: 'rczd'
metadata = MetaData()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(200), primary_key=True),  # "<channel>:<user id>", also Rasa's sender id
    Column("channel", String(20), nullable=False),
    Column("user_id", String(160), nullable=False),
    Column("language", String(8)),
    Column("handoff_open", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(200), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("direction", String(3), nullable=False),  # in | out
    Column("kind", String(20), nullable=False),  # text | button | event | unsupported | reply | notice
    Column("author", String(80), nullable=False),  # person | bot | gateway | staff:<login>
    Column("text", Text),
    Column("payload", Text),
    Column("data", JSON),  # buttons offered, custom payloads, channel details
    Column("external_id", String(120)),  # channel message id (WeChat MsgId ...): retries are dropped
    Column("reply_to", Integer),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("channel", "external_id", name="uq_messages_channel_external_id"),
)

handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(200), nullable=False, index=True),
    Column("status", String(20), nullable=False),  # open | closed
    Column("reason", String(200)),
    Column("payload", JSON),
    Column("opened_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    Column("closed_by", String(80)),
)

wechat_quota = Table(
    "wechat_quota",
    metadata,
    Column("openid", String(120), primary_key=True),
    Column("remaining", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),  # epoch seconds
    Column("updated_at", DateTime, nullable=False),
)

kv_cache = Table(
    "kv_cache",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("expires_at", Float),  # epoch seconds; NULL = no expiry
)


# -- staff handoff (issue 5, migration 2): nothing here is ever deleted, only closed, disabled or retired --
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(200), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    # = conversation_id while the case is not closed, NULL after: at most one open case per conversation,
    # enforced by the database (NULLs never collide, on SQLite and PostgreSQL alike)
    Column("open_key", String(200), unique=True),
    Column("handoff_id", Integer),  # the handoffs row that paused the assistant for this case
    Column("status", String(20), nullable=False, index=True),  # waiting | assigned | closed
    Column("reason", String(80), nullable=False),
    Column("summary", Text),
    Column("payload", JSON),  # the assistant's handoff payload: profile, result, language
    Column("language", String(8), nullable=False),
    Column("opened_by", String(80), nullable=False),  # assistant | staff:<login>
    Column("opened_at", DateTime, nullable=False),
    Column("assignee", String(80)),
    Column("assigned_at", DateTime),
    Column("closed_at", DateTime),
    Column("closed_by", String(80)),
    Column("outcome", String(40)),
    Column("seen_message_id", Integer, nullable=False, default=0),  # the assignee has read up to here
    # migration 4 (routing and service-time targets): the district queue (NULL: shared), the topic asked
    # about, and when staff first answered
    Column("district", String(20), index=True),
    Column("topic", String(60)),
    Column("first_response_at", DateTime),
)

case_notes = Table(
    "case_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=False, index=True),
    Column("author", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String(80), nullable=False),  # staff login, "assistant" or "person"
    Column("action", String(40), nullable=False),
    Column("case_id", Integer, index=True),
    Column("detail", JSON),  # masked: never an ID-card or phone number in clear
)

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("login", String(60), primary_key=True),
    Column("display_name", String(80), nullable=False),
    Column("role", String(20), nullable=False),  # officer | admin
    Column("password_hash", String(300), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
    Column("disabled_at", DateTime),
    Column("last_login_at", DateTime),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie value: a stolen table opens nothing
    Column("login", String(60), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("login", String(60), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
)

canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(80), nullable=False),
    Column("text", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("retired", Boolean, nullable=False, default=False),
    Column("created_by", String(60), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_by", String(60)),
    Column("updated_at", DateTime),
)

# Console log-in throttling (issue 10): one counter per (scope, key) in a fixed window, taken with one
# conditional UPDATE so concurrent attempts can never exceed the limit (bot/console/throttle.py).
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("scope", String(16), primary_key=True),  # address | pair | login | known
    Column("key", String(200), primary_key=True),
    Column("window_start", DateTime, nullable=False),
    Column("count", Integer, nullable=False),
)

# which districts an officer serves (issue 13: routing); an officer without a row sees the shared queue
staff_districts = Table(
    "staff_districts",
    metadata,
    Column("login", String(60), primary_key=True),
    Column("district", String(20), primary_key=True),
)

CASE_TABLES = [cases, case_notes, audit_log, staff_accounts, staff_sessions, login_failures, canned_replies]


def _migration_1(conn: Connection) -> None:
    metadata.create_all(
        conn, tables=[conversations, messages, handoffs, wechat_quota, kv_cache], checkfirst=True
    )


def _migration_2(conn: Connection) -> None:
    metadata.create_all(conn, tables=CASE_TABLES, checkfirst=True)


def _migration_3(conn: Connection) -> None:
    metadata.create_all(conn, tables=[login_throttle], checkfirst=True)


def _migration_4(conn: Connection) -> None:
    # a database made by migration 2 from this file's current `cases` already has the columns
    present = {column["name"] for column in inspect(conn).get_columns("cases")}
    for name, sql_type in (
        ("district", "VARCHAR(20)"),
        ("topic", "VARCHAR(60)"),
        ("first_response_at", None),
    ):
        if name not in present:
            kind = sql_type or ("TIMESTAMP" if conn.dialect.name == "postgresql" else "DATETIME")
            conn.execute(sql_text(f"ALTER TABLE cases ADD COLUMN {name} {kind}"))
    if "ix_cases_district" not in {index["name"] for index in inspect(conn).get_indexes("cases")}:
        conn.execute(sql_text("CREATE INDEX ix_cases_district ON cases (district)"))
    metadata.create_all(conn, tables=[staff_districts], checkfirst=True)


# Append only: (version, description, function). Never edit a released entry.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "conversations, messages, handoffs, wechat quota, token cache", _migration_1),
    (
        2,
        "staff handoff: cases, notes, audit log, staff accounts, sessions, login failures, canned replies",
        _migration_2,
    ),
    (3, "console log-in throttle counters (per address, per login and address, per login)", _migration_3),
    (4, "console routing: case district, topic, first response; officers' districts", _migration_4),
]


def _enable_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # why: concurrent readers + one writer
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping) if row is not None else None


class Store:
    """Transcript, handoffs, WeChat quotas and the shared token cache."""

    def __init__(self, url: str) -> None:
        self.url = url
        options: dict[str, Any] = {"future": True, "pool_pre_ping": True}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # SQLAlchemy 1.4 gives file databases a NullPool: a new connection (and its PRAGMAs) per
            # transaction cost ~15 ms here. Keep connections instead; the pool is shared by worker threads.
            options.update(
                connect_args={"check_same_thread": False, "timeout": 30},
                poolclass=QueuePool,
                pool_size=8,
                max_overflow=16,
                pool_pre_ping=False,
            )
        self.engine = create_engine(url, **options)
        if url.startswith("sqlite"):
            _enable_sqlite_pragmas(self.engine)

    # -- lifecycle ---------------------------------------------------------------------------------
    def migrate(self, attempts: int = 5) -> int:
        """Bring the schema to the latest version; returns the version now in place.

        Several gateway processes may start at once on a fresh database. On PostgreSQL an advisory lock
        serialises them; on SQLite the loser's transaction (DDL included) rolls back and it tries again,
        then finds the work done.
        """
        for attempt in range(1, attempts + 1):
            try:
                self._migrate_once()
                break
            except DBAPIError:
                if attempt == attempts:
                    raise
                time.sleep(0.2 * attempt)
        return self.version()

    def _migrate_once(self) -> None:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            schema_version.create(conn, checkfirst=True)
            done = set(conn.execute(select(schema_version.c.version)).scalars())
            for version, description, apply in MIGRATIONS:
                if version in done:
                    continue
                apply(conn)
                conn.execute(
                    insert(schema_version).values(
                        version=version, description=description, applied_at=utcnow()
                    )
                )

    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(schema_version.c.version))).scalar() or 0

    def dispose(self) -> None:
        self.engine.dispose()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store method off the event loop (PostgreSQL round trips must not block it)."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    # -- conversations -----------------------------------------------------------------------------
    def _ensure_conversation(self, channel: str, user_id: str, language: str | None) -> None:
        conversation_id = f"{channel}:{user_id}"
        now = utcnow()
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(updated_at=now)
            )
            if updated.rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(conversations).values(
                        id=conversation_id,
                        channel=channel,
                        user_id=user_id,
                        language=language,
                        handoff_open=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            pass  # another worker created it a moment ago

    def conversation(self, conversation_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return _row(
                conn.execute(select(conversations).where(conversations.c.id == conversation_id)).first()
            )

    def set_language(self, channel: str, user_id: str, language: str) -> None:
        self._ensure_conversation(channel, user_id, language)
        with self.engine.begin() as conn:
            conn.execute(
                update(conversations)
                .where(conversations.c.id == f"{channel}:{user_id}")
                .values(language=language)
            )

    # -- messages ----------------------------------------------------------------------------------
    def record_inbound(self, message: InboundMessage) -> int | None:
        """Store what a person sent. Returns its id, or None when the channel already delivered it (a retry).

        One transaction: touch (or create) the conversation, insert the message. An IntegrityError means a
        re-delivery (unique channel + external id) or, rarely, another process creating the same
        conversation at the same moment; the latter is simply retried.
        """
        received = dt.datetime.fromtimestamp(message.received_at, dt.timezone.utc).replace(tzinfo=None)
        for _attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    self._touch_conversation(conn, message)
                    result = conn.execute(
                        insert(messages).values(
                            conversation_id=message.conversation_id,
                            channel=message.channel,
                            direction="in",
                            kind=message.kind,
                            author="person",
                            text=message.text,
                            payload=message.payload,
                            data=message.meta or None,
                            external_id=message.external_id,
                            status="received",
                            created_at=received,
                        )
                    )
                    return int(result.inserted_primary_key[0])
            except IntegrityError:
                if message.external_id and self.find_inbound(message.channel, message.external_id):
                    return None
        raise RuntimeError("could not record an inbound message")

    @staticmethod
    def _touch_conversation(conn: Connection, message: InboundMessage) -> None:
        now = utcnow()
        updated = conn.execute(
            update(conversations).where(conversations.c.id == message.conversation_id).values(updated_at=now)
        )
        if not updated.rowcount:
            conn.execute(
                insert(conversations).values(
                    id=message.conversation_id,
                    channel=message.channel,
                    user_id=message.user_id,
                    language=message.language,
                    handoff_open=False,
                    created_at=now,
                    updated_at=now,
                )
            )

    def find_inbound(self, channel: str, external_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return _row(
                conn.execute(
                    select(messages).where(
                        messages.c.channel == channel, messages.c.external_id == external_id
                    )
                ).first()
            )

    def record_outbound(
        self,
        conversation_id: str,
        text: str | None,
        *,
        status: str,
        kind: str = "reply",
        author: str = "bot",
        data: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> int:
        channel = conversation_id.split(":", 1)[0]
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(messages).values(
                    conversation_id=conversation_id,
                    channel=channel,
                    direction="out",
                    kind=kind,
                    author=author,
                    text=text,
                    data=data or None,
                    reply_to=reply_to,
                    status=status,
                    created_at=utcnow(),
                )
            )
            return int(result.inserted_primary_key[0])

    def set_status(self, message_id: int, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(messages).where(messages.c.id == message_id).values(status=status))

    def message(self, message_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return _row(conn.execute(select(messages).where(messages.c.id == message_id)).first())

    def messages(
        self, conversation_id: str, *, after_id: int = 0, direction: str | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        query = select(messages).where(
            messages.c.conversation_id == conversation_id, messages.c.id > after_id
        )
        if direction:
            query = query.where(messages.c.direction == direction)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query.order_by(messages.c.id).limit(limit))]

    def replies_to(self, inbound_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages).where(messages.c.reply_to == inbound_id).order_by(messages.c.id)
            )
            return [_row(r) for r in rows]

    def held_replies(self, conversation_id: str) -> list[dict[str, Any]]:
        """Outbound messages kept because the channel refused them (WeChat quota): sent with the next reply."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages)
                .where(
                    messages.c.conversation_id == conversation_id,
                    messages.c.direction == "out",
                    messages.c.status == "held",
                )
                .order_by(messages.c.id)
            )
            return [_row(r) for r in rows]

    def last_outbound(self, conversation_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return _row(
                conn.execute(
                    select(messages)
                    .where(
                        messages.c.conversation_id == conversation_id,
                        messages.c.direction == "out",
                        messages.c.status.in_(("sent", "sent_passive")),
                    )
                    .order_by(messages.c.id.desc())
                    .limit(1)
                ).first()
            )

    @staticmethod
    def offered_buttons(row: dict[str, Any] | None) -> list[Button]:
        data = (row or {}).get("data") or {}
        return [Button(b["title"], b["payload"]) for b in data.get("buttons", [])]

    # -- handoffs ----------------------------------------------------------------------------------
    def open_handoff(
        self, conversation_id: str, reason: str | None, payload: dict[str, Any]
    ) -> tuple[int, bool]:
        """Open a handoff (or return the one already open). Returns (id, newly opened)."""
        with self.engine.begin() as conn:
            existing = conn.execute(
                select(handoffs.c.id).where(
                    handoffs.c.conversation_id == conversation_id, handoffs.c.status == "open"
                )
            ).first()
            if existing is not None:
                return int(existing[0]), False
            result = conn.execute(
                insert(handoffs).values(
                    conversation_id=conversation_id,
                    status="open",
                    reason=reason,
                    payload=payload,
                    opened_at=utcnow(),
                )
            )
            conn.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(handoff_open=True)
            )
            return int(result.inserted_primary_key[0]), True

    def close_handoff(self, conversation_id: str, closed_by: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(handoffs)
                .where(handoffs.c.conversation_id == conversation_id, handoffs.c.status == "open")
                .values(status="closed", closed_at=utcnow(), closed_by=closed_by)
            )
            conn.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(handoff_open=False)
            )
            return result.rowcount > 0

    def handoff_open(self, conversation_id: str) -> bool:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(conversations.c.handoff_open).where(conversations.c.id == conversation_id)
            ).scalar()
            return bool(value)

    def handoffs(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        query = select(handoffs).order_by(handoffs.c.id)
        if conversation_id:
            query = query.where(handoffs.c.conversation_id == conversation_id)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    # -- WeChat customer-service quota ------------------------------------------------------------
    def open_quota(self, openid: str, count: int, ttl_seconds: float) -> None:
        """A person's message (or click) opens a fresh window of ``count`` customer-service messages."""
        now = time.time()
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(wechat_quota)
                .where(wechat_quota.c.openid == openid)
                .values(remaining=count, expires_at=now + ttl_seconds, updated_at=utcnow())
            )
            if updated.rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(wechat_quota).values(
                        openid=openid, remaining=count, expires_at=now + ttl_seconds, updated_at=utcnow()
                    )
                )
        except IntegrityError:
            self.open_quota(openid, count, ttl_seconds)

    def take_quota(self, openid: str) -> bool:
        """Use one customer-service message if the window is open (atomic across processes)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(wechat_quota)
                .where(
                    wechat_quota.c.openid == openid,
                    wechat_quota.c.remaining > 0,
                    wechat_quota.c.expires_at > time.time(),
                )
                .values(remaining=wechat_quota.c.remaining - 1, updated_at=utcnow())
            )
            return result.rowcount == 1

    def give_back_quota(self, openid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(wechat_quota)
                .where(wechat_quota.c.openid == openid)
                .values(remaining=wechat_quota.c.remaining + 1)
            )

    def exhaust_quota(self, openid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(wechat_quota).where(wechat_quota.c.openid == openid).values(remaining=0))

    def quota(self, openid: str) -> dict[str, Any]:
        """Remaining customer-service messages and the window's end, for the staff console."""
        with self.engine.connect() as conn:
            row = _row(conn.execute(select(wechat_quota).where(wechat_quota.c.openid == openid)).first())
        if not row or row["expires_at"] <= time.time():
            return {"remaining": 0, "expires_at": None}
        return {"remaining": row["remaining"], "expires_at": row["expires_at"]}

    # -- small shared cache (WeChat access token) --------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(kv_cache.c.value, kv_cache.c.expires_at).where(kv_cache.c.key == key)
            ).first()
        if row is None or (row.expires_at is not None and row.expires_at <= time.time()):
            return None
        return row.value

    def cache_set(self, key: str, value: str, ttl_seconds: float | None = None) -> None:
        expires_at = time.time() + ttl_seconds if ttl_seconds else None
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(kv_cache).where(kv_cache.c.key == key).values(value=value, expires_at=expires_at)
            )
            if updated.rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(kv_cache).values(key=key, value=value, expires_at=expires_at))
        except IntegrityError:
            self.cache_set(key, value, ttl_seconds)

    def cache_delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(kv_cache.delete().where(kv_cache.c.key == key))
