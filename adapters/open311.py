"""The `open311` adapter: forwards a delivery to a destination's own GeoReport v2 endpoint, the way
FixMyStreet talks to council back-ends. Status changes come back by pull (hub/open311_sync.py,
run by the scheduler) or push (POST /open311/v2/servicerequestupdates).

Options: `endpoint` (the GeoReport v2 base URL), `api_key`, `jurisdiction_id`, `service_codes`
(category -> the destination's service code; unmapped categories use the category id), `timeout`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping

import requests

from adapters import Attempt, Context, Failed, Receipt
from hub.core import options, privacy, targets
from hub.core.destinations import Destination


class Open311Adapter:
    name: ClassVar[str] = "open311"
    options_schema: ClassVar[dict[str, Any]] = {
        "required": ["endpoint"],
        "properties": {
            "endpoint": {"type": "string", "pattern": "^https?://"},
            "api_key": {"type": "string"},
            # what the operator's system presents when it pushes updates back (issue 11)
            "callback_api_key": {"type": "string", "minLength": 1},
            "jurisdiction_id": {"type": "string"},
            "service_codes": {"type": "object", "additionalProperties": {"type": "string"}},
            "timeout": {"type": "number", "exclusiveMinimum": 0},
        },
    }

    def __init__(self, destination: Destination, context: Context) -> None:
        try:
            opts = options.check(self.name, self.options_schema, destination.options)
        except Exception as exc:
            raise ValueError(f"destination {destination.id!r}: {exc}") from None
        self.destination = destination
        self.endpoint: str = opts["endpoint"].rstrip("/")
        self.api_key: str | None = opts.get("api_key")
        self.jurisdiction: str | None = opts.get("jurisdiction_id")
        self.service_codes: Mapping[str, str] = opts.get("service_codes") or {}
        self.timeout = float(opts.get("timeout", context.settings.webhook_timeout))
        self.allowed = targets.networks(context.settings.allow_private_targets)
        self.session = context.http()

    def form(self, delivery: Mapping[str, Any]) -> dict[str, str]:
        """The GeoReport v2 POST /requests form for a delivery."""
        c = delivery["complaint"]
        loc = c.get("location") or {}
        category = delivery["classification"]["category"]
        form = {"service_code": self.service_codes.get(category, category),
                "description": ((c.get("title") + ": ") if c.get("title") else "") + c["text"],
                "attribute[laporhub_complaint_id]": delivery["complaint_id"]}
        if "latitude" in loc:
            form.update(lat=str(loc["latitude"]), long=str(loc["longitude"]))
        address = ", ".join(x for x in (loc.get("address"), loc.get("kelurahan"), loc.get("kecamatan"), loc.get("kota")) if x)
        if address:
            form["address_string"] = address
        if c.get("attachments"):
            form["media_url"] = c["attachments"][0]
        reporter = c.get("reporter") or {}
        if reporter.get("email"):
            form["email"] = reporter["email"]
        if reporter.get("phone"):
            form["phone"] = reporter["phone"]
        if self.api_key:
            form["api_key"] = self.api_key
        if self.jurisdiction:
            form["jurisdiction_id"] = self.jurisdiction
        return form

    def deliver(self, delivery: Mapping[str, Any]) -> Receipt:
        url = f"{self.endpoint}/requests.json"
        shown = privacy.redact_url(url)  # for messages: never a password (issue 11)
        try:
            targets.check(url, self.allowed)
        except targets.TargetRefused as exc:
            raise Failed(f"Open311 POST to {shown} refused: {exc}", [Attempt(1, "failed", str(exc))]) from None
        try:
            resp = self.session.post(url, data=self.form(delivery), timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise Failed(f"Open311 POST to {shown} failed: {exc.__class__.__name__}",
                         [Attempt(1, "retry", privacy.redact_urls_in(str(exc)))], retryable=True) from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise Failed(f"Open311 POST to {shown}: HTTP {resp.status_code}",
                         [Attempt(1, "retry", f"HTTP {resp.status_code}")], retryable=True)
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 300 or not isinstance(body, list) or not body:
            # The status code only: the endpoint's error body is not shown or stored (issue 11).
            raise Failed(f"Open311 endpoint {shown} refused the request (HTTP {resp.status_code})",
                         [Attempt(1, "failed", f"HTTP {resp.status_code}")])
        ref = body[0].get("service_request_id") or body[0].get("token")
        return Receipt([Attempt(1, "delivered", f"HTTP {resp.status_code}; service_request_id {ref}")],
                       f"service_request_id {ref}", remote_ref=str(ref) if ref is not None else None)

    def close(self) -> None:
        self.session.close()
