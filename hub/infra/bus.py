"""The bus: LaporHub's RabbitMQ topology on kombu, with persistent, confirmed publishing.

`memory://` (kombu's in-process transport) is the embedded default; `amqp://...` is RabbitMQ.
Every exchange has an alternate exchange so a message published with a wrong routing key is
parked on the `unroutable` queue instead of vanishing (kombu has no `mandatory` flag).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import structlog
from amqp.exceptions import ConnectionError as AMQPConnectionError
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.exceptions import OperationalError as KombuOperationalError
from kombu.message import Message

from hub.core import retries
from hub.core.retries import DELIVERY_LIMIT, GIVE_UP_AFTER, TRANSIENT_PATIENCE
from hub.infra import heartbeats
from hub.infra.publisher import ConfirmPipeline, Outgoing

log = structlog.get_logger("hub.infra.bus")

# Replicated, durable queues that count deliveries (x-delivery-count) so poison messages end.
QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}

EXCHANGES = ("unroutable", "intake", "delivery", "status", "events", "dead", "poison", "departments", "control")

RETRY_POLICY = {"interval_start": 0.2, "interval_step": 0.5, "interval_max": 5, "max_retries": 30}


@dataclass(frozen=True)
class Topology:
    """Names of everything on the broker, under one prefix so several hubs can share a broker."""

    prefix: str = "laporhub"

    def exchange(self, name: str) -> Exchange:
        kinds = {"events": "topic", "dead": "fanout", "unroutable": "fanout", "poison": "fanout",
                 "control": "fanout"}
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
    def poison(self) -> Queue:
        """What the broker dead-lettered after the delivery limit; routers record it as dead letters."""
        return self._queue("poison", "poison", "")

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

    def user(self, destination: str) -> str:
        """The broker user of a department (`laporhub broker provision`): it reads its own queue
        and publishes status as itself (AMQP user_id, which the broker checks)."""
        return f"{self.prefix}.{destination}"

    def department_queue(self, destination: str, name: str | None = None) -> Queue:
        """The queue a department consumes with any AMQP client."""
        return Queue(name or f"{self.prefix}.out.{destination}", self.exchange("departments"),
                     routing_key=destination, durable=True, queue_arguments=dict(QUORUM))

    def _queue(self, name: str, exchange: str, key: str, dead_letter: bool = False) -> Queue:
        args: dict[str, Any] = dict(QUORUM)
        if dead_letter:
            # A message the workers keep failing on (e.g. one that crashes the process) is
            # dead-lettered by the broker after DELIVERY_LIMIT deliveries, at-least-once.
            args.update({"x-delivery-limit": DELIVERY_LIMIT,
                         "x-dead-letter-exchange": f"{self.prefix}.poison",
                         "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"})
        return Queue(f"{self.prefix}.{name}", self.exchange(exchange), routing_key=key,
                     durable=True, queue_arguments=args)

    def core_queues(self) -> list[Queue]:
        return [self.intake, self.status, self.dead, self.poison, self.unroutable]


class Bus:
    """One connection with a confirming producer. Not thread-safe: one per thread."""

    def __init__(self, url: str, topology: Topology | None = None, heartbeat: int = 30) -> None:
        self.url = url
        self.heartbeat = heartbeat
        self.topology = topology or Topology()
        self.connection = Connection(url, heartbeat=heartbeat if url.startswith("amqp") else 0,
                                     transport_options={"confirm_publish": True},
                                     connect_timeout=5)
        self._producer: Producer | None = None
        self._declared: set[str] = set()
        self._lock = threading.RLock()  # publishing and declaring may come from several threads
        self._pipeline: Any = None
        self.consuming = False  # set while a consuming loop drains this connection (and beats)
        if url.startswith("amqp") and heartbeat:
            heartbeats.watch(self)

    def keep_alive(self) -> None:
        """Read and send heartbeats on this bus's idle connections, so a quiet hour does not end
        with RabbitMQ closing them ("missed heartbeats from client") and the next publish failing.
        Skipped while a publish holds the bus (it is not idle then); the consuming connection
        beats on its own loop."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            if not self.consuming and self.connection.connected:
                try:
                    heartbeats.beat(self.connection)
                except Exception as exc:  # noqa: BLE001 - broken: reconnect on next use
                    log.info("bus.idle_connection_reset", error=str(exc)[:200])
                    self.reconnect()
            pipeline = self._pipeline
            if pipeline is not None and pipeline.connection.connected:
                try:
                    heartbeats.beat(pipeline.connection)
                except Exception as exc:  # noqa: BLE001 - reopened on the next publish
                    log.info("bus.idle_connection_reset", error=str(exc)[:200])
                    pipeline.reset()
        finally:
            self._lock.release()

    def reconnect(self) -> None:
        """Drop a broken connection for a fresh one (connected on its next use)."""
        self._declared.clear()
        self._producer = None
        try:
            self.connection.close()
        except Exception:  # noqa: BLE001 - already broken
            pass
        self.connection = self.connection.clone()

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory")

    def close(self) -> None:
        heartbeats.forget(self)
        with self._lock:
            if self._pipeline is not None:
                self._pipeline.close()
            self.connection.release()

    def __enter__(self) -> "Bus":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def declare(self, queues: Iterable[Queue] = ()) -> None:
        """Declare the core topology (once) and the given queues, durable."""
        with self._lock:
            self._declare(queues)

    def _declare(self, queues: Iterable[Queue]) -> None:
        self.connection.ensure_connection(max_retries=RETRY_POLICY["max_retries"])
        channel = self.connection.default_channel
        todo = [*self.topology.core_queues(), *queues]
        for name in EXCHANGES:
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
            # A status update says who sends it; the broker checks user_id against the login.
            identity = {"user_id": self.connection.userid} if exchange == "status" and not self.is_memory else {}
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
                **identity,
            )

    def publish_many(self, messages: list[Mapping[str, Any]]) -> list[bool]:
        """Publish a batch (dicts with exchange, routing_key, body, message_id, headers) with
        pipelined confirms on RabbitMQ; return, per message, whether the broker confirmed it."""
        if not self.url.startswith("amqp"):
            for m in messages:
                self.publish(m["exchange"], m["routing_key"], m["body"], message_id=m["message_id"],
                             headers=m["headers"])
            return [True] * len(messages)

        if "exchange:intake" not in self._declared:
            self.declare()
        if self._pipeline is None:
            self._pipeline = ConfirmPipeline(self.url, heartbeat=self.heartbeat)
        prefix = self.topology.prefix
        with self._lock:
            return self._pipeline.publish([
                Outgoing(f"{prefix}.{m['exchange']}", m["routing_key"], m["body"], m["message_id"],
                         m["headers"] or {}) for m in messages])

    def consume(self, queues: list[Queue], handler: Callable[[Message], None], *,
                stop: threading.Event, prefetch: int = 32, idle: Callable[[], None] | None = None,
                per_queue: bool = False, gather: int = 1) -> None:
        """Call `handler` for each message until `stop` is set; reconnect after broker failures.

        The handler acks or rejects; a message it leaves unacked is redelivered after a crash.
        Messages are handled outside the client's frame callback, so a handler may publish and
        declare (and wait for the broker) without new deliveries re-entering it. With
        `per_queue`, each queue has a channel and a prefetch of its own, so one slow queue never
        holds the others' messages. `idle` runs after every wait (e.g. to ack finished work).
        With `gather`, up to that many messages already at hand are taken before the handler runs,
        so a handler that batches (and flushes in `idle`) sees them together.
        """
        self.consuming = True
        try:
            self._consume(queues, handler, stop=stop, prefetch=prefetch, idle=idle, per_queue=per_queue,
                          gather=gather)
        finally:
            self.consuming = False

    def _consume(self, queues: list[Queue], handler: Callable[[Message], None], *, stop: threading.Event,
                 prefetch: int, idle: Callable[[], None] | None, per_queue: bool, gather: int) -> None:
        while not stop.is_set():
            inbox: deque[Message] = deque()
            try:
                self.declare(queues)
                groups = [[q] for q in queues] if per_queue else [queues]
                with ExitStack() as stack:
                    for group in groups:
                        channel = self.connection.channel() if per_queue else self.connection.default_channel
                        if per_queue:
                            # Closing a round's channel returns what it prefetched but never handed
                            # out (still in `inbox`) to the queue at once, not at disconnect.
                            stack.callback(_close_quietly, channel)
                        stack.enter_context(Consumer(channel, queues=group, on_message=inbox.append,
                                                     prefetch_count=prefetch, accept=None))
                    while not stop.is_set():
                        try:
                            self.connection.drain_events(timeout=0.2)
                            while len(inbox) < gather:
                                self.connection.drain_events(timeout=0.001)
                        except socket.timeout:
                            self.connection.heartbeat_check()
                        while inbox and not stop.is_set():
                            handler(inbox.popleft())
                        if idle:
                            idle()
            except self.connection.recoverable_connection_errors + self.connection.connection_errors as exc:
                log.warning("bus.reconnecting", error=str(exc))
                time.sleep(1)
                self.reconnect()


def _close_quietly(channel: Any) -> None:
    try:
        channel.close()
    except Exception:  # noqa: BLE001 - a channel of a broken connection is gone anyway
        pass


def is_transient(exc: BaseException) -> bool:
    """Trouble reaching the store or the broker: wait it out, never blame the message."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError,
                            OSError, socket.timeout, AMQPConnectionError, KombuOperationalError))


_failures: dict[str, int] = {}
pause_for: Callable[[float], None] = time.sleep  # tests replace it to fail fast


def _failed_before(message: Message) -> int:
    """Failed deliveries so far: the quorum queue's x-delivery-count, or (on transports without
    it, such as memory://) this process's own count."""
    header = int((message.headers or {}).get("x-delivery-count") or 0)
    return max(header, _failures.get(_identity(message), 0))


def _identity(message: Message) -> str:
    mid = message.properties.get("message_id")
    body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    return mid or str(hash(body))


Giver = Callable[[str, bytes | str, str | None], object]


def ack_after(process: Callable[[bytes | str, str | None], object], message: Message, worker: str,
              give_up: Giver | None = None, *, transient_patience: float = TRANSIENT_PATIENCE) -> None:
    """Ack once `process` has done its work (including any dead-lettering); see `outcome`."""
    settle(message, outcome(process, message, worker, give_up, transient_patience=transient_patience))


def outcome(process: Callable[[bytes | str, str | None], object], message: Message, worker: str,
            give_up: Giver | None = None, *, transient_patience: float = TRANSIENT_PATIENCE) -> str:
    """Process a message; say whether to "ack" or "requeue" it (safe to call off the consuming
    thread: it never touches the channel).

    Store or broker trouble is waited out with the message in hand (then it is requeued).
    Any other error requeues the message; once it has failed GIVE_UP_AFTER deliveries,
    `give_up(reason, body, routing_key)` dead-letters it with the error and it is acked.
    How long to wait and when to give up: hub/core/retries.py.
    """
    structlog.contextvars.clear_contextvars()
    body, key = message.body, message.delivery_info.get("routing_key")
    waited, waits = 0.0, 0
    while True:
        try:
            process(body, key)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the message must not be lost
            if is_transient(exc) and waited < transient_patience:
                log.warning(f"{worker}.waiting", error=repr(exc)[:300], waited=round(waited, 1))
                pause = retries.transient_pause(waits)
                pause_for(pause)
                waited, waits = waited + pause, waits + 1
                continue
            return _requeue_or_give_up(exc, message, worker, give_up)
        return "ack"


def settle(message: Message, verdict: str) -> None:
    """Ack or requeue on the consuming thread."""
    if verdict == "ack":
        message.ack()
    else:
        message.requeue()


def _requeue_or_give_up(exc: Exception, message: Message, worker: str, give_up: Giver | None) -> str:
    count = _failed_before(message) + 1
    if len(_failures) > 10_000:
        _failures.clear()
    _failures[_identity(message)] = count
    if give_up is not None and not is_transient(exc) and count >= GIVE_UP_AFTER:
        reason = f"{worker} failed on it {count} times; last error: {exc!r}"[:2000]
        try:
            give_up(reason, message.body, message.delivery_info.get("routing_key"))
        except Exception as second:  # noqa: BLE001 - could not even park it: keep it queued
            log.error(f"{worker}.give_up_failed", error=repr(second))
        else:
            log.error(f"{worker}.gave_up", error=repr(exc), deliveries=count)
            _failures.pop(_identity(message), None)
            return "ack"
    log.error(f"{worker}.failed", error=repr(exc), deliveries=count)
    pause_for(retries.requeue_pause(count))
    return "requeue"
