"""The destination portal: a destination's key opens /portal (the same sign-in as the console) and
works its own complaints there: /v1/portal/... answers only for the key's destination. Admins get
the same endpoint tools (attempt log, recover) per destination under /v1/admin/destinations/...

Static files live beside the console's (hub/http/console/portal.*), kept apart from its pages.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.admin import destinations as destination_admin
from hub.admin.auth import Principal, require
from hub.aftercare import actions, portal, status
from hub.core import privacy
from hub.core.errors import Conflict, FieldError, InvalidMessage
from hub.http import fields
from hub.http.console import STATIC
from hub.pipeline import attempts, recover
from hub.settings.runtime import Hub

DESTINATION = require("destination")
ADMIN = require("admin")
READER = require("admin", "auditor")


def _endpoint(hub: Hub, dest_id: str) -> dict[str, Any]:
    dest = hub.config.registry.get(dest_id)
    described = destination_admin.describe(hub, dest_id, with_health=True)
    return {"destination": dest_id, "name": dest.name, "adapter": dest.adapter,
            "url": privacy.redact_url(dest.options["url"]) if dest.adapter == "webhook" and dest.options.get("url") else None,
            "to": dest.options.get("to") if dest.adapter == "email" else None,
            "secret_overlap": described["secret_overlap"], "health": described["health"],
            "attempts": attempts.log(hub.store, dest_id, 50)}


def _recover(hub: Hub, dest_id: str, body: dict[str, Any], who: Principal, wake: Callable[[], None]) -> dict[str, Any]:
    hub.config.registry.get(dest_id)
    expected = body.get("expected")
    if expected is not None and not isinstance(expected, int):
        raise InvalidMessage("request", [FieldError("expected", "must be the count you were shown")])
    done = recover.recover(hub.store, dest_id, fields.since(body.get("since")), actor=who.actor,
                           reason=fields.reason(body), expected=expected)
    done.pop("message_ids")
    wake()  # the API's outbox relay publishes the re-sent deliveries now
    return done


def routes() -> APIRouter:
    api = APIRouter(tags=["destination portal"])

    def wake_of(request: Request) -> Callable[[], None]:
        relayer = getattr(request.app.state, "relayer", None)
        return relayer.wake.set if relayer else (lambda: None)

    @api.get("/v1/portal/inbox", summary="This destination's open deliveries, overdue first, with SLA clocks")
    def get_inbox(request: Request, who: Principal = Depends(DESTINATION)) -> JSONResponse:
        hub: Hub = request.app.state.hub
        return JSONResponse({**portal.inbox(hub, who.scope or ""), "name": _name(hub, who.scope or ""),
                                "adapter": _adapter(hub, who.scope or "")})

    @api.get("/v1/portal/complaints/{complaint_id}", summary="One of this destination's complaints (masked)")
    def get_complaint(complaint_id: str, request: Request, who: Principal = Depends(DESTINATION)) -> JSONResponse:
        return JSONResponse(portal.complaint_view(request.app.state.hub, who.scope or "", complaint_id))

    @api.post("/v1/portal/complaints/{complaint_id}/status",
              summary="Acknowledge, report progress, resolve, say not ours, or transfer")
    async def post_status(complaint_id: str, request: Request, body: dict[str, Any] = Body(...),
                          who: Principal = Depends(DESTINATION)) -> JSONResponse:
        hub: Hub = request.app.state.hub
        answer = await run_in_threadpool(_act, hub, who.scope or "", complaint_id, body)
        wake_of(request)()
        return JSONResponse(answer)

    @api.get("/v1/portal/endpoint", summary="This destination's endpoint: URL, secret overlap, attempt log")
    def get_endpoint(request: Request, who: Principal = Depends(DESTINATION)) -> JSONResponse:
        return JSONResponse(_endpoint(request.app.state.hub, who.scope or ""))

    @api.post("/v1/portal/endpoint/rotate-secret", summary="A new signing secret (shown once); the old one signs 24 h more")
    def post_rotate(request: Request, body: dict[str, Any] = Body(default={}),
                    who: Principal = Depends(DESTINATION)) -> JSONResponse:
        hub: Hub = request.app.state.hub
        return JSONResponse(destination_admin.rotate_secret(
            hub, who.scope or "", actor=who.actor, reason=fields.reason(body),
            overlap_hours=fields.hours(body, "overlap_hours", 24), option=body.get("option", "secret")))

    @api.post("/v1/portal/endpoint/test", summary="Send a marked test delivery now; it shows in the attempt log")
    def post_test(request: Request, who: Principal = Depends(DESTINATION)) -> JSONResponse:
        hub: Hub = request.app.state.hub
        dest = hub.config.registry.get(who.scope or "")
        if dest.adapter not in ("webhook", "email"):
            raise Conflict(f"{dest.id} receives by {dest.adapter}; test sends are for webhooks and e-mail")
        return JSONResponse(destination_admin.test_delivery(hub, dest.id, None, actor=who.actor))

    @api.get("/v1/portal/recover", summary="How many failed deliveries a recover since `since` would re-send")
    def get_recover(request: Request, since: str | None = None, who: Principal = Depends(DESTINATION)) -> JSONResponse:
        return JSONResponse(recover.preview(request.app.state.hub.store, who.scope or "", fields.since(since)))

    @api.post("/v1/portal/recover", summary="Re-send every failed delivery since `since` (confirm with `expected`)")
    def post_recover(request: Request, body: dict[str, Any] = Body(...),
                     who: Principal = Depends(DESTINATION)) -> JSONResponse:
        return JSONResponse(_recover(request.app.state.hub, who.scope or "", body, who, wake_of(request)))

    # -- the same tools for administrators, per destination ---------------------------------------
    @api.get("/v1/admin/destinations/{dest_id}/attempts", summary="A destination's attempt log, newest first")
    def admin_attempts(dest_id: str, request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                       _: Principal = Depends(READER)) -> JSONResponse:
        hub: Hub = request.app.state.hub
        return JSONResponse({"destination": hub.config.registry.get(dest_id).id,
                                "attempts": attempts.log(hub.store, dest_id, min(max(limit, 1), 1000))})

    @api.get("/v1/admin/destinations/{dest_id}/recover", summary="What a recover since `since` would re-send")
    def admin_preview(dest_id: str, request: Request, since: str | None = None,
                      _: Principal = Depends(READER)) -> JSONResponse:
        hub: Hub = request.app.state.hub
        return JSONResponse(recover.preview(hub.store, hub.config.registry.get(dest_id).id, fields.since(since)))

    @api.post("/v1/admin/destinations/{dest_id}/recover", summary="Re-send a destination's failed deliveries since a time")
    def admin_recover(dest_id: str, request: Request, body: dict[str, Any] = Body(...),
                      who: Principal = Depends(ADMIN)) -> JSONResponse:
        return JSONResponse(_recover(request.app.state.hub, dest_id, body, who, wake_of(request)))

    return api


def _name(hub: Hub, dest_id: str) -> str:
    return hub.config.registry.get(dest_id).name if dest_id in hub.config.registry else dest_id


def _adapter(hub: Hub, dest_id: str) -> str | None:
    return hub.config.registry.get(dest_id).adapter if dest_id in hub.config.registry else None


def _act(hub: Hub, dest_id: str, complaint_id: str, body: dict[str, Any]) -> dict[str, Any]:
    mine = portal.own_delivery(hub, dest_id, complaint_id)
    action = str(body.get("action") or "")
    update_id = str(body.get("update_id") or f"portal:{uuid.uuid4()}")
    update = actions.status_update(action, complaint_id, mine["id"], dest_id, update_id, body)
    if action == "transfer":
        full = hub.store.complaint(complaint_id) or {}
        allowed = {t["id"] for t in portal.transfer_targets(hub, full, dest_id)}
        if update["transfer_to"] not in allowed:
            raise InvalidMessage("action", [FieldError("transfer_to", f"{update['transfer_to']!r} is not a destination "
                                                       "the rules allow for this complaint")])
    result = status.apply(hub, update)
    return result.as_dict()


def mount(app: FastAPI) -> None:
    @app.get("/portal", include_in_schema=False)
    def portal_page() -> FileResponse:
        return FileResponse(STATIC / "portal.html", headers={"cache-control": "no-store"})

