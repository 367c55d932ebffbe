"""Channels submit complaints (POST /v1/complaints) and list the recent ones they may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.admin.auth import READ_ALL, Principal, may_submit, require
from hub.admin.search import search
from hub.core import documents, privacy, schemas
from hub.core.errors import InvalidMessage
from hub.http import errors
from hub.pipeline.intake import accept
from hub.settings.runtime import Hub

router = APIRouter()


@router.post(
    "/v1/complaints",
    status_code=201,
    summary="Submit a complaint",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": schemas.schema("complaint")}}}},
    responses={201: {"description": "Accepted; routing follows"},
               200: {"description": "Already submitted with this channel and external_ref"},
               422: {"description": "Invalid: each field named with the reason"}},
)
async def submit(request: Request, who: Principal = Depends(require("channel"))) -> JSONResponse:
    hub: Hub = request.app.state.hub
    doc = documents.parse_json(await request.body())  # size, type and content checked by InputGuard
    found = schemas.errors("complaint", doc)
    if found:
        return errors.json_error(422, "invalid_complaint", "the complaint is not valid", found)
    may_submit(who, doc.get("channel"))
    try:
        result = await run_in_threadpool(accept, hub.store, doc, "api", True)
    except InvalidMessage as exc:
        return errors.json_error(422, "invalid_complaint", "the complaint is not valid", exc.errors)
    relayer = getattr(request.app.state, "relayer", None)
    if relayer:
        relayer.wake.set()
    cid = result.complaint_id
    return JSONResponse(
        {"id": cid, "created": result.created, "url": f"/v1/complaints/{cid}"},
        status_code=201 if result.created else 200,
        headers={"location": f"/v1/complaints/{cid}"},
    )


@router.get("/v1/complaints", summary="Most recent complaints")
def list_complaints(request: Request, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    who: Principal = Depends(require())) -> JSONResponse:
    found = search(request.app.state.hub.store, limit=min(max(limit, 1), 500), **_own(who))
    if who.role not in READ_ALL:  # the original text is for administrators only (issue 11)
        found = [{**c, "title": privacy.mask_text(c.get("title") or "")} for c in found]
    return JSONResponse({"complaints": found})


def _own(who: Principal) -> dict[str, str]:
    """What a scoped key may list: its channel's complaints, or those delivered to it."""
    if who.role == "channel":
        return {"channel": who.scope or ""}
    if who.role == "destination":
        return {"destination": who.scope or ""}
    return {}
