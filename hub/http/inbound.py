"""POST /v1/inbound/email: the city's mail gateway hands over a reply, as the raw RFC 822 message.

The gateway signs each post per Standard Webhooks with LAPORHUB_INBOUND_EMAIL_SECRET (`whsec_...`):
headers webhook-id, webhook-timestamp, webhook-signature, as the hub signs its own webhooks, so
any Standard Webhooks library (or ten lines of a Postfix pipe script) can do it. Refused mail,
unauthenticated or unmatched, is answered with the reason and kept for an administrator
(GET /v1/admin/inbound-mail).

Signed posts spend the gateway's allowance (channel `mail-gateway` in LAPORHUB_RATE_LIMITS, else
the default); unsigned ones a separate, smaller one (`mail-gateway-unsigned`, else 20/60), so a
flood of forged mail neither fills the store nor starves the real gateway. Posts over either are
answered 429 and not kept.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.admin.auth import READ_ALL, require
from hub.admin.keys import Principal
from hub.aftercare import inbound
from hub.core import signing
from hub.http import errors
from hub.settings.runtime import Hub

REFUSED = {401: "unauthenticated", 409: "illegal_transition"}  # any other refusal: unmatched
GATEWAY = Principal("inbound-email", "mail gateway", "channel", "mail-gateway")
UNSIGNED = Principal("inbound-email-unsigned", "unsigned inbound mail", "channel", "mail-gateway-unsigned")
UNSIGNED_RATE = "20/60"


def _answer(outcome: inbound.Outcome) -> JSONResponse:
    body: dict[str, Any] = outcome.as_dict()
    body.pop("message_ids", None)
    if outcome.outcome == "refused":
        # Through the one error path (hub/http/errors.py): the /v1 shape, identifiers masked.
        message = body.pop("message")
        return errors.json_error(outcome.code, REFUSED.get(outcome.code, "unmatched"), message, **body)
    return JSONResponse(body, status_code=outcome.code)


def routes() -> APIRouter:
    router = APIRouter()

    @router.post("/v1/inbound/email", summary="A reply e-mail from the city's mail gateway (raw RFC 822, signed)",
                 responses={200: {"description": "Applied as a status update, or kept as a note"},
                            401: {"description": "Not signed with the gateway secret (kept for an admin)"},
                            409: {"description": "The status it names is not allowed now (kept)"},
                            413: {"description": "Too large"},
                            422: {"description": "Not matched to a delivery, or no text of its own (kept)"}})
    async def post_inbound(request: Request) -> JSONResponse:
        raw = await request.body()  # size and content type checked by InputGuard (10 MiB, message/rfc822)
        hub: Hub = request.app.state.hub
        refusal = _unsigned(hub, dict(request.headers), raw)
        limiter = request.app.state.limiter
        if refusal:
            limiter.spend(UNSIGNED, UNSIGNED_RATE, "unsigned inbound mail", "webhook-signature")
            outcome = await run_in_threadpool(inbound.refuse, hub, raw, refusal, 401)
        else:
            limiter.spend(GATEWAY, what="the mail gateway", field="webhook-signature")
            outcome = await run_in_threadpool(inbound.receive, hub, raw)
        relayer = getattr(request.app.state, "relayer", None)
        if relayer and outcome.outcome == "applied":
            relayer.wake.set()
        return _answer(outcome)

    @router.get("/v1/admin/inbound-mail", summary="Reply e-mails received, newest first (refused ones with the reason)")
    def list_inbound(request: Request, outcome: Literal["applied", "noted", "refused"] | None = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     _: Any = Depends(require(*READ_ALL))) -> JSONResponse:
        return JSONResponse({"inbound_mail": inbound.listing(request.app.state.hub, outcome, limit)})

    return router


def _unsigned(hub: Hub, headers: dict[str, str], raw: bytes) -> str | None:
    """Why the post is not the gateway's, or None when its signature checks."""
    secret = hub.settings.inbound_email_secret
    if not secret:
        return "inbound e-mail is not configured (LAPORHUB_INBOUND_EMAIL_SECRET)"
    try:
        signing.verify(secret, headers, raw)
    except signing.SignatureError as exc:
        return f"not signed by the mail gateway: {exc}"
    return None
