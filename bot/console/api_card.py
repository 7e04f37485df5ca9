"""The case card's endpoints (issue 13, item 1): correct a fact and re-run the engine, the correction form's
fields, and the policy look-up beside the reply box."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import card, lookup, profile_check
from .api_common import ApiError, int_param, json_body
from .auth import Session


class CardApi:
    def __init__(self, api: Any) -> None:
        self.api = api
        self.store = api.store
        self.desk = api.desk

    def routes(self, e: Callable[..., Any]) -> list[Route]:
        return [
            Route("/console/api/cases/{id}/facts", e(self.correct_fact), methods=["POST"]),
            Route("/console/api/profile-fields", e(self.profile_fields), methods=["GET"]),
            Route("/console/api/policies", e(self.search_policies), methods=["GET"]),
            Route("/console/api/policies/{policy_id}/reply", e(self.policy_reply), methods=["GET"]),
        ]

    async def correct_fact(self, request: Request, session: Session) -> Response:
        """``{"field", "value"}``: one fact corrected; answers the card with the re-run result."""
        body = await json_body(request)
        case = await self.desk.correct_fact(
            int_param(request, "id"), session.staff, body.get("field"), body.get("value")
        )
        return JSONResponse({"case": await self.api.detail(case)})

    async def profile_fields(self, request: Request, session: Session) -> Response:
        return JSONResponse({"fields": profile_check.field_choices()})

    async def search_policies(self, request: Request, session: Session) -> Response:
        query = (request.query_params.get("q") or "").strip()
        if not 0 < len(query) <= lookup.MAX_QUERY_CHARS:
            raise ApiError(400, "lookup_query")
        return JSONResponse({"policies": lookup.search(query)})

    async def policy_reply(self, request: Request, session: Session) -> Response:
        """The text "插入" puts into the reply box; judged on the case's (corrected) profile with ``case=``."""
        profile: dict[str, Any] = {}
        raw = request.query_params.get("case")
        if raw:
            if not raw.isdigit() or not 0 < int(raw) < 2**63:
                raise ApiError(404, "no_such_case")
            case = await self.desk.get(int(raw))
            profile = card.corrected_profile(case.get("payload") or {})
        result = lookup.engine_result(request.path_params["policy_id"], profile)
        if result is None:
            raise ApiError(404, "no_such_policy")
        return JSONResponse({"policy_id": result["policy_id"], "text": lookup.reply_text(result)})
