"""The consuming thread of a dispatcher (dramatiq's ConsumerThread): it owns the AMQP
connection, takes messages off the queues, hands each to a handler that returns at once, and
acks or requeues each message when its work is done. It never waits for delivery work, so the
connection's heartbeats and acks keep flowing however long an operator takes to answer.

Each queue has a channel of its own (its own prefetch), so one slow destination holds only its
own messages. When a queue is no longer wanted (its destination paused), its consumer is
cancelled at once; its channel stays open until the messages in hand from it are settled, and
what it had prefetched but not handed out goes back to the queue. Stopping works the same way
for every queue: nothing new is taken, the work in hand finishes and is acked, then the
connection closes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable

import structlog
from kombu import Consumer as KombuConsumer
from kombu import Queue
from kombu.message import Message

from hub.infra.bus import Bus

log = structlog.get_logger("hub.pipeline.consumer")


class Consumer:
    """`handle(message)` returns a verdict now ("ack", "requeue") or the future of one."""

    def __init__(self, bus: Bus, handle: Callable[[Message], Any], *, prefetch: int,
                 idle: Callable[[], None] = lambda: None, patience: float = 600.0) -> None:
        self.bus, self.handle, self.prefetch, self.idle = bus, handle, prefetch, idle
        self.patience = patience  # longest wait, on stopping, for the work in hand
        self._inbox: deque[Message] = deque()
        self._channels: dict[str, tuple[Any, KombuConsumer]] = {}  # queue name -> consuming
        self._draining: dict[str, Any] = {}  # queue name -> channel whose consumer was cancelled
        self._in_hand: list[tuple[Message, Future[str]]] = []

    def in_hand(self) -> int:
        return len(self._in_hand)

    def run(self, wanted: Callable[[], list[Queue]], stop: threading.Event) -> None:
        """Consume the queues `wanted()` names (asked again after every wait) until `stop`, then
        finish what is in hand; reconnect after broker failures."""
        self.bus.consuming = True
        try:
            self._run(wanted, stop)
        finally:
            self.bus.consuming = False

    def _run(self, wanted: Callable[[], list[Queue]], stop: threading.Event) -> None:
        stopping_since: float | None = None
        while True:
            try:
                self.bus.declare([])
                while True:
                    if stop.is_set() and stopping_since is None:
                        stopping_since = time.monotonic()
                    self._follow([] if stopping_since is not None else wanted())
                    self._wait()
                    self._hand_out()
                    self._settle()
                    self.idle()
                    if stopping_since is not None and (not self._in_hand or
                                                       time.monotonic() - stopping_since > self.patience):
                        self._close_all()
                        return
            except self.bus.connection.recoverable_connection_errors + self.bus.connection.connection_errors as exc:
                log.warning("bus.reconnecting", error=str(exc))
                self._lost_connection()
                if stop.is_set() and not self._in_hand:
                    return

    # -- the queues -------------------------------------------------------------------------

    def _follow(self, queues: list[Queue]) -> None:
        names = {q.name: q for q in queues}
        for name in [n for n in self._channels if n not in names]:
            channel, consumer = self._channels.pop(name)
            consumer.cancel()
            self._draining[name] = channel
            if queues:  # a pause, not the end
                log.info("consumer.cancelled", queue=name)
        for name, queue in names.items():
            if name not in self._channels:
                self.bus.declare([queue])
                channel = self.bus.connection.channel()
                consumer = KombuConsumer(channel, queues=[queue], on_message=self._inbox.append,
                                         prefetch_count=self.prefetch, accept=None)
                consumer.consume()
                self._channels[name] = (channel, consumer)
        for name in [n for n, ch in self._draining.items() if not any(m.channel is ch for m, _ in self._in_hand)]:
            channel = self._draining.pop(name)
            # Closing returns what the channel prefetched but never handed out to its queue.
            _close_quietly(channel)

    def _wait(self) -> None:
        try:
            self.bus.connection.drain_events(timeout=0.2)
            while True:
                self.bus.connection.drain_events(timeout=0.001)
        except socket.timeout:
            self.bus.connection.heartbeat_check()

    def _hand_out(self) -> None:
        consuming = {id(ch) for ch, _ in self._channels.values()}
        while self._inbox:
            message = self._inbox.popleft()
            if id(message.channel) not in consuming:
                message.requeue()  # its queue was let go of meanwhile
                continue
            verdict = self.handle(message)
            if isinstance(verdict, Future):
                self._in_hand.append((message, verdict))
            elif verdict:
                _settle(message, verdict)

    def _settle(self) -> None:
        done = [(m, f) for m, f in self._in_hand if f.done()]
        if not done:
            return
        self._in_hand = [(m, f) for m, f in self._in_hand if not f.done()]
        for message, future in done:
            _settle(message, "requeue" if future.exception() else future.result())

    def _close_all(self) -> None:
        for name in list(self._channels):
            channel, consumer = self._channels.pop(name)
            _close_quietly(channel)
        for name in list(self._draining):
            _close_quietly(self._draining.pop(name))

    def _lost_connection(self) -> None:
        """Unacked messages of a lost connection go back to their queues by themselves; the
        work in hand still finishes (its lease keeps any other worker off it), unacked."""
        self._channels.clear()
        self._draining.clear()
        self._inbox.clear()
        self._in_hand = [(m, f) for m, f in self._in_hand if not f.done()]
        time.sleep(1)
        self.bus.reconnect()


def _settle(message: Message, verdict: str) -> None:
    try:
        message.ack() if verdict == "ack" else message.requeue()
    except Exception as exc:  # noqa: BLE001 - its channel or connection is gone: redelivered anyway
        log.info("consumer.settle_skipped", error=str(exc)[:200])


def _close_quietly(channel: Any) -> None:
    try:
        channel.close()
    except Exception:  # noqa: BLE001 - a channel of a broken connection is gone anyway
        pass
