"""Access control for the HTTP API, as FastAPI dependencies any router or endpoint can apply.

    @app.get("/v1/admin/things", dependencies=[Depends(require("admin", "auditor"))])
    def things(principal: Principal = Depends(require("admin"))) -> ...

A key comes as `Authorization: Bearer <key>` or `X-API-Key: <key>`. No key or a bad one is 401;
a key whose role may not do this, or that asks for someone else's complaint, is 403. Both answer
with the hub's JSON error body saying why. /healthz, /readyz, /metrics and /docs apply nothing.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from fastapi import Request, Security
from fastapi.security import HTTPBearer

from hub.admin import keys
from hub.admin.keys import Principal

READ_ALL = ("admin", "auditor")
# Declared for the OpenAPI document (security schemes, per-operation security); `principal` reads
# the headers itself.
BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="An API key: `Authorization: Bearer <key>` (or the key alone in `X-API-Key`)")


class Refused(Exception):
    """401 or 403 with the reason; hub.http.errors turns it into the JSON error body."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def unauthenticated(message: str) -> Refused:
    return Refused(401, "unauthenticated", message)


def forbidden(message: str) -> Refused:
    return Refused(403, "forbidden", message)


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key")


def principal(request: Request) -> Principal:
    """The caller, or 401. Cached on the request so several dependencies check the key once."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    key = presented_key(request)
    if not key:
        raise unauthenticated("no API key: send `Authorization: Bearer <key>` (ask an administrator "
                              "for a key; `laporhub keys create` makes one)")
    found = keys.authenticate(request.app.state.hub.store, key)
    if found is None:
        raise unauthenticated("the API key is not valid: unknown, mistyped, rotated or revoked")
    limiter = getattr(request.app.state, "limiter", None)
    if limiter is not None:
        limiter.spend(found)
    request.state.principal = found
    return found


def require(*roles: str) -> Callable[[Request], Principal]:
    """A dependency that lets only these roles through (any role if none are named)."""

    def dependency(request: Request, _bearer: Any = Security(BEARER)) -> Principal:
        who = principal(request)
        if roles and who.role not in roles:
            raise forbidden(f"{_a(who.role)} key may not do this; it needs a key with role "
                            f"{' or '.join(roles)}")
        return who

    dependency.__name__ = f"require_{'_'.join(roles) or 'any'}"
    return dependency


def administer(request: Request, _bearer: Any = Security(BEARER)) -> Principal:
    """For administrative routers: admins change things; auditors may only read (GET)."""
    who = principal(request)
    allowed = READ_ALL if request.method in ("GET", "HEAD") else ("admin",)
    if who.role not in allowed:
        raise forbidden(f"{_a(who.role)} key may not do this; it needs a key with role "
                        f"{' or '.join(allowed)}")
    return who


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def may_submit(who: Principal, channel: str | None) -> None:
    if who.role != "channel":
        raise forbidden(f"only channel keys submit complaints; this is {_a(who.role)} key")
    if channel != who.scope:
        raise forbidden(f"this key submits for channel {who.scope!r}, not {channel!r}")


def may_read(who: Principal, view: Mapping[str, Any]) -> None:
    """Channels read what they submitted; destinations what was delivered to them; others all."""
    if who.role in READ_ALL:
        return
    if who.role == "channel" and view.get("channel") == who.scope:
        return
    if who.role == "destination" and any(d.get("destination") == who.scope for d in view.get("deliveries", [])):
        return
    raise forbidden(f"complaint {view.get('id')} is not yours: {_a(who.role)} key for {who.scope!r} "
                    "reads only its own complaints")
