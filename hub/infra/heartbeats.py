"""Heartbeats for idle AMQP connections. A connection that only publishes now and then (an outbox
relay, a dispatcher's publishing connection, a confirm pipeline) reads nothing between bursts, so
nobody answers the broker's heartbeats: RabbitMQ closes it after two intervals ("missed heartbeats
from client") and the next publish fails with "Connection reset by peer". One daemon thread per
process reads and sends heartbeats on every bus's idle connections (`Bus.keep_alive`)."""

from __future__ import annotations

import socket
import threading
import time
import weakref
from typing import Any

import structlog
from kombu import Connection

log = structlog.get_logger("hub.infra.heartbeats")


def beat(connection: Connection) -> None:
    """Read what the broker sent (its heartbeats, late confirms), then send ours if due."""
    try:
        connection.drain_events(timeout=0.001)
    except socket.timeout:
        pass
    connection.heartbeat_check()


class _Keeper:
    """One daemon thread per process that keeps every idle bus connection's heartbeats going."""

    def __init__(self) -> None:
        self._buses: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, bus: Any) -> None:
        with self._lock:
            self._buses.add(bus)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="amqp-heartbeats", daemon=True)
                self._thread.start()

    def forget(self, bus: Any) -> None:
        with self._lock:
            self._buses.discard(bus)

    def _run(self) -> None:
        while True:
            with self._lock:
                buses = list(self._buses)
            for bus in buses:
                try:
                    bus.keep_alive()
                except Exception as exc:  # noqa: BLE001 - the keeper must outlive any one bus
                    log.info("bus.keep_alive_failed", error=str(exc)[:200])
            time.sleep(min([max(0.5, b.heartbeat / 6) for b in buses] or [1.0]))


_keeper = _Keeper()
watch, forget = _keeper.watch, _keeper.forget
