"""Telling the citizen: each citizen-visible change becomes an event on the events exchange and a
notice to the complaint's channel (through that channel's destination and adapter); and what the
citizen may say back: confirm a resolution, reopen it within the window, rate it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.aftercare.reroute import resend
from hub.core import lifecycle, privacy, schemas
from hub.core.errors import ComplaintNotFound, LaporHubError
from hub.core.lifecycle import IllegalTransition
from hub.infra.store import aware, complaints, deliveries, metadata
from hub.infra.store import now as utcnow
from hub.pipeline.notices import destination_name, enqueue_notice, publish
from hub.settings.runtime import Hub


feedback = sa.Table(
    "feedback", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("complaint_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),  # confirm, reopen, rate
    sa.Column("rating", sa.Integer),
    sa.Column("text", sa.Text),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


class ReopenWindowClosed(LaporHubError):
    def __init__(self, resolved_at: datetime, window_days: float) -> None:
        super().__init__(f"the resolution of {resolved_at.isoformat()} can no longer be reopened: "
                         f"the window is {window_days:g} days")


def delivery_states(conn: Connection, complaint_id: str) -> list[str]:
    return list(conn.execute(sa.select(deliveries.c.state).where(deliveries.c.complaint_id == complaint_id)).scalars())


def latest_feedback(conn: Connection, complaint_id: str) -> lifecycle.Feedback:
    """Confirmation counts only if no reopen came after it."""
    last = conn.execute(sa.select(feedback.c.action).where(feedback.c.complaint_id == complaint_id,
                                                         feedback.c.action.in_(("confirm", "reopen")))
                        .order_by(feedback.c.id.desc()).limit(1)).scalar()
    return lifecycle.Feedback(confirmed=last == "confirm", reopened=last == "reopen")


def refresh_state(conn: Connection, complaint_id: str) -> str:
    """Recompute and store the complaint's state from its deliveries and the citizen's feedback."""
    state = lifecycle.complaint_state(delivery_states(conn, complaint_id), latest_feedback(conn, complaint_id))
    conn.execute(complaints.update().where(complaints.c.id == complaint_id).values(state=state, updated_at=utcnow()))
    return state


def respond(hub: Hub, complaint_id: str, doc: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Apply the citizen's confirm, reopen or rating; returns the complaint's new state.

    Raises InvalidMessage, ComplaintNotFound, IllegalTransition (409) or ReopenWindowClosed.
    """

    schemas.validate("feedback", doc)
    at = now or utcnow()
    store = hub.store
    action = doc["action"]
    message_ids: list[str] = []
    with store.begin() as conn:
        row = store.complaint_row(conn, complaint_id, lock=True)
        if row is None:
            raise ComplaintNotFound(complaint_id)
        state = row["state"]
        if action in ("confirm", "reopen") and state != "resolved":
            raise IllegalTransition(state, action, lifecycle.citizen_allowed(state), "complaint")
        if action == "rate" and state not in ("resolved", "closed"):
            raise IllegalTransition(state, action, lifecycle.citizen_allowed(state), "complaint")
        conn.execute(feedback.insert().values(complaint_id=complaint_id, action=action, rating=doc.get("rating"),
                                              text=doc.get("reason") or doc.get("comment"), at=at))
        if action == "reopen":
            resolved = conn.execute(sa.select(deliveries).where(
                deliveries.c.complaint_id == complaint_id, deliveries.c.state == "resolved")
                .order_by(deliveries.c.state_at.desc())).mappings().all()
            last_at = max(aware(d["state_at"]) for d in resolved)
            if hub.config.policy and at - last_at > hub.config.policy.reopen_window:
                raise ReopenWindowClosed(last_at, hub.config.policy.reopen_window.days)
            for d in resolved:
                conn.execute(deliveries.update().where(deliveries.c.id == d["id"]).values(
                    state="reopened", state_at=at, acknowledged_at=None, clock_from=at,
                    paused_at=None, paused_seconds=0.0))
                handoff = {"kind": "reopened", "reason": doc["reason"], "from": "citizen"}
                message_ids.append(resend(hub, conn, row, d, handoff))
                store.add_event(conn, complaint_id, "reopened", {"destination": d["destination"],
                                                                 "reason": doc["reason"]},
                                actor="citizen", delivery_id_=d["id"])
        else:
            data = {"rating": doc.get("rating"), "comment": doc.get("comment")} if action == "rate" else {}
            store.add_event(conn, complaint_id, "confirmed" if action == "confirm" else "rated",
                            {k: v for k, v in data.items() if v is not None}, actor="citizen")
        new_state = refresh_state(conn, complaint_id)
        kind = {"confirm": "confirmed", "reopen": "reopened", "rate": "rated"}[action]
        message_ids += publish(hub, conn, row, kind, new_state,
                               {"reason": doc.get("reason"), "rating": doc.get("rating")}, at=at)
    return {"id": complaint_id, "state": new_state, "message_ids": message_ids}


_PUBLIC_EVENTS = {"received", "routed", "status_changed", "rerouted", "reopened", "confirmed", "rated"}
_HIDDEN_KINDS = {"channel", "escalation"}


def public_view(hub: Hub, full: Mapping[str, Any], state: str) -> dict[str, Any]:
    """What anyone holding the complaint id may see: no reporter, no internal notes, no
    classification evidence, no delivery attempts or escalations."""
    body = full["complaint"]
    reg = hub.config.registry

    def name(d: str) -> str:
        return reg.get(d).name if d in reg else d

    timeline: list[dict[str, Any]] = []
    for e in full["timeline"]:
        t, at = e["type"], e["at"]
        if t not in _PUBLIC_EVENTS:
            continue
        if t == "received":
            timeline.append({"type": "received", "at": at})
        elif t == "routed":
            timeline.append({"type": "sent", "at": at, "to": [name(x["destination"]) for x in e["targets"]]})
        elif t == "status_changed":
            item = {"type": e["to"], "at": at, "by": name(e["destination"])}
            item.update({k: e[k] for k in ("note", "resolution_note", "reason") if e.get(k)})
            if str(e.get("photo_url") or "").startswith(("https://", "http://")):  # never javascript: & co
                item["photo_url"] = e["photo_url"]
            timeline.append(item)
        elif t == "rerouted":
            timeline.append({"type": "rerouted", "at": at, "from": name(e["from"]),
                             "to": [name(x) for x in e["to"]], **({"reason": e["reason"]} if e.get("reason") else {})})
        elif t == "reopened":
            timeline.append({"type": "reopened", "at": at, "reason": e.get("reason")})
        else:
            timeline.append({"type": t, "at": at, **({"rating": e["rating"]} if e.get("rating") else {})})
    handled = [{"name": name(d["destination"]), "state": d["state"]} for d in full["deliveries"]
               if d["destination"] in reg and reg.get(d["destination"]).kind not in _HIDDEN_KINDS]
    c = full.get("classification") or {}
    return {
        "id": full["id"], "channel": full["channel"], "external_ref": full["external_ref"], "state": state,
        "received_at": full["received_at"], "updated_at": full["updated_at"],
        "complaint": privacy.masked_complaint(
            {k: body[k] for k in ("title", "text", "location", "attachments", "submitted_at") if k in body}),
        "category": c.get("category"), "city": (c.get("area") or {}).get("city"),
        "handled_by": handled, "timeline": privacy.mask_value(timeline),
        "citizen_may": list(lifecycle.citizen_allowed(state)),
    }


__all__ = ["ReopenWindowClosed", "delivery_states", "destination_name", "enqueue_notice", "feedback",
           "latest_feedback", "public_view", "publish", "refresh_state", "respond"]
