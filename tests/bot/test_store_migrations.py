"""Several gateway processes starting at once on a fresh database all end up on the latest schema."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.store import MIGRATIONS, Store

LATEST = MIGRATIONS[-1][0]


def start_together(url: str, processes: int) -> tuple[list[int], list[BaseException]]:
    """`processes` stores (each its own engine, like separate gateways) migrate the same fresh database at once."""
    stores = [Store(url) for _ in range(processes)]
    barrier = threading.Barrier(processes)
    versions: list[int] = []
    errors: list[BaseException] = []

    def start(store: Store) -> None:
        barrier.wait()
        try:
            versions.append(store.migrate())
        except BaseException as error:  # noqa: BLE001 - the test reports whatever a start raised
            errors.append(error)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.dispose()
    return versions, errors


def test_simultaneous_first_starts_all_succeed(tmp_path: Path) -> None:
    for round_ in range(4):
        versions, errors = start_together(f"sqlite:///{tmp_path / f'fresh-{round_}.db'}", processes=4)
        assert errors == []
        assert versions == [LATEST] * 4


def test_migrating_again_changes_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert store.migrate() == LATEST
    assert store.migrate() == LATEST
    store.dispose()


def test_upgrading_to_version_3_replays_nothing_from_before(tmp_path: Path) -> None:
    """Version 2 left messages the gateway answered itself as 'received': the replay (version 3) must not
    send them again, nor old 'rasa_unavailable' ones whose people were told to try again."""
    from sqlalchemy import insert, text

    from bot.store import messages, schema_version, utcnow

    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with store.engine.begin() as conn:  # a version-2 database, built by the released migrations
        schema_version.create(conn)
        for version, description, apply in MIGRATIONS[:2]:
            apply(conn)
            conn.execute(
                insert(schema_version).values(version=version, description=description, applied_at=utcnow())
            )
        conn.execute(text("ALTER TABLE messages DROP COLUMN lease_until"))  # version 2 had no lease
        for status in ("received", "rasa_unavailable", "forwarded"):
            conn.execute(
                insert(messages).values(
                    conversation_id="web:old",
                    channel="web",
                    direction="in",
                    kind="text",
                    author="person",
                    text=status,
                    status=status,
                    created_at=utcnow(),
                )
            )
    assert store.migrate() == LATEST
    assert store.pending_inbound() == []
    assert [r["status"] for r in store.messages("web:old")] == ["before_replay", "before_replay", "forwarded"]
    store.dispose()
