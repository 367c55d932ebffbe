"""Input guard (ASGI middleware, outside routing and authentication): a request body is read only
up to its endpoint's size limit, refused with 413 as soon as it goes over (or at once, when its
Content-Length says it will), and must be in the content type the endpoint takes. JSON bodies must
parse and hold nothing that would hurt (hub.core.documents); form bodies must be UTF-8 without NUL.

What passes is handed to the application unchanged, so endpoints read it as before."""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable
from urllib.parse import unquote_to_bytes

from hub.core import documents
from hub.core.errors import FieldError, InvalidMessage, TooLarge, UnreadableInput, UnsupportedMediaType
from hub.http import errors

KiB = 1024
# (path pattern, limit in bytes), first match wins.
LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^/v1/complaints$"), 256 * KiB),
    (re.compile(r"^/v1/admin/(routing|explain)"), 1024 * KiB),
    (re.compile(r"^/v1/admin/destinations/"), 256 * KiB),
    (re.compile(r"^/v1/inbound/email$"), 10 * 1024 * KiB),  # a reply e-mail with its attachments
    (re.compile(r"^/act/"), 32 * KiB),  # an action page's form
)
DEFAULT_LIMIT = 64 * KiB
JSON = "application/json"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# Endpoints that take forms (Open311's, the e-mailed action pages'), and those that take a body of
# another type as it is (the mail gateway's raw RFC 822 message).
FORM_PATHS = re.compile(r"^/(open311|act)/")
RAW: tuple[tuple[re.Pattern[str], str], ...] = ((re.compile(r"^/v1/inbound/email$"), "message/rfc822"),)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Check = Callable[[str, str, Any], list[FieldError]]  # (method, path, document) -> field errors


def limit_for(path: str) -> int:
    return next((limit for pattern, limit in LIMITS if pattern.search(path)), DEFAULT_LIMIT)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = content_type.partition(";")
    params = {}
    for part in rest.split(";"):
        key, _, value = part.strip().partition("=")
        if key:
            params[key.lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


def _check_form(raw: bytes) -> None:
    """urlencoded fields: each name and value UTF-8 text without NUL, named when they are not."""
    found: list[FieldError] = []
    for pair in raw.split(b"&"):
        name_raw, _, value_raw = pair.partition(b"=")
        try:
            name = unquote_to_bytes(name_raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            found.append(FieldError("?", "a field name is not UTF-8 text"))
            continue
        try:
            value = unquote_to_bytes(value_raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            found.append(FieldError(name, "is not UTF-8 text"))
            continue
        found.extend(documents.form_problems({name: value}))
    if found:
        raise InvalidMessage("form", found)


def check_body(method: str, path: str, content_type: str, raw: bytes, check: Check | None = None) -> None:
    """Raise the hub error for a body this endpoint must not take; `check` holds the documented
    request schemas."""
    kind, params = _media_type(content_type)
    raw_type = next((media for pattern, media in RAW if pattern.search(path)), None)
    if raw_type is not None:
        if kind != raw_type:
            raise UnsupportedMediaType(content_type, raw_type)
        return
    if FORM_PATHS.search(path):
        if kind not in FORMS:
            raise UnsupportedMediaType(content_type, " or ".join(FORMS))
        if kind == FORMS[0]:
            _check_form(raw)
        return
    if kind != JSON or params.get("charset", "utf-8") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(content_type, f"{JSON} (UTF-8)")
    doc = documents.parse_json(raw)
    found = documents.problems(doc) or (check(method, path, doc) if check else [])
    if found:
        raise InvalidMessage("request", found)


class InputGuard:
    """See the module docstring."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], check: Check | None = None) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        try:
            raw = await self._read(scope, receive, limit_for(path))
            if raw:
                check_body(scope["method"], path, _header(scope, b"content-type"), raw, self.check)
        except (TooLarge, UnsupportedMediaType, UnreadableInput, InvalidMessage) as exc:
            await errors.answer(path, exc)(scope, receive, send)
            return
        await self.app(scope, _replay(raw, receive), send)

    @staticmethod
    async def _read(scope: Scope, receive: Receive, limit: int) -> bytes:
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(int(declared), limit, declared=True)
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise TooLarge(size, limit)
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(parts)


def _replay(raw: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay
