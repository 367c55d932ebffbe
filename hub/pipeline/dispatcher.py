"""The dispatcher: hands each delivery to its destination's adapter and records every attempt.

Split as dramatiq splits a worker: the consuming thread (`consumer.Consumer`) takes messages and
acks them and never waits for delivery work; per-destination pools of threads do the work
(`delivering.Delivering`), each delivery under a lease (`leases`); what becomes of it is recorded
in one place (`outcomes`). Beside them run the retry poller, the lease keeper and the reconciler.

A delivery already done is acknowledged without a second send, and one being worked elsewhere
is acknowledged and left to its worker, so a redelivered message never reaches a destination
twice through the hub. A delivery that cannot be made ends on the dead-letter queue with the
reason; nothing is dropped.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import structlog
from kombu import Queue
from kombu.message import Message

from hub.core.destinations import dispatch_options
from hub.core.errors import UnknownDestination
from hub.infra.bus import Bus, outcome
from hub.infra.outbox import relay
from hub.pipeline import reconcile, retry
from hub.pipeline.consumer import Consumer
from hub.pipeline.delivering import Delivering
from hub.settings.workers import Worker, is_control
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.pipeline.dispatcher")


class Dispatcher:
    """Consumes every destination's delivery queue (or `destinations`), each on a channel of its
    own, and delivers with a small pool of threads per destination: one slow or dead operator
    holds only its own messages and threads, never the others'."""

    def __init__(self, hub: Hub, bus: Bus | None = None, destinations: list[str] | None = None,
                 concurrency: int = 4) -> None:
        self.hub = hub
        self.bus = bus or hub.bus()
        self.out = hub.bus()  # adapters, dead letters and re-queues publish here, from other threads
        self.only = destinations
        self.concurrency = concurrency
        self.worker = Worker(hub, "dispatcher")
        self.delivering = Delivering(hub, self.out, self.worker.id)
        self.consumer = Consumer(self.bus, self.handle, prefetch=2 * concurrency, idle=self._idle)
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def process(self, raw: bytes | str, routing_key: str | None = None) -> str:
        """Deliver one message now, on this thread (tests and tools)."""
        return self.delivering.process(raw, routing_key)

    def _pool(self, destination_id: str) -> ThreadPoolExecutor:
        """A channel (the citizen's app) hears a complaint's events in order: one at a time."""
        if destination_id not in self._pools:
            registry = self.hub.config.registry
            dest = registry.get(destination_id) if destination_id in registry else None
            default = 1 if dest is None or dest.kind == "channel" else self.concurrency
            size = (dispatch_options(dest).concurrency or default) if dest else 1
            self._pools[destination_id] = ThreadPoolExecutor(size, thread_name_prefix=f"deliver-{destination_id}")
        return self._pools[destination_id]

    def handle(self, message: Message) -> str | Future[str]:
        """On the consuming thread: apply a control broadcast, send back a paused destination's
        message, or hand the message to its destination's pool (a future the consumer settles)."""
        if is_control(message, self.hub):
            self.worker.on_control(message.body)
            return "ack"
        destination = message.delivery_info.get("routing_key") or ""
        if destination in self.hub.paused:
            return "requeue"
        return self._pool(destination).submit(outcome, self.delivering.process, message, "dispatcher",
                                              self.delivering.give_up)

    def destination_ids(self) -> list[str]:
        """The destinations this dispatcher serves, less the paused ones (their deliveries wait)."""
        ids = self.only or [d.id for d in self.hub.config.registry]
        for i in ids:
            if i not in self.hub.config.registry:
                raise UnknownDestination(i)
        return [i for i in ids if i not in self.hub.paused]

    def queues(self) -> list[Queue]:
        return [*(self.hub.topology.delivery(i) for i in self.destination_ids()), self.worker.control_queue]

    def _idle(self) -> None:
        self.worker.tick()

    def requeue_due(self, stop: threading.Event) -> None:
        """Re-queue deliveries whose retry is due, every second, until `stop`."""
        while not stop.wait(1.0):
            try:
                ids = retry.requeue_due(self.hub.store, skip=self.hub.paused)
                if ids:
                    relay(self.hub.store, self.out, message_ids=ids)
            except Exception as exc:  # noqa: BLE001 - store or broker away: the rows wait
                log.warning("retry.requeue_failed", error=str(exc))

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop`; a pause, resume or new destination changes the queues consumed
        without waiting for the deliveries in hand. On stop, those finish and are acked first."""
        self.worker.report()
        helpers = threading.Event()
        for name, target, args in (("retry-poller", self.requeue_due, (helpers,)),
                                   ("lease-keeper", self.delivering.leases.keep, (helpers,)),
                                   ("reconciler", reconcile.run, (self.hub, self.out, helpers))):
            threading.Thread(target=target, args=args, name=name, daemon=True).start()
        log.info("dispatcher.started", queues=len(self.destination_ids()), paused=sorted(self.hub.paused))
        try:
            self.consumer.run(self.queues, stop)
        finally:
            for pool in self._pools.values():
                pool.shutdown(wait=True)
            helpers.set()
            self.worker.leave()
            self.delivering.close()
            self.out.close()
