"""The administrators' HTTP API under /v1/admin: routing versions, destinations, keys, the audit.

Reads are open to admin and auditor keys; every change needs an admin key and a reason, and is
recorded with its actor, time, before and after (GET /v1/admin/changes). A change that cannot be
made raises the hub's error type (InvalidMessage, RoutingError, Conflict, ...), which
hub/http/errors.py turns into the answer.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from hub.admin import corrections
from hub.admin import destinations as destination_admin
from hub.admin import keys
from hub.admin.auth import READ_ALL, Principal, require
from hub.admin.search import search
from hub.core import schemas
from hub.core import why
from hub.core.classify import classify
from hub.core.errors import ConfigProblem, FieldError, InvalidMessage, RoutingError
from hub.core.rules import decide
from hub.http import fields
from hub.settings import audit, versions, workers
from hub.settings.runtime import Hub

MAX_ID = 2**31 - 1  # a routing version id the database can hold
VersionId = Annotated[int, Path(ge=1, le=MAX_ID, description="A routing version id")]
ADMIN = require("admin")
READER = require(*READ_ALL)

router = APIRouter(prefix="/v1/admin", tags=["administration"])


def _hub(request: Request) -> Hub:
    return request.app.state.hub


TheHub = Annotated[Hub, Depends(_hub)]


def _document(body: dict[str, Any]) -> Any:
    """A rules document from {"document": {...}} or {"yaml": "..."}."""
    if "yaml" in body:
        doc, problems = versions.parse(str(body["yaml"]))
        if problems:
            raise RoutingError("the draft is not valid YAML", problems)
        return doc
    if "document" in body:
        return body["document"]
    raise InvalidMessage("request", [FieldError("document", "give the rules as `document` (JSON) or `yaml` (text)")])


class SharedBus:
    """One broker connection for the API's admin reads and test deliveries (kombu's is not
    thread-safe, so calls take turns)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.lock = threading.Lock()
        self._bus: Any = None

    def run(self, fn: Callable[[Any], Any]) -> Any:
        with self.lock:
            if self._bus is None:
                self._bus = self.hub.bus()
            try:
                return fn(self._bus)
            except Exception:
                self._bus.close()
                self._bus = None
                raise


_shared_lock = threading.Lock()


def _shared(request: Request) -> SharedBus:
    """The app's one SharedBus, made on first use."""
    state = request.app.state
    with _shared_lock:
        if getattr(state, "admin_bus", None) is None:
            state.admin_bus = SharedBus(state.hub)
        return state.admin_bus


Shared = Annotated[SharedBus, Depends(_shared)]


def _problems(problems: list[ConfigProblem]) -> list[dict[str, str]]:
    return [p.as_dict() for p in problems]


def _checked(hub: Hub, vid: int) -> dict[str, Any]:
    """A saved draft's id, label and whether it is valid, with its problems."""
    _, problems = versions.validate(versions.get(hub.store, vid)["document"], hub.config)
    return {"id": vid, "label": versions.label(vid), "valid": not versions.errors_of(problems),
            "errors": _problems(problems)}


# -- who am I --------------------------------------------------------------------------------------

@router.get("/whoami", summary="The calling key's role and scope")
def whoami(who: Principal = Depends(require())) -> dict[str, Any]:
    return {"key_id": who.key_id, "name": who.name, "role": who.role, "scope": who.scope}


# -- routing versions -------------------------------------------------------------------------------

@router.get("/routing", summary="Routing versions, the published one and the publication history")
def routing(hub: TheHub, _: Principal = Depends(READER)) -> dict[str, Any]:
    return {**versions.listing(hub.store), "running": hub.config.ruleset.version}


@router.get("/routing/versions/{vid}", summary="One routing version: document and YAML")
def routing_version(vid: VersionId, hub: TheHub, _: Principal = Depends(READER)) -> JSONResponse:
    return JSONResponse(versions.get(hub.store, vid))


@router.post("/routing/validate", summary="Check a rules document as `laporhub rules check` does")
def validate(hub: TheHub, body: dict[str, Any] = Body(...), _: Principal = Depends(READER)) -> JSONResponse:
    doc = _document(body)
    _, problems = versions.validate(doc, hub.config)
    return JSONResponse({"valid": not versions.errors_of(problems), "errors": _problems(problems),
                         "document": doc, "yaml": versions.dump(doc)})


@router.post("/routing/drafts", summary="Save a new draft (a full rules document)", status_code=201)
def new_draft(hub: TheHub, body: dict[str, Any] = Body(...), who: Principal = Depends(ADMIN)) -> JSONResponse:
    vid = versions.save_draft(hub.store, _document(body), actor=who.actor,
                              note=str(body.get("note") or ""), based_on=body.get("based_on"))
    return JSONResponse(_checked(hub, vid), status_code=201)


@router.put("/routing/drafts/{vid}", summary="Change a draft that was never published")
def edit_draft(vid: VersionId, hub: TheHub, body: dict[str, Any] = Body(...),
               who: Principal = Depends(ADMIN)) -> JSONResponse:
    versions.save_draft(hub.store, _document(body), actor=who.actor, note=str(body.get("note") or ""), draft_id=vid)
    return JSONResponse(_checked(hub, vid))


@router.post("/routing/versions/{vid}/preview", summary="Impact: which recent complaints would go elsewhere")
def preview(vid: VersionId, hub: TheHub, limit: Annotated[int, Query(ge=1, le=20000)] = 1000,
            _: Principal = Depends(READER)) -> JSONResponse:
    ruleset, problems = versions.validate(versions.get(hub.store, vid)["document"], hub.config)
    if ruleset is None or versions.errors_of(problems):
        raise RoutingError(f"{versions.label(vid)} has errors; fix them before a preview", versions.errors_of(problems))
    return JSONResponse(versions.preview(hub.store, hub.config, ruleset, limit=min(max(limit, 1), 20000)))


@router.post("/routing/versions/{vid}/publish", summary="Publish a version; every router switches within seconds")
def publish(vid: VersionId, hub: TheHub, body: dict[str, Any] = Body(...),
            who: Principal = Depends(ADMIN)) -> JSONResponse:
    out = versions.publish(hub.store, vid, hub.config, actor=who.actor, reason=fields.reason(body))
    hub.refresh(force=True)
    return JSONResponse(out)


@router.post("/routing/rollback", summary="Publish an earlier version again")
def rollback(hub: TheHub, body: dict[str, Any] = Body(...), who: Principal = Depends(ADMIN)) -> JSONResponse:
    vid = body.get("version")
    if not isinstance(vid, int) or isinstance(vid, bool) or not 1 <= vid <= MAX_ID:
        raise InvalidMessage("request", [FieldError("version", "the version id to go back to (an integer)")])
    out = versions.publish(hub.store, vid, hub.config, actor=who.actor, reason=fields.reason(body), rollback=True)
    hub.refresh(force=True)
    return JSONResponse(out)


@router.get("/routing/routers", summary="Every running router and the routing version it runs")
def routers(hub: TheHub, _: Principal = Depends(READER)) -> dict[str, Any]:
    return {"published": versions.label(versions.current_id(hub.store) or 0),
            "routers": workers.listing(hub.store, "router"), "dispatchers": workers.listing(hub.store, "dispatcher")}


@router.post("/explain", summary="Where a complaint would go and why (published rules or a version)")
def explain(hub: TheHub, body: dict[str, Any] = Body(...),
            version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
            _: Principal = Depends(READER)) -> JSONResponse:
    complaint = schemas.validate("complaint", body.get("complaint", body))
    cfg = hub.config
    ruleset = cfg.ruleset
    if version is not None:
        ruleset, problems = versions.validate(versions.get(hub.store, version)["document"], cfg)
        if ruleset is None:
            raise RoutingError(f"{versions.label(version)} is not valid", problems)
    c = classify(complaint, cfg.taxonomy, cfg.areas)
    d = decide(complaint, c, ruleset, cfg.registry, cfg.taxonomy)
    return JSONResponse({"classification": c.as_dict(), "decision": d.as_dict(), "why": why.lines(c),
                         "destinations": [{"id": t.destination, "name": cfg.registry.get(t.destination).name,
                                           "rule_id": t.rule_id, "reason": t.reason} for t in d.targets]})


# -- complaints -------------------------------------------------------------------------------------

@router.get("/complaints", summary="Search complaints by text, id, category, status, city, destination")
def complaints(hub: TheHub, q: str | None = None, category: str | None = None, status: str | None = None,
               city: str | None = None, destination: str | None = None, channel: str | None = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50, _: Principal = Depends(READER)) -> dict[str, Any]:
    return {"complaints": search(hub.store, q=q, category=category, status=status, city=city,
                                 destination=destination, channel=channel, limit=min(max(limit, 1), 500))}


@router.post("/complaints/{cid}/category", summary="Put a complaint in another category: a correction the model learns")
def recategorise(cid: str, hub: TheHub, body: dict[str, Any] = Body(...),
                 who: Principal = Depends(ADMIN)) -> JSONResponse:
    category = body.get("category")
    if not isinstance(category, str):
        raise InvalidMessage("request", [FieldError("category", "is required: a taxonomy category id")])
    return JSONResponse(corrections.recategorise(hub.store, cid, category, fields.reason(body), who.actor,
                                                 hub.config.taxonomy.category_ids))


# -- destinations -----------------------------------------------------------------------------------

@router.get("/destinations", summary="Every destination with its live settings and health")
def destinations(hub: TheHub, shared: Shared, health: bool = True, _: Principal = Depends(READER)) -> dict[str, Any]:
    def all_of(bus: Any) -> list[dict[str, Any]]:
        return [destination_admin.describe(hub, d.id, bus, with_health=health) for d in hub.config.registry]
    try:
        found = shared.run(all_of)
    except Exception:  # noqa: BLE001 - broker away: health without queue depths
        found = [destination_admin.describe(hub, d.id, None, with_health=health) for d in hub.config.registry]
    return {"destinations": found}


@router.get("/destinations/{dest_id}", summary="One destination with its health")
def destination(dest_id: str, hub: TheHub, shared: Shared, _: Principal = Depends(READER)) -> JSONResponse:
    return JSONResponse(shared.run(lambda bus: destination_admin.describe(hub, dest_id, bus, with_health=True)))


@router.put("/destinations/{dest_id}", summary="Add a destination or replace its definition")
def put_destination(dest_id: str, hub: TheHub, body: dict[str, Any] = Body(...),
                    who: Principal = Depends(ADMIN)) -> JSONResponse:
    doc = {**body.get("destination", {}), "id": dest_id}
    return JSONResponse(destination_admin.put(hub, doc, actor=who.actor, reason=fields.reason(body)))


@router.post("/destinations/{dest_id}/pause", summary="Hold deliveries to a destination (nothing is lost)")
def pause(dest_id: str, hub: TheHub, body: dict[str, Any] = Body(...), who: Principal = Depends(ADMIN)) -> JSONResponse:
    return JSONResponse(destination_admin.set_paused(hub, dest_id, True, actor=who.actor, reason=fields.reason(body)))


@router.post("/destinations/{dest_id}/resume", summary="Deliver again, starting with what waited")
def resume(dest_id: str, hub: TheHub, body: dict[str, Any] = Body(...),
           who: Principal = Depends(ADMIN)) -> JSONResponse:
    return JSONResponse(destination_admin.set_paused(hub, dest_id, False, actor=who.actor, reason=fields.reason(body)))


@router.post("/destinations/{dest_id}/rotate-secret",
             summary="New webhook secret; the old one also signs during the overlap")
def rotate(dest_id: str, hub: TheHub, body: dict[str, Any] = Body(...),
           who: Principal = Depends(ADMIN)) -> JSONResponse:
    return JSONResponse(destination_admin.rotate_secret(
        hub, dest_id, actor=who.actor, reason=fields.reason(body), overlap_hours=fields.hours(body, "overlap_hours", 24),
        secret=body.get("secret"), option=body.get("option", "secret")))


@router.post("/destinations/{dest_id}/test", summary="Send a marked test delivery now and show the outcome")
def test(dest_id: str, hub: TheHub, shared: Shared, who: Principal = Depends(ADMIN)) -> JSONResponse:
    return JSONResponse(shared.run(lambda bus: destination_admin.test_delivery(hub, dest_id, bus, actor=who.actor)))


# -- keys -------------------------------------------------------------------------------------------

@router.get("/keys", summary="API keys (never the keys themselves)")
def key_list(hub: TheHub, revoked: bool = False, _: Principal = Depends(ADMIN)) -> dict[str, Any]:
    return {"keys": keys.listing(hub.store, include_revoked=revoked), "roles": keys.ROLES}


@router.post("/keys", summary="Create a key; the answer is the only time it is shown", status_code=201)
def key_create(hub: TheHub, body: dict[str, Any] = Body(...), who: Principal = Depends(ADMIN)) -> JSONResponse:
    issued = keys.create(hub.store, str(body.get("name") or ""), str(body.get("role") or ""),
                         body.get("scope"), actor=who.actor, reason=fields.reason(body))
    return JSONResponse({**issued.__dict__, "key": issued.secret}, status_code=201)


@router.post("/keys/{key_id}/rotate", summary="Replace a key; the old one stops working at once")
def key_rotate(key_id: str, hub: TheHub, body: dict[str, Any] = Body(...),
               who: Principal = Depends(ADMIN)) -> JSONResponse:
    issued = keys.rotate(hub.store, key_id, actor=who.actor, reason=fields.reason(body))
    return JSONResponse({**issued.__dict__, "key": issued.secret, "replaces": key_id})


@router.post("/keys/{key_id}/revoke", summary="Revoke a key")
def key_revoke(key_id: str, hub: TheHub, body: dict[str, Any] = Body(...),
               who: Principal = Depends(ADMIN)) -> JSONResponse:
    return JSONResponse(keys.revoke(hub.store, key_id, actor=who.actor, reason=fields.reason(body)))


# -- the audit --------------------------------------------------------------------------------------

@router.get("/changes", summary="Every administrative change: actor, time, reason, before and after")
def changes(hub: TheHub, limit: Annotated[int, Query(ge=1, le=1000)] = 100, target: str | None = None,
            action: str | None = None, _: Principal = Depends(READER)) -> dict[str, Any]:
    return {"changes": audit.changes(hub.store, min(max(limit, 1), 1000), target, action)}
