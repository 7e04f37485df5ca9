"""Where replies leave the gateway: one ``OutboundSender`` per channel, found by the ``SenderRegistry``
(the router sends the assistant's turns through it, the staff console an officer's words)."""

from __future__ import annotations

from typing import Protocol

from .models import Delivery, Reply


class OutboundSender(Protocol):
    """Sends replies to one person on one channel and records each message it sent (or kept)."""

    channel: str

    async def send(
        self, user_id: str, replies: list[Reply], *, reply_to: int | None = None, author: str = "bot"
    ) -> list[Delivery]: ...


class SenderRegistry:
    def __init__(self) -> None:
        self._senders: dict[str, OutboundSender] = {}

    def register(self, sender: OutboundSender) -> None:
        self._senders[sender.channel] = sender

    def get(self, channel: str) -> OutboundSender:
        try:
            return self._senders[channel]
        except KeyError:
            raise LookupError(f"no outbound sender for channel {channel!r}") from None

    def channels(self) -> list[str]:
        return sorted(self._senders)
