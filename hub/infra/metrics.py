"""Prometheus metrics for the API and every worker (prometheus-client, default registry).

Counters and histograms are updated where things happen; backlog figures (outbox, dead letters,
queue depths) are read from the store and the broker when Prometheus scrapes.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Iterator

import structlog
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from hub.settings.runtime import Hub

log = structlog.get_logger("hub.infra.metrics")

COMPLAINTS_ACCEPTED = Counter("laporhub_complaints_accepted_total",
                              "Complaints accepted (new, not repeats)", ["channel"])
DECISIONS = Counter("laporhub_decisions_total", "Routing decisions by rule and destination",
                    ["rule", "destination"])
DELIVERIES = Counter("laporhub_deliveries_total", "Delivery outcomes by destination",
                     ["destination", "outcome"])
DELIVERY_SECONDS = Histogram("laporhub_delivery_seconds",
                             "From the delivery's creation (routing) to the destination confirming it",
                             ["destination"],
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                                      300, 1800, 7200, 36000))
RETRIES = Counter("laporhub_delivery_retries_total", "Delivery attempts that will be retried",
                  ["destination"])
DEAD_LETTERS = Counter("laporhub_dead_letters_total", "Messages dead-lettered, by stage", ["stage"])
CIRCUIT_OPEN = Gauge("laporhub_circuit_open", "1 while a destination's circuit breaker is open",
                     ["destination"])


class Backlog(Collector):
    """Outbox backlog, dead letters waiting and queue depths, read at scrape time."""

    def __init__(self) -> None:
        self.hub: "Hub | None" = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        hub = self.hub
        if hub is None:
            return
        outbox = GaugeMetricFamily("laporhub_outbox_backlog", "Messages committed but not yet published")
        waiting = GaugeMetricFamily("laporhub_dead_letters_waiting", "Dead letters not replayed")
        depth = GaugeMetricFamily("laporhub_queue_depth", "Messages ready on a hub queue", labels=["queue"])
        try:
            from hub.pipeline import deadletter

            outbox.add_metric([], hub.store.outbox_backlog())
            waiting.add_metric([], deadletter.count(hub.store))
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the store is down
            log.warning("metrics.store_unreachable", error=str(exc))
        for name, count in queue_depths(hub).items():
            depth.add_metric([name], count)
        yield from (outbox, waiting, depth)


def queue_depths(hub: "Hub") -> dict[str, int]:
    """Ready messages per hub queue (passive declare; empty when the broker is unreachable)."""
    if not hub.settings.broker_url.startswith("amqp"):
        return {}
    from kombu import Connection

    topo = hub.topology
    names = [q.name for q in (topo.intake, topo.dead, topo.poison, topo.unroutable, *hub.delivery_queues())]
    out: dict[str, int] = {}
    try:
        with Connection(hub.settings.broker_url, connect_timeout=2) as conn:
            channel = conn.channel()
            for name in names:
                try:
                    out[name] = channel.queue_declare(name, passive=True).message_count
                except Exception:  # noqa: BLE001 - not declared yet: the channel is closed, reopen
                    channel = conn.channel()
    except Exception as exc:  # noqa: BLE001 - the broker being down shows as missing depths
        log.warning("metrics.broker_unreachable", error=str(exc))
    return out


_backlog = Backlog()
_lock = threading.Lock()
_registered = False


def watch(hub: "Hub") -> None:
    """Report this hub's backlog figures on the process's metrics."""
    global _registered
    with _lock:
        _backlog.hub = hub
        if not _registered:
            REGISTRY.register(_backlog)
            _registered = True


def serve(hub: "Hub", port: int) -> None:
    """Expose /metrics on `port` for a worker process."""
    watch(hub)
    start_http_server(port)
    log.info("metrics.serving", port=port)
