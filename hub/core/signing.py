"""Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256 over id.timestamp.body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from hub.core.errors import LaporHubError

PREFIX = "whsec_"


class SignatureError(LaporHubError):
    """A webhook's signature headers are missing, stale or do not verify."""


def secret_bytes(secret: str) -> bytes:
    """`whsec_<base64>` as the spec writes secrets; the bytes after the prefix are the key."""
    raw = secret[len(PREFIX):] if secret.startswith(PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError as exc:
        raise SignatureError(f"webhook secret is not base64 after {PREFIX!r}") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The `v1,<base64>` value for the webhook-signature header."""
    payload = body.encode() if isinstance(body, str) else body
    to_sign = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(secret_bytes(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets: list[str], msg_id: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """Headers for one delivery; several secrets (during rotation) give space-separated signatures."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(sign(s, msg_id, ts, body) for s in secrets),
    }


def verify(secret: str, headers_: dict[str, str], body: bytes | str, tolerance: int = 300,
           now: int | None = None) -> str:
    """The verified message's `webhook-id`; SignatureError unless one signature matches and the
    timestamp is fresh."""
    lower = {k.lower(): v for k, v in headers_.items()}
    try:
        msg_id, ts_text, sigs = lower["webhook-id"], lower["webhook-timestamp"], lower["webhook-signature"]
    except KeyError as exc:
        raise SignatureError(f"missing header {exc.args[0]}") from None
    try:
        ts = int(ts_text)
    except ValueError:
        raise SignatureError("webhook-timestamp is not an integer") from None
    current = int(time.time()) if now is None else now
    if abs(current - ts) > tolerance:
        raise SignatureError(f"webhook-timestamp is {current - ts}s off, tolerance {tolerance}s")
    expected = sign(secret, msg_id, ts, body).split(",", 1)[1]
    for candidate in sigs.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return msg_id
    raise SignatureError("no signature matches")
