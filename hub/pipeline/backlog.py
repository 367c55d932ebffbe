"""Backlog figures read when Prometheus scrapes: the outbox, dead letters waiting, queue depths;
and the /metrics endpoint of a worker process."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import sqlalchemy as sa
import structlog
from kombu import Connection
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from hub.infra.outbox import backlog as outbox_backlog
from hub.pipeline import deadletter
from hub.pipeline.reconcile import overdue
from hub.pipeline.readiness import readiness
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.pipeline.backlog")


class Backlog(Collector):
    """Outbox backlog, dead letters waiting and queue depths, read at scrape time."""

    def __init__(self) -> None:
        self.hub: Hub | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        hub = self.hub
        if hub is None:
            return
        outbox = GaugeMetricFamily("laporhub_outbox_backlog", "Messages committed but not yet published")
        waiting = GaugeMetricFamily("laporhub_dead_letters_waiting", "Dead letters not replayed")
        depth = GaugeMetricFamily("laporhub_queue_depth", "Messages ready on a hub queue", labels=["queue"])
        overdue = GaugeMetricFamily("laporhub_deliveries_overdue",
                                    "Deliveries pending past their schedule, with nothing in flight to move them on",
                                    labels=["destination"])
        try:
            outbox.add_metric([], outbox_backlog(hub.store))
            waiting.add_metric([], deadletter.count(hub.store))
            for destination, count in overdue_by_destination(hub).items():
                overdue.add_metric([destination], count)
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because the store is down
            log.warning("metrics.store_unreachable", error=str(exc))
        for name, count in queue_depths(hub).items():
            depth.add_metric([name], count)
        yield from (outbox, waiting, depth, overdue)


def overdue_by_destination(hub: Hub) -> dict[str, int]:
    """Deliveries pending past their schedule (`reconcile.overdue`), per destination: a stranded
    delivery shows here within minutes, before any complaint about it."""
    q = overdue(hub.store, hub.paused, grace=hub.settings.reconcile_grace).subquery()
    with hub.store.engine.connect() as conn:
        return dict(conn.execute(sa.select(q.c.destination, sa.func.count()).group_by(q.c.destination)).all())


def queue_depths(hub: Hub) -> dict[str, int]:
    """Ready messages per hub queue (passive declare; empty when the broker is unreachable)."""
    if not hub.settings.broker_url.startswith("amqp"):
        return {}
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


def watch(hub: Hub) -> None:
    """Report this hub's backlog figures on the process's metrics."""
    global _registered
    with _lock:
        _backlog.hub = hub
        if not _registered:
            REGISTRY.register(_backlog)
            _registered = True


def serve(hub: Hub, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Expose /metrics, /readyz and /healthz on `port` for a worker process (compose's health
    checks and Prometheus scrape it), in a daemon thread."""
    watch(hub)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            path = self.path.split("?")[0]
            if path == "/metrics":
                status, body, kind = 200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST
            elif path in ("/readyz", "/healthz"):
                ready, doc = readiness(hub) if path == "/readyz" else (True, {"status": "ok"})
                status, body, kind = (200 if ready else 503), json.dumps(doc).encode(), "application/json"
            else:
                status, body, kind = 404, b'{"error": "not_found"}', "application/json"
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # scrapes every few seconds: not worth a log line
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics.serving", port=server.server_address[1])
    return server
