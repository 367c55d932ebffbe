"""The dispatcher: hands each delivery to its destination's adapter and records every attempt.

A delivery already done is acknowledged without a second send, so a redelivered message never
reaches a destination twice through the hub. A delivery that cannot be made ends on the
dead-letter queue with the reason; nothing is dropped.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from queue import SimpleQueue
from typing import Any

import structlog
from kombu.message import Message

import adapters
from hub.core import schemas
from hub.core.errors import InvalidMessage, LaporHubError, UnknownDestination
from hub.infra.bus import Bus, outcome, settle
from hub.infra.metrics import CIRCUIT_OPEN, DELIVERIES, DELIVERY_SECONDS, RETRIES
from hub.infra.outbox import relay
from hub.infra.store import event_row, events, now
from hub.pipeline import attempts as attempt_log
from hub.pipeline import deadletter, notices, retry
from hub.pipeline.context import adapter_context
from hub.pipeline.guard import CircuitBreaker, RateLimit
from hub.settings.runtime import Hub
from hub.settings.workers import Worker, is_control

log = structlog.get_logger("hub.pipeline.dispatcher")


def observe(destination: str, outcome: str, attempts: list[adapters.Attempt], created_at: str | None) -> None:
    DELIVERIES.labels(destination, outcome).inc()
    RETRIES.labels(destination).inc(sum(1 for a in attempts if a.outcome == "retry"))
    if created_at:
        created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        DELIVERY_SECONDS.labels(destination).observe(max(0.0, (now() - created).total_seconds()))


class Dispatcher:
    """Consumes every destination's delivery queue, each on a channel of its own, and delivers
    with a small pool of threads per destination: one slow or dead operator holds only its own
    messages and threads, never the others'. Acks happen on the consuming thread."""

    def __init__(self, hub: Hub, bus: Bus | None = None, destinations: list[str] | None = None,
                 concurrency: int = 4) -> None:
        self.hub = hub
        self.bus = bus or hub.bus()
        self.out = hub.bus()  # adapters and dead letters publish here, from the pool threads
        self.only = destinations
        self.concurrency = concurrency
        self._adapters: dict[str, tuple[Any, Any]] = {}
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._finished: SimpleQueue[tuple[Message, Future[str]]] = SimpleQueue()
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}
        self._limits: dict[str, RateLimit] = {}
        self._in_flight: set[Future[str]] = set()

        self.worker = Worker(hub, "dispatcher")
        self._round: threading.Event | None = None
        self._serving: list[str] = []

    def adapter_for(self, destination_id: str) -> Any:
        """One adapter per destination, made again when the destination's settings change."""
        with self._lock:
            dest = self.hub.config.registry.get(destination_id)
            cached = self._adapters.get(destination_id)
            if cached is not None and cached[0] is dest:
                return cached[1]
            if cached is not None:
                cached[1].close()
            adapter = adapters.load(dest.adapter)(dest, adapter_context(self.hub, self.out))
            self._adapters[destination_id] = (dest, adapter)
            return adapter

    def _pool(self, destination_id: str) -> ThreadPoolExecutor:
        """A channel (the citizen's app) hears a complaint's events in order: one at a time."""
        if destination_id not in self._pools:
            registry = self.hub.config.registry
            dest = registry.get(destination_id) if destination_id in registry else None
            default = 1 if dest is None or dest.kind == "channel" else self.concurrency
            size = int(dest.options.get("concurrency", default)) if dest else 1
            self._pools[destination_id] = ThreadPoolExecutor(size, thread_name_prefix=f"deliver-{destination_id}")
        return self._pools[destination_id]

    def process(self, raw: bytes | str, routing_key: str | None = None) -> str:
        """Deliver one message; returns the outcome: delivered, duplicate, dead."""
        try:
            doc = json.loads(raw)
            if isinstance(doc, dict) and doc.get("type") == "laporhub.notice.v1":

                return notices.process(self, doc, raw, routing_key)
            schemas.validate("delivery", doc)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._dead_message(f"delivery message is not JSON: {exc}", raw, routing_key)
        except InvalidMessage as exc:
            return self._dead_message(str(exc), raw, routing_key, errors=exc.errors)
        did, cid, dest_id = doc["delivery_id"], doc["complaint_id"], doc["destination"]
        structlog.contextvars.bind_contextvars(complaint_id=cid, delivery_id=did)
        store = self.hub.store
        with store.engine.connect() as conn:
            current = store.delivery(did, conn)
            endpoint = retry.endpoint_state(conn, dest_id)
        if current is None:
            return self._dead_message(f"delivery {did} is not in the store", raw, routing_key,
                                      complaint_id=cid, delivery_id=did, destination=dest_id)
        if current["status"] != "pending":
            log.info("delivery.duplicate_suppressed", status=current["status"])
            DELIVERIES.labels(dest_id, "duplicate").inc()
            return "duplicate"
        if endpoint and endpoint["status"] == "disabled":
            return self._failed(doc, raw, routing_key, f"destination {dest_id} is disabled: {endpoint['reason']} "
                                f"(`laporhub endpoints enable {dest_id}`, then replay)", [])
        breaker = self._guard(dest_id)
        if not breaker.allow():
            return self._later(doc, raw, f"circuit open for {dest_id}", [], breaker.remaining(), count=False)
        try:
            self._limit(dest_id)
            receipt = self.adapter_for(dest_id).deliver(doc)
        except adapters.Failed as exc:
            if exc.retryable:
                breaker.failure()
                CIRCUIT_OPEN.labels(dest_id).set(1 if breaker.is_open else 0)
                return self._later(doc, raw, exc.reason, exc.attempts, exc.retry_after)
            if exc.gone:
                with store.begin() as conn:
                    retry.disable(conn, dest_id, exc.reason)
                log.error("endpoint.disabled", destination=dest_id, reason=exc.reason)
            return self._failed(doc, raw, routing_key, exc.reason, exc.attempts)
        except (LaporHubError, ValueError, KeyError) as exc:
            reason = str(exc) if not isinstance(exc, KeyError) else f"destination {dest_id} lacks option {exc}"
            return self._failed(doc, raw, routing_key, reason, [])
        breaker.success()
        CIRCUIT_OPEN.labels(dest_id).set(0)
        with store.begin() as conn:
            retry.forget(conn, did)
            if endpoint and endpoint["status"] == "failing":
                retry.recovered(conn, dest_id)
            store.update_delivery(conn, did, status="delivered", attempts=current["attempts"] + len(receipt.attempts),
                                  delivered_at=now(), last_error=None,
                                  **({"remote_ref": receipt.remote_ref} if receipt.remote_ref else {}))
            conn.execute(events.insert(), [
                *(event_row(cid, "delivery_attempt", {"destination": dest_id, **a.as_dict()}, delivery_id_=did)
                  for a in receipt.attempts),
                event_row(cid, "delivered", {"destination": dest_id, "detail": receipt.detail}, delivery_id_=did)])
            attempt_log.record(conn, dest_id, did, receipt.attempts)
            store.settle_complaint(conn, cid)
        log.info("delivery.delivered", destination=dest_id, attempts=len(receipt.attempts))
        observe(dest_id, "delivered", receipt.attempts, doc.get("created_at"))
        return "delivered"

    def _later(self, doc: dict[str, Any], raw: bytes | str, reason: str, attempts: list[adapters.Attempt],
               retry_after: float | None, count: bool = True) -> str:
        """Schedule the next try by the long schedule (a delayed re-queue, not a sleeping thread);
        dead-letter once the schedule is used up."""
        did, cid, dest_id = doc["delivery_id"], doc["complaint_id"], doc["destination"]
        store, settings = self.hub.store, self.hub.settings
        with store.engine.connect() as conn:
            step = retry.next_step(conn, did)
        step = step if count else max(step - 1, 0)
        seconds = retry.delay(step, settings.webhook_schedule, retry_after)
        if seconds is None:
            return self._failed(doc, raw, dest_id, reason, attempts)
        with store.begin() as conn:
            current = store.delivery(did, conn)
            for attempt in attempts:
                store.add_event(conn, cid, "delivery_attempt", {"destination": dest_id, **attempt.as_dict()},
                                delivery_id_=did)
            attempt_log.record(conn, dest_id, did, attempts)
            store.update_delivery(conn, did, last_error=reason,
                                  attempts=(current["attempts"] if current else 0) + len(attempts))
            retry.schedule(conn, did, dest_id, raw if isinstance(raw, str) else raw.decode(),
                           step, seconds, reason)
            store.add_event(conn, cid, "delivery_retry_scheduled",
                            {"destination": dest_id, "reason": reason, "in_seconds": round(seconds, 1)},
                            delivery_id_=did)
            alert = retry.failing(conn, dest_id, reason, settings.webhook_failing_after)
            if alert:
                store.add_event(conn, cid, "endpoint_failing", {"destination": dest_id, "reason": reason},
                                delivery_id_=did)
                store.enqueue(conn, f"alert:{dest_id}:{did}", "events", "endpoint.failing",
                              {"type": "laporhub.endpoint_failing.v1", "destination": dest_id, "reason": reason,
                               "at": now().isoformat()})
        RETRIES.labels(dest_id).inc()
        if alert:
            log.error("endpoint.failing", destination=dest_id, reason=reason)
        log.info("delivery.retry_scheduled", destination=dest_id, in_seconds=round(seconds, 1))
        return "scheduled"

    def _guard(self, destination_id: str) -> CircuitBreaker:
        with self._lock:
            if destination_id not in self._breakers:
                opts = self.hub.config.registry.get(destination_id).options
                self._breakers[destination_id] = CircuitBreaker(int(opts.get("circuit_threshold", 5)),
                                                                float(opts.get("circuit_cooldown", 30)))
            return self._breakers[destination_id]

    def _limit(self, destination_id: str) -> None:
        rate = self.hub.config.registry.get(destination_id).options.get("rate_per_second")
        if rate:
            with self._lock:
                limit = self._limits.setdefault(destination_id, RateLimit(float(rate)))
            limit.acquire()

    def requeue_due(self, stop: threading.Event) -> None:
        """Re-queue deliveries whose retry is due, every second, until `stop`."""
        while not stop.wait(1.0):
            try:
                ids = retry.requeue_due(self.hub.store)
                if ids:
                    relay(self.hub.store, self.out, message_ids=ids)
            except Exception as exc:  # noqa: BLE001 - store or broker away: the rows wait
                log.warning("retry.requeue_failed", error=str(exc))

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
            attempt_log.record(conn, dest_id, did, attempts)
            retry.forget(conn, did)
            store.update_delivery(conn, did, status="dead", last_error=reason,
                                  attempts=(current["attempts"] if current else 0) + len(attempts))
            store.add_event(conn, cid, "delivery_failed", {"destination": dest_id, "reason": reason},
                            delivery_id_=did)
            mid = deadletter.enqueue(store, conn, dead)
            store.settle_complaint(conn, cid)
        relay(store, self.out, message_ids=[mid])
        log.warning("delivery.dead_lettered", destination=dest_id, reason=reason)
        observe(dest_id, "dead", attempts, None)
        return "dead"

    def _dead_message(self, reason: str, raw: bytes | str, routing_key: str | None, **extra: Any) -> str:
        doc = deadletter.document("dispatcher", reason, raw, routing_key=routing_key, **extra)
        with self.hub.store.begin() as conn:
            mid = deadletter.enqueue(self.hub.store, conn, doc)
        relay(self.hub.store, self.out, message_ids=[mid])
        log.warning("delivery.message_dead_lettered", reason=reason)
        return "dead"

    def give_up(self, reason: str, raw: bytes | str, routing_key: str | None) -> str:
        """Dead-letter a message that failed every time it was tried, with the last error."""
        try:
            doc = json.loads(raw)
            schemas.validate("delivery", doc)
        except (ValueError, UnicodeDecodeError, InvalidMessage):
            return self._dead_message(reason, raw, routing_key)
        return self._failed(doc, raw, routing_key, reason, [])

    def handle(self, message: Message) -> None:
        """Hand the message to its destination's pool; `settle_finished` acks it when done.
        Control broadcasts are applied here; a paused destination's message goes back to its queue."""

        if is_control(message, self.hub):
            self.worker.on_control(message.body)
            message.ack()
            self._new_round_if_queues_changed()
            return
        destination = message.delivery_info.get("routing_key") or ""
        if destination in self.hub.paused:
            message.requeue()
            self._new_round_if_queues_changed()
            return
        future = self._pool(destination).submit(outcome, self.process, message, "dispatcher", self.give_up)
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(lambda f: self._finished.put((message, f)))

    def settle_finished(self) -> None:
        while not self._finished.empty():
            message, future = self._finished.get()
            with self._lock:
                self._in_flight.discard(future)
            verdict = "requeue" if future.exception() else future.result()
            try:
                settle(message, verdict)
            except Exception as exc:  # noqa: BLE001 - from a connection since lost: redelivered anyway
                log.warning("dispatcher.settle_failed", error=str(exc))

    def destination_ids(self) -> list[str]:
        """The destinations this dispatcher serves, less the paused ones (their deliveries wait)."""
        ids = self.only or [d.id for d in self.hub.config.registry]
        for i in ids:
            if i not in self.hub.config.registry:
                raise UnknownDestination(i)
        return [i for i in ids if i not in self.hub.paused]

    def queues(self) -> list:
        return [self.hub.topology.delivery(i) for i in self.destination_ids()]

    def _end_round(self) -> None:
        """Finish and ack the deliveries in hand before the round's channels close (closing
        returns what was prefetched but not started to the queues, for the next round)."""
        with self._lock:
            pending = list(self._in_flight)
        for future in pending:
            future.exception()  # waits
        self.settle_finished()
        if self._round is not None:
            self._round.set()

    def _new_round_if_queues_changed(self) -> None:
        if self._round is not None and self.destination_ids() != self._serving:
            self._end_round()

    def _idle(self, stop: threading.Event) -> None:
        self.settle_finished()
        if stop.is_set():
            self._end_round()
            return
        if self.worker.tick():
            self._new_round_if_queues_changed()

    def run(self, stop: threading.Event) -> None:
        """Consume in rounds: a pause, resume or new destination ends the round, and the next
        one consumes the queues of the destinations now served."""
        self.worker.report()
        poller = threading.Thread(target=self.requeue_due, args=(stop,), name="retry-poller", daemon=True)
        poller.start()
        try:
            while not stop.is_set():
                self._serving = self.destination_ids()
                queues = [self.hub.topology.delivery(i) for i in self._serving]
                log.info("dispatcher.started", queues=len(queues), paused=sorted(self.hub.paused))
                self._round = threading.Event()
                self.bus.consume([*queues, self.worker.control_queue], self.handle, stop=self._round,
                                 prefetch=2 * self.concurrency, idle=lambda: self._idle(stop), per_queue=True)
        finally:
            for pool in self._pools.values():
                pool.shutdown(wait=True)  # SIGTERM: finish the deliveries in hand, then ack them
            self.settle_finished()
            self.worker.leave()
            for _, adapter in self._adapters.values():
                adapter.close()
            self.out.close()
