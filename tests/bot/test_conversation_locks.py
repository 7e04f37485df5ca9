"""bot/conversation_locks.py: a message's place in its conversation's line is taken on arrival."""

from __future__ import annotations

import asyncio

import pytest

from bot.conversation_locks import ConversationLocks


async def test_places_are_served_in_the_order_taken_not_the_order_held() -> None:
    locks, order = ConversationLocks(), []
    first, second = locks.join("web:a"), locks.join("web:a")

    async def turn(name: str, place, after: float) -> None:
        await asyncio.sleep(after)
        async with locks.hold("web:a", place):
            order.append(name)
            await asyncio.sleep(0.01)

    await asyncio.gather(turn("first", first, 0.05), turn("second", second, 0))  # second holds first
    assert order == ["first", "second"]
    assert locks._tails == {}  # an empty line is forgotten


async def test_an_abandoned_or_cancelled_place_does_not_block_the_line() -> None:
    locks = ConversationLocks()
    holder = locks.join("c")
    abandoned, cancelled, last = locks.join("c"), locks.join("c"), locks.join("c")
    abandoned.abandon()  # e.g. a refused nonce: never reaches the turn

    async def hold(place) -> None:
        async with locks.hold("c", place):
            pass

    waiting = asyncio.create_task(hold(cancelled))
    at_the_end = asyncio.create_task(hold(last))
    async with locks.hold("c", holder):
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.sleep(0.01)
        assert not at_the_end.done()  # still behind the holder
    await asyncio.wait_for(at_the_end, 1)
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_a_place_given_up_by_its_adapter_queues_up_again_when_held() -> None:
    locks = ConversationLocks()
    place = locks.join("c")
    place.abandon()
    async with locks.hold("c", place):  # the turn started after its adapter gave up: at the line's end
        pass
    with pytest.raises(ValueError):
        async with locks.hold("other", locks.join("c")):
            pass
    await asyncio.sleep(0)  # done-callbacks run on the next loop iteration
    assert locks._tails == {}
