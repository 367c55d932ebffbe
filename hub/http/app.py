"""HTTP API (FastAPI): citizen channels submit complaints and read where they went."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

import structlog
from fastapi import Depends, FastAPI

from hub.admin.auth import administer
from hub.admin.limits import Limiter
from hub.http import admin as admin_api
from hub.http import actions as action_pages
from hub.http import city, console, contract, docs, errors, health, inbound, portal
from hub.http import deadletters as admin
from hub.http.guard import InputGuard
from hub.http.headers import SecurityHeaders
from hub.http import privacy as privacy_api
from hub.http import complaints
from hub.http.lifecycle import router as lifecycle_router
from hub.http.open311 import router as open311_router
from hub.infra.outbox import RelayThread
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.http.app")


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

    app.include_router(complaints.router)

    app.include_router(lifecycle_router)
    app.include_router(open311_router)
    app.include_router(action_pages.routes())
    app.include_router(inbound.routes())
    app.include_router(portal.routes())
    portal.mount(app)

    app.add_api_route("/healthz", healthz, summary="Alive")

    _include_operations(app, hub)
    return app


def healthz() -> dict[str, str]:
    return {"status": "ok"}


# -- administration (issue 5) ------------------------------------------------------------------

def _install_administration(app: FastAPI, hub: Hub) -> None:
    """Access control's error answers, the /v1/admin API and the /admin console."""

    app.include_router(admin_api.router)
    app.include_router(privacy_api.router)
    app.include_router(city.router)
    app.include_router(city.boundaries_router)
    console.mount(app)


# -- operations (issue 4): admin dead letters, readiness, metrics ---------------------------------

def _include_operations(app: FastAPI, hub: Hub) -> None:
    app.include_router(admin.router, dependencies=[Depends(administer)])
    app.include_router(health.router(hub))
