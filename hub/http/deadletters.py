"""Administrators' API: dead letters (list, show, replay, purge) under /v1/admin/."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from hub.http import errors
from hub.pipeline import deadletter

STAGES = tuple(deadletter.INPUTS)

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def not_found(dead_letter_id: str) -> JSONResponse:
    return errors.json_error(404, "not_found", f"no dead letter {dead_letter_id!r}")


@router.get("/dead-letters", summary="Dead letters, newest first")
def list_dead(request: Request, stage: str | None = None, status: str = "dead",
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSONResponse:
    if stage is not None and stage not in STAGES:
        return errors.json_error(422, "invalid_request", f"unknown stage {stage!r}",
                                 [{"field": "stage", "reason": f"must be one of {', '.join(STAGES)}"}])
    found = deadletter.list_(request.app.state.hub.store, stage=stage, status=None if status == "all" else status,
                             limit=min(max(limit, 1), 1000))
    return JSONResponse({"dead_letters": found})


@router.get("/dead-letters/{dead_letter_id}", summary="One dead letter with its reason and original body")
def show_dead(dead_letter_id: str, request: Request) -> JSONResponse:
    try:
        return JSONResponse(deadletter.show(request.app.state.hub.store, dead_letter_id))
    except deadletter.DeadLetterNotFound:
        return not_found(dead_letter_id)


@router.post("/dead-letters/{dead_letter_id}/replay",
             summary="Send the original back to its stage's input (idempotent)")
def replay_dead(dead_letter_id: str, request: Request) -> JSONResponse:
    try:
        result = deadletter.replay(request.app.state.hub.store, dead_letter_id)
    except deadletter.DeadLetterNotFound:
        return not_found(dead_letter_id)
    relayer = getattr(request.app.state, "relayer", None)
    if relayer:
        relayer.wake.set()
    return JSONResponse(result, status_code=202 if result["replayed"] else 200)


@router.delete("/dead-letters", summary="Purge dead letters (all, one stage's, or by status)")
def purge_dead(request: Request, stage: str | None = None, status: str | None = None) -> JSONResponse:
    return JSONResponse({"purged": deadletter.purge(request.app.state.hub.store, stage=stage, status=status)})
