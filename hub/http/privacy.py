"""Administrators' HTTP endpoints for personal data (issue 11): erase a reporter on request, and
the transfer allow-list (where destinations may pass a complaint on, besides what the rules say)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.admin import erasure
from hub.admin.auth import READ_ALL, Principal, require
from hub.aftercare import transfers
from hub.settings.runtime import Hub


def _refuse(message: str, field: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "message": message,
                         "errors": [{"field": field, "reason": message}]}, status_code=422)


def routes(hub: Hub) -> APIRouter:
    api = APIRouter(prefix="/v1/admin", tags=["personal data"])

    @api.post("/erasures", summary="Erase a reporter's personal data (by phone, e-mail or complaint ids)")
    async def erase(body: dict[str, Any] = Body(...), who: Principal = Depends(require("admin"))) -> JSONResponse:
        """The complaints stay; the reporter's contact goes, identifiers in their text are masked,
        and every stored copy (outbox, dead letters, status updates, events) is rewritten."""
        ids = body.get("complaint_ids") or []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return _refuse("must be a list of complaint ids", "complaint_ids")
        for name in ("phone", "email", "reason"):
            if body.get(name) is not None and not isinstance(body[name], str):
                return _refuse("must be a string", name)
        try:
            result = await run_in_threadpool(
                erasure.erase, hub.store, actor=who.actor, reason=body.get("reason") or "",
                phone=body.get("phone"), email=body.get("email"), complaint_ids=ids)
        except erasure.ErasureError as exc:
            return _refuse(str(exc), "reason" if "reason" in str(exc) else "$")
        return JSONResponse(result)

    @api.get("/transfers", summary="The transfer allow-list by category")
    def listing(_: Principal = Depends(require(*READ_ALL))) -> JSONResponse:
        with hub.store.engine.connect() as conn:
            return JSONResponse({"allow": transfers.listing(conn)})

    @api.put("/transfers/{category}", summary="Set where destinations may transfer complaints of a category")
    def allow(category: str, body: dict[str, Any] = Body(...), who: Principal = Depends(require("admin"))) -> JSONResponse:
        dests = body.get("destinations")
        if not isinstance(dests, list) or not all(isinstance(d, str) for d in dests):
            return _refuse("must be a list of destination ids", "destinations")
        unknown = [d for d in dests if d not in hub.config.registry]
        if unknown:
            return _refuse(f"unknown destination(s): {', '.join(unknown)}", "destinations")
        if category != transfers.EVERY and category not in hub.config.taxonomy.category_ids:
            return _refuse(f"unknown category {category!r}", "category")
        if not isinstance(body.get("reason"), str) or not body["reason"].strip():
            return _refuse("a reason is required for every change", "reason")
        with hub.store.begin() as conn:
            return JSONResponse(transfers.replace(conn, category, dests, actor=who.actor, reason=body["reason"]))

    return api
