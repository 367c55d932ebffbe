"""One-click actions for destinations without an account: signed links and reply addresses. Pure.

An e-mailed delivery carries one link per action (acknowledge, progress, resolve, not ours). Each
link holds a signed, timestamped claim: which delivery (and which send of it), which action, and a
nonce. The signature (HMAC-SHA256, via itsdangerous) makes a changed link fail; the timestamp makes
an old one expire; the nonce, recorded when the link is used, makes it work once.

The reply address `<local>+<token>@<domain>` names a delivery the same way, signed, so a reply to
the e-mail finds its delivery without a lookup table and cannot be forged for another delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hub.core.errors import LaporHubError

ACTIONS: dict[str, str] = {
    "acknowledge": "acknowledged",
    "progress": "in_progress",
    "resolve": "resolved",
    "not_ours": "rejected",
}
"""Each action and the status update it becomes (the lifecycle's words)."""

DEFAULT_MAX_AGE = 30 * 24 * 3600.0
_SALT = "laporhub.action-link.v1"


class LinkRefused(LaporHubError):
    """A link that cannot act: `why` is one of tampered, expired, malformed, used; `message` says
    it in words a recipient understands."""

    def __init__(self, why: str, message: str) -> None:
        self.why = why
        super().__init__(message)


@dataclass(frozen=True)
class Claim:
    """What a valid link says: act on this delivery (this send of it) with this action."""

    delivery_id: str
    complaint_id: str
    destination: str
    action: str
    send: int
    nonce: str
    issued_at: float

    @property
    def status(self) -> str:
        return ACTIONS[self.action]


class _Clocked(URLSafeTimedSerializer):
    """itsdangerous reads the time itself; this one asks the injected clock (tests move it)."""

    def __init__(self, secret: str | bytes, clock: Callable[[], float]) -> None:
        super().__init__(secret, salt=_SALT)
        self._clock = clock

    def make_signer(self, salt: str | bytes | None = None):  # type: ignore[override]
        signer = super().make_signer(salt)
        signer.get_timestamp = lambda: int(self._clock())  # type: ignore[method-assign]
        return signer


class Links:
    """Signs and checks action links for one hub. `base_url` is the hub's public address."""

    def __init__(self, secret: str | bytes, base_url: str, max_age: float = DEFAULT_MAX_AGE,
                 clock: Callable[[], float] = time.time) -> None:
        if not secret:
            raise ValueError("action links need a secret")
        self.secret = secret if isinstance(secret, bytes) else secret.encode()
        self.base_url = base_url.rstrip("/")
        self.max_age = max_age
        self._clock = clock
        self._serializer = _Clocked(self.secret, clock)

    def token(self, delivery_id: str, complaint_id: str, destination: str, action: str, send: int = 1) -> str:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}")
        return self._serializer.dumps({"d": delivery_id, "c": complaint_id, "t": destination,
                                       "a": action, "s": send, "n": secrets.token_urlsafe(9)})

    def valid_until(self) -> float:
        """When a link signed now stops working (epoch seconds)."""
        return self._clock() + self.max_age

    def url(self, token: str) -> str:
        return f"{self.base_url}/act/{token}"

    def check(self, token: str) -> Claim:
        """The claim of a genuine, unexpired link, or LinkRefused (whether it was used is the
        store's to say)."""
        try:
            body, signed_at = self._serializer.loads(token, max_age=self.max_age, return_timestamp=True)
        except SignatureExpired as exc:
            age_days = (self._clock() - exc.date_signed.timestamp()) / 86400 if exc.date_signed else None
            days = f"{age_days:.0f}" if age_days is not None else "?"
            limit = f"{self.max_age / 86400:.0f}"
            raise LinkRefused("expired", f"Tautan ini sudah kedaluwarsa (dikirim {days} hari lalu; tautan berlaku "
                              f"{limit} hari). Pakai e-mail yang lebih baru atau portal. / This link has expired "
                              f"(it was sent {days} days ago; links work for {limit} days). Use a newer e-mail "
                              "about this complaint, or the destination portal.") from None
        except BadSignature:
            raise LinkRefused("tampered", "Tautan ini tidak sah: isinya berubah atau terpotong setelah dikirim "
                              "LaporHub. Buka tautan persis seperti di e-mail. / This link is not valid: it was "
                              "changed or cut short after LaporHub sent it. Open the link exactly as it is in the "
                              "e-mail.") from None
        try:
            claim = Claim(str(body["d"]), str(body["c"]), str(body["t"]), str(body["a"]), int(body["s"]),
                          str(body["n"]), signed_at.timestamp())
        except (KeyError, TypeError, ValueError):
            raise LinkRefused("malformed", "This link does not name a complaint and an action.") from None
        if claim.action not in ACTIONS:
            raise LinkRefused("malformed", f"This link names an unknown action {claim.action!r}.")
        return claim

    # -- reply addresses ----------------------------------------------------------------------

    def reply_token(self, delivery_id: str) -> str:
        """`<32 hex of the delivery's uuid>.<10-char tag>`: fits an address's 64-char local part."""
        hexid = uuid.UUID(delivery_id.removeprefix("d-")).hex
        return f"{hexid}.{self._tag(hexid)}"

    def reply_address(self, delivery_id: str, base_address: str) -> str:
        """`balas@kota.go.id` -> `balas+<token>@kota.go.id` (plus-addressing)."""
        local, _, domain = base_address.partition("@")
        if not domain:
            raise ValueError(f"reply address {base_address!r} has no domain")
        return f"{local}+{self.reply_token(delivery_id)}@{domain}"

    def delivery_of_reply(self, address: str) -> str | None:
        """The delivery id a reply address names, or None if it names none or its tag is wrong."""
        local = address.strip().strip("<>").partition("@")[0]
        if "+" not in local:
            return None
        token = local.rsplit("+", 1)[1]
        hexid, _, tag = token.lower().partition(".")
        if len(hexid) != 32 or not hmac.compare_digest(tag, self._tag(hexid)):
            return None
        try:
            return "d-" + str(uuid.UUID(hexid))
        except ValueError:
            return None

    def _tag(self, hexid: str) -> str:
        digest = hmac.new(self.secret, f"reply:{hexid}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode().lower()[:10]
