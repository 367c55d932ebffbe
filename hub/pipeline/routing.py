"""The router: classify each complaint, decide by the rules, and hand one delivery per destination
to the bus. The intake message is acked only after every delivery message is confirmed."""

from __future__ import annotations

import json
import threading
from typing import Any, Mapping

import sqlalchemy as sa
import structlog
from kombu.message import Message

from hub.core import privacy, schemas
from hub.core.classify import classify
from hub.core.destinations import Destination
from hub.core.errors import FieldError, InvalidMessage
from hub.core.rules import Decision, Target, decide
from hub.infra.bus import Bus, ack_after
from hub.infra.metrics import DECISIONS
from hub.infra.outbox import relay
from hub.infra.store import deliveries, delivery_row, event_row, events, now, outbox, outbox_row
from hub.pipeline import deadletter, linking
from hub.pipeline.outcomes import park, park_letter
from hub.pipeline.intake import accept
from hub.settings.runtime import Hub
from hub.settings.workers import Worker, is_control

log = structlog.get_logger("hub.pipeline.routing")

MAX_MESSAGE = 256 * 1024  # as for POST /v1/complaints
KEEP_OVERSIZED = 64 * 1024
BATCH = 64  # intake messages routed in one transaction and one pipelined publish
LINKING_COLUMNS = ("status", "received_at", "channel", "external_ref")  # what linking needs besides the body


def delivery_message(complaint_id: str, complaint: Mapping[str, Any], classification: Mapping[str, Any],
                     target: Target, destination: Destination, ruleset_version: str, delivery_id: str,
                     public_url: str) -> dict[str, Any]:
    """What the destination receives: free text with identifiers masked, and only the reporter
    fields the destination declares (hub.core.privacy)."""
    body = privacy.outbound_complaint(complaint, destination.reporter_fields)
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


def plan(hub: Hub, complaint_id: str, complaint: Mapping[str, Any], cdict: Mapping[str, Any],
         decision: Decision) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The delivery rows and their outbox messages for one decided complaint."""
    rows, messages = [], []
    for target in decision.targets:
        destination = hub.config.registry.get(target.destination)
        delivery = delivery_row(complaint_id, destination.id, destination.adapter, target.rule_id, target.reason)
        rows.append(delivery)
        message = delivery_message(complaint_id, complaint, cdict, target, destination,
                                   decision.ruleset_version, delivery["id"], hub.settings.public_url)
        messages.append(outbox_row(f"delivery:{delivery['id']}", "delivery", destination.id, message,
                                   {"laporhub-complaint-id": complaint_id}))
        DECISIONS.labels(target.rule_id, target.destination).inc()
    return rows, messages


class Unroutable(Exception):
    """An intake message no retry can route: too big, not JSON, or not a valid intake message."""

    def __init__(self, reason: str, original: bytes | str, errors: list[FieldError] | None = None) -> None:
        super().__init__(reason)
        self.reason, self.original, self.errors = reason, original, errors


def read_intake(raw: bytes | str) -> dict[str, Any]:
    """The intake message as a document, or Unroutable saying why it never will be one."""
    if len(raw) > MAX_MESSAGE:
        raise Unroutable(f"intake message is {len(raw)} bytes; the limit is {MAX_MESSAGE} "
                         f"(original kept truncated to {KEEP_OVERSIZED} bytes)", raw[:KEEP_OVERSIZED])
    try:
        doc = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unroutable(f"intake message is not JSON: {exc}", raw) from None
    try:
        return schemas.validate("intake", doc)
    except InvalidMessage as exc:
        raise Unroutable(str(exc), raw, exc.errors) from None


def route(hub: Hub, complaint_id: str, complaint: Mapping[str, Any] | None = None) -> list[str]:
    """Classify and decide once; return the outbox message ids of this complaint's deliveries.

    `complaint` is the copy the intake message carries (validated on entry); without it the
    stored one is read. Idempotent: a complaint already routed keeps its first decision, so a
    redelivered intake message only re-sends what may not have reached the broker.
    """
    return route_many(hub, {complaint_id: complaint})


def route_many(hub: Hub, complaints: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    """`route` for a batch (complaint id -> the intake message's copy, or None to read the
    store's), in one transaction with one statement per table: a router under load pays the
    store's per-statement cost once per batch, not once per complaint."""
    cfg, store = hub.config, hub.store
    ids = list(complaints)
    carried = all(complaints[cid] is not None for cid in ids)
    with store.begin() as conn:
        rows = store.complaint_rows(conn, ids, lock=True, columns=LINKING_COLUMNS if carried else None)
        missing = [cid for cid in ids if cid not in rows]
        if missing:
            raise LookupError(missing[0])
        new_events: list[dict[str, Any]] = []
        new_deliveries: list[dict[str, Any]] = []
        messages: list[dict[str, Any]] = []
        routed: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = []
        todo = [(cid, rows[cid], complaints[cid] or rows[cid]["body"])
                for cid in ids if rows[cid]["status"] == "received"]
        todo = [(cid, row, body, classify(body, cfg.taxonomy, cfg.areas)) for cid, row, body in todo]
        linker = linking.Linker(hub, conn, {c.category for *_, c in todo},
                                min((r["received_at"] for _, r, *_ in todo), default=now())) if todo else None
        links: list[tuple[Mapping[str, Any], Any]] = []
        for complaint_id, row, complaint, c in todo:
            decision = decide(complaint, c, cfg.ruleset, cfg.registry, cfg.taxonomy)
            cdict = schemas.validate("classification", c.as_dict())
            ddict = decision.as_dict()
            new_events += [event_row(complaint_id, "classified", cdict), event_row(complaint_id, "routed", ddict)]
            routed.append((complaint_id, cdict, ddict))
            report = linking.report_of(hub, complaint_id, complaint, cdict, row["received_at"])
            link = linker.find(report) if linker else None
            if linker:
                linker.routed(report, original=link is None)
            if link is not None:
                links.append(({**row, "id": complaint_id, "body": complaint}, link))
            else:
                rows_, messages_ = plan(hub, complaint_id, complaint, cdict, decision)
                new_deliveries += rows_
                messages += messages_
                log.info("complaint.routed", complaint_id=complaint_id, category=c.category,
                         destinations=decision.destinations, rules=list(decision.matched_rules))
            incident = linking.note_incident(hub, conn, report, c.area.city if c.area else None, linker.batch)
            if incident:
                new_events.append(event_row(complaint_id, "incident", {"incident_id": incident}))
        for table, values in ((events, new_events), (deliveries, new_deliveries), (outbox, messages)):
            if values:
                conn.execute(table.insert(), values)
        store.set_routed_many(conn, routed)
        linked_ids = [mid for row, link in links for mid in linking.record(hub, conn, row, link)]
        delivery_ids = conn.execute(sa.select(deliveries.c.id).where(deliveries.c.complaint_id.in_(ids))).scalars()
        return [f"delivery:{did}" for did in delivery_ids] + linked_ids


class Router:
    """Consumes the intake queue. One per process; run as many processes as the load needs."""

    def __init__(self, hub: Hub, bus: Bus | None = None) -> None:
        self.hub = hub
        self.bus = bus or hub.bus()
        self.worker = Worker(hub, "router")
        self._batch: list[Message] = []

    def process(self, raw: bytes | str, routing_key: str | None = None) -> str | None:
        """Route one intake message; park it as a dead letter if it can never be routed."""
        store = self.hub.store
        try:
            doc = read_intake(raw)
        except Unroutable as exc:
            return self._dead(exc.reason, exc.original, routing_key, errors=exc.errors)
        complaint_id = doc.get("complaint_id")
        if complaint_id is None:
            complaint_id = accept(store, doc["complaint"], actor="bus", validated=True).complaint_id
        structlog.contextvars.bind_contextvars(complaint_id=complaint_id)
        try:
            message_ids = route(self.hub, complaint_id, doc["complaint"])
        except LookupError:
            return self._dead(f"complaint {complaint_id} is not in the store", raw, routing_key,
                              complaint_id=complaint_id)
        relay(store, self.bus, message_ids=message_ids)
        return complaint_id

    def _dead(self, reason: str, raw: bytes | str, routing_key: str | None, **extra: Any) -> None:
        park(self.hub, self.bus, "router", reason, raw, routing_key=routing_key, **extra)
        return None

    def handle(self, message: Message) -> None:
        """Intake messages wait in a batch, routed together when the consumer has nothing more at
        hand (or the batch is full); control and poison messages are handled at once."""

        if is_control(message, self.hub):
            self.flush()
            self.worker.on_control(message.body)
            message.ack()
            self._declare_new_destinations()
        elif message.delivery_info.get("exchange") == f"{self.hub.topology.prefix}.poison":
            self.flush()
            ack_after(lambda raw, _: self.absorb_poison(raw, message), message, "router",
                      lambda reason, raw, key: self._dead(f"could not record a poison message: {reason}",
                                                          raw, key))
        else:
            self._batch.append(message)
            if len(self._batch) >= BATCH:
                self.flush()

    def flush(self) -> None:
        """Route the batch in one transaction and one pipelined publish, then ack it. Whatever
        the batch cannot take (poison, a complaint to accept first, a failure of the batch) goes
        the one-at-a-time way, which dead-letters, waits out outages and gives up as it should."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        sound = [(m, doc) for m in batch if (doc := self._screen(m.body)) is not None]
        alone = [m for m in batch if all(m is not s for s, _ in sound)]
        if len(sound) > 1:
            try:
                message_ids = route_many(self.hub, {d["complaint_id"]: d["complaint"] for _, d in sound})
                relay(self.hub.store, self.bus, limit=len(message_ids) or 1, message_ids=message_ids)
            except Exception as exc:  # noqa: BLE001 - each message is retried alone below
                log.warning("router.batch_failed", error=repr(exc)[:300], size=len(sound))
                alone += [m for m, _ in sound]
            else:
                for m, _ in sound:
                    m.ack()
        else:
            alone += [m for m, _ in sound]
        for m in alone:
            ack_after(self.process, m, "router", lambda reason, raw, key: self._dead(reason, raw, key))

    @staticmethod
    def _screen(raw: bytes | str) -> dict[str, Any] | None:
        """A sound intake message for a stored complaint, else None."""
        try:
            doc = read_intake(raw)
        except Unroutable:
            return None
        return doc if doc.get("complaint_id") else None

    def absorb_poison(self, raw: bytes | str, message: Message) -> None:
        """Record what the broker dead-lettered after its delivery limit; settle its delivery."""
        doc = deadletter.from_broker(raw, message.headers or {}, message.properties.get("message_id"),
                                     self.hub.topology.prefix)
        store = self.hub.store

        def record(conn: sa.Connection) -> None:
            did = doc["delivery_id"]
            current = store.delivery(did, conn) if did else None
            if current and current["status"] == "pending":
                doc["complaint_id"] = current["complaint_id"]
                store.update_delivery(conn, did, status="dead", last_error=doc["reason"])
                store.add_event(conn, current["complaint_id"], "delivery_failed",
                                {"destination": current["destination"], "reason": doc["reason"]},
                                delivery_id_=did)
                store.settle_complaint(conn, current["complaint_id"])

        park_letter(self.hub, self.bus, doc, also=record)
        log.error("poison.dead_lettered", stage=doc["stage"], reason=doc["reason"])

    def _idle(self) -> None:
        self.flush()
        self._tick()

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
                             stop=stop, idle=self._idle, prefetch=2 * BATCH, gather=BATCH)
        finally:
            self.worker.leave()
