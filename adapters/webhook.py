"""The `webhook` adapter: a signed HTTP POST to an operator, per the Standard Webhooks spec."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, ClassVar, Mapping

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from adapters import Attempt, Context, Failed, Receipt, message_id
from hub.core import options, privacy, retries, signing, targets
from hub.core.destinations import Destination


class _Retry(Exception):
    """A failure worth retrying: connection error, timeout, 5xx or 429."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class WebhookAdapter:
    """POSTs the delivery as JSON, signed with the destination's secret(s).

    Options: `url`, `secret` (`whsec_...`; a list during rotation), `timeout` (seconds),
    `max_attempts`, `backoff_initial`, `backoff_max`. The webhook-id is the delivery id and stays
    the same across retries, so the operator can deduplicate.
    """

    name: ClassVar[str] = "webhook"
    options_schema: ClassVar[dict[str, Any]] = {
        "required": ["url", "secret"],
        "properties": {
            "url": {"type": "string", "pattern": "^https?://"},
            "secret": {"oneOf": [{"type": "string", "minLength": 1},
                                 {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]},
            # verifies the operator's status callbacks; never the signing secret (issue 11)
            "callback_secret": {"oneOf": [{"type": "string", "minLength": 1},
                                          {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]},
            "timeout": {"type": "number", "exclusiveMinimum": 0},
            "max_attempts": {"type": "integer", "minimum": 1},
            "backoff_initial": {"type": "number", "minimum": 0},
            "backoff_max": {"type": "number", "minimum": 0},
        },
    }

    def __init__(self, destination: Destination, context: Context,
                 sleep: Callable[[float], None] | None = None) -> None:
        try:
            opts = options.check(self.name, self.options_schema, destination.options)
        except Exception as exc:
            raise ValueError(f"destination {destination.id!r}: {exc}") from None
        self.destination = destination
        self.url: str = opts["url"]
        self.shown_url = privacy.redact_url(self.url)  # for messages: never a password (issue 11)
        secret = opts["secret"]
        self.secrets: list[str] = [secret] if isinstance(secret, str) else list(secret)
        if not self.secrets or not all(self.secrets):
            raise ValueError(f"destination {destination.id!r}: webhook needs options.secret")
        settings = context.settings
        self.timeout = float(opts.get("timeout", settings.webhook_timeout))
        # How many attempts and how long between them: hub/core/retries.py decides.
        self.retries = retries.Quick.of(opts, settings.webhook_attempts, settings.webhook_backoff_max)
        self.allowed = targets.networks(settings.allow_private_targets)
        self.session = context.http()
        self._sleep = sleep

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.retries.wait(state.attempt_number, exc.retry_after if isinstance(exc, _Retry) else None)

    def _post(self, body: bytes, msg_id: str, attempts: list[Attempt]) -> requests.Response:
        number = len(attempts) + 1
        hdrs = {"content-type": "application/json", "user-agent": "LaporHub/0.1",
                **signing.headers(self.secrets, msg_id, body)}
        started = time.monotonic()
        resp: requests.Response | None = None

        def attempt(outcome: str, detail: str) -> None:
            # For the endpoint's attempt log: status and time taken, never the answer's body (issue 11).
            attempts.append(Attempt(number, outcome, detail, duration_ms=round((time.monotonic() - started) * 1000, 1),
                                    status_code=resp.status_code if resp is not None else None))

        try:
            # Redirects are not followed: a 307 would re-POST the body and signature elsewhere.
            resp = self.session.post(self.url, data=body, headers=hdrs, timeout=self.timeout,
                                     allow_redirects=False)
        except requests.Timeout:
            attempt("retry", f"timed out after {self.timeout}s")
            raise _Retry(f"timed out after {self.timeout}s") from None
        except requests.ConnectionError as exc:
            attempt("retry", f"connection failed: {exc.__class__.__name__}")
            raise _Retry(f"connection to {self.shown_url} failed") from None
        if 200 <= resp.status_code < 300:
            attempt("delivered", f"HTTP {resp.status_code}")
            return resp
        if resp.status_code == 429 or resp.status_code >= 500:
            after = retry_after_seconds(resp.headers.get("retry-after"))
            attempt("retry", f"HTTP {resp.status_code}")
            raise _Retry(f"HTTP {resp.status_code}", after)
        # The status code only: the target's error body is not shown or stored (issue 11).
        attempt("failed", f"HTTP {resp.status_code}")
        if 300 <= resp.status_code < 400:
            raise Failed(f"webhook to {self.shown_url} answered HTTP {resp.status_code} (a redirect); redirects "
                         "are not followed, so set the destination's final URL", attempts)
        if resp.status_code == 410:
            raise Failed(f"webhook endpoint {self.shown_url} is gone (HTTP 410); the destination is disabled",
                         attempts, gone=True)
        raise Failed(f"webhook to {self.shown_url} refused with HTTP {resp.status_code}; not retried",
                     attempts)

    def deliver(self, delivery: Mapping[str, Any]) -> Receipt:
        body = json.dumps(delivery, ensure_ascii=False, separators=(",", ":")).encode()
        attempts: list[Attempt] = []
        try:
            targets.check(self.url, self.allowed)
        except targets.TargetRefused as exc:
            attempts.append(Attempt(1, "failed", str(exc)))
            raise Failed(f"webhook to {self.shown_url} refused: {exc}", attempts) from None
        kwargs: dict[str, Any] = {"sleep": self._sleep} if self._sleep else {}
        retrying = Retrying(stop=stop_after_attempt(self.retries.attempts), wait=self._wait,
                            retry=retry_if_exception_type(_Retry), reraise=True, **kwargs)
        try:
            resp = retrying(self._post, body, message_id(delivery), attempts)
        except _Retry as exc:
            raise Failed(f"webhook to {self.shown_url} failed after {len(attempts)} attempts: {exc}",
                         attempts, retryable=True, retry_after=exc.retry_after) from None
        return Receipt(attempts, f"HTTP {resp.status_code}")

    def close(self) -> None:
        self.session.close()
