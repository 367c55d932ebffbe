"""The bus: LaporHub's RabbitMQ topology on kombu, with persistent, confirmed publishing.

`memory://` (kombu's in-process transport) is the embedded default; `amqp://...` is RabbitMQ.
Every exchange has an alternate exchange so a message published with a wrong routing key is
parked on the `unroutable` queue instead of vanishing (kombu has no `mandatory` flag).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import structlog
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.message import Message

log = structlog.get_logger("hub.bus")

RETRY_POLICY = {"interval_start": 0.2, "interval_step": 0.5, "interval_max": 5, "max_retries": 30}


@dataclass(frozen=True)
class Topology:
    """Names of everything on the broker, under one prefix so several hubs can share a broker."""

    prefix: str = "laporhub"

    def exchange(self, name: str) -> Exchange:
        kinds = {"events": "topic", "dead": "fanout", "unroutable": "fanout", "control": "fanout"}
        # control: a broadcast with no listener is simply dropped, not parked as unroutable.
        args = {} if name in ("unroutable", "control") else {"alternate-exchange": f"{self.prefix}.unroutable"}
        return Exchange(f"{self.prefix}.{name}", type=kinds.get(name, "direct"), durable=True,
                        arguments=args, delivery_mode=2)

    @property
    def intake(self) -> Queue:
        return self._queue("intake", "intake", "complaint", dead_letter=True)

    @property
    def status(self) -> Queue:
        return self._queue("status", "status", "status", dead_letter=True)

    @property
    def dead(self) -> Queue:
        return self._queue("dead", "dead", "")

    @property
    def unroutable(self) -> Queue:
        return self._queue("unroutable", "unroutable", "")

    def delivery(self, destination: str) -> Queue:
        """The hub's own work queue for a destination, consumed by dispatchers."""
        return self._queue(f"delivery.{destination}", "delivery", destination, dead_letter=True)

    def control(self, worker_id: str) -> Queue:
        """A worker's own queue on the control broadcast; gone when its connection closes."""
        return Queue(f"{self.prefix}.control.{worker_id}", self.exchange("control"), routing_key="",
                     durable=False, exclusive=True, auto_delete=False)

    def department_queue(self, destination: str, name: str | None = None) -> Queue:
        """The queue a department consumes with any AMQP client."""
        return Queue(name or f"{self.prefix}.out.{destination}", self.exchange("departments"),
                     routing_key=destination, durable=True)

    def _queue(self, name: str, exchange: str, key: str, dead_letter: bool = False) -> Queue:
        args = {"x-dead-letter-exchange": f"{self.prefix}.dead"} if dead_letter else {}
        return Queue(f"{self.prefix}.{name}", self.exchange(exchange), routing_key=key,
                     durable=True, queue_arguments=args)

    def core_queues(self) -> list[Queue]:
        return [self.intake, self.status, self.dead, self.unroutable]


class Bus:
    """One connection with a confirming producer. Not thread-safe: one per thread."""

    def __init__(self, url: str, topology: Topology | None = None, heartbeat: int = 30) -> None:
        self.url = url
        self.topology = topology or Topology()
        self.connection = Connection(url, heartbeat=heartbeat if url.startswith("amqp") else 0,
                                     transport_options={"confirm_publish": True},
                                     connect_timeout=5)
        self._producer: Producer | None = None
        self._declared: set[str] = set()
        self._lock = threading.Lock()

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory")

    def close(self) -> None:
        self.connection.release()

    def __enter__(self) -> "Bus":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def declare(self, queues: Iterable[Queue] = ()) -> None:
        """Declare the core topology (once) and the given queues, durable."""
        self.connection.ensure_connection(max_retries=RETRY_POLICY["max_retries"])
        channel = self.connection.default_channel
        todo = [*self.topology.core_queues(), *queues]
        for name in ("unroutable", "intake", "delivery", "status", "events", "dead", "departments", "control"):
            key = f"exchange:{name}"
            if key not in self._declared:
                self.topology.exchange(name)(channel).declare()
                self._declared.add(key)
        for queue in todo:
            if queue.name not in self._declared:
                queue(channel).declare()
                self._declared.add(queue.name)

    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(self.connection)
        return self._producer

    def publish(self, exchange: str, routing_key: str, body: str | bytes, *, message_id: str,
                headers: dict[str, Any] | None = None) -> None:
        """Persistent publish; returns once the broker confirmed it (RabbitMQ) or holds it."""
        with self._lock:
            producer = self.producer()
            publish = self.connection.ensure(producer, producer.publish, **RETRY_POLICY)
            publish(
                body,
                exchange=self.topology.exchange(exchange),
                routing_key=routing_key,
                delivery_mode=2,
                content_type="application/json",
                content_encoding="utf-8",
                message_id=message_id,
                headers=headers or {},
                retry=False,
            )

    def consume(self, queues: list[Queue], handler: Callable[[Message], None], *,
                stop: threading.Event, prefetch: int = 32, idle: Callable[[], None] | None = None) -> None:
        """Call `handler` for each message until `stop` is set; reconnect after broker failures.

        The handler acks or rejects; a message it leaves unacked is redelivered after a crash.
        """
        while not stop.is_set():
            try:
                self.declare(queues)
                with Consumer(self.connection, queues=queues, on_message=handler,
                              prefetch_count=prefetch, accept=None):
                    while not stop.is_set():
                        try:
                            self.connection.drain_events(timeout=0.5)
                        except socket.timeout:
                            self.connection.heartbeat_check()
                            if idle:
                                idle()
            except self.connection.recoverable_connection_errors + self.connection.connection_errors as exc:
                log.warning("bus.reconnecting", error=str(exc))
                self._declared.clear()
                self._producer = None
                try:
                    self.connection.close()
                except Exception:  # noqa: BLE001 - already broken
                    pass
                time.sleep(1)
                self.connection = self.connection.clone()


def ack_after(process: Callable[[bytes | str, str | None], object], message: Message, worker: str) -> None:
    """Ack once `process` has done its work (including any dead-lettering). On an unexpected
    error (store or broker trouble) keep the message: requeue it after a pause."""
    structlog.contextvars.clear_contextvars()
    try:
        process(message.body, message.delivery_info.get("routing_key"))
    except Exception as exc:  # noqa: BLE001 - whatever failed, the message must not be lost
        log.error(f"{worker}.failed", error=repr(exc))
        time.sleep(1)
        message.requeue()
        return
    message.ack()
