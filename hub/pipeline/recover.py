"""Recover, Svix-style: re-send every failed delivery of one destination since a given time, after
an outage on its side ("everything that failed for PLN since 02:00").

Failed means dead (the retries were used up; its dead letter is replayed) or failing (waiting for
its next retry; made due now). A delivered one is never sent again, and a second recover finds
nothing left to do for the deliveries the first one re-sent. The count is shown before anyone
confirms; confirming with a count that no longer holds is refused. Every recover is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.core.errors import Conflict
from hub.infra.store import Store, deliveries, iso, now
from hub.pipeline.deadletter import dead_letters, replay_row
from hub.pipeline.retry import delivery_retries
from hub.settings import audit


class CountChanged(Conflict):
    """The deliveries to re-send are not the ones the person confirmed."""

    code = "count_changed"


def _failed(conn: Connection, destination: str, since: datetime) -> list[dict[str, Any]]:
    waiting = sa.select(delivery_retries.c.delivery_id)
    q = (sa.select(deliveries).where(
        deliveries.c.destination == destination, deliveries.c.updated_at >= since,
        sa.or_(deliveries.c.status == "dead",
               sa.and_(deliveries.c.status == "pending", deliveries.c.id.in_(waiting))))
         .order_by(deliveries.c.updated_at))
    return [dict(r) for r in conn.execute(q).mappings()]


def preview(store: Store, destination: str, since: datetime) -> dict[str, Any]:
    """What a recover would re-send now."""
    with store.engine.connect() as conn:
        rows = _failed(conn, destination, since)
    return {"destination": destination, "since": iso(since), "count": len(rows),
            "dead": sum(r["status"] == "dead" for r in rows),
            "failing": sum(r["status"] == "pending" for r in rows),
            "deliveries": [{"id": r["id"], "complaint_id": r["complaint_id"],
                            "status": "dead" if r["status"] == "dead" else "failing",
                            "last_error": r["last_error"], "failed_at": iso(r["updated_at"])} for r in rows]}


def recover(store: Store, destination: str, since: datetime, *, actor: str, reason: str,
            expected: int | None = None) -> dict[str, Any]:
    """Re-send them, in one transaction with its audit record; returns the message ids to relay."""
    with store.begin() as conn:
        rows = _failed(conn, destination, since)
        if expected is not None and expected != len(rows):
            raise CountChanged(f"{len(rows)} deliveries of {destination} failed since {iso(since)}, not the "
                               f"{expected} confirmed: look at the count again and confirm it")
        message_ids: list[str] = []
        resent: list[str] = []
        skipped: list[dict[str, str]] = []
        for row in rows:
            if row["status"] == "pending":
                conn.execute(delivery_retries.update().where(delivery_retries.c.delivery_id == row["id"])
                             .values(due_at=now()))
                store.add_event(conn, row["complaint_id"], "delivery_recovered",
                                {"destination": destination, "was": "failing"}, actor=actor, delivery_id_=row["id"])
                resent.append(row["id"])
                continue
            q = (sa.select(dead_letters).where(dead_letters.c.delivery_id == row["id"],
                                                dead_letters.c.status == "dead")
                 .order_by(dead_letters.c.dead_at.desc()).limit(1))
            if store.dialect == "postgresql":
                q = q.with_for_update()
            letter = conn.execute(q).mappings().first()
            if letter is None:
                skipped.append({"id": row["id"], "why": "its dead letter was purged; nothing to re-send from"})
                continue
            done = replay_row(store, conn, letter, actor=actor)
            message_ids.append(done["message_id"])
            store.add_event(conn, row["complaint_id"], "delivery_recovered",
                            {"destination": destination, "was": "dead"}, actor=actor, delivery_id_=row["id"])
            resent.append(row["id"])
        audit.record(conn, actor, "destination.recover", destination, reason,
                     {"since": iso(since), "count": len(rows)}, {"resent": resent, "skipped": skipped})
    return {"destination": destination, "since": iso(since), "resent": len(resent), "delivery_ids": resent,
            "skipped": skipped, "message_ids": message_ids}
