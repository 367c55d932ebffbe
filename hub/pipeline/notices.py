"""Delivering notices (citizen events to channels, escalations to escalation desks) through the
destination's adapter, on the dispatcher's own queues, with the same once-only and dead-letter
guarantees as deliveries."""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
import structlog

import adapters
from hub.core import schemas
from hub.core.errors import InvalidMessage, LaporHubError
from hub.infra.store import metadata, now


class Worker(Protocol):
    """What a notice needs of the dispatcher's worker side (hub/pipeline/delivering.py; a protocol,
    so this module does not import it back)."""

    hub: Any

    def adapter_for(self, dest: Any) -> Any: ...

    def park(self, reason: str, raw: bytes | str, routing_key: str | None, **fields: Any) -> str: ...

log = structlog.get_logger("hub.pipeline.notices")


notices = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("complaint_id", sa.String(64), nullable=False, index=True),
    sa.Column("destination", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # event, escalation
    sa.Column("status", sa.String(32), nullable=False),  # pending, delivered, dead
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
)


def process(dispatcher: "Worker", doc: dict[str, Any], raw: bytes | str, routing_key: str | None) -> str:
    """Deliver one notice; returns delivered, duplicate or dead."""
    store = dispatcher.hub.store
    try:
        schemas.validate("notice", doc)
    except InvalidMessage as exc:
        return dispatcher.park(str(exc), raw, routing_key, errors=exc.errors)
    nid, dest = doc["notice_id"], doc["destination"]
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(notices).where(notices.c.id == nid)).mappings().first()
    if row is None:
        return dispatcher.park(f"notice {nid} is not in the store", raw, routing_key,
                                        complaint_id=doc["complaint_id"], destination=dest)
    if row["status"] != "pending":
        return "duplicate"
    try:
        receipt = dispatcher.adapter_for(dest).deliver(doc)
    except adapters.Failed as exc:
        return _failed(dispatcher, doc, raw, routing_key, exc.reason, len(exc.attempts))
    except (LaporHubError, ValueError, KeyError) as exc:
        return _failed(dispatcher, doc, raw, routing_key, str(exc), 0)
    with store.begin() as conn:
        conn.execute(notices.update().where(notices.c.id == nid).values(
            status="delivered", attempts=row["attempts"] + len(receipt.attempts), delivered_at=now()))
    log.info("notice.delivered", destination=dest, kind=doc["kind"], complaint_id=doc["complaint_id"])
    return "delivered"


def _failed(dispatcher: "Worker", doc: dict[str, Any], raw: bytes | str, routing_key: str | None,
            reason: str, attempts: int) -> str:
    def record(conn: sa.Connection) -> None:
        conn.execute(notices.update().where(notices.c.id == doc["notice_id"]).values(
            status="dead", attempts=notices.c.attempts + attempts, last_error=reason))

    return dispatcher.park(reason, raw, routing_key, also=record, complaint_id=doc["complaint_id"],
                           destination=doc["destination"])
