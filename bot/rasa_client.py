"""Async client for Rasa's REST channel and tracker API, with sticky routing over several Rasa servers.

Rasa 3.6's Redis lock store is not atomic (RasaHQ/rasa#9213): one person's concurrent messages handled
by two Rasa nodes can lose events. So each sender is routed to a fixed node by consistent hashing;
adding a node moves only about 1/N of the conversations.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)
TRACKER_READ_SECONDS = (
    5.0  # reading a tracker for the console's card (a turn may take longer: its own timeout)
)


class RasaUnavailable(Exception):
    """Rasa could not be reached or did not answer in time; the message stays in the transcript."""


def json_answer(response: httpx.Response, shape: type, refused: str) -> Any:
    """Rasa's JSON answer of the expected shape (a list of replies, a tracker dict), else RasaUnavailable."""
    if response.status_code != 200:
        raise RasaUnavailable(f"{refused}: HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError as error:
        raise RasaUnavailable("rasa answered with something that is not JSON") from error
    if not isinstance(answer, shape):
        raise RasaUnavailable("rasa answered with an unexpected shape")
    return answer


class HashRing:
    """Consistent hashing of sender ids over Rasa URLs (virtual nodes smooth the spread)."""

    def __init__(self, nodes: Sequence[str], replicas: int = 64) -> None:
        if not nodes:
            raise ValueError("at least one Rasa URL is needed")
        self.nodes = list(dict.fromkeys(nodes))
        self._ring: list[tuple[int, str]] = sorted(
            (self._hash(f"{node}#{i}"), node) for node in self.nodes for i in range(replicas)
        )
        self._keys = [h for h, _ in self._ring]

    @staticmethod
    def _hash(value: str) -> int:
        return int.from_bytes(hashlib.sha1(value.encode("utf-8")).digest()[:8], "big")

    def node_for(self, key: str) -> str:
        return self.nodes_for(key)[0]

    def nodes_for(self, key: str) -> list[str]:
        """The node owning ``key`` first, then the others in ring order (fail-over order)."""
        start = bisect.bisect(self._keys, self._hash(key)) % len(self._ring)
        ordered: list[str] = []
        for offset in range(len(self._ring)):
            node = self._ring[(start + offset) % len(self._ring)][1]
            if node not in ordered:
                ordered.append(node)
                if len(ordered) == len(self.nodes):
                    break
        return ordered


class RasaClient:
    """Talks to Rasa over HTTP only: ``POST /webhooks/rest/webhook`` and the tracker events API."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        token: str | None = None,
        timeout: float = 30.0,
        connect_retries: int = 3,
        retry_backoff: float = 0.2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.ring = HashRing([u.rstrip("/") for u in urls])
        self.token = token
        self.connect_retries = connect_retries
        self.retry_backoff = retry_backoff
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(
        self, sender: str, path: str, body: Any, params: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self._request("POST", sender, path, body, params)

    async def _request(
        self,
        method: str,
        sender: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """Send to the sender's node; retry on connection errors only (a read timeout may mean Rasa
        already handled the message, and sending it twice would duplicate the turn)."""
        last_error: Exception | None = None
        nodes = self.ring.nodes_for(sender)
        for node_index, node in enumerate(nodes):
            for attempt in range(self.connect_retries):
                try:
                    return await self._http.request(
                        method,
                        f"{node}{path}",
                        json=body,
                        params=params,
                        timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                    last_error = error
                    log.warning("rasa %s unreachable (attempt %d): %s", node, attempt + 1, error)
                    await asyncio.sleep(self.retry_backoff * (2**attempt))
                except httpx.HTTPError as error:
                    raise RasaUnavailable(f"{type(error).__name__} from {node}") from error
            # The owner is down: no turn can be running there, so the next node is safe to use.
            if node_index + 1 < len(nodes):
                log.warning("rasa %s down; failing over for this message", node)
        raise RasaUnavailable(f"no Rasa server reachable: {last_error}")

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Forward one message; returns Rasa's replies (REST channel output)."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        response = await self._post(sender, "/webhooks/rest/webhook", body)
        return json_answer(response, list, "rasa answered")

    def _auth(self) -> dict[str, str] | None:
        return {"token": self.token} if self.token else None

    @staticmethod
    def _tracker_path(sender: str) -> str:
        # Rasa (Sanic) does not percent-decode this path segment: "web%3Aabc" would be another
        # conversation. Sender ids are "<channel>:<id>" with URL-safe ids, so ':' is sent as is.
        return f"/conversations/{quote(sender, safe=':')}/tracker"

    async def append_event(self, sender: str, event: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Append a tracker event, or a list of them (``{"event": "resume"}`` ends a pause), through
        Rasa's HTTP API."""
        path = f"{self._tracker_path(sender)}/events"
        response = await self._post(sender, path, event, params=self._auth())
        if response.status_code >= 300:
            raise RasaUnavailable(f"tracker event refused: HTTP {response.status_code}")

    async def tracker(self, sender: str) -> dict[str, Any]:
        """The person's tracker (``GET /conversations/{id}/tracker``): ``slots``, ``events`` … — what the
        assistant knows, for the console's card of a conversation staff took over."""
        params = {**(self._auth() or {}), "include_events": "NONE"}
        # an officer is waiting for the case page: a slow Rasa makes the card say "unavailable" instead
        response = await self._request(
            "GET", sender, self._tracker_path(sender), params=params, timeout=TRACKER_READ_SECONDS
        )
        return json_answer(response, dict, "tracker refused")

    async def set_slots(self, sender: str, slots: dict[str, Any]) -> None:
        """Set slots in the person's tracker (one ``slot`` event each), e.g. facts an officer corrected,
        so the assistant's next answer uses them."""
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        if events:
            await self.append_event(sender, events)

    async def resume(self, sender: str) -> None:
        await self.append_event(sender, {"event": "resume"})

    async def pause(self, sender: str) -> None:
        await self.append_event(sender, {"event": "pause"})

    async def hand_back(self, sender: str) -> None:
        """End a staff pause so the assistant answers the next message as usual.

        Rasa stops its prediction loop right after the action that paused (no ``action_listen``), and
        records the person's messages during the pause without actions. Resumed like that, the trained
        assistant met the next question ("青浦的租房补贴怎么领") with its fallback and handed off again;
        with an ``action_listen`` after the resume it answered (tests/bot/test_console_e2e.py).
        """
        await self.resume(sender)
        await self.append_event(sender, {"event": "action", "name": "action_listen"})
