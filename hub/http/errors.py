"""The one place that turns the hub's error types into HTTP answers.

/v1 answers `{"error", "message", "errors": [{"field", "reason"}]}`; Open311 (/open311/...) answers
the GeoReport v2 shape `[{"code", "description"}]`, in XML when the path asks for `.xml`. A 500 has
the same shapes and says nothing about the cause (that goes to the log)."""

from __future__ import annotations

import traceback
from http import HTTPStatus
from typing import Any, Sequence
from xml.etree import ElementTree as ET

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from hub.admin.auth import Refused
from hub.aftercare.status import NotDelivered
from hub.core import privacy
from hub.core.lifecycle import IllegalTransition
from hub.core.errors import (ComplaintNotFound, Conflict, FieldError, InvalidMessage, NoSuchVersion, RateLimited,
                             RoutingError, TooLarge, UnknownDestination, UnreadableInput, UnsupportedMediaType)

log = structlog.get_logger("hub.http.errors")

FieldLike = FieldError | dict[str, str]


def _fields(errors: Sequence[FieldLike] | None) -> list[dict[str, str]]:
    found = [e.as_dict() if isinstance(e, FieldError) else dict(e) for e in errors or ()]
    return [{**e, "reason": privacy.mask_text(e["reason"])} if "reason" in e else e for e in found]


def json_error(status: int, error: str, message: str, errors: Sequence[FieldLike] | None = None,
               headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """The /v1 error answer; `extra` adds context fields (e.g. a conflict's allowed states)."""
    # Error bodies echo input back; identifiers in it are masked like everywhere else (issue 11).
    body = {"error": error, "message": privacy.mask_text(message), **extra, "errors": _fields(errors)}
    return JSONResponse(body, status_code=status, headers=headers)


def invalid(field: str, reason: str) -> JSONResponse:
    """422 invalid_request naming one field; the reason is the message too."""
    return json_error(422, "invalid_request", reason, [FieldError(field, reason)])


def open311_error(status: int, description: str, fmt: str = "json",
                  headers: dict[str, str] | None = None) -> Response:
    """GeoReport v2's error answer: a list of {code, description}."""
    description = privacy.mask_text(description)
    if fmt == "xml":
        root = ET.Element("errors")
        item = ET.SubElement(root, "error")
        ET.SubElement(item, "code").text = str(status)
        ET.SubElement(item, "description").text = description
        xml = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="utf-8")
        return Response(xml, status_code=status, media_type="text/xml; charset=utf-8", headers=headers)
    return JSONResponse([{"code": status, "description": description}], status_code=status, headers=headers)


def context(exc: BaseException) -> dict[str, Any]:
    """Fields a /v1 answer adds for this exception besides {error, message, errors}."""
    if isinstance(exc, IllegalTransition):
        return {"current": exc.current, "requested": exc.requested, "allowed": list(exc.allowed)}
    return {}


def _classify(exc: BaseException) -> tuple[int, str, str, list[FieldLike], dict[str, str]]:
    """(status, error code, message, field errors, headers) for an exception."""
    if isinstance(exc, TooLarge):
        return 413, "too_large", str(exc), [FieldError("body", f"at most {exc.limit} bytes")], {}
    if isinstance(exc, UnsupportedMediaType):
        return 415, "unsupported_media_type", str(exc), [FieldError("content-type", f"must be {exc.wanted}")], {}
    if isinstance(exc, UnreadableInput):
        return 400, "invalid_json", str(exc), list(exc.errors), {}
    if isinstance(exc, InvalidMessage):
        return 422, "invalid_request", str(exc), list(exc.errors), {}
    if isinstance(exc, RateLimited):
        return (429, "rate_limited", str(exc), [FieldError(exc.field, f"allowance {exc.limit} used up")],
                {"retry-after": str(exc.retry_after)})
    if isinstance(exc, Refused):
        headers = {"www-authenticate": 'Bearer realm="laporhub"'} if exc.status == 401 else {}
        return exc.status, exc.error, exc.message, [], headers
    if isinstance(exc, (ComplaintNotFound, UnknownDestination, NoSuchVersion)):
        return 404, "not_found", str(exc), [], {}
    if isinstance(exc, RoutingError):
        return 422, "invalid_routing", str(exc), [p.as_dict() for p in exc.problems], {}
    if isinstance(exc, Conflict):
        return 409, exc.code, str(exc), [], {}
    if isinstance(exc, NotDelivered):
        return 403, "not_delivered", str(exc), [], {}
    if isinstance(exc, IllegalTransition):
        return 409, "illegal_transition", str(exc), [], {}
    if isinstance(exc, RequestValidationError):
        found: list[FieldLike] = [FieldError(".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), e["msg"])
                                  for e in exc.errors()]
        return 422, "invalid_request", "the request is not valid", found, {}
    if isinstance(exc, StarletteHTTPException):
        name = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_") if exc.status_code in HTTPStatus._value2member_map_ else "http_error"
        return exc.status_code, name, str(exc.detail), [], dict(exc.headers or {})
    return 500, "internal_error", "the hub failed to answer this request; it has been logged", [], {}


def answer(path: str, exc: BaseException) -> Response:
    """The HTTP answer to `exc` for a request to `path`, in that API's error shape."""
    status, error, message, errors, headers = _classify(exc)
    if path.startswith("/open311/"):
        status = 400 if status == 422 else status  # GeoReport v2 answers bad input with 400
        fields = _fields(errors)
        detail = f"{message} ({fields[0]['field']}: {fields[0]['reason']})" if fields else message
        return open311_error(status, detail, "xml" if path.endswith(".xml") else "json", headers or None)
    return json_error(status, error, message, errors, headers or None, **context(exc))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (Starlette's 405 names only the first route's)."""
    found = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**request.scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in request.app.router.routes):
            found.append(method)
    return found


def install(app: FastAPI) -> None:
    """Every error type the hub raises, FastAPI's own, and anything unexpected (a 500)."""

    async def handle(request: Request, exc: Exception) -> Response:
        if isinstance(exc, StarletteHTTPException) and exc.status_code == 405:
            exc = StarletteHTTPException(405, exc.detail, {"allow": ", ".join(allowed_methods(request))})
        if _classify(exc)[0] == 500:
            # Where it failed, not what with: messages and locals may hold personal data or keys.
            log.error("http.unexpected_error", path=request.url.path, error=exc.__class__.__name__,
                      where="".join(traceback.format_tb(exc.__traceback__)[-6:]))
        return answer(request.url.path, exc)

    for kind in (StarletteHTTPException, RequestValidationError, Refused, InvalidMessage, UnreadableInput,
                 TooLarge, UnsupportedMediaType, RateLimited, ComplaintNotFound, UnknownDestination, RoutingError,
                 Conflict, IllegalTransition, NotDelivered, Exception):
        app.add_exception_handler(kind, handle)
