"""The dispatcher: hands each delivery to its destination's adapter and records every attempt.

A delivery already done is acknowledged without a second send, so a redelivered message never
reaches a destination twice through the hub. A delivery that cannot be made ends on the
dead-letter queue with the reason; nothing is dropped.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import structlog
from kombu.message import Message

import adapters
from hub import deadletter, schemas
from hub.bus import Bus, ack_after
from hub.errors import InvalidMessage, LaporHubError, UnknownDestination
from hub.outbox import relay
from hub.runtime import Hub
from hub.store import now

log = structlog.get_logger("hub.dispatcher")


class Dispatcher:
    def __init__(self, hub: Hub, bus: Bus | None = None, destinations: list[str] | None = None) -> None:
        self.hub = hub
        self.bus = bus or hub.bus()
        self.only = destinations
        self._adapters: dict[str, tuple[Any, Any]] = {}
        from hub.live import Worker

        self.worker = Worker(hub, "dispatcher")
        self._round: threading.Event | None = None
        self._stop: threading.Event | None = None
        self._serving: list[str] = []

    def adapter_for(self, destination_id: str) -> Any:
        """One adapter per destination, made again when the destination's settings change."""
        dest = self.hub.config.registry.get(destination_id)
        cached = self._adapters.get(destination_id)
        if cached is not None and cached[0] is dest:
            return cached[1]
        if cached is not None:
            cached[1].close()
        cls = adapters.load(dest.adapter)
        adapter = cls(dest, adapters.Context(self.bus, self.hub.settings))
        self._adapters[destination_id] = (dest, adapter)
        return adapter

    def process(self, raw: bytes | str, routing_key: str | None = None) -> str:
        """Deliver one message; returns the outcome: delivered, duplicate, dead."""
        try:
            doc = json.loads(raw)
            if isinstance(doc, dict) and doc.get("type") == "laporhub.notice.v1":
                from hub import notices

                return notices.process(self, doc, raw, routing_key)
            schemas.validate("delivery", doc)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._dead_message(f"delivery message is not JSON: {exc}", raw, routing_key)
        except InvalidMessage as exc:
            return self._dead_message(str(exc), raw, routing_key, errors=exc.errors)
        did, cid, dest_id = doc["delivery_id"], doc["complaint_id"], doc["destination"]
        structlog.contextvars.bind_contextvars(complaint_id=cid, delivery_id=did)
        store = self.hub.store
        current = store.delivery(did)
        if current is None:
            return self._dead_message(f"delivery {did} is not in the store", raw, routing_key,
                                      complaint_id=cid, delivery_id=did, destination=dest_id)
        if current["status"] != "pending":
            log.info("delivery.duplicate_suppressed", status=current["status"])
            return "duplicate"
        try:
            receipt = self.adapter_for(dest_id).deliver(doc)
        except adapters.Failed as exc:
            return self._failed(doc, raw, routing_key, exc.reason, exc.attempts)
        except (LaporHubError, ValueError, KeyError) as exc:
            reason = str(exc) if not isinstance(exc, KeyError) else f"destination {dest_id} lacks option {exc}"
            return self._failed(doc, raw, routing_key, reason, [])
        with store.begin() as conn:
            for attempt in receipt.attempts:
                store.add_event(conn, cid, "delivery_attempt", {"destination": dest_id, **attempt.as_dict()},
                                delivery_id_=did)
            store.update_delivery(conn, did, status="delivered", attempts=current["attempts"] + len(receipt.attempts),
                                  delivered_at=now(), last_error=None,
                                  **({"remote_ref": receipt.remote_ref} if receipt.remote_ref else {}))
            store.add_event(conn, cid, "delivered", {"destination": dest_id, "detail": receipt.detail},
                            delivery_id_=did)
            store.settle_complaint(conn, cid)
        log.info("delivery.delivered", destination=dest_id, attempts=len(receipt.attempts))
        return "delivered"

    def _failed(self, doc: dict[str, Any], raw: bytes | str, routing_key: str | None, reason: str,
                attempts: list[adapters.Attempt]) -> str:
        did, cid, dest_id = doc["delivery_id"], doc["complaint_id"], doc["destination"]
        store = self.hub.store
        dead = deadletter.document("dispatcher", reason, raw, complaint_id=cid, delivery_id=did,
                                   destination=dest_id, routing_key=routing_key)
        with store.begin() as conn:
            current = store.delivery(did, conn)
            for attempt in attempts:
                store.add_event(conn, cid, "delivery_attempt", {"destination": dest_id, **attempt.as_dict()},
                                delivery_id_=did)
            store.update_delivery(conn, did, status="dead", last_error=reason,
                                  attempts=(current["attempts"] if current else 0) + len(attempts))
            store.add_event(conn, cid, "delivery_failed", {"destination": dest_id, "reason": reason},
                            delivery_id_=did)
            mid = deadletter.enqueue(store, conn, dead)
            store.settle_complaint(conn, cid)
        relay(store, self.bus, message_ids=[mid])
        log.warning("delivery.dead_lettered", destination=dest_id, reason=reason)
        return "dead"

    def _dead_message(self, reason: str, raw: bytes | str, routing_key: str | None, **extra: Any) -> str:
        doc = deadletter.document("dispatcher", reason, raw, routing_key=routing_key, **extra)
        with self.hub.store.begin() as conn:
            mid = deadletter.enqueue(self.hub.store, conn, doc)
        relay(self.hub.store, self.bus, message_ids=[mid])
        log.warning("delivery.message_dead_lettered", reason=reason)
        return "dead"

    def handle(self, message: Message) -> None:
        from hub.live import is_control

        if is_control(message, self.hub):
            self.worker.on_control(message.body)
            message.ack()
            self._new_round_if_queues_changed()
            return
        if (message.delivery_info or {}).get("routing_key") in self.hub.paused:
            # Prefetched before the pause: back to its queue, which this round stops consuming.
            message.requeue()
            self._new_round_if_queues_changed()
            return
        ack_after(self.process, message, "dispatcher")
        if self.worker.tick():
            self._new_round_if_queues_changed()
        if self._stop is not None and self._stop.is_set() and self._round is not None:
            self._round.set()

    def destination_ids(self) -> list[str]:
        """The destinations this dispatcher serves, less the paused ones (their deliveries wait)."""
        ids = self.only or [d.id for d in self.hub.config.registry]
        for i in ids:
            if i not in self.hub.config.registry:
                raise UnknownDestination(i)
        return [i for i in ids if i not in self.hub.paused]

    def queues(self) -> list:
        return [self.hub.topology.delivery(i) for i in self.destination_ids()]

    def _new_round_if_queues_changed(self) -> None:
        if self._round is not None and self.destination_ids() != self._serving:
            self._round.set()

    def _idle(self, stop: threading.Event) -> None:
        self.worker.tick()
        self._new_round_if_queues_changed()
        if stop.is_set() and self._round is not None:
            self._round.set()

    def _recover(self) -> None:
        """Messages prefetched for a round that ended unhandled go back to their queues now,
        not when the connection closes."""
        try:
            self.bus.connection.default_channel.basic_recover(requeue=True)
        except Exception as exc:  # noqa: BLE001 - a broken connection requeues them anyway
            log.warning("dispatcher.recover_failed", error=str(exc))

    def run(self, stop: threading.Event) -> None:
        """Consume in rounds: a pause, resume or new destination ends the round, and the next
        one consumes the queues of the destinations now served."""
        self._stop = stop
        self.worker.report()
        try:
            while not stop.is_set():
                self._serving = self.destination_ids()
                queues = [self.hub.topology.delivery(i) for i in self._serving]
                log.info("dispatcher.started", queues=len(queues), paused=sorted(self.hub.paused))
                self._round = threading.Event()
                self.bus.consume([*queues, self.worker.control_queue], self.handle, stop=self._round,
                                 prefetch=16, idle=lambda: self._idle(stop))
                self._recover()
        finally:
            self.worker.leave()
            for _, adapter in self._adapters.values():
                adapter.close()
