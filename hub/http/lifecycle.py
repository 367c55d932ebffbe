"""HTTP endpoints for the complaint lifecycle: status callbacks from operators, the citizen's
public view and feedback, the administrators' full view and the hand-offs report.

The split between citizen and administrator views is by path: /v1/complaints/{id} is the
public view, which a channel reads for what it submitted (and destinations, admins and auditors
for theirs); /v1/admin/... is for admins and auditors. Operators' status callbacks authenticate
by their Standard Webhooks signature instead of an API key.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.admin import links
from hub.admin.auth import READ_ALL, Principal, forbidden, may_read, require
from hub.aftercare import citizen, handoffs, status
from hub.aftercare.scheduler import breaches
from hub.core import signing
from hub.core.errors import ComplaintNotFound, FieldError, InvalidMessage
from hub.http import errors
from hub.settings.runtime import Hub

router = APIRouter()


def _wake(request: Request) -> None:
    relayer = getattr(request.app.state, "relayer", None)
    if relayer:
        relayer.wake.set()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage("body", [FieldError("$", f"not valid JSON: {exc}")]) from None


@router.post("/v1/complaints/{complaint_id}/status", summary="An operator reports status (signed callback)",
             responses={200: {"description": "Applied, or a repeat of an applied update_id"},
                        401: {"description": "Unsigned, wrongly signed or stale"},
                        403: {"description": "The complaint was not delivered to this destination"},
                        409: {"description": "Replayed webhook-id, or a transition the current state does not allow"},
                        422: {"description": "Not a valid status update"}})
async def post_status(complaint_id: str, request: Request) -> JSONResponse:
    """Signed per Standard Webhooks with the destination's callback secret (options.callback_secret,
    not the secret the hub signs its deliveries with); the timestamp must be within 5 minutes; a
    webhook-id is accepted once."""
    raw = await request.body()
    return await run_in_threadpool(_status_update, request, complaint_id, raw)


def _status_update(request: Request, complaint_id: str, raw: bytes) -> JSONResponse:
    """The work of `post_status`, off the event loop: verifying and applying it use the store."""
    hub: Hub = request.app.state.hub
    try:
        doc = _json(raw)
    except InvalidMessage as exc:
        return errors.json_error(400, "invalid_json", "body is not valid JSON", exc.errors)
    dest_id = doc.get("destination") if isinstance(doc, dict) else None
    reg = hub.config.registry
    # The callback secret, never the one the hub signs its deliveries with: a delivery replayed
    # at this URL must not verify (issue 11).
    secret = reg.get(dest_id).options.get("callback_secret") if isinstance(dest_id, str) and dest_id in reg else None
    if not secret:
        return errors.json_error(401, "invalid_signature", "the body's destination has no callback secret to verify with",
                                 [FieldError("destination", "must be a destination that has a callback_secret")])
    secrets = [secret] if isinstance(secret, str) else list(secret)
    headers = dict(request.headers)
    failure = None
    for s in secrets:
        try:
            signing.verify(s, headers, raw)
            failure = None
            break
        except signing.SignatureError as exc:
            failure = str(exc)
    if failure:
        return errors.json_error(401, "invalid_signature", failure)
    webhook_id = headers["webhook-id"]
    if status.webhook_id_seen(hub, dest_id, webhook_id):
        return errors.json_error(409, "replayed", f"webhook-id {webhook_id!r} was already used")
    if doc.get("complaint_id") != complaint_id:
        return errors.json_error(422, "invalid_status_update", "the body's complaint_id is not the one in the path",
                                 [FieldError("complaint_id", f"must be {complaint_id!r}")])
    try:
        result = status.apply(hub, doc)
    except InvalidMessage as exc:
        return errors.json_error(422, "invalid_status_update", "the status update is not valid", exc.errors)
    except status.NotDelivered as exc:
        return errors.json_error(403, "not_delivered", str(exc))
    status.remember_webhook_id(hub, dest_id, webhook_id)
    _wake(request)
    return JSONResponse(result.as_dict())


@router.get("/v1/complaints/{complaint_id}", summary="A complaint as the citizen sees it: state and public timeline")
def get_complaint(complaint_id: str, request: Request, who: Principal = Depends(require())) -> JSONResponse:
    hub: Hub = request.app.state.hub
    found = hub.store.complaint(complaint_id)
    if found is None:
        raise ComplaintNotFound(complaint_id)
    may_read(who, found)
    return JSONResponse(citizen.public_view(hub, found, found["state"]))


@router.get("/v1/admin/complaints/{complaint_id}",
            summary="A complaint in full (administrators): classification, decision, deliveries, internal timeline")
def get_complaint_full(complaint_id: str, request: Request,
                       _: Principal = Depends(require(*READ_ALL))) -> JSONResponse:
    hub: Hub = request.app.state.hub
    found = hub.store.complaint(complaint_id)
    if found is None:
        raise ComplaintNotFound(complaint_id)
    return JSONResponse({**found, **links.view(hub, complaint_id)})


@router.post("/v1/complaints/{complaint_id}/feedback", summary="The citizen confirms, reopens or rates a resolution",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "https://laporhub.org/schemas/feedback.schema.json"}}}}})
async def post_feedback(complaint_id: str, request: Request,
                        who: Principal = Depends(require("channel", "admin"))) -> JSONResponse:
    """Only the channel the complaint came through speaks for its citizen (or an admin)."""
    raw = await request.body()
    return await run_in_threadpool(_feedback, request, complaint_id, raw, who)


def _feedback(request: Request, complaint_id: str, raw: bytes, who: Principal) -> JSONResponse:
    """The work of `post_feedback`, off the event loop."""
    hub: Hub = request.app.state.hub
    found = hub.store.complaint(complaint_id)
    if found is not None and who.role == "channel" and found["channel"] != who.scope:
        raise forbidden(f"complaint {complaint_id} came through {found['channel']!r}; this key speaks "
                        f"for {who.scope!r}")
    try:
        result = citizen.respond(hub, complaint_id, _json(raw))
    except InvalidMessage as exc:
        return errors.json_error(422, "invalid_feedback", "the feedback is not valid", exc.errors)
    except citizen.ReopenWindowClosed as exc:
        return errors.json_error(409, "reopen_window_closed", str(exc))
    _wake(request)
    return JSONResponse({"id": result["id"], "state": result["state"]})


@router.get("/v1/reports/handoffs", summary="Rejections and transfers by (from, to) and by category, with median time lost")
def get_handoffs(request: Request, _: Principal = Depends(require(*READ_ALL))) -> JSONResponse:
    hub: Hub = request.app.state.hub
    reg = hub.config.registry
    return JSONResponse(handoffs.report(hub.store, lambda d: reg.get(d).sector if d in reg else "government"))


@router.get("/v1/admin/sla/breaches", summary="SLA breaches and their escalations, newest first")
def get_breaches(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                 _: Principal = Depends(require(*READ_ALL))) -> JSONResponse:

    return JSONResponse({"breaches": breaches(request.app.state.hub.store, min(max(limit, 1), 1000))})
