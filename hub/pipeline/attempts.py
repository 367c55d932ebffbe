"""Each endpoint's attempt log, Svix-style: every try at delivering with its time, outcome, HTTP
status, duration and the first bytes of the answer, so an operator sees why its endpoint fails
without asking the city. Written by the dispatcher (and test sends) beside the timeline events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import adapters
from hub.infra.store import Store, iso, metadata, now

SNIPPET = 500  # characters of the answer kept
KEEP_DAYS = 30.0  # how long attempts stay in the log (the scheduler prunes older ones)

endpoint_attempts = sa.Table(
    "endpoint_attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("destination", sa.String(128), nullable=False),
    sa.Column("delivery_id", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # delivered, retry, failed
    sa.Column("status_code", sa.Integer),
    sa.Column("duration_ms", sa.Float),
    sa.Column("response", sa.Text),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_endpoint_attempts_destination_at", "destination", "at"),
)


def record(conn: Connection, destination: str, delivery_id: str, attempts: Sequence[adapters.Attempt]) -> None:
    if not attempts:
        return
    conn.execute(endpoint_attempts.insert(), [
        {"destination": destination, "delivery_id": delivery_id, "at": now(), "number": a.number,
         "outcome": a.outcome, "status_code": a.status_code, "duration_ms": a.duration_ms,
         "response": (a.response or "")[:SNIPPET] or None, "detail": a.detail[:2000]} for a in attempts])


def log(store: Store, destination: str, limit: int = 100) -> list[dict[str, Any]]:
    """The newest attempts first."""
    t = endpoint_attempts
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t).where(t.c.destination == destination)
                            .order_by(t.c.at.desc(), t.c.id.desc()).limit(limit)).mappings().all()
    return [{"at": iso(r["at"]), "delivery_id": r["delivery_id"], "attempt": r["number"], "outcome": r["outcome"],
             "status_code": r["status_code"], "duration_ms": r["duration_ms"], "response": r["response"],
             "detail": r["detail"]} for r in rows]


def prune(store: Store, keep_days: float = KEEP_DAYS) -> int:
    """Forget attempts older than `keep_days`; returns how many."""
    with store.begin() as conn:
        return conn.execute(endpoint_attempts.delete().where(
            endpoint_attempts.c.at < now() - timedelta(days=keep_days))).rowcount
