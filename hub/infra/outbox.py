"""Transactional outbox: messages are written with the state change that causes them, then relayed.

A complaint is accepted when its row and its intake message are committed together; the relay
publishes afterwards and marks each message published only once the broker confirmed it. If the
broker is down, the API still answers and the relay catches up when it is back. Several relays
can run at once: each claims its rows first (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one
UPDATE ... RETURNING under the database's write lock), so no row is published by two of them.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from hub.infra.bus import Bus
from hub.infra.publisher import NotConfirmed
from hub.infra.store import Store, now, outbox, outbox_row

log = structlog.get_logger("hub.infra.outbox")


def enqueue(conn: Connection, message_id: str, exchange: str, routing_key: str,
            body: Mapping[str, Any] | str, headers: Mapping[str, Any] | None = None) -> bool:
    """Record a message to publish once this transaction commits. Idempotent on message_id:
    returns False (and says so in the log) when that id is already in the outbox, so a caller
    that needs a new message can tell it got none."""
    exists = conn.execute(sa.select(outbox.c.id).where(outbox.c.message_id == message_id)).scalar()
    if exists:
        log.info("outbox.duplicate_skipped", message_id=message_id)
        return False
    conn.execute(outbox.insert().values(**outbox_row(message_id, exchange, routing_key, body, headers)))
    return True


def backlog(store: Store) -> int:
    """Messages committed but not yet published."""
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(outbox)
                            .where(outbox.c.published_at.is_(None))).scalar_one()


def relay(store: Store, bus: Bus, *, limit: int = 200, message_ids: list[str] | None = None) -> int:
    """Publish up to `limit` unpublished messages (or just `message_ids`); return how many."""
    failure: Exception | None = None
    with store.begin() as conn:
        rows = claim(store, conn, limit, message_ids)
        done: list[int] = []
        if rows:
            try:
                confirmed = bus.publish_many(rows)
                done = [row["id"] for row, ok in zip(rows, confirmed) if ok]
                if len(done) < len(rows):
                    failure = NotConfirmed(f"the broker confirmed {len(done)} of {len(rows)} messages")
            except Exception as exc:  # noqa: BLE001 - re-raised once the confirmed ones are marked
                failure = exc
        settle(store, conn, rows, done)
    if failure is not None:
        raise failure
    return len(done)


def claim(store: Store, conn: Connection, limit: int, message_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Claim unpublished rows for this transaction, so no other relay publishes them too.

    PostgreSQL: row locks, FOR UPDATE SKIP LOCKED (other relays take other rows). SQLite has no
    row locks: one UPDATE ... RETURNING marks the rows published and holds the database's write
    lock until the transaction ends; `settle` gives back the rows the broker did not confirm."""
    if store.dialect == "postgresql":
        locked = sa.select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(limit)
        if message_ids is not None:
            locked = locked.where(outbox.c.message_id.in_(message_ids))
        return [dict(r) for r in conn.execute(locked.with_for_update(skip_locked=True)).mappings().all()]
    q = sa.select(outbox.c.id).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id).limit(limit)
    if message_ids is not None:
        q = q.where(outbox.c.message_id.in_(message_ids))
    claimed = conn.execute(outbox.update().where(outbox.c.id.in_(q.scalar_subquery()))
                           .values(published_at=now()).returning(*outbox.c)).mappings().all()
    return sorted((dict(r) for r in claimed), key=lambda r: r["id"])


def settle(store: Store, conn: Connection, rows: list[dict[str, Any]], confirmed: list[int]) -> None:
    """Mark the confirmed rows of a claim published, and only those."""
    if store.dialect == "postgresql":
        if confirmed:
            conn.execute(outbox.update().where(outbox.c.id.in_(confirmed)).values(published_at=now()))
        return
    done = set(confirmed)
    back = [r["id"] for r in rows if r["id"] not in done]
    if back:
        conn.execute(outbox.update().where(outbox.c.id.in_(back)).values(published_at=None))


def run_relay(store: Store, bus: Bus, stop: threading.Event, interval: float = 0.5,
              wake: threading.Event | None = None) -> None:
    """Keep the outbox empty until `stop` is set; broker outages only delay it. `wake` cuts the
    wait short (set after a commit that queued messages)."""
    wake = wake or stop
    while not stop.is_set():
        try:
            while relay(store, bus) and not stop.is_set():
                pass
        except Exception as exc:  # noqa: BLE001 - the relay must outlive any single failure
            log.warning("outbox.relay_failed", error=str(exc))
            stop.wait(1)
        wake.wait(interval)
        if wake is not stop:
            wake.clear()


class RelayThread:
    """A relay on a thread of its own (the API's): woken after each commit, and every half second."""

    def __init__(self, store: Store, connect: Callable[[], Bus]) -> None:
        self.store, self.connect = store, connect
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    def _run(self) -> None:
        bus = self.connect()
        try:
            run_relay(self.store, bus, self.stop, wake=self.wake)
        finally:
            bus.close()

    def start(self) -> None:
        self.thread.start()

    def close(self, timeout: float = 10) -> None:
        self.stop.set()
        self.wake.set()
        self.thread.join(timeout=timeout)
