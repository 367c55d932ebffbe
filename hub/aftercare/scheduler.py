"""The SLA scheduler: finds deliveries past their time limits and escalates each breach once per
level, through the configured escalation destinations.

Several schedulers may run against one store: the escalation row's unique key (delivery, send,
limit, level) is inserted in the same transaction as the notice's outbox row, and a scheduler that
loses the insert writes nothing.
"""

from __future__ import annotations

import socket
import threading
from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite

from hub.aftercare import citizen
from hub.core import lifecycle
from hub.core.policy import Breach
from hub.infra.metrics import SLA_BREACHES
from hub.infra.outbox import relay
from hub.infra.store import Store, aware, deliveries, iso, metadata
from hub.infra.store import now as utcnow
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.aftercare.scheduler")


escalations = sa.Table(
    "escalations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(64), nullable=False),
    sa.Column("complaint_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),  # acknowledge, resolve
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("sends", sa.Integer, nullable=False, default=1),  # which send of the delivery breached
    sa.Column("breach", sa.JSON, nullable=False),
    sa.Column("scheduler", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("delivery_id", "sends", "kind", "level", name="uq_escalations_once_per_level"),
)


def open_deliveries(hub: Hub) -> list[dict[str, Any]]:
    """Delivered and not done: the clocks that are running."""
    with hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(deliveries).where(
            deliveries.c.delivered_at.is_not(None), deliveries.c.state.not_in(tuple(lifecycle.DONE)))).mappings().all()
    out = []
    for r in rows:
        d = dict(r)
        d["clock_from"] = aware(d["clock_from"] or d["created_at"])
        d["acknowledged_at"] = aware(d["acknowledged_at"])
        out.append(d)
    return out


def _insert_once(conn: Any, dialect: str, values: dict[str, Any]) -> bool:
    """Insert the escalation unless another scheduler already did; True if this one did."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(escalations).values(**values).on_conflict_do_nothing(
        index_elements=["delivery_id", "sends", "kind", "level"]).returning(escalations.c.id)
    return conn.execute(stmt).first() is not None


def escalate(hub: Hub, breach: Breach, sends: int, scheduler: str, at: datetime) -> list[str] | None:
    """Record one breach and its notices in one transaction; None if already escalated."""
    store = hub.store
    with store.begin() as conn:
        if not _insert_once(conn, store.dialect, {
                "delivery_id": breach.delivery_id, "complaint_id": breach.complaint_id, "kind": breach.kind,
                "level": breach.level, "sends": sends, "breach": breach.as_dict(), "scheduler": scheduler, "at": at}):
            return None
        store.add_event(conn, breach.complaint_id, "escalated", breach.as_dict(), actor=f"scheduler:{scheduler}",
                        delivery_id_=breach.delivery_id)
        payload = {"delivery_id": breach.delivery_id, "destination": breach.destination, "kind": breach.kind,
                   "level": breach.level, "target_hours": breach.target_hours,
                   "used_hours": round(breach.used_hours, 2), "due_at": breach.due_at.isoformat(),
                   "complaint_url": f"{hub.settings.public_url.rstrip('/')}/v1/admin/complaints/{breach.complaint_id}"}
        return [citizen.enqueue_notice(hub, conn, breach.complaint_id, dest, "escalation", {"escalation": payload},
                                       notice_id=f"n-esc-{breach.delivery_id}-{sends}-{breach.kind}-{breach.level}-{dest}")
                for dest in breach.notify]


def tick(hub: Hub, now: datetime | None = None, scheduler: str | None = None, bus: Any = None) -> list[Breach]:
    """One pass: escalate every new breach; returns those this scheduler escalated."""
    at = now or utcnow()
    name = scheduler or socket.gethostname()
    policy = hub.config.policy
    if policy is None:
        return []
    done: list[Breach] = []
    message_ids: list[str] = []
    for d in open_deliveries(hub):
        for breach in policy.breaches(d, at):
            mids = escalate(hub, breach, d["sends"], name, at)
            if mids is not None:
                done.append(breach)
                message_ids += mids
                SLA_BREACHES.labels(breach.destination, breach.kind, str(breach.level)).inc()
                log.warning("sla.escalated", complaint_id=breach.complaint_id, destination=breach.destination,
                            kind=breach.kind, level=breach.level, used_hours=round(breach.used_hours, 2))
    if message_ids and bus is not None:
        relay(hub.store, bus, message_ids=message_ids)
    return done


def run(hub: Hub, stop: threading.Event, interval: float = 60.0,
        clock: Callable[[], datetime] = utcnow, extra: list[Callable[[], Any]] | None = None) -> None:
    """Tick every `interval` seconds until stopped (the `laporhub scheduler` process)."""
    bus = hub.bus()
    bus.declare(hub.delivery_queues())
    try:
        while not stop.is_set():
            try:
                tick(hub, clock(), bus=bus)
                for job in extra or []:
                    job()
            except Exception as exc:  # noqa: BLE001 - store or broker down: try again next tick
                log.error("scheduler.tick_failed", error=repr(exc))
            stop.wait(interval)
    finally:
        bus.close()


def breaches(store: Store, limit: int = 200) -> list[dict[str, Any]]:
    """Recorded breaches, newest first, for administrators (console and API)."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(escalations).order_by(escalations.c.at.desc()).limit(limit)).mappings().all()
    return [{**r["breach"], "sends": r["sends"], "scheduler": r["scheduler"], "escalated_at": iso(r["at"])}
            for r in rows]
