"""Where the staff console plugs into the router (``bot.console`` installs both; without it the gateway
answers with the assistant alone)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .models import InboundMessage, Reply

# after the assistant answered (outside a case): (message, inbound id, replies, its marks, language) ->
# the replies to send (bot.console: a 好差评 offer joins a personalised answer; the review queue)
AfterAnswer = Callable[[InboundMessage, int, list[Reply], list[dict[str, Any]], str], Awaitable[list[Reply]]]


class HandoffHook(Protocol):
    """Where staff handoff plugs in: ``bot.console`` installs its ``CaseDesk`` as ``router.handoff``."""

    async def is_open(self, conversation_id: str) -> bool: ...

    async def on_handoff(
        self, message: InboundMessage, payload: dict[str, Any], language: str
    ) -> list[Reply]: ...

    async def own_answer(
        self, message: InboundMessage, inbound_id: int, language: str, *, case_open: bool
    ) -> list[Reply] | None: ...

    async def acknowledge(
        self, conversation_id: str, language: str, *, every_time: bool = False
    ) -> list[Reply]: ...
