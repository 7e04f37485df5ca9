"""bot/store: the schema, de-duplication, the quota and the cache, shared by processes."""

from __future__ import annotations

from bot.models import InboundMessage
from bot.store import MIGRATIONS, Store


def test_store_schema_dedupe_quota_and_cache(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    latest = MIGRATIONS[-1][0]  # issue 5 appends its own versions
    assert store.migrate() == latest and store.migrate() == latest  # idempotent
    message = InboundMessage(channel="wechat", user_id="o1", text="hi", external_id="m1")
    first = store.record_inbound(message)
    assert first and store.record_inbound(message) is None
    assert store.find_inbound("wechat", "m1")["id"] == first
    store.open_quota("o1", 2, 60)
    assert [store.take_quota("o1") for _ in range(3)] == [True, True, False]
    store.open_quota("o1", 5, -1)  # an expired window gives nothing
    assert store.take_quota("o1") is False and store.quota("o1")["remaining"] == 0
    store.cache_set("k", "v", 60)
    assert store.cache_get("k") == "v"
    store.cache_set("k", "w", -1)
    assert store.cache_get("k") is None
    store.dispose()


def test_two_processes_share_one_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a, b = Store(url), Store(url)
    a.migrate()
    b.migrate()
    message = InboundMessage(channel="wechat", user_id="o2", text="x", external_id="same")
    assert a.record_inbound(message) is not None and b.record_inbound(message) is None
    a.cache_set("wechat:token", "T1", 7200)
    assert b.cache_get("wechat:token") == "T1"
    a.open_quota("o2", 1, 60)
    assert b.take_quota("o2") is True and a.take_quota("o2") is False
