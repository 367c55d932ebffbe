"""The workers' side of live configuration: each router and dispatcher has its own exclusive queue
bound to the control exchange and reloads when a message arrives; it also looks at the store's
configuration generation every few seconds, so a missed broadcast delays a change but never loses
it. Each worker reports the routing version it runs in the `workers` table."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog

from hub.infra.store import Store, aware, iso, metadata, now
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.settings.workers")

POLL_SECONDS = 3.0
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0

workers = sa.Table(
    "workers", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("routing_version", sa.String(64)),
    sa.Column("generation", sa.Integer, nullable=False, default=0),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)


def is_control(message: Any, hub: Hub) -> bool:
    return (message.delivery_info or {}).get("exchange") == f"{hub.settings.bus_prefix}.control"


@dataclass
class Worker:
    """A router or dispatcher: reloads when told or when the store moved, and says what it runs."""

    hub: Hub
    kind: str
    id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    started_at: datetime = field(default_factory=now)
    _polled: float = 0.0
    _reported: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def control_queue(self) -> Any:
        return self.hub.topology.control(self.id)

    def on_control(self, body: bytes | str) -> None:
        try:
            doc = json.loads(body)
            log.info("control.received", change=doc.get("change"), generation=doc.get("generation"))
        except ValueError:
            log.warning("control.unreadable", body=str(body)[:200])
        self.reload(force=True)

    def reload(self, force: bool = False) -> bool:
        changed = self.hub.refresh(force=force)
        if changed:
            log.info("config.reloaded", worker=self.id, routing_version=self.hub.config.ruleset.version,
                     paused=sorted(self.hub.paused))
        self.report()
        return changed

    def tick(self) -> bool:
        """Between messages: poll the store now and then, report now and then."""
        clock = time.monotonic()
        changed = False
        if clock - self._polled >= POLL_SECONDS:
            self._polled = clock
            try:
                changed = self.hub.refresh()
            except Exception as exc:  # noqa: BLE001 - store away: keep running what we have
                log.warning("config.poll_failed", error=str(exc))
        if changed or clock - self._reported >= HEARTBEAT_SECONDS:
            self.report()
        return changed

    def report(self) -> None:
        self._reported = time.monotonic()
        values = {"kind": self.kind, "host": socket.gethostname(), "pid": os.getpid(),
                  "routing_version": self.hub.config.ruleset.version,
                  "generation": self.hub.live.generation if self.hub.live else 0, "seen_at": now()}
        try:
            with self._lock, self.hub.store.begin() as conn:
                done = conn.execute(workers.update().where(workers.c.id == self.id).values(**values)).rowcount
                if not done:
                    conn.execute(workers.insert().values(id=self.id, started_at=self.started_at, **values))
        except Exception as exc:  # noqa: BLE001 - a missed report is not worth stopping for
            log.warning("worker.report_failed", error=str(exc))

    def leave(self) -> None:
        try:
            with self.hub.store.begin() as conn:
                conn.execute(workers.delete().where(workers.c.id == self.id))
        except Exception:  # noqa: BLE001 - it will show as stale instead
            pass


def listing(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(workers).order_by(workers.c.kind, workers.c.started_at)
    if kind:
        q = q.where(workers.c.kind == kind)
    at = now()
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{"id": r["id"], "kind": r["kind"], "host": r["host"], "pid": r["pid"],
             "routing_version": r["routing_version"], "generation": r["generation"],
             "started_at": iso(r["started_at"]), "seen_at": iso(r["seen_at"]),
             "stale": (at - aware(r["seen_at"])).total_seconds() > STALE_SECONDS} for r in rows]


def forget_stale(store: Store, older_than: float = 3600.0) -> None:
    with store.begin() as conn:
        for r in conn.execute(sa.select(workers.c.id, workers.c.seen_at)).mappings().all():
            if (now() - aware(r["seen_at"])).total_seconds() > older_than:
                conn.execute(workers.delete().where(workers.c.id == r["id"]))
