"""Conversations without a case: the search, the "going wrong" list, the read-only look and the proactive
takeover (issue 5; issue 10 item 10 for masking; issue 13 item 2 for the going-wrong list)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import going_wrong, render
from .api_common import ApiError, json_body, reason_of
from .auth import Session


class ConversationsApi:
    def __init__(self, api: Any) -> None:
        self.api = api
        self.store = api.store
        self.desk = api.desk
        self.audit = api.audit
        self.gateway = api.gateway

    async def names(self) -> dict[str, str]:
        return await self.api.names()

    async def detail(self, case: dict[str, Any]) -> dict[str, Any]:
        return await self.api.detail(case)

    def routes(self, e: Callable[..., Any]) -> list[Route]:
        return [
            Route("/console/api/conversations", e(self.conversations), methods=["GET"]),
            Route("/console/api/going-wrong", e(self.going_wrong_list), methods=["GET"]),
            Route(
                "/console/api/conversations/{conversation_id:path}/messages",
                e(self.conversation_messages),
                methods=["GET"],
            ),
            Route(
                "/console/api/conversations/{conversation_id:path}/takeover",
                e(self.takeover),
                methods=["POST"],
            ),
        ]

    async def conversations(self, request: Request, session: Session) -> Response:
        query = (request.query_params.get("q") or "").strip()[:80]
        reason = reason_of(dict(request.query_params))
        rows = await self.store.call(self.desk.cases.conversations, query, clear=reason is not None)
        if query:  # every search is audited, with the reason that let it match clear text
            found = {"q": query, "results": len(rows), **({"reason": reason} if reason else {})}
            await self.audit.arecord(session.staff.login, "search", **found)
        items = [await self.conversation_item(row) for row in rows]
        return JSONResponse({"conversations": items, "matched": "clear" if reason else "masked"})

    async def going_wrong_list(self, request: Request, session: Session) -> Response:
        rows = await self.store.call(going_wrong.going_wrong, self.store.engine)
        return JSONResponse({"conversations": [await self.conversation_item(row) for row in rows]})

    async def conversation_item(self, row: dict[str, Any]) -> dict[str, Any]:
        """A conversation in a list (search, going wrong): masked preview of the person's last words."""
        activity = await self.store.call(self.desk.cases.activity, row["id"], 0)
        item = {
            "conversation_id": row["id"],
            "channel": row["channel"],
            "person": render.person_label(row["id"]),
            "language": row.get("language") or self.gateway.settings.default_language,
            "last_message_at": render.iso(activity["last_message_at"] or row["updated_at"]),
            "last_message_preview": render.preview(activity["person_last_text"]),
            "open_case_id": row.get("open_case_id"),
        }
        return {**item, "signals": row["signals"]} if "signals" in row else item

    async def conversation_messages(self, request: Request, session: Session) -> Response:
        """A read-only look at any conversation before taking it over: always masked, and audited."""
        conversation_id = request.path_params["conversation_id"]
        conversation = await self.store.call(self.store.conversation, conversation_id)
        if conversation is None:
            raise ApiError(404, "no_such_conversation")
        rows = await self.store.call(self.store.messages, conversation_id)
        open_case = await self.store.call(self.desk.cases.open_case_for, conversation_id)
        await self.audit.arecord(
            session.staff.login, "view_conversation", person=render.person_label(conversation_id)
        )
        names = await self.names()
        return JSONResponse(
            {
                "conversation": {
                    "conversation_id": conversation_id,
                    "channel": conversation["channel"],
                    "person": render.person_label(conversation_id),
                    "language": conversation.get("language") or self.gateway.settings.default_language,
                    "open_case_id": open_case["id"] if open_case else None,
                },
                "messages": [render.message(r, names, unmasked=False) for r in rows],
            }
        )

    async def takeover(self, request: Request, session: Session) -> Response:
        body = await json_body(request) if await request.body() else {}
        reason = reason_of(body)
        case = await self.desk.takeover(request.path_params["conversation_id"], session.staff, reason)
        detail = await self.detail(case)
        return JSONResponse({"case": {**detail, "unmasked": reason is not None}}, status_code=201)
