"""Readiness and metrics endpoints: /readyz says whether the broker and the store answer."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from hub.pipeline import backlog
from hub.pipeline.readiness import readiness
from hub.settings.runtime import Hub


def router(hub: Hub) -> APIRouter:
    api = APIRouter()
    backlog.watch(hub)

    @api.get("/readyz", summary="Ready: the broker and the store answer")
    def readyz() -> JSONResponse:
        ready, doc = readiness(hub)
        return JSONResponse(doc, status_code=200 if ready else 503)

    @api.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    def metrics_() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return api
