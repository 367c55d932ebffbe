"""Replies by e-mail, as the city's mail gateway posts them (raw RFC 822) to /v1/inbound/email.

The reply address (`balas+<signed token>@...`) names the delivery; the reply's own words (quoted
history and signatures stripped) become a status update through `status.apply`: a first word such
as "selesai" or "bukan wewenang" moves the state, anything else is a progress note. Every message,
applied or refused, is kept in `inbound_mail` with the reason, for an administrator to look at.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
import structlog

from hub.aftercare import status
from hub.core import lifecycle, replies
from hub.core.errors import ComplaintNotFound, InvalidMessage
from hub.core.privacy import mask_text
from hub.infra.store import Store, deliveries, iso, metadata, new_id, now
from hub.pipeline.context import links
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.aftercare.inbound")

MAX_KEPT = 256 * 1024  # bytes of a refused message kept for the administrator
KEEP_DAYS = 30.0  # how long kept messages stay (the scheduler prunes older ones)

inbound_mail = sa.Table(
    "inbound_mail", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("outcome", sa.String(16), nullable=False),  # applied, noted, refused
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("sender", sa.String(320)),
    sa.Column("subject", sa.String(500)),
    sa.Column("delivery_id", sa.String(64)),
    sa.Column("complaint_id", sa.String(64)),
    sa.Column("status", sa.String(32)),
    sa.Column("raw", sa.Text, nullable=False),
)


@dataclass
class Outcome:
    """What became of one message: `code` is the HTTP status the gateway gets."""

    id: str
    outcome: str
    reason: str
    code: int
    complaint_id: str | None = None
    state: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "outcome": self.outcome, "message": self.reason,
                **({"complaint_id": self.complaint_id} if self.complaint_id else {}),
                **({"state": self.state} if self.state else {}), **self.extra}


def keep(hub: Hub, raw: bytes, outcome: str, reason: str, msg: EmailMessage | None = None,
         delivery: dict[str, Any] | None = None, status_: str | None = None) -> str:
    mid = new_id("mail")
    with hub.store.begin() as conn:
        conn.execute(inbound_mail.insert().values(
            id=mid, received_at=now(), outcome=outcome, reason=reason[:2000],
            sender=str(msg.get("From", ""))[:320] if msg else None,
            subject=str(msg.get("Subject", ""))[:500] if msg else None,
            delivery_id=delivery["id"] if delivery else None,
            complaint_id=delivery["complaint_id"] if delivery else None, status=status_,
            raw=raw[:MAX_KEPT].decode("utf-8", errors="replace")))
    if outcome == "refused":
        log.warning("inbound.refused", reason=reason, id=mid)
    return mid


def refuse(hub: Hub, raw: bytes, reason: str, code: int, msg: EmailMessage | None = None,
           delivery: dict[str, Any] | None = None) -> Outcome:
    return Outcome(keep(hub, raw, "refused", reason, msg, delivery), "refused", reason, code,
                   delivery["complaint_id"] if delivery else None)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def receive(hub: Hub, raw: bytes) -> Outcome:
    """Match, read and apply one authenticated message."""
    try:
        msg = parse(raw)
    except Exception as exc:  # noqa: BLE001 - the email package raises many kinds on garbage
        return refuse(hub, raw, f"not an RFC 822 message: {exc}", 422)
    machine = replies.automatic(msg)
    if machine:
        return refuse(hub, raw, f"an automatic message, not a reply ({machine}): not recorded", 422, msg)
    signer = links(hub)
    found = next((d for d in (signer.delivery_of_reply(a) for a in replies.recipients(msg)) if d), None)
    if found is None:
        return refuse(hub, raw, "no recipient is a LaporHub reply address (balas+<token>@...): the message "
                      "cannot be matched to a delivery", 422, msg)
    with hub.store.engine.connect() as conn:
        row = conn.execute(sa.select(deliveries).where(deliveries.c.id == found)).mappings().first()
    if row is None:
        return refuse(hub, raw, f"the reply address names delivery {found}, which does not exist", 422, msg)
    delivery = dict(row)
    reply = replies.read(replies.body_text(msg))
    if not reply.text:
        return refuse(hub, raw, "the reply has no text of its own (only the quoted e-mail)", 422, msg, delivery)
    update = _update(msg, delivery, reply)
    if update["status"] == "in_progress" and "in_progress" not in lifecycle.allowed(delivery["state"]):
        # A note on a delivery that is done: kept on the timeline, the state does not move.
        with hub.store.begin() as conn:
            hub.store.add_event(conn, delivery["complaint_id"], "reply_received",
                                {"destination": delivery["destination"], "internal_note": update["note"]},
                                actor=delivery["destination"], delivery_id_=delivery["id"])
        mid = keep(hub, raw, "noted", f"recorded as a note; the delivery is {delivery['state']}", msg, delivery)
        return Outcome(mid, "noted", f"recorded as a note; the delivery is {delivery['state']}", 200,
                       delivery["complaint_id"], delivery["state"])
    try:
        result = status.apply(hub, update)
    except lifecycle.IllegalTransition as exc:
        return refuse(hub, raw, str(exc), 409, msg, delivery)
    except (InvalidMessage, ComplaintNotFound, status.NotDelivered) as exc:
        return refuse(hub, raw, str(exc), 422, msg, delivery)
    mid = keep(hub, raw, "applied", f"{update['status']} from a reply", msg, delivery, update["status"])
    return Outcome(mid, "applied", f"{update['status']} from a reply", 200, result.complaint_id, result.state,
                   {"duplicate": result.duplicate, "rerouted_to": result.rerouted_to,
                    "message_ids": result.message_ids})


def _update(msg: EmailMessage, delivery: dict[str, Any], reply: replies.Reply) -> dict[str, Any]:
    status_ = reply.status or "in_progress"
    words = mask_text(reply.rest or reply.text)[:5000]
    ref = str(msg.get("Message-ID") or "").strip("<> ") or new_id("reply")
    update: dict[str, Any] = {"update_id": f"mail:{ref}"[:200], "complaint_id": delivery["complaint_id"],
                              "delivery_id": delivery["id"], "destination": delivery["destination"],
                              "status": status_}
    if status_ == "resolved":
        update["resolution_note"] = words
    elif status_ == "rejected":
        update["reason"] = words[:2000]
    else:
        update["note"] = words
    update["internal_note"] = f"by e-mail from {mask_text(str(msg.get('From', '')))}"
    return update


def listing(hub: Hub, outcome: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    q = sa.select(inbound_mail).order_by(inbound_mail.c.received_at.desc()).limit(limit)
    if outcome:
        q = q.where(inbound_mail.c.outcome == outcome)
    with hub.store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{**{k: r[k] for k in ("id", "outcome", "reason", "sender", "subject", "delivery_id",
                                  "complaint_id", "status")}, "received_at": iso(r["received_at"]),
             "size": len(r["raw"])} for r in rows]


def prune(store: Store, keep_days: float = KEEP_DAYS) -> int:
    """Forget kept messages older than `keep_days` (the scheduler calls this, as for the attempt
    log): a raw e-mail is evidence for an administrator's look, not an archive."""
    with store.begin() as conn:
        return conn.execute(inbound_mail.delete().where(
            inbound_mail.c.received_at < now() - timedelta(days=keep_days))).rowcount
