"""HTTP API (FastAPI): citizen channels submit complaints and read where they went."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.admin import auth
from hub.admin.auth import Principal, administer, may_submit, require
from hub.admin.search import search
from hub.core import schemas
from hub.core.errors import FieldError, InvalidMessage
from hub.http import admin as admin_api
from hub.http import city, console, health
from hub.http import deadletters as admin
from hub.http.lifecycle import router as lifecycle_router
from hub.http.open311 import router as open311_router
from hub.infra.outbox import RelayThread
from hub.pipeline.intake import accept
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.http.app")

MAX_BODY = 256 * 1024


def _error(status: int, error: str, message: str, errors: list[FieldError] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "message": message}
    if errors is not None:
        body["errors"] = [e.as_dict() for e in errors]
    return JSONResponse(body, status_code=status)


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
    )
    app.state.hub = hub
    app.state.relayer = relayer
    _install_administration(app, hub)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errs = [FieldError(".".join(str(p) for p in e["loc"][1:]) or "$", e["msg"]) for e in exc.errors()]
        return _error(422, "invalid_request", "the request is not valid", errs)

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
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return _error(413, "too_large", f"body is {len(raw)} bytes; the limit is {MAX_BODY}")
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, "invalid_json", "body is not valid JSON",
                          [FieldError("$", f"not valid JSON: {exc}")])
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
    def list_complaints(limit: int = 50, who: Principal = Depends(require())) -> JSONResponse:
        return JSONResponse({"complaints": search(hub.store, limit=min(max(limit, 1), 500), **_own(who))})

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

    auth.install(app)
    app.include_router(admin_api.router(hub))
    app.include_router(city.routes(hub))
    app.include_router(city.boundaries())
    console.mount(app)


# -- operations (issue 4): admin dead letters, readiness, metrics ---------------------------------

def _include_operations(app: FastAPI, hub: Hub, relayer: RelayThread | None) -> None:
    app.include_router(admin.router(hub, wake_relay=relayer.wake.set if relayer else lambda: None),
                       dependencies=[Depends(administer)])
    app.include_router(health.router(hub))
