"""The destination portal's view of the hub: one destination's own work only. Its inbox of open
deliveries with their SLA clocks (overdue first), a complaint as it may see it (identifiers
masked), what it may do next, and where the rules allow it to transfer a complaint."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa

from hub.aftercare import citizen
from hub.aftercare.reroute import classification_of
from hub.core import lifecycle, privacy
from hub.core.errors import ComplaintNotFound
from hub.infra.store import aware, complaints, deliveries, iso, now
from hub.pipeline.retry import delivery_retries
from hub.settings.runtime import Hub

_NOT_TRANSFERABLE = {"channel", "escalation"}
_STEPS = (("acknowledge", "acknowledged"), ("progress", "in_progress"), ("resolve", "resolved"),
          ("not_ours", "rejected"), ("transfer", "transferred"))


def clocks(hub: Hub, delivery: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """The delivery's running SLA clocks: when it must be acknowledged and resolved, and whether
    it is overdue (working hours, per config/lifecycle.yaml)."""
    policy = hub.config.policy
    if policy is None:
        return {"acknowledge_by": None, "resolve_by": None, "due": None, "overdue": False}
    target = policy.target(delivery["destination"], delivery.get("rule_id"))
    start = aware(delivery.get("clock_from") or delivery["created_at"])
    waiting_ack = delivery.get("acknowledged_at") is None and delivery["state"] in ("sent", "reopened")
    ack = policy.due(start, target.acknowledge_hours) if target.acknowledge_hours and waiting_ack else None
    res = policy.due(start, target.resolve_hours) if target.resolve_hours else None
    due = min((d for d in (ack, res) if d is not None), default=None)
    return {"acknowledge_by": iso(ack), "resolve_by": iso(res), "due": iso(due),
            "overdue": due is not None and due < at}


def inbox(hub: Hub, destination: str, at: datetime | None = None) -> dict[str, Any]:
    """Open deliveries (delivered, not done), overdue first, then by the nearest deadline."""
    at = at or now()
    with hub.store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(deliveries, complaints.c.body, complaints.c.category, complaints.c.urgency,
                      complaints.c.city, complaints.c.received_at)
            .join(complaints, complaints.c.id == deliveries.c.complaint_id)
            .where(deliveries.c.destination == destination, deliveries.c.delivered_at.is_not(None),
                   deliveries.c.state.not_in(tuple(lifecycle.DONE)))).mappings().all()
        failed = conn.execute(sa.select(sa.func.count()).select_from(deliveries).where(
            deliveries.c.destination == destination,
            sa.or_(deliveries.c.status == "dead",
                   deliveries.c.id.in_(sa.select(delivery_retries.c.delivery_id))))).scalar_one()
    items = []
    for r in rows:
        body = r["body"] or {}
        items.append({"complaint_id": r["complaint_id"], "delivery_id": r["id"], "state": r["state"],
                      "title": privacy.mask_text(body.get("title") or body.get("text", "")[:80]),
                      "category": r["category"], "category_name": _category(hub, r["category"]),
                      "urgency": r["urgency"], "city": r["city"],
                      "received_at": iso(r["received_at"]), "delivered_at": iso(r["delivered_at"]),
                      **clocks(hub, dict(r), at)})
    items.sort(key=lambda i: (not i["overdue"], i["due"] or "9999"))
    return {"destination": destination, "open": items, "failed": failed, "at": iso(at)}


def _category(hub: Hub, category: str | None) -> str | None:
    """The category's Indonesian name (the portal's language)."""
    names = hub.config.taxonomy.names.get(category or "") if hub.config.taxonomy else None
    return (names or {}).get("id")


class NotYours(ComplaintNotFound):
    """A complaint that was not delivered to this destination: answered as not found, so a key
    cannot learn which complaints exist elsewhere."""

    def __init__(self, complaint_id: str) -> None:
        super().__init__(complaint_id)
        self.args = (f"complaint {complaint_id!r} was not delivered to this destination",)


def own_delivery(hub: Hub, destination: str, complaint_id: str) -> dict[str, Any]:
    with hub.store.engine.connect() as conn:
        row = conn.execute(sa.select(deliveries).where(
            deliveries.c.complaint_id == complaint_id, deliveries.c.destination == destination,
            deliveries.c.delivered_at.is_not(None))).mappings().first()
    if row is None:
        raise NotYours(complaint_id)
    return dict(row)


def transfer_targets(hub: Hub, complaint: Mapping[str, Any], destination: str) -> list[dict[str, str]]:
    """Every destination the published rules can send this complaint to (templates resolved for
    its city), less itself, channels, escalation desks and those that already refused it."""
    cfg = hub.config
    area = classification_of(complaint["classification"]).area if complaint.get("classification") else None
    refused = {d["destination"] for d in complaint["deliveries"] if d["state"] in lifecycle.PASSED_ON}
    found: dict[str, str] = {}
    for rule in cfg.ruleset.rules:
        for ref in rule.send_to:
            dest = cfg.registry.resolve(ref, area).destination
            if dest.id != destination and dest.kind not in _NOT_TRANSFERABLE and dest.id not in refused:
                found[dest.id] = dest.name
    triage = cfg.ruleset.triage
    if triage in cfg.registry and triage != destination:
        found.setdefault(triage, cfg.registry.get(triage).name)
    return [{"id": k, "name": v} for k, v in sorted(found.items(), key=lambda kv: kv[1])]


def complaint_view(hub: Hub, destination: str, complaint_id: str, at: datetime | None = None) -> dict[str, Any]:
    """A complaint as its destination sees it: masked text, place, public timeline plus its own
    delivery's events, its clocks, what it may do and where it may transfer it."""
    mine = own_delivery(hub, destination, complaint_id)
    full = hub.store.complaint(complaint_id)
    if full is None:
        raise NotYours(complaint_id)
    # What this destination may see of it, by the same rule as its deliveries (hub.core.privacy):
    # free text masked, only the reporter fields it declares, none for Anonim.
    reg = hub.config.registry
    allowed = reg.get(destination).reporter_fields if destination in reg else ()
    body = privacy.outbound_complaint(full["complaint"], allowed)
    loc = dict(body.get("location") or {})
    public = citizen.public_view(hub, full, full["state"])
    own_events = [{"type": e["type"], "at": e["at"], **{k: e[k] for k in ("detail", "reason", "outcome") if e.get(k)}}
                  for e in full["timeline"] if e.get("delivery_id") == mine["id"]
                  and e["type"] in ("delivered", "delivery_failed", "delivery_retry_scheduled", "escalated",
                                    "reply_received", "delivery_recovered")]
    timeline = sorted(public["timeline"] + own_events, key=lambda e: e["at"] or "")
    allowed = set(lifecycle.allowed(mine["state"]))
    may = [a for a, s in _STEPS if s in allowed and not (a == "acknowledge" and mine["state"] != "sent")]
    c = full.get("classification") or {}
    return {
        "id": full["id"], "state": mine["state"], "complaint_state": full["state"],
        "title": body.get("title") or "", "text": body.get("text") or "",
        "location": loc, "channel": full["channel"], "external_ref": full["external_ref"],
        "category": c.get("category"), "category_name": _category(hub, c.get("category")),
        "urgency": c.get("urgency"), "received_at": full["received_at"],
        "attachments": [a for a in body.get("attachments") or [] if a.startswith(("http://", "https://"))],
        "reporter": body.get("reporter"),
        "privacy": privacy.choice(full["complaint"]),
        "delivery": {"id": mine["id"], "state": mine["state"], "delivered_at": iso(mine["delivered_at"]),
                     "acknowledged_at": iso(mine["acknowledged_at"]), **clocks(hub, mine, at or now())},
        "may": may,
        "transfer_to": transfer_targets(hub, full, destination) if "transfer" in may else [],
        "timeline": timeline,
    }
