"""The one normalised message shape every channel adapter produces and consumes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

CHANNELS = ("wechat", "telegram", "web")


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass
class InboundMessage:
    """What a person sent, whatever the channel.

    ``kind`` is text (free text), button (a payload chosen from what the gateway offered), event
    (subscribe, menu click ...) or unsupported (image, voice ...). ``external_id`` is the channel's own
    message id, used to drop retries.
    """

    channel: str
    user_id: str
    kind: str = "text"
    text: str | None = None
    payload: str | None = None
    language: str | None = None
    external_id: str | None = None
    received_at: float = field(default_factory=time.time)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def conversation_id(self) -> str:
        """Channel-qualified user id: the Rasa sender id and the transcript key."""
        return f"{self.channel}:{self.user_id}"


@dataclass
class Reply:
    """One reply from the assistant (or the gateway itself), before a channel renders it."""

    text: str | None = None
    buttons: list[Button] = field(default_factory=list)
    image: str | None = None
    custom: dict[str, Any] | None = None
    author: str = "bot"

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [b.as_dict() for b in self.buttons],
            "image": self.image,
            "custom": self.custom,
            "author": self.author,
        }


@dataclass
class Turn:
    """The outcome of one inbound message passing through the router."""

    inbound_id: int
    conversation_id: str
    replies: list[Reply] = field(default_factory=list)
    duplicate: bool = False
    pending: bool = False  # a duplicate whose first delivery is still unanswered (the replay answers it)
    suppressed: bool = False  # a person's conversation is with staff: bot replies are held back
    # the inbound message's state once the turn is over: answered (by the gateway itself), forwarded
    # (Rasa answered), rasa_unavailable (kept for the replay), handed_off (a staff case was opened)
    status: str = "answered"


@dataclass
class Delivery:
    """What happened to one outbound message: sent, pending (kept, goes out later) or failed."""

    status: str
    message_id: int | None = None
    detail: str | None = None


def split_conversation_id(conversation_id: str) -> tuple[str, str]:
    channel, _, user_id = conversation_id.partition(":")
    return channel, user_id
