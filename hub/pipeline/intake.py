"""Intake: validate a complaint, store it, and queue it for routing in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import structlog
from sqlalchemy.exc import IntegrityError

from hub.core import privacy, schemas
from hub.infra.metrics import COMPLAINTS_ACCEPTED
from hub.infra.store import Store, outbox, outbox_row

log = structlog.get_logger("hub.pipeline.intake")


@dataclass(frozen=True)
class Accepted:
    complaint_id: str
    created: bool


def intake_message(complaint_id: str, complaint: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "laporhub.intake.v1", "complaint_id": complaint_id, "complaint": dict(complaint)}


def accept(store: Store, complaint: Mapping[str, Any], actor: str = "api",
           validated: bool = False) -> Accepted:
    """Store a valid complaint once per (channel, external_ref) and put it in the outbox.

    Raises InvalidMessage naming each bad field (unless the caller `validated` it already, as the
    router does with the intake message that carries it). A repeat returns the first complaint's id.
    """
    if not validated:
        schemas.validate("complaint", complaint)
    complaint = privacy.for_storage(complaint)  # an anonymous reporter's identity is never stored
    try:
        with store.begin() as conn:
            cid, created = store.insert_complaint(conn, complaint)
            if created:
                store.add_event(conn, cid, "received", {"channel": complaint["channel"],
                                                        "external_ref": complaint.get("external_ref")},
                                actor=actor)
                # A new complaint id: its intake message cannot be in the outbox yet.
                conn.execute(outbox.insert().values(**outbox_row(f"intake:{cid}", "intake", "complaint",
                                                                  intake_message(cid, complaint))))
    except IntegrityError:
        # Two submissions of the same (channel, external_ref) raced; the other one won.
        existing = store.find_by_ref(complaint["channel"], complaint["external_ref"])
        if existing is None:
            raise
        return Accepted(existing, False)
    if created:
        COMPLAINTS_ACCEPTED.labels(complaint["channel"]).inc()
    log.info("complaint.accepted" if created else "complaint.repeated", complaint_id=cid,
             channel=complaint["channel"])
    return Accepted(cid, created)
