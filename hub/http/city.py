"""HTTP for seeing the city: the console's reports (overview, hand-offs, SLA), incidents, the
complaints behind a number, duplicate links an administrator corrects, and the boundary layer.

Admins and auditors read (GET); only admins link and unlink. Times are UTC ISO 8601 in the JSON;
the console shows them in Asia/Jakarta (WIB). Refusals are the hub's error types, answered by
hub/http/errors.py: a bad query is InvalidMessage (422), a link that makes no sense Conflict (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Callable

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.admin import links
from hub.admin.auth import Principal, administer
from hub.aftercare import breaches, handoffs, overview
from hub.core.boundaries import ATTRIBUTION, kecamatan_geojson
from hub.core.errors import FieldError, InvalidMessage
from hub.infra.outbox import relay
from hub.infra.store import complaints, iso, now
from hub.pipeline import linking
from hub.settings.runtime import Hub

router = APIRouter(dependencies=[Depends(administer)], tags=["city"])
boundaries_router = APIRouter()


def _hub(request: Request) -> Hub:
    return request.app.state.hub


TheHub = Annotated[Hub, Depends(_hub)]


def _when(name: str, value: str | None) -> datetime | None:
    try:
        return handoffs.parse_since(value, now())
    except ValueError:
        raise InvalidMessage("query", [FieldError(
            name, f"{value!r} is not a date, an ISO time or a span like 7d, 12h, 4w")]) from None


def sector_of(hub: Hub) -> Callable[[str], str]:
    reg = hub.config.registry
    return lambda d: reg.get(d).sector if d in reg else "government"


def _relayed(hub: Hub, ids: list[str]) -> None:
    with hub.bus() as bus:
        relay(hub.store, bus, message_ids=ids)


@router.get("/v1/admin/reports/overview", summary="Complaints per day, open/overdue/resolved, first response, map")
def get_overview(hub: TheHub, since: str | None = "30d", until: str | None = None, city: str | None = None,
                 category: str | None = None, destination: str | None = None) -> JSONResponse:
    return JSONResponse(overview.report(hub, _when("since", since), _when("until", until), city or None,
                                        category or None, destination or None))


@router.get("/v1/admin/reports/handoffs", summary="Hand-offs between destinations and sectors, hours lost, weekly")
def get_handoffs(hub: TheHub, since: str | None = "90d", until: str | None = None, format: str = "json") -> Response:
    if format not in ("json", "csv"):
        raise InvalidMessage("query", [FieldError("format", "json or csv")])
    doc = handoffs.report(hub.store, sector_of(hub), _when("since", since), _when("until", until))
    if format == "csv":
        return Response(handoffs.to_csv(doc), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": 'attachment; filename="handoffs.csv"'})
    return JSONResponse(doc)


@router.get("/v1/admin/reports/sla", summary="SLA breaches per late delivery and per destination, worst first")
def get_sla(hub: TheHub, since: str | None = None, destination: str | None = None) -> JSONResponse:
    return JSONResponse(breaches.report(hub, _when("since", since), destination or None))


@router.get("/v1/admin/reports/complaints", summary="The complaints behind a number (ids, comma separated)")
def get_listed(hub: TheHub, ids: str = "") -> JSONResponse:
    wanted = [i for i in ids.split(",") if i][:500]
    with hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(complaints.c.id, complaints.c.body, complaints.c.category, complaints.c.city,
                                      complaints.c.status, complaints.c.state, complaints.c.received_at)
                            .where(complaints.c.id.in_(wanted)).order_by(complaints.c.received_at)).mappings().all()
    return JSONResponse({"complaints": [
        {"id": r["id"], "title": (r["body"] or {}).get("title") or (r["body"] or {}).get("text", "")[:80],
         "category": r["category"], "city": r["city"], "status": r["status"], "state": r["state"],
         "received_at": iso(r["received_at"])} for r in rows]})


@router.get("/v1/admin/incidents", summary="Many complaints of one category in one kecamatan in a short window")
def get_incidents(hub: TheHub, since: str | None = None, category: str | None = None,
                  city: str | None = None) -> JSONResponse:
    start = _when("since", since)
    with hub.store.engine.connect() as conn:
        return JSONResponse({"incidents": linking.incident_list(conn, start, category or None, city or None)})


@router.post("/v1/admin/complaints/{complaint_id}/link", summary="Link a complaint to the original it repeats (audited)")
async def post_link(complaint_id: str, request: Request, hub: TheHub, body: dict[str, Any] = Body(...)) -> JSONResponse:
    who: Principal = request.state.principal
    original = body.get("original")
    if not isinstance(original, str) or not original:
        raise InvalidMessage("request", [FieldError("original", "the id of the complaint this one repeats is required")])

    def run() -> dict[str, Any]:
        _relayed(hub, links.link(hub, complaint_id, original, f"admin:{who.name}", body.get("reason")))
        return {"id": complaint_id, **links.view(hub, complaint_id)}
    return JSONResponse(await run_in_threadpool(run))


@router.post("/v1/admin/complaints/{complaint_id}/unlink",
             summary="Undo a wrong duplicate link; the complaint is then delivered (audited)")
async def post_unlink(complaint_id: str, request: Request, hub: TheHub, body: dict[str, Any] = Body(...)) -> JSONResponse:
    who: Principal = request.state.principal

    def run() -> dict[str, Any]:
        _relayed(hub, links.unlink(hub, complaint_id, f"admin:{who.name}", body.get("reason")))
        return {"id": complaint_id, **links.view(hub, complaint_id)}
    return JSONResponse(await run_in_threadpool(run))


@boundaries_router.get("/admin/boundaries/kecamatan.geojson", include_in_schema=False)
def kecamatan() -> Response:
    """The kecamatan boundaries (public data, CC BY-SA 4.0): the console map's base layer."""
    return Response(kecamatan_geojson(), media_type="application/geo+json",
                    headers={"cache-control": "public, max-age=86400", "x-attribution": ATTRIBUTION})
