"""Readiness and metrics endpoints: /readyz says whether the broker and the store answer."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from hub.pipeline import backlog
from hub.settings.runtime import Hub


def store_answers(hub: Hub) -> str | None:
    """None when the store answers, else why not."""
    try:
        with hub.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"store unreachable: {exc.__class__.__name__}: {str(exc)[:200]}"
    return None


def broker_answers(hub: Hub) -> str | None:
    if not hub.settings.broker_url.startswith("amqp"):
        return None
    from kombu import Connection

    try:
        with Connection(hub.settings.broker_url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"broker unreachable: {exc.__class__.__name__}: {str(exc)[:200]}"
    return None


def router(hub: Hub) -> APIRouter:
    api = APIRouter()
    backlog.watch(hub)

    @api.get("/readyz", summary="Ready: the broker and the store answer")
    def readyz() -> JSONResponse:
        problems = {"store": store_answers(hub), "broker": broker_answers(hub)}
        failing = {k: v for k, v in problems.items() if v}
        if failing:
            return JSONResponse({"status": "unavailable", "checks": failing}, status_code=503)
        return JSONResponse({"status": "ok", "checks": {"store": "ok", "broker": "ok"}})

    @api.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    def metrics_() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return api
