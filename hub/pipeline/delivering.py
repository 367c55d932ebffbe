"""Working one delivery message (dramatiq's WorkerThread side): on a pool thread, never on the
consuming thread. Claims the delivery's lease first, so a second copy of the message (or a
second worker) never sends it again while it is being worked; then the endpoint's state, its
circuit breaker and rate limit, the adapter, and the outcome (`hub/pipeline/outcomes.py`).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import structlog

import adapters
from hub.core import schemas
from hub.core.destinations import dispatch_options
from hub.core.errors import InvalidMessage, LaporHubError
from hub.infra.bus import Bus
from hub.infra.metrics import CIRCUIT_OPEN, DELIVERIES
from hub.infra.store import new_id
from hub.pipeline import leases, notices, retry
from hub.pipeline.context import adapter_context
from hub.pipeline.guard import CircuitBreaker, RateLimit
from hub.pipeline.leases import Leases, LeaseLost
from hub.pipeline.outcomes import Outcomes, park
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.pipeline.delivering")


class Delivering:
    """Everything a dispatcher's pool threads share: adapters, breakers, rate limits, leases."""

    def __init__(self, hub: Hub, bus: Bus, worker_id: str | None = None) -> None:
        self.hub, self.bus = hub, bus  # bus: adapters, dead letters and follow-ups publish here
        self.leases = Leases(hub.store, worker_id or new_id("dispatcher"), hub.settings.lease_seconds)
        self.outcomes = Outcomes(hub, bus)
        self._adapters: dict[str, tuple[Any, Any]] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._limits: dict[str, RateLimit] = {}
        self._lock = threading.Lock()

    def adapter_for(self, destination_id: str) -> Any:
        """One adapter per destination, made again when the destination's settings change."""
        with self._lock:
            dest = self.hub.config.registry.get(destination_id)
            cached = self._adapters.get(destination_id)
            if cached is not None and cached[0] is dest:
                return cached[1]
            if cached is not None:
                cached[1].close()
            adapter = adapters.load(dest.adapter)(dest, adapter_context(self.hub, self.bus))
            self._adapters[destination_id] = (dest, adapter)
            return adapter

    def breaker(self, destination_id: str) -> CircuitBreaker:
        with self._lock:
            if destination_id not in self._breakers:
                opts = dispatch_options(self.hub.config.registry.get(destination_id))
                self._breakers[destination_id] = CircuitBreaker(opts.circuit_threshold, opts.circuit_cooldown)
            return self._breakers[destination_id]

    def circuit_state(self, destination_id: str) -> str:
        breaker = self._breakers.get(destination_id)
        return "open" if breaker is not None and breaker.is_open else "closed"

    def _limit(self, destination_id: str) -> None:
        rate = dispatch_options(self.hub.config.registry.get(destination_id)).rate_per_second
        if rate:
            with self._lock:
                limit = self._limits.setdefault(destination_id, RateLimit(rate))
            limit.acquire()

    def park(self, reason: str, raw: bytes | str, routing_key: str | None, **fields: Any) -> str:
        """Dead-letter a message this stage cannot use (see `outcomes.park`)."""
        return park(self.hub, self.bus, "dispatcher", reason, raw, routing_key=routing_key, **fields)

    def process(self, raw: bytes | str, routing_key: str | None = None) -> str:
        """Deliver one message; the outcome: delivered, scheduled, dead, duplicate or leased."""
        try:
            doc = json.loads(raw)
            if isinstance(doc, dict) and doc.get("type") == "laporhub.notice.v1":
                return notices.process(self, doc, raw, routing_key)
            schemas.validate("delivery", doc)
        except (ValueError, UnicodeDecodeError) as exc:
            return self.park(f"delivery message is not JSON: {exc}", raw, routing_key)
        except InvalidMessage as exc:
            return self.park(str(exc), raw, routing_key, errors=exc.errors)
        did, cid, dest_id = doc["delivery_id"], doc["complaint_id"], doc["destination"]
        structlog.contextvars.bind_contextvars(complaint_id=cid, delivery_id=did)
        current = self.hub.store.delivery(did)
        if current is None:
            return self.park(f"delivery {did} is not in the store", raw, routing_key,
                             complaint_id=cid, delivery_id=did, destination=dest_id)
        if current["status"] != "pending":
            log.info("delivery.duplicate_suppressed", status=current["status"])
            DELIVERIES.labels(dest_id, "duplicate").inc()
            return "duplicate"
        token = self.leases.take(did)
        if token is None:
            log.info("delivery.claimed_elsewhere", destination=dest_id)
            DELIVERIES.labels(dest_id, "claimed_elsewhere").inc()
            return "leased"
        try:
            return self._work(doc, raw, routing_key, token)
        except LeaseLost as exc:
            log.warning("delivery.lease_lost", destination=dest_id, detail=str(exc))
            return "lost"
        except BaseException:
            # Nothing was recorded: give the lease back, so the message (requeued) can be worked again.
            leases.release(self.hub.store, did, token)
            raise
        finally:
            self.leases.drop(token)

    def _work(self, doc: dict[str, Any], raw: bytes | str, routing_key: str | None, token: str) -> str:
        did, dest_id = doc["delivery_id"], doc["destination"]
        store = self.hub.store
        with store.engine.connect() as conn:
            current = store.delivery(did, conn)
            endpoint = retry.endpoint_state(conn, dest_id)
        attempts_before = current["attempts"] if current else 0
        if endpoint and endpoint["status"] == "disabled":
            return self.outcomes.dead(doc, raw, token, f"destination {dest_id} is disabled: {endpoint['reason']} "
                                      f"(`laporhub endpoints enable {dest_id}`, then replay)", [], routing_key)
        breaker = self.breaker(dest_id)
        if not breaker.allow():
            return self.outcomes.later(doc, raw, token, f"circuit open for {dest_id}", [], breaker.remaining(),
                                       count=False)
        try:
            self._limit(dest_id)
            receipt = self.adapter_for(dest_id).deliver(doc)
        except adapters.Failed as exc:
            if exc.retryable:
                self._failure(breaker, dest_id)
                return self.outcomes.later(doc, raw, token, exc.reason, exc.attempts, exc.retry_after)
            if exc.gone:
                with store.begin() as conn:
                    retry.disable(conn, dest_id, exc.reason)
                log.error("endpoint.disabled", destination=dest_id, reason=exc.reason)
            return self.outcomes.dead(doc, raw, token, exc.reason, exc.attempts, routing_key)
        except (LaporHubError, ValueError, KeyError) as exc:
            reason = str(exc) if not isinstance(exc, KeyError) else f"destination {dest_id} lacks option {exc}"
            return self.outcomes.dead(doc, raw, token, reason, [], routing_key)
        if breaker.is_open or breaker.failures:
            log.info("circuit.closed", destination=dest_id)
        breaker.success()
        CIRCUIT_OPEN.labels(dest_id).set(0)
        return self.outcomes.delivered(doc, token, receipt, attempts_before,
                                       bool(endpoint and endpoint["status"] == "failing"))

    def _failure(self, breaker: CircuitBreaker, dest_id: str) -> None:
        was_open = breaker.is_open
        breaker.failure()
        CIRCUIT_OPEN.labels(dest_id).set(1 if breaker.is_open else 0)
        if breaker.is_open and not was_open:
            log.warning("circuit.opened", destination=dest_id, cooldown=breaker.cooldown)

    def give_up(self, reason: str, raw: bytes | str, routing_key: str | None) -> str:
        """Dead-letter a message that failed every time it was tried, with the last error."""
        try:
            doc = json.loads(raw)
            schemas.validate("delivery", doc)
        except (ValueError, UnicodeDecodeError, InvalidMessage):
            return self.park(reason, raw, routing_key)
        try:
            return self.outcomes.dead(doc, raw, None, reason, [], routing_key)
        except LeaseLost:
            return "lost"  # another worker holds it now; it will settle it

    def close(self) -> None:
        for _, adapter in self._adapters.values():
            adapter.close()
