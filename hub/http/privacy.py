"""Administrators' HTTP endpoints for personal data (issue 11): erase a reporter on request, and
the transfer allow-list (where destinations may pass a complaint on, besides what the rules say)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.admin import erasure
from hub.admin.auth import READ_ALL, Principal, require
from hub.aftercare import transfers
from hub.http import errors
from hub.settings.runtime import Hub

router = APIRouter(prefix="/v1/admin", tags=["personal data"])


@router.post("/erasures", summary="Erase a reporter's personal data (by phone, e-mail or complaint ids)")
async def erase(request: Request, body: dict[str, Any] = Body(...),
                who: Principal = Depends(require("admin"))) -> JSONResponse:
    """The complaints stay; the reporter's contact goes, identifiers in their text are masked,
    and every stored copy (outbox, dead letters, status updates, events) is rewritten."""
    hub: Hub = request.app.state.hub
    ids = body.get("complaint_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return errors.invalid("complaint_ids", "must be a list of complaint ids")
    for name in ("phone", "email", "reason"):
        if body.get(name) is not None and not isinstance(body[name], str):
            return errors.invalid(name, "must be a string")
    try:
        result = await run_in_threadpool(
            erasure.erase, hub.store, actor=who.actor, reason=body.get("reason") or "",
            phone=body.get("phone"), email=body.get("email"), complaint_ids=ids)
    except erasure.ErasureError as exc:
        return errors.invalid("reason" if "reason" in str(exc) else "$", str(exc))
    return JSONResponse(result)


@router.get("/transfers", summary="The transfer allow-list by category")
def listing(request: Request, _: Principal = Depends(require(*READ_ALL))) -> JSONResponse:
    with request.app.state.hub.store.engine.connect() as conn:
        return JSONResponse({"allow": transfers.listing(conn)})


@router.put("/transfers/{category}", summary="Set where destinations may transfer complaints of a category")
def allow(category: str, request: Request, body: dict[str, Any] = Body(...),
          who: Principal = Depends(require("admin"))) -> JSONResponse:
    hub: Hub = request.app.state.hub
    dests = body.get("destinations")
    if not isinstance(dests, list) or not all(isinstance(d, str) for d in dests):
        return errors.invalid("destinations", "must be a list of destination ids")
    unknown = [d for d in dests if d not in hub.config.registry]
    if unknown:
        return errors.invalid("destinations", f"unknown destination(s): {', '.join(unknown)}")
    if category != transfers.EVERY and category not in hub.config.taxonomy.category_ids:
        return errors.invalid("category", f"unknown category {category!r}")
    if not isinstance(body.get("reason"), str) or not body["reason"].strip():
        return errors.invalid("reason", "a reason is required for every change")
    with hub.store.begin() as conn:
        return JSONResponse(transfers.replace(conn, category, dests, actor=who.actor, reason=body["reason"]))
