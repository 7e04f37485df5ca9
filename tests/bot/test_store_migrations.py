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
