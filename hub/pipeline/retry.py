"""The long retry schedule in the store: a delivery that failed its quick in-process retries waits
here until it is due, then is re-queued (no sleeping threads); how long it waits is decided by
hub/core/retries.py. Also the endpoint state behind "failing for too long" alerts and HTTP 410
disabling."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from hub.infra import outbox
from hub.infra.store import Store, metadata, now

delivery_retries = sa.Table(
    "delivery_retries", metadata,
    sa.Column("delivery_id", sa.String(64), primary_key=True),
    sa.Column("destination", sa.String(128), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("last_error", sa.Text),
)

endpoints = sa.Table(
    "endpoints", metadata,
    sa.Column("destination", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # ok, failing, disabled
    sa.Column("failing_since", sa.DateTime(timezone=True)),
    sa.Column("alerted_at", sa.DateTime(timezone=True)),
    sa.Column("reason", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# After a re-queue, how long until the retry row comes due again if nothing settled the delivery
# (its message lost on the way): longer than a lease, so a delivery being worked is left alone.
WATCH_SECONDS = 300.0


def next_step(conn: Connection, delivery_id: str) -> int:
    step = conn.execute(sa.select(delivery_retries.c.step)
                        .where(delivery_retries.c.delivery_id == delivery_id)).scalar()
    return 0 if step is None else step + 1


def schedule(conn: Connection, delivery_id: str, destination: str, body: str, step: int,
             seconds: float, error: str) -> None:
    """The delivery's next try in `seconds`; `step` is the schedule entry now used (-1: none yet,
    when a try was only put off by an open circuit)."""
    conn.execute(delivery_retries.delete().where(delivery_retries.c.delivery_id == delivery_id))
    conn.execute(delivery_retries.insert().values(
        delivery_id=delivery_id, destination=destination, step=step,
        due_at=now() + timedelta(seconds=seconds), body=body, last_error=error))


def forget(conn: Connection, delivery_id: str) -> None:
    conn.execute(delivery_retries.delete().where(delivery_retries.c.delivery_id == delivery_id))


def requeue_due(store: Store, limit: int = 200, skip: frozenset[str] = frozenset(),
                watch: float = WATCH_SECONDS) -> list[str]:
    """Put due deliveries back in the outbox (their own delivery queue); returns message ids.

    Each re-queue gets a message id of its own (`retry:<delivery>:<step>:<nonce>`), so it can
    never collide with an earlier one and be skipped. The retry row stays (so the next failure
    knows its step) with its due time moved `watch` seconds on, always beside the message that
    will fire: if that message is lost, the row comes due again and is re-queued. Destinations in
    `skip` (paused) wait where they are."""
    ids: list[str] = []
    with store.begin() as conn:
        q = (sa.select(delivery_retries).where(delivery_retries.c.due_at <= now())
             .order_by(delivery_retries.c.due_at).limit(limit))
        if skip:
            q = q.where(delivery_retries.c.destination.not_in(sorted(skip)))
        if store.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        for row in conn.execute(q).mappings().all():
            message_id = f"retry:{row['delivery_id']}:{row['step']}:{uuid.uuid4().hex[:12]}"
            if not outbox.enqueue(conn, message_id, "delivery", row["destination"], row["body"],
                                  headers={"x-laporhub-retry": row["step"] + 1}):
                raise RuntimeError(f"retry message {message_id} collided with an earlier one")
            conn.execute(delivery_retries.update()
                         .where(delivery_retries.c.delivery_id == row["delivery_id"])
                         .values(due_at=now() + timedelta(seconds=watch)))
            ids.append(message_id)
    return ids


def waiting(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(delivery_retries)).scalar_one()


# -- endpoint state ------------------------------------------------------------------------------

def endpoint_state(conn: Connection, destination: str) -> dict[str, Any] | None:
    """The endpoint's row (status ok, failing or disabled), or None if it never failed."""
    row = conn.execute(sa.select(endpoints).where(endpoints.c.destination == destination)).mappings().first()
    return dict(row) if row else None


def _put(conn: Connection, destination: str, **values: Any) -> None:
    """Insert or update the endpoint's row in one statement (two deliveries failing at once
    must not both insert it)."""
    if "status" not in values:  # a change to a row that exists (its status was set before)
        conn.execute(endpoints.update().where(endpoints.c.destination == destination)
                     .values(updated_at=now(), **values))
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(endpoints).values(destination=destination, updated_at=now(), **values)
                 .on_conflict_do_update(index_elements=[endpoints.c.destination],
                                        set_={"updated_at": now(), **values}))


def failing(conn: Connection, destination: str, reason: str, failing_after: float) -> bool:
    """Note a failure; True exactly once, when the endpoint has been failing `failing_after`
    seconds without a success (the moment to alert)."""
    state = endpoint_state(conn, destination)
    if state is None or state["status"] == "ok":
        _put(conn, destination, status="failing", failing_since=now(), alerted_at=None, reason=reason)
        return failing_after <= 0
    if state["status"] == "disabled":
        return False
    since = state["failing_since"]
    since = since if since.tzinfo else since.replace(tzinfo=now().tzinfo)
    alert = state["alerted_at"] is None and (now() - since).total_seconds() >= failing_after
    _put(conn, destination, reason=reason, **({"alerted_at": now()} if alert else {}))
    return alert


def recovered(conn: Connection, destination: str) -> None:
    state = endpoint_state(conn, destination)
    if state is not None and state["status"] == "failing":
        _put(conn, destination, status="ok", failing_since=None, alerted_at=None, reason=None)


def disable(conn: Connection, destination: str, reason: str) -> None:
    _put(conn, destination, status="disabled", reason=reason)


def enable(store: Store, destination: str) -> None:
    with store.begin() as conn:
        _put(conn, destination, status="ok", failing_since=None, alerted_at=None, reason=None)


def disabled_reason(store: Store, destination: str) -> str | None:
    with store.engine.connect() as conn:
        state = endpoint_state(conn, destination)
    return state["reason"] if state and state["status"] == "disabled" else None


def states(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(endpoints).order_by(endpoints.c.destination)).mappings()]
