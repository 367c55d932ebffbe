"""Security headers on every answer (ASGI middleware): no content sniffing, a Content-Security-
Policy that lets pages load only the hub's own scripts and styles and never be framed, and frame
denial for the administrators' console in browsers that predate CSP's frame-ancestors."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
COMMON = [(b"x-content-type-options", b"nosniff"), (b"content-security-policy", CSP.encode()),
          (b"referrer-policy", b"no-referrer")]
FRAMES = [(b"x-frame-options", b"DENY")]
# The destination portal shows a complaint's place in OpenStreetMap's embedded map, loaded only
# when its user asks (hub/http/console/portal.js): that one frame source, on that page only.
PORTAL_CSP = CSP.replace("object-src", "frame-src https://www.openstreetmap.org; object-src")
PORTAL = [(b"x-content-type-options", b"nosniff"), (b"content-security-policy", PORTAL_CSP.encode()),
          (b"referrer-policy", b"no-referrer")] + FRAMES


class SecurityHeaders:
    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = (PORTAL if path == "/portal" else
                 COMMON + (FRAMES if path == "/admin" or path.startswith("/admin/") else []))

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": list(message.get("headers", []))
                           + [(k, v) for k, v in extra if k not in present]}
            await send(message)

        await self.app(scope, receive, with_headers)
