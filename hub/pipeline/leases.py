"""Delivery leases: a delivery is claimed before it is worked, so it is worked in one place at a
time even when its message is delivered twice (two relays, a redelivery after a lost
connection, a re-queue by the reconciler).

A claim is one conditional UPDATE that only one worker can win: the delivery must be pending and
its lease free or expired. The winner holds the lease (a token naming its worker) and renews it
while it works; the loser acks its copy of the message and moves on. Settling a delivery
(delivered, retry scheduled, dead) happens only under the lease and releases it. A worker that
dies leaves a lease that expires; the reconciler then re-queues the delivery and another worker
takes it over.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from hub.core.errors import LaporHubError
from hub.infra.store import Store, deliveries, now

log = structlog.get_logger("hub.pipeline.leases")

LEASE_SECONDS = 60.0


class LeaseLost(LaporHubError):
    """The lease expired and another worker took the delivery over: this one must not settle it."""


def claim(store: Store, delivery_id: str, token: str, seconds: float = LEASE_SECONDS) -> bool:
    """Take the delivery's lease if it is pending and its lease free or expired; True if won."""
    at = now()
    with store.begin() as conn:
        result = conn.execute(deliveries.update().where(
            deliveries.c.id == delivery_id, deliveries.c.status == "pending",
            sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < at),
        ).values(lease_owner=token, lease_until=at + timedelta(seconds=seconds), updated_at=at))
        return result.rowcount == 1


def settle(conn: Connection, delivery_id: str, token: str | None, **values: object) -> None:
    """Update the pending delivery under the lease and release it; LeaseLost if the lease is not
    ours. Without a token (a message given up on before it was ever claimed) the lease must be free."""
    held = (deliveries.c.lease_owner == token if token is not None
            else sa.or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now()))
    result = conn.execute(deliveries.update().where(
        deliveries.c.id == delivery_id, held, deliveries.c.status == "pending",
    ).values(lease_owner=None, lease_until=None, updated_at=now(), **values))
    if result.rowcount != 1:
        raise LeaseLost(f"the lease on {delivery_id} was lost (expired and taken over); its outcome is not recorded")


def release(store: Store, delivery_id: str, token: str) -> None:
    """Give the lease back without settling (e.g. the destination was paused meanwhile)."""
    with store.begin() as conn:
        conn.execute(deliveries.update().where(deliveries.c.id == delivery_id, deliveries.c.lease_owner == token)
                     .values(lease_owner=None, lease_until=None))


class Leases:
    """The leases one dispatcher holds, renewed every third of their term while they are held."""

    def __init__(self, store: Store, worker_id: str, seconds: float = LEASE_SECONDS) -> None:
        self.store, self.worker_id, self.seconds = store, worker_id, seconds
        self._held: dict[str, str] = {}  # token -> delivery id
        self._lock = threading.Lock()

    def take(self, delivery_id: str) -> str | None:
        """A token if this worker won the delivery, None if another holds it (or it is settled)."""
        token = f"{self.worker_id}:{uuid.uuid4().hex[:12]}"
        if not claim(self.store, delivery_id, token, self.seconds):
            return None
        with self._lock:
            self._held[token] = delivery_id
        return token

    def drop(self, token: str) -> None:
        with self._lock:
            self._held.pop(token, None)

    def renew(self) -> int:
        """Push every held lease's expiry forward; returns how many were renewed."""
        with self._lock:
            tokens = list(self._held)
        if not tokens:
            return 0
        with self.store.begin() as conn:
            result = conn.execute(deliveries.update().where(deliveries.c.lease_owner.in_(tokens))
                                  .values(lease_until=now() + timedelta(seconds=self.seconds)))
        return result.rowcount

    def keep(self, stop: threading.Event) -> None:
        """Renew until `stop`; store trouble only delays a renewal (the term allows two misses)."""
        while not stop.wait(self.seconds / 3):
            try:
                self.renew()
            except Exception as exc:  # noqa: BLE001 - the store may be restarting; try again
                log.warning("leases.renew_failed", error=str(exc)[:300])
