"""HTTP API (FastAPI): citizen channels submit complaints and read where they went."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, AsyncIterator

import structlog
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub.admin.auth import READ_ALL, Principal, administer, may_submit, require
from hub.admin.search import search
from hub.admin.limits import Limiter
from hub.core import documents, privacy, schemas
from hub.core.errors import FieldError, InvalidMessage
from hub.http import admin as admin_api
from hub.http import console, contract, docs, errors, health
from hub.http import deadletters as admin
from hub.http.guard import InputGuard
from hub.http.headers import SecurityHeaders
from hub.http import privacy as privacy_api
from hub.http.lifecycle import router as lifecycle_router
from hub.http.open311 import router as open311_router
from hub.infra.outbox import RelayThread
from hub.pipeline.intake import accept
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.http.app")


def _error(status: int, error: str, message: str, found: list[FieldError] | None = None) -> JSONResponse:
    return errors.json_error(status, error, message, found)


def create_app(hub: Hub, relay: bool = True) -> FastAPI:
    relayer = RelayThread(hub.store, hub.bus) if relay else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if relayer:
            relayer.start()
        yield
        if relayer:
            relayer.close()

    app = FastAPI(
        title="LaporHub",
        version="0.1.0",
        description="Routing and integration hub for citizen complaints.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.hub = hub
    app.state.relayer = relayer
    app.state.limiter = Limiter(hub.settings.rate_limit, hub.settings.rate_limits)
    errors.install(app)
    app.add_middleware(InputGuard, check=contract.install(app))
    app.add_middleware(SecurityHeaders)
    docs.mount(app)
    _install_administration(app, hub)

    @app.post(
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
        doc = documents.parse_json(await request.body())  # size, type and content checked by InputGuard
        found = schemas.errors("complaint", doc)
        if found:
            return _error(422, "invalid_complaint", "the complaint is not valid", found)
        may_submit(who, doc.get("channel"))
        try:
            result = await run_in_threadpool(accept, hub.store, doc, "api", True)
        except InvalidMessage as exc:
            return _error(422, "invalid_complaint", "the complaint is not valid", exc.errors)
        if relayer:
            relayer.wake.set()
        cid = result.complaint_id
        return JSONResponse(
            {"id": cid, "created": result.created, "url": f"/v1/complaints/{cid}"},
            status_code=201 if result.created else 200,
            headers={"location": f"/v1/complaints/{cid}"},
        )


    app.include_router(lifecycle_router)
    app.include_router(open311_router)

    @app.get("/v1/complaints", summary="Most recent complaints")
    def list_complaints(limit: Annotated[int, Query(ge=1, le=500)] = 50, who: Principal = Depends(require())) -> JSONResponse:
        found = search(hub.store, limit=min(max(limit, 1), 500), **_own(who))
        if who.role not in READ_ALL:  # the original text is for administrators only (issue 11)
            found = [{**c, "title": privacy.mask_text(c.get("title") or "")} for c in found]
        return JSONResponse({"complaints": found})

    @app.get("/healthz", summary="Alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    _include_operations(app, hub, relayer)
    return app


# -- administration (issue 5) ------------------------------------------------------------------

def _own(who: Principal) -> dict[str, str]:
    """What a scoped key may list: its channel's complaints, or those delivered to it."""
    if who.role == "channel":
        return {"channel": who.scope or ""}
    if who.role == "destination":
        return {"destination": who.scope or ""}
    return {}


def _install_administration(app: FastAPI, hub: Hub) -> None:
    """Access control's error answers, the /v1/admin API and the /admin console."""

    app.include_router(admin_api.router)
    app.include_router(privacy_api.routes(hub))
    console.mount(app)


# -- operations (issue 4): admin dead letters, readiness, metrics ---------------------------------

def _include_operations(app: FastAPI, hub: Hub, relayer: RelayThread | None) -> None:
    app.include_router(admin.router(hub, wake_relay=relayer.wake.set if relayer else lambda: None),
                       dependencies=[Depends(administer)])
    app.include_router(health.router(hub))
