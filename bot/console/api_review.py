"""The review queue's endpoints (admin): list what the assistant handled badly, with the domain's intents
and entities to choose from, and record a reviewer's decision (review.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import domain_words, render, review
from .api_common import ApiError, int_param, json_body
from .auth import Session

STATUSES = (review.OPEN, review.REVIEWED, review.OUT_OF_SCOPE)


def item_json(row: dict[str, Any]) -> dict[str, Any]:
    labels = review.settings()["reasons"]
    return {
        "id": row["id"],
        "text": row["text"],  # stored masked
        "channel": row["channel"],
        "language": row["language"],
        "reasons": [{"code": r, "label": labels.get(r, r)} for r in row["reasons"].split(",") if r],
        "intent": row["intent"],
        "confidence": row["confidence"],
        "status": row["status"],
        "reviewed_intent": row["reviewed_intent"],
        "reviewed_entities": row["reviewed_entities"] or [],
        "reviewer": row["reviewer"],
        "created_at": render.iso(row["created_at"]),
        "exported": row["exported_at"] is not None,
    }


class ReviewApi:
    def __init__(self, api: Any) -> None:
        self.store, self.audit = api.store, api.audit

    def routes(self, e: Callable[..., Any]) -> list[Route]:
        return [
            Route("/console/api/review", e(self.queue, admin=True), methods=["GET"]),
            Route("/console/api/review/{id}", e(self.decide, admin=True), methods=["POST"]),
        ]

    async def queue(self, request: Request, session: Session) -> Response:
        status = request.query_params.get("status", review.OPEN)
        offset, limit = request.query_params.get("offset", "0"), request.query_params.get("limit", "50")
        if status not in STATUSES or not offset.isdigit() or not limit.isdigit() or not 0 < int(limit) <= 200:
            raise ApiError(400, "bad_request")
        page = await self.store.call(review.items, self.store, status, limit=int(limit), offset=int(offset))
        lists = domain_words.domain_lists()
        return JSONResponse(
            {
                "total": page["total"],
                "items": [item_json(row) for row in page["items"]],
                "intents": lists["intents"],
                "entities": lists["entities"],
                "statuses": review.settings()["statuses"],
            }
        )

    async def decide(self, request: Request, session: Session) -> Response:
        item_id = int_param(request, "id", "no_such_review_item")
        body = await json_body(request)
        intent = body.get("intent")
        try:
            decided = await self.store.call(
                review.decide,
                self.store,
                item_id,
                session.staff.login,
                intent=intent if isinstance(intent, str) else None,
                entities=body.get("entities") or [],
                out_of_scope=body.get("out_of_scope") is True,
            )
        except review.ReviewError as problem:
            message = review.settings()["errors"].get(problem.code)
            raise ApiError(problem.status, problem.code, message) from None
        await self.audit.arecord(
            session.staff.login,
            "review",
            None,
            item=item_id,
            decision=decided["status"],
            intent=decided["reviewed_intent"],
        )
        return JSONResponse(decided)
