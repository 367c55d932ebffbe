"""Control messages: after an administrative change, one goes out on the `<prefix>.control` fanout
exchange, through the outbox in the change's own transaction, so every worker reloads at once."""

from __future__ import annotations

import sqlalchemy as sa

from hub.core import schemas
from hub.infra import outbox
from hub.infra.store import Store, iso, now


def announce(store: Store, conn: sa.Connection, generation: int, change: str, *,
             routing_version: str | None = None, destination: str | None = None) -> str:
    """Queue a control message in the change's transaction; returns its outbox message id."""
    message = schemas.validate("control", {
        "type": "laporhub.control.v1", "change": change, "generation": generation,
        "routing_version": routing_version, "destination": destination,
        "at": iso(now())})
    mid = f"control:{generation}"
    outbox.enqueue(conn, mid, "control", "", message)
    return mid
