"""Open311 GeoReport v2 server under /open311/v2/: any Open311 client can file a complaint and
follow it. Services come from the taxonomy; POSTed requests go through the normal intake.

Formats: `.json` or `.xml` suffix (XML when none, as the spec's default). Ids are strings.
Errors are the spec's `[{"code", "description"}]` with HTTP 400, 403 or 404.
"""

from __future__ import annotations

import inspect
import math
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.admin import keys
from hub.admin.auth import presented_key
from hub.admin.keys import Principal
from hub.aftercare import open311_sync, status
from hub.core import lifecycle
from hub.core.errors import InvalidMessage, RateLimited
from hub.http import errors, open311_view
from hub.infra.store import aware, complaints
from hub.pipeline.intake import accept
from hub.settings.runtime import Hub

router = APIRouter(prefix="/open311/v2")
FORMATS = ("json", "xml")
MAX_LIMIT = 1000
PUBLIC_LIMIT = 200  # without a key: public data, fewer per call
DEFAULT_DAYS = 90


class Open311Error(Exception):
    def __init__(self, status: int, code: int, description: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.code, self.description, self.headers = status, code, description, headers


def iso(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value else None


def _xml(root: str, item: str | None, data: Any) -> bytes:
    """GeoReport XML: a root element holding one element per item (or one object)."""
    def fill(el: ET.Element, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(v, list):
                    child = ET.SubElement(el, k)
                    singular = {"attributes": "attribute", "values": "value", "endpoints": "endpoint",
                                "formats": "format", "keywords": "keyword"}.get(k, "item")
                    for x in v:
                        fill(ET.SubElement(child, singular), x)
                else:
                    fill(ET.SubElement(el, k), v)
        elif value is not None:
            el.text = str(value).lower() if isinstance(value, bool) else str(value)

    top = ET.Element(root)
    if item is None:
        fill(top, data)
    else:
        for x in data:
            fill(ET.SubElement(top, item), x)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def _respond(fmt: str, data: Any, root: str, item: str | None, status: int = 200) -> Response:
    if fmt == "json":
        return JSONResponse(data, status_code=status)
    return Response(_xml(root, item, data), status_code=status, media_type="text/xml; charset=utf-8")


def _fmt(fmt: str | None) -> str:
    fmt = (fmt or "xml").lower()
    if fmt not in FORMATS:
        raise Open311Error(404, 404, f"format {fmt!r} is not supported; use .json or .xml")
    return fmt


# -- services ------------------------------------------------------------------------------------

def _services(hub: Hub) -> list[dict[str, Any]]:
    out = []
    for cat in hub.config.documents["taxonomy"]["categories"]:
        name = cat.get("name") or {}
        out.append({"service_code": cat["id"], "service_name": name.get("en") or name.get("id") or cat["id"],
                    "description": cat.get("description") or name.get("id") or cat["id"], "metadata": True,
                    "type": "realtime", "keywords": "",
                    "group": name.get("id") or ""})
    return out


def _definition(hub: Hub, code: str) -> dict[str, Any]:
    cities = [{"key": c.id, "name": c.name} for c in hub.config.areas.cities]
    return {"service_code": code, "attributes": [
        {"variable": True, "code": "kota", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "Kota administrasi", "order": 1, "description": "City", "values": cities},
        {"variable": True, "code": "kelurahan", "datatype": "string", "required": False,
         "datatype_description": "Nama kelurahan", "order": 2, "description": "Kelurahan (sub-district)"},
    ]}


# -- requests ------------------------------------------------------------------------------------

def _complaint_from_form(hub: Hub, form: Mapping[str, str]) -> dict[str, Any]:
    code = form.get("service_code")
    if not code:
        raise Open311Error(400, 400, "service_code is required")
    if code not in hub.config.taxonomy.category_ids:
        raise Open311Error(404, 404, f"service_code {code!r} not found")
    location: dict[str, Any] = {}
    if form.get("lat") and form.get("long"):
        try:
            lat, long = float(form["lat"]), float(form["long"])
        except ValueError:
            raise Open311Error(400, 400, "lat and long must be numbers") from None
        if not (math.isfinite(lat) and math.isfinite(long) and -90 <= lat <= 90 and -180 <= long <= 180):
            raise Open311Error(400, 400, "lat and long must be finite WGS-84 degrees (lat -90..90, long -180..180)")
        location.update(latitude=lat, longitude=long)
    if form.get("address_string"):
        location["address"] = form["address_string"]
    if form.get("address_id"):
        location["address"] = location.get("address") or f"address id {form['address_id']}"
    if not location:
        raise Open311Error(400, 400, "a location is required: lat and long, address_string or address_id")
    for key in ("kota", "kelurahan"):
        if form.get(f"attribute[{key}]"):
            value = form[f"attribute[{key}]"]
            if key == "kota":
                city = next((c for c in hub.config.areas.cities if c.id == value), None)
                value = city.name if city else value
            location[key] = value
    description = (form.get("description") or "").strip()
    if len(description) < 3:
        raise Open311Error(400, 400, "description is required (at least 3 characters)")
    complaint: dict[str, Any] = {"channel": "open311", "text": description, "category": code, "location": location}
    reporter = {k: v for k, v in {
        "name": " ".join(x for x in (form.get("first_name"), form.get("last_name")) if x) or None,
        "email": form.get("email") or None, "phone": form.get("phone") or None}.items() if v}
    if reporter:
        complaint["reporter"] = reporter
    if form.get("media_url"):
        complaint["attachments"] = [form["media_url"]]
    return complaint


def _reader(request: Request) -> Principal | None:
    """The key a read was made with (`api_key` parameter or bearer header), or None: public."""
    key = request.query_params.get("api_key") or presented_key(request)
    if not key:
        return None
    who = keys.authenticate(request.app.state.hub.store, key)
    if who is None:
        raise Open311Error(403, 403, "api_key is not valid: unknown, mistyped, rotated or revoked")
    return who


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, 400, f"{name} must be a W3C date-time, e.g. 2026-11-29T00:00:00Z") from None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


# -- endpoints -----------------------------------------------------------------------------------

def _route(path: str, method: str = "GET"):
    """Register a handler at `path.{fmt}` and at `path` (XML, the spec's default)."""
    def wrap(fn):
        async def handler(request: Request, fmt: str | None = None, **kw: Any) -> Response:
            try:
                return await fn(request, _fmt(fmt), **kw)
            except Open311Error as exc:
                shape = fmt or "xml"
                return errors.open311_error(exc.status, exc.description, shape if shape in FORMATS else "json",
                                            exc.headers)
        for p, with_fmt in ((path + ".{fmt}", True), (path, False)):
            router.add_api_route(p, _bind(handler, with_fmt, p), methods=[method], include_in_schema=with_fmt,
                                 summary=f"Open311 GeoReport v2: {method} {path}")
        return fn
    return wrap


def _bind(handler, with_fmt: bool, path: str):
    """An endpoint whose signature names the path's parameters (and `fmt`), so FastAPI fills them
    in and documents them; it passes them on to `handler`."""
    names = [name for name in ("service_code", "request_id", "token") if f"{{{name}}}" in path]
    names += ["fmt"] if with_fmt else []

    async def endpoint(request: Request, **params: str) -> Response:
        fmt = params.pop("fmt", None)
        return await handler(request, fmt, **params)

    P = inspect.Parameter
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [P("request", P.POSITIONAL_OR_KEYWORD, annotation=Request)]
        + [P(name, P.KEYWORD_ONLY, annotation=str) for name in names], return_annotation=Response)
    return endpoint


@_route("/discovery")
async def discovery(request: Request, fmt: str) -> Response:
    hub: Hub = request.app.state.hub
    base = f"{hub.settings.public_url.rstrip('/')}/open311/v2"  # clients append "/services.xml"
    doc = {"changeset": "2026-11-29T00:00:00Z", "contact": "LaporHub operators (Diskominfotik DKI Jakarta)",
           "key_service": "Reading needs no key and gives public data only (text masked, coordinates rounded, no confidential complaints); an api_key reads in full what that key may read. Filing needs a channel api_key from the LaporHub administrators.",
           "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                          "changeset": "2026-11-29T00:00:00Z", "type": "production", "formats": [
                              "application/json", "text/xml"]}]}
    return _respond(fmt, doc, "discovery", None)


@_route("/services")
async def services(request: Request, fmt: str) -> Response:
    return _respond(fmt, _services(request.app.state.hub), "services", "service")


@_route("/services/{service_code}")
async def service_definition(request: Request, fmt: str, service_code: str) -> Response:
    hub: Hub = request.app.state.hub
    if service_code not in hub.config.taxonomy.category_ids:
        raise Open311Error(404, 404, f"service_code {service_code!r} not found")
    return _respond(fmt, _definition(hub, service_code), "service_definition", None)


@_route("/requests", method="POST")
async def post_request(request: Request, fmt: str) -> Response:
    hub: Hub = request.app.state.hub
    form = {k: str(v) for k, v in (await request.form()).items()}
    return await run_in_threadpool(_file_request, request, hub, fmt, form)


def _file_request(request: Request, hub: Hub, fmt: str, form: dict[str, str]) -> Response:
    """The work of `post_request`, off the event loop: it stores the complaint."""
    who = keys.authenticate(hub.store, form.get("api_key") or request.query_params.get("api_key", ""))
    if who is None or who.role != "channel":
        raise Open311Error(403, 403, "api_key is missing or not a valid channel key "
                                     "(ask an administrator: laporhub keys create --role channel)")
    try:
        request.app.state.limiter.spend(who)
    except RateLimited as exc:
        raise Open311Error(429, 429, str(exc), {"retry-after": str(exc.retry_after)}) from None
    complaint = {**_complaint_from_form(hub, form), "channel": who.scope}
    try:
        result = accept(hub.store, complaint, actor="open311")
    except InvalidMessage as exc:
        e = exc.errors[0]
        raise Open311Error(400, 400, f"{e.field}: {e.reason}") from None
    relayer = getattr(request.app.state, "relayer", None)
    if relayer:
        relayer.wake.set()
    return _respond(fmt, [{"service_request_id": result.complaint_id, "service_notice":
                           "Laporan diterima dan diteruskan ke instansi yang berwenang.", "account_id": None}],
                    "service_requests", "request")


@_route("/requests")
async def get_requests(request: Request, fmt: str) -> Response:
    hub: Hub = request.app.state.hub
    q = request.query_params
    who = _reader(request)
    where: list[Any] = []
    if who is None:
        # Without a key, reads cover the last 90 days whatever start_date asks: the public cannot
        # page through the whole store.
        where.append(complaints.c.received_at >= datetime.now(timezone.utc) - timedelta(days=DEFAULT_DAYS))
    if q.get("service_request_id"):
        ids = [x.strip() for x in q["service_request_id"].split(",") if x.strip()]
        where.append(complaints.c.id.in_(ids))
    else:
        start, end = _date(q.get("start_date"), "start_date"), _date(q.get("end_date"), "end_date")
        if start is None and end is None:
            start = datetime.now(timezone.utc) - timedelta(days=DEFAULT_DAYS)
        if start:
            where.append(complaints.c.received_at >= start)
        if end:
            where.append(complaints.c.received_at <= end)
        if q.get("service_code"):
            where.append(complaints.c.category.in_([x.strip() for x in q["service_code"].split(",")]))
        if q.get("status"):
            wanted = {x.strip().lower() for x in q["status"].split(",")}
            if not wanted <= {"open", "closed"}:
                raise Open311Error(400, 400, "status must be open, closed or both (comma-separated)")
            closed = ("resolved", "closed")
            if wanted == {"open"}:
                where.append(complaints.c.state.not_in(closed))
            elif wanted == {"closed"}:
                where.append(complaints.c.state.in_(closed))
    return _respond(fmt, open311_view.load(hub, where, MAX_LIMIT if who else PUBLIC_LIMIT, who), "service_requests", "request")


@_route("/requests/{request_id}")
async def get_request(request: Request, fmt: str, request_id: str) -> Response:
    found = open311_view.load(request.app.state.hub, [complaints.c.id == request_id], 1, _reader(request))
    if not found:
        raise Open311Error(404, 404, f"service request {request_id!r} not found")
    return _respond(fmt, found, "service_requests", "request")


@_route("/tokens/{token}")
async def get_token(request: Request, fmt: str, token: str) -> Response:
    """Requests get their id at once, so a token is the id itself."""
    found = open311_view.load(request.app.state.hub, [complaints.c.id == token], 1, _reader(request))
    if not found:
        raise Open311Error(404, 404, f"token {token!r} not found")
    return _respond(fmt, [{"service_request_id": token, "token": token}], "service_requests", "request")


def ids(items: Iterable[Mapping[str, Any]]) -> list[str]:
    return [i["service_request_id"] for i in items]


@_route("/servicerequestupdates", method="POST")
async def post_update(request: Request, fmt: str) -> Response:
    """Push of status changes from a destination's own Open311 system (FixMyStreet's update
    extension): api_key identifies the destination, service_request_id is that system's id."""

    hub: Hub = request.app.state.hub
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        applied = open311_sync.push(hub, form)
    except PermissionError as exc:
        raise Open311Error(403, 403, str(exc)) from None
    except LookupError as exc:
        raise Open311Error(404, 404, str(exc)) from None
    except (InvalidMessage, status.NotDelivered, lifecycle.IllegalTransition) as exc:
        raise Open311Error(400, 400, str(exc)) from None
    relayer = getattr(request.app.state, "relayer", None)
    if relayer:
        relayer.wake.set()
    return _respond(fmt, [{"update_id": form.get("update_id") or "", "applied": bool(applied and not applied.duplicate)}],
                    "service_request_updates", "request_update")
