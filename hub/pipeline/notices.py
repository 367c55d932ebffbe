"""Notices (citizen events to channels, escalations to escalation desks, "+1 report" updates to
an original's destinations): enqueued in the caller's transaction, then delivered through the
destination's adapter on the dispatcher's own queues, with the same once-only and dead-letter
guarantees as deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

import adapters
from hub.core import privacy, schemas
from hub.core.errors import InvalidMessage, LaporHubError
from hub.infra import outbox
from hub.infra.store import iso, metadata, new_id, now
from hub.settings.runtime import Hub


class Worker(Protocol):
    """What a notice needs of the dispatcher's worker side (hub/pipeline/delivering.py; a protocol,
    so this module does not import it back)."""

    hub: Any

    def adapter_for(self, dest: Any) -> Any: ...

    def park(self, reason: str, raw: bytes | str, routing_key: str | None, **fields: Any) -> str: ...


log = structlog.get_logger("hub.pipeline.notices")

PUBLIC_FIELDS = ("note", "resolution_note", "photo_url", "reason", "to", "rating", "linked_to", "reports")


def publish(hub: Hub, conn: Connection, complaint: Mapping[str, Any], kind: str, state: str,
            fields: Mapping[str, Any], destination: str | None = None, at: datetime | None = None) -> list[str]:
    """Enqueue the event (and the channel's notice) in the caller's transaction; returns message ids."""
    event: dict[str, Any] = {
        "type": "laporhub.event.v1", "event_id": new_id("e"), "complaint_id": complaint["id"],
        "channel": complaint["channel"], "external_ref": complaint.get("external_ref"),
        "kind": kind, "state": state, "at": iso(at or now()),
    }
    if destination:
        event["destination"] = {"id": destination, "name": destination_name(hub, destination)}
    # Notes come from destinations and leave the hub: identifiers in them are masked (issue 11).
    event.update({k: privacy.mask_value(v) for k, v in fields.items() if k in PUBLIC_FIELDS and v not in (None, "")})
    schemas.validate("event", event)
    ids = [f"event:{event['event_id']}"]
    outbox.enqueue(conn, ids[0], "events", f"complaint.{kind}", event,
                   headers={"laporhub-complaint-id": complaint["id"]})
    policy = hub.config.policy
    channel_dest = policy.channels.get(complaint["channel"]) if policy else None
    if channel_dest:
        ids.append(enqueue_notice(hub, conn, complaint["id"], channel_dest, "event", {"event": event}))
    return ids


def enqueue_notice(hub: Hub, conn: Connection, complaint_id: str, destination: str, kind: str,
                   payload: Mapping[str, Any], notice_id: str | None = None) -> str:
    """A notice row (for duplicate suppression and its outcome) and its message, for the dispatcher."""
    nid = notice_id or new_id("n")
    message = schemas.validate("notice", {
        "type": "laporhub.notice.v1", "notice_id": nid, "destination": destination,
        "complaint_id": complaint_id, "kind": kind, **payload, "created_at": iso(now())})
    conn.execute(notices.insert().values(id=nid, complaint_id=complaint_id, destination=destination,
                                         kind=kind, status="pending", attempts=0, created_at=now()))
    mid = f"notice:{nid}"
    outbox.enqueue(conn, mid, "delivery", destination, message,
                   headers={"laporhub-complaint-id": complaint_id})
    return mid


def destination_name(hub: Hub, destination: str) -> str:
    """The destination's name as citizens read it (its id if it is gone from the registry)."""
    reg = hub.config.registry
    return reg.get(destination).name if destination in reg else destination


notices = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("complaint_id", sa.String(64), nullable=False, index=True),
    sa.Column("destination", sa.String(128), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # event, escalation, duplicate
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
