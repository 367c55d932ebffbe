"""Administrators correct duplicate links: unlink a wrong match (the complaint is then routed and
delivered like any other) or link two complaints by hand. Both are audited with a reason."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hub.core.classify import classify
from hub.core.duplicates import Link
from hub.core.errors import ComplaintNotFound, Conflict, FieldError, InvalidMessage
from hub.core.rules import decide
from hub.core import schemas
from hub.infra.store import complaints, deliveries, event_row, events, outbox
from hub.pipeline import linking
from hub.pipeline.linking import complaint_links
from hub.pipeline.notices import publish
from hub.pipeline.routing import plan
from hub.settings import audit
from hub.settings.runtime import Hub


class LinkRefused(Conflict):
    """The link or unlink asked for would not make sense; the message says why (409)."""


def _reason(reason: str | None) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidMessage("request", [FieldError("reason", "is required: say why, for the audit")])
    return reason.strip()


def link(hub: Hub, complaint_id: str, original_id: str, actor: str, reason: str | None) -> list[str]:
    """Link `complaint_id` to `original_id` by hand; returns outbox message ids to relay."""
    why = _reason(reason)
    if complaint_id == original_id:
        raise LinkRefused("a complaint cannot repeat itself")
    with hub.store.begin() as conn:
        row = hub.store.complaint_row(conn, complaint_id, lock=True)
        original = hub.store.complaint_row(conn, original_id, lock=True)
        for cid, found in ((complaint_id, row), (original_id, original)):
            if found is None:
                raise ComplaintNotFound(cid)
        if row["classification"] is None:
            raise LinkRefused(f"complaint {complaint_id} is not routed yet")
        already = conn.execute(sa.select(complaint_links.c.original_id).where(
            complaint_links.c.complaint_id == complaint_id)).scalar()
        if already:
            raise LinkRefused(f"complaint {complaint_id} is already linked to {already}; unlink it first")
        root = conn.execute(sa.select(complaint_links.c.original_id).where(
            complaint_links.c.complaint_id == original_id)).scalar()
        if root:
            raise LinkRefused(f"complaint {original_id} is itself a repeat of {root}; link to {root}")
        if conn.execute(sa.select(complaint_links.c.complaint_id).where(
                complaint_links.c.original_id == complaint_id).limit(1)).scalar():
            raise LinkRefused(f"complaint {complaint_id} has repeats of its own; unlink them first")
        ids = linking.record(hub, conn, {**row, "id": complaint_id}, Link(original_id, "hand", None, 1.0),
                             actor=actor)
        audit.record(conn, actor, "complaint.link", complaint_id, why, before=None,
                     after={"duplicate_of": original_id})
    return ids


def unlink(hub: Hub, complaint_id: str, actor: str, reason: str | None) -> list[str]:
    """Undo a link. A complaint that was never delivered is now routed under the published rules
    and delivered; returns outbox message ids to relay."""
    why = _reason(reason)
    cfg = hub.config
    with hub.store.begin() as conn:
        row = hub.store.complaint_row(conn, complaint_id, lock=True)
        if row is None:
            raise ComplaintNotFound(complaint_id)
        original_id = conn.execute(sa.select(complaint_links.c.original_id).where(
            complaint_links.c.complaint_id == complaint_id)).scalar()
        if original_id is None:
            raise LinkRefused(f"complaint {complaint_id} is not linked to another")
        conn.execute(complaint_links.delete().where(complaint_links.c.complaint_id == complaint_id))
        hub.store.add_event(conn, complaint_id, "unlinked", {"original": original_id, "reason": why}, actor=actor)
        hub.store.add_event(conn, original_id, "repeat_unlinked", {"complaint_id": complaint_id, "reason": why},
                            actor=actor)
        ids: list[str] = []
        delivered = conn.execute(sa.select(deliveries.c.id).where(deliveries.c.complaint_id == complaint_id)).first()
        if delivered is None:
            body = row["body"]
            c = classify(body, cfg.taxonomy, cfg.areas)
            decision = decide(body, c, cfg.ruleset, cfg.registry, cfg.taxonomy)
            cdict = schemas.validate("classification", c.as_dict())
            rows, messages = plan(hub, complaint_id, body, cdict, decision)
            conn.execute(events.insert(), [event_row(complaint_id, "routed", decision.as_dict(), actor=actor)])
            for table, values in ((deliveries, rows), (outbox, messages)):
                if values:
                    conn.execute(table.insert(), values)
            hub.store.set_routed(conn, complaint_id, cdict, decision.as_dict())
            ids += [m["message_id"] for m in messages]
        conn.execute(complaints.update().where(complaints.c.id == complaint_id).values(
            status="routed" if delivered is None else "delivered", state="open"))
        ids += publish(hub, conn, {**row, "id": complaint_id}, "unlinked", "open", {}, )
        audit.record(conn, actor, "complaint.unlink", complaint_id, why, before={"duplicate_of": original_id},
                     after=None)
    return ids


def view(hub: Hub, complaint_id: str) -> dict[str, Any]:
    with hub.store.engine.connect() as conn:
        return linking.view(conn, complaint_id)


__all__ = ["LinkRefused", "link", "unlink", "view"]
