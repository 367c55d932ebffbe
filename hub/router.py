"""The router: classify each complaint, decide by the rules, and hand one delivery per destination
to the bus. The intake message is acked only after every delivery message is confirmed."""

from __future__ import annotations

import json
import threading
from typing import Any, Mapping

import structlog
from kombu.message import Message

from hub import deadletter, schemas
from hub.bus import Bus, ack_after
from hub.classify import classify
from hub.destinations import Destination
from hub.errors import InvalidMessage
from hub.intake import accept
from hub.metrics import DECISIONS
from hub.outbox import relay
from hub.rules import Target, decide
from hub.runtime import Hub
from hub.store import now

log = structlog.get_logger("hub.router")

MAX_MESSAGE = 256 * 1024  # as for POST /v1/complaints
KEEP_OVERSIZED = 64 * 1024


def delivery_message(complaint_id: str, complaint: Mapping[str, Any], classification: Mapping[str, Any],
                     target: Target, destination: Destination, ruleset_version: str, delivery_id: str,
                     public_url: str) -> dict[str, Any]:
    """What the destination receives. The reporter's contact goes only where it is allowed."""
    body = {k: v for k, v in complaint.items() if k not in ("reporter", "category")}
    reporter = complaint.get("reporter")
    if reporter and destination.share_reporter_contact and not reporter.get("anonymous"):
        body["reporter"] = reporter
    message = {
        "type": "laporhub.delivery.v1",
        "delivery_id": delivery_id,
        "complaint_id": complaint_id,
        "destination": destination.id,
        "complaint": body,
        "classification": dict(classification),
        "routing": {"rule_id": target.rule_id, "ruleset_version": ruleset_version, "reason": target.reason},
        "status_url": f"{public_url.rstrip('/')}/v1/complaints/{complaint_id}/status",
        "created_at": now().isoformat().replace("+00:00", "Z"),
    }
    return schemas.validate("delivery", message)


def route(hub: Hub, complaint_id: str) -> list[str]:
    """Classify and decide once; return the outbox message ids of this complaint's deliveries.

    Idempotent: a complaint already routed keeps its first decision, so a redelivered intake
    message only re-sends what may not have reached the broker.
    """
    cfg, store = hub.config, hub.store
    with store.begin() as conn:
        row = store.complaint_row(conn, complaint_id, lock=True)
        if row is None:
            raise LookupError(complaint_id)
        if row["status"] == "received":
            complaint = row["body"]
            c = classify(complaint, cfg.taxonomy, cfg.areas)
            decision = decide(complaint, c, cfg.ruleset, cfg.registry, cfg.taxonomy)
            cdict = schemas.validate("classification", c.as_dict())
            store.add_event(conn, complaint_id, "classified", cdict)
            store.add_event(conn, complaint_id, "routed", decision.as_dict())
            for target in decision.targets:
                destination = cfg.registry.get(target.destination)
                did = store.insert_delivery(conn, complaint_id, destination.id, destination.adapter,
                                            target.rule_id, target.reason)
                message = delivery_message(complaint_id, complaint, cdict, target, destination,
                                           decision.ruleset_version, did, hub.settings.public_url)
                store.enqueue(conn, f"delivery:{did}", "delivery", destination.id, message,
                              headers={"laporhub-complaint-id": complaint_id})
            store.set_routed(conn, complaint_id, cdict, decision.as_dict())
            for target in decision.targets:
                DECISIONS.labels(target.rule_id, target.destination).inc()
            log.info("complaint.routed", complaint_id=complaint_id, category=c.category,
                     destinations=decision.destinations, rules=list(decision.matched_rules))
    return [f"delivery:{d['id']}" for d in store.deliveries_of(complaint_id)]


class Router:
    """Consumes the intake queue. One per process; run as many processes as the load needs."""

    def __init__(self, hub: Hub, bus: Bus | None = None) -> None:
        from hub.live import Worker

        self.hub = hub
        self.bus = bus or hub.bus()
        self.worker = Worker(hub, "router")

    def process(self, raw: bytes | str, routing_key: str | None = None) -> str | None:
        """Route one intake message; park it as a dead letter if it can never be routed."""
        store = self.hub.store
        if len(raw) > MAX_MESSAGE:
            return self._dead(f"intake message is {len(raw)} bytes; the limit is {MAX_MESSAGE} "
                              f"(original kept truncated to {KEEP_OVERSIZED} bytes)",
                              raw[:KEEP_OVERSIZED], routing_key)
        try:
            doc = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._dead(f"intake message is not JSON: {exc}", raw, routing_key)
        try:
            schemas.validate("intake", doc)
        except InvalidMessage as exc:
            return self._dead(str(exc), raw, routing_key, errors=exc.errors)
        complaint_id = doc.get("complaint_id")
        if complaint_id is None:
            complaint_id = accept(store, doc["complaint"], actor="bus").complaint_id
        structlog.contextvars.bind_contextvars(complaint_id=complaint_id)
        try:
            message_ids = route(self.hub, complaint_id)
        except LookupError:
            return self._dead(f"complaint {complaint_id} is not in the store", raw, routing_key,
                              complaint_id=complaint_id)
        relay(store, self.bus, message_ids=message_ids)
        return complaint_id

    def _dead(self, reason: str, raw: bytes | str, routing_key: str | None, **extra: Any) -> None:
        doc = deadletter.document("router", reason, raw, routing_key=routing_key, **extra)
        with self.hub.store.begin() as conn:
            mid = deadletter.enqueue(self.hub.store, conn, doc)
        relay(self.hub.store, self.bus, message_ids=[mid])
        log.warning("intake.dead_lettered", reason=reason, complaint_id=extra.get("complaint_id"))
        return None

    def handle(self, message: Message) -> None:
        from hub.live import is_control

        if is_control(message, self.hub):
            self.worker.on_control(message.body)
            message.ack()
            self._declare_new_destinations()
            return
        self._tick()
        if message.delivery_info.get("exchange") == f"{self.hub.topology.prefix}.poison":
            ack_after(lambda raw, _: self.absorb_poison(raw, message), message, "router",
                      lambda reason, raw, key: self._dead(f"could not record a poison message: {reason}",
                                                          raw, key))
            return
        ack_after(self.process, message, "router",
                  lambda reason, raw, key: self._dead(reason, raw, key))

    def absorb_poison(self, raw: bytes | str, message: Message) -> None:
        """Record what the broker dead-lettered after its delivery limit; settle its delivery."""
        doc = deadletter.from_broker(raw, message.headers or {}, message.properties.get("message_id"),
                                     self.hub.topology.prefix)
        store = self.hub.store
        with store.begin() as conn:
            did = doc["delivery_id"]
            current = store.delivery(did, conn) if did else None
            if current and current["status"] == "pending":
                doc["complaint_id"] = current["complaint_id"]
                store.update_delivery(conn, did, status="dead", last_error=doc["reason"])
                store.add_event(conn, current["complaint_id"], "delivery_failed",
                                {"destination": current["destination"], "reason": doc["reason"]},
                                delivery_id_=did)
                store.settle_complaint(conn, current["complaint_id"])
            mid = deadletter.enqueue(store, conn, doc)
        relay(store, self.bus, message_ids=[mid])
        log.error("poison.dead_lettered", stage=doc["stage"], reason=doc["reason"])

    def _tick(self) -> None:
        if self.worker.tick():
            self._declare_new_destinations()

    def _declare_new_destinations(self) -> None:
        """A destination added live gets its delivery queue before anything is routed to it."""
        self.bus.declare(self.hub.delivery_queues())

    def run(self, stop: threading.Event) -> None:
        self.bus.declare(self.hub.delivery_queues())
        log.info("router.started", broker=self.bus.connection.as_uri(),
                 routing_version=self.hub.config.ruleset.version)
        self.worker.report()
        topology = self.hub.topology
        try:
            self.bus.consume([topology.intake, topology.poison, self.worker.control_queue], self.handle,
                             stop=stop, idle=self._tick)
        finally:
            self.worker.leave()
