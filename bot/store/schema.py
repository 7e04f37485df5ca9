"""The gateway database's tables and their versioned migrations.

``MIGRATIONS`` is an ordered list, ``schema_version`` records what ran, and a new version is a new entry
appended at the end (issue 5 added its case tables that way, issue 10 the WeChat nonces and the
message lease).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

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
    inspect,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.engine import Connection

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
    # migration 3: until when (epoch seconds) a gateway process is answering this inbound message; a
    # process that dies mid-turn leaves a lease that runs out, and the message is then replayed
    Column("lease_until", Float),
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

# migration 3: WeChat request nonces seen within the timestamp window, shared by every gateway process.
# A plain-mode signature covers token + timestamp + nonce, not the body: binding the nonce to the body's
# hash refuses one captured signature for a different body, while WeChat's own retry (same body) passes.
wechat_nonces = Table(
    "wechat_nonces",
    metadata,
    Column("key", String(64), primary_key=True),  # sha256 of "timestamp:nonce"
    Column("body_sha256", String(64), nullable=False),
    Column("expires_at", Float, nullable=False, index=True),  # epoch seconds
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
    # migration 5 (routing and service-time targets): the district queue (NULL: shared), the topic asked
    # about, and when staff first answered
    Column("district", String(20), index=True),
    Column("topic", String(60)),
    Column("first_response_at", DateTime),
    # migration 6 (ratings): a 差评回访 follow-up case (status 'followup', never open_key: the person keeps
    # chatting with the assistant) is due by this time, and names the rating that opened it
    Column("due_at", DateTime),
    Column("rating_id", Integer),
)

# 好差评: a person's rating of a closed staff case (bot/console/ratings.py)
ratings = Table(
    "ratings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, index=True),  # NULL: a rating of a personalised answer (migration 7)
    Column("conversation_id", String(200), nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("language", String(8), nullable=False),
    Column("district", String(20)),
    Column("topic", String(60)),
    Column("officer", String(80)),  # the case's assignee (login), NULL if nobody claimed it
    Column("score", Integer, nullable=False),  # 5 非常满意 … 1 非常不满意
    Column("comment", Text),
    Column("created_at", DateTime, nullable=False, index=True),
)

# a rating was offered after a personalised answer on this topic: at most once per conversation and topic
rating_offers = Table(
    "rating_offers",
    metadata,
    Column("conversation_id", String(200), primary_key=True),
    Column("topic", String(60), primary_key=True),
    Column("offered_at", DateTime, nullable=False),
)

# the review queue (bot/console/review.py): a person's message the assistant handled badly, until a
# reviewer gives its intent and entities (exported as training data) or marks it out of scope
review_items = Table(
    "review_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, nullable=False, unique=True),  # the person's message (messages.id)
    Column("conversation_id", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("language", String(8)),
    Column("text", Text, nullable=False),  # masked: never an ID-card or phone number
    Column("reasons", String(200), nullable=False),  # fallback,clarification,low_confidence,...
    Column("intent", String(80)),  # what the assistant understood, and how sure it was
    Column("confidence", Float),
    Column("status", String(20), nullable=False, index=True),  # open | reviewed | out_of_scope
    Column("reviewed_intent", String(80)),
    Column("reviewed_entities", JSON),  # [{"entity", "text"}]: spans of the text
    Column("reviewer", String(60)),
    Column("reviewed_at", DateTime),
    Column("exported_at", DateTime),  # written into data/nlu/ or the held-out split
    Column("created_at", DateTime, nullable=False, index=True),
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

# Console log-in throttling (issue 10, migration 4): one counter per (scope, key) in a fixed window, taken
# with one conditional UPDATE so concurrent attempts can never exceed the limit (bot/console/throttle.py).
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("scope", String(16), primary_key=True),  # address | pair | login | known
    Column("key", String(200), primary_key=True),
    Column("window_start", DateTime, nullable=False),
    Column("count", Integer, nullable=False),
)

# which districts an officer serves (issue 13: routing, migration 5); an officer without a row sees the
# shared queue
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
    if "lease_until" not in {c["name"] for c in inspect(conn).get_columns("messages")}:
        conn.execute(sql_text("ALTER TABLE messages ADD COLUMN lease_until FLOAT"))
    # Before this version a handled message could stay 'received' (the gateway answered it itself) and
    # 'rasa_unavailable' meant "told to try again": none of them is for the replay to send now.
    conn.execute(
        sql_text(
            "UPDATE messages SET status = 'before_replay'"
            " WHERE direction = 'in' AND status IN ('received', 'rasa_unavailable')"
        )
    )
    metadata.create_all(conn, tables=[wechat_nonces], checkfirst=True)
    conn.execute(
        sql_text("CREATE INDEX IF NOT EXISTS ix_messages_direction_status ON messages (direction, status)")
    )


def _migration_4(conn: Connection) -> None:
    metadata.create_all(conn, tables=[login_throttle], checkfirst=True)


def _migration_5(conn: Connection) -> None:
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


def _migration_6(conn: Connection) -> None:
    present = {column["name"] for column in inspect(conn).get_columns("cases")}
    timestamp = "TIMESTAMP" if conn.dialect.name == "postgresql" else "DATETIME"
    for name, sql_type in (("due_at", timestamp), ("rating_id", "INTEGER")):
        if name not in present:
            conn.execute(sql_text(f"ALTER TABLE cases ADD COLUMN {name} {sql_type}"))
    metadata.create_all(conn, tables=[ratings], checkfirst=True)


def _migration_7(conn: Connection) -> None:
    # a rating of a personalised answer has no case: ratings.case_id becomes nullable
    nullable = {c["name"]: c["nullable"] for c in inspect(conn).get_columns("ratings")}
    if not nullable["case_id"]:
        if conn.dialect.name == "postgresql":
            conn.execute(sql_text("ALTER TABLE ratings ALTER COLUMN case_id DROP NOT NULL"))
        else:  # SQLite cannot alter a column: rebuild the table under the same name and indexes
            conn.execute(sql_text("ALTER TABLE ratings RENAME TO ratings_v6"))
            for index in inspect(conn).get_indexes("ratings_v6"):
                conn.execute(sql_text(f"DROP INDEX {index['name']}"))
            metadata.create_all(conn, tables=[ratings])
            columns = ", ".join(c.name for c in ratings.columns)
            conn.execute(sql_text(f"INSERT INTO ratings ({columns}) SELECT {columns} FROM ratings_v6"))
            conn.execute(sql_text("DROP TABLE ratings_v6"))
    metadata.create_all(conn, tables=[rating_offers, review_items], checkfirst=True)


# Append only: (version, description, function). Never edit a released entry.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "conversations, messages, handoffs, wechat quota, token cache", _migration_1),
    (
        2,
        "staff handoff: cases, notes, audit log, staff accounts, sessions, login failures, canned replies",
        _migration_2,
    ),
    (3, "WeChat nonces; message lease and pending-message index (replay after a crash)", _migration_3),
    (4, "console log-in throttle counters (per address, per login and address, per login)", _migration_4),
    (5, "console routing: case district, topic, first response; officers' districts", _migration_5),
    (6, "ratings (好差评) of closed staff cases; follow-up cases' due time and rating", _migration_6),
    (
        7,
        "ratings of personalised answers (case optional, one offer per topic); the review queue",
        _migration_7,
    ),
]
