"""The database handle: engine, owner-only files, migrations, and running store methods off the loop.

SQLAlchemy 1.4 Core in 2.0 style (``future=True``); SQLite under var/ by default, PostgreSQL by URL.
Methods are synchronous; async code calls them through ``call`` (a worker thread).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, func, insert, select
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from .schema import MIGRATIONS, schema_version, utcnow

T = TypeVar("T")
MIGRATION_LOCK_KEY = 0x72637A64  # any constant shared by every gateway process: 'rczd'
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700


def _enable_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # why: concurrent readers + one writer
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def sqlite_path(url: str) -> Path | None:
    """The file behind a ``sqlite:///`` URL (None for PostgreSQL or an in-memory database)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def make_owner_only(path: Path) -> None:
    """Create the database file (and its folder) readable by the gateway's user alone, and tighten a file
    an earlier version created world-readable. SQLite gives its -wal/-shm files the database's mode."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=OWNER_ONLY_DIR)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, OWNER_ONLY_FILE))
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists() and candidate.stat().st_mode & 0o077 and candidate.stat().st_uid == os.getuid():
            candidate.chmod(OWNER_ONLY_FILE)


def row_dict(row: Any) -> dict[str, Any] | None:
    return dict(row._mapping) if row is not None else None


class StoreBase:
    """Engine, schema version and the worker-thread bridge shared by every part of ``Store``."""

    def __init__(self, url: str) -> None:
        self.url = url
        options: dict[str, Any] = {"future": True, "pool_pre_ping": True}
        path = sqlite_path(url)
        if path is not None:
            make_owner_only(path)
        if url.startswith("sqlite"):
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
