"""The reconciler: the safety net under every other path. Now and then it looks for deliveries
left `pending` with nothing that will move them on (`overdue`: a lease whose worker died,
a retry nobody re-queued, a message lost before anyone claimed it) and re-queues each with a
message id of its own, counting them (`laporhub_deliveries_reconciled_total`) and saying so in
the log. Re-queueing is safe even if the delivery was not stranded after all: the lease lets
only one worker work it, and a settled one is acknowledged without a second send.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from hub.core import schemas
from hub.core.rules import Target
from hub.infra.bus import Bus
from hub.infra.metrics import RECONCILED
from hub.infra import outbox
from hub.infra.outbox import relay
from hub.infra.store import Store, complaints, deliveries, now
from hub.pipeline.retry import WATCH_SECONDS, delivery_retries
from hub.pipeline.routing import delivery_message
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.pipeline.reconcile")

INTERVAL = 15.0


def overdue(store: Store, paused: frozenset[str] = frozenset(), grace: float = 300.0,
            slack: float = 60.0) -> sa.Select:
    """Pending deliveries that nothing will move on, as (id, destination) rows: a lease that
    expired (its worker died), a retry overdue by more than `slack` seconds (no retry poller
    running), or, never claimed and with no retry scheduled, untouched for `grace` seconds (its
    message lost). Paused destinations' deliveries wait on purpose and are left out."""
    at = now()
    d, r = deliveries, delivery_retries
    no_retry = ~sa.exists(sa.select(r.c.delivery_id).where(r.c.delivery_id == d.c.id))
    retry_late = sa.exists(sa.select(r.c.delivery_id).where(
        r.c.delivery_id == d.c.id, r.c.due_at < at - timedelta(seconds=slack)))
    expired = d.c.lease_until < at - timedelta(seconds=5)
    q = sa.select(d.c.id, d.c.destination).where(
        d.c.status == "pending", sa.or_(d.c.lease_until.is_(None), expired),
        sa.or_(retry_late, sa.and_(no_retry, sa.or_(expired, d.c.updated_at < at - timedelta(seconds=grace)))))
    return q.where(d.c.destination.not_in(sorted(paused))) if paused else q


def message_for(hub: Hub, conn: Connection, delivery_id: str) -> dict[str, Any] | None:
    """The delivery message, made again from the store (as routing and re-routing make it)."""
    row = conn.execute(sa.select(deliveries, complaints.c.body, complaints.c.classification,
                                 complaints.c.ruleset_version)
                       .join(complaints, complaints.c.id == deliveries.c.complaint_id)
                       .where(deliveries.c.id == delivery_id)).mappings().first()
    if row is None or row["destination"] not in hub.config.registry:
        return None
    message = delivery_message(row["complaint_id"], row["body"], row["classification"],
                               Target(row["destination"], row["rule_id"], row["reason"]),
                               hub.config.registry.get(row["destination"]), row["ruleset_version"] or "",
                               delivery_id, hub.settings.public_url)
    if row["handoff"]:
        message["handoff"] = dict(row["handoff"])
    return schemas.validate("delivery", message)


def reconcile(hub: Hub, bus: Bus, limit: int = 500) -> list[str]:
    """Re-queue the deliveries nothing will move on; returns their delivery ids."""
    store = hub.store
    ids: list[str] = []
    messages: list[str] = []
    with store.begin() as conn:
        q = overdue(store, hub.paused, grace=hub.settings.reconcile_grace).limit(limit)
        if store.dialect == "postgresql":
            q = q.with_for_update(of=deliveries, skip_locked=True)
        for did, destination in conn.execute(q).all():
            body = conn.execute(sa.select(delivery_retries.c.body)
                                .where(delivery_retries.c.delivery_id == did)).scalar()
            if body is None:
                message = message_for(hub, conn, did)
                if message is None:
                    log.error("delivery.unreconcilable", delivery_id=did, destination=destination)
                    continue
                body_or_doc: Any = message
            else:
                body_or_doc = body
                conn.execute(delivery_retries.update().where(delivery_retries.c.delivery_id == did)
                             .values(due_at=now() + timedelta(seconds=WATCH_SECONDS)))
            mid = f"reconcile:{did}:{uuid.uuid4().hex[:12]}"
            outbox.enqueue(conn, mid, "delivery", destination, body_or_doc, headers={"x-laporhub-reconciled": True})
            conn.execute(deliveries.update().where(deliveries.c.id == did)
                         .values(lease_owner=None, lease_until=None, updated_at=now()))
            ids.append(did)
            messages.append(mid)
            RECONCILED.labels(destination).inc()
            log.warning("delivery.reconciled", delivery_id=did, destination=destination,
                        detail="pending with nothing in flight and no retry due; re-queued")
    if messages:
        relay(store, bus, message_ids=messages)
    return ids


def run(hub: Hub, bus: Bus, stop: threading.Event, interval: float = INTERVAL) -> None:
    """Reconcile every `interval` seconds until `stop`."""
    while not stop.wait(interval):
        try:
            reconcile(hub, bus)
        except Exception as exc:  # noqa: BLE001 - store or broker away: the next pass tries again
            log.warning("reconcile.failed", error=str(exc)[:300])
