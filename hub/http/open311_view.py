"""What an Open311 GeoReport v2 read shows of a complaint (issue 11): to the public, only
non-personal fields of complaints that are not confidential (Rahasia), text masked and coordinates
rounded; with an api_key, in full what that key may read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa

from hub.admin.auth import READ_ALL
from hub.admin.keys import Principal
from hub.core import lifecycle, privacy
from hub.infra.store import aware, complaints, deliveries, events
from hub.settings.runtime import Hub


def iso(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value else None


def service_name(hub: Hub, code: str | None) -> str | None:
    for cat in hub.config.documents["taxonomy"]["categories"]:
        if cat["id"] == code:
            name = cat.get("name") or {}
            return name.get("en") or name.get("id") or cat["id"]
    return None


def request_doc(hub: Hub, row: Mapping[str, Any], dels: list[Mapping[str, Any]], notes: str | None,
                 full: bool = False) -> dict[str, Any]:
    """One service request. `full` (a key that may read this complaint): exact coordinates and the
    photo; otherwise public data only: coordinates rounded to 3 decimals (about 110 m), no photo.
    Free text is masked for every reader but administrators and auditors (see `_reader`)."""
    reg = hub.config.registry
    body = row["body"]
    loc = body.get("location") or {}
    closed = row["state"] in ("resolved", "closed")
    working = [d for d in dels if not lifecycle.is_done(d["state"]) and d["destination"] in reg
               and reg.get(d["destination"]).kind not in ("channel", "escalation")]
    shown = working or [d for d in dels if d["state"] == "resolved"]
    expected = None
    policy = hub.config.policy
    if policy and working:
        dues = []
        for d in working:
            target = policy.target(d["destination"], d["rule_id"])
            if target.resolve_hours:
                dues.append(policy.due(aware(d["clock_from"] or d["created_at"]), target.resolve_hours, d["destination"]))
        expected = max(dues).isoformat() if dues else None
    category = row["category"] or body.get("category")
    cat_name = service_name(hub, category)
    return {
        "service_request_id": row["id"],
        "status": "closed" if closed else "open",
        "status_notes": notes,
        "service_name": cat_name,
        "service_code": category or "other",
        "description": body.get("text", "")[:4000],
        "agency_responsible": ", ".join(reg.get(d["destination"]).name for d in shown if d["destination"] in reg) or None,
        "service_notice": "Waktu tindak lanjut dihitung dalam jam kerja (Senin-Jumat 08:00-16:00 WIB).",
        "requested_datetime": iso(row["received_at"]),
        "updated_datetime": iso(row["updated_at"]),
        "expected_datetime": expected,
        "address": loc.get("address"),
        "address_id": None,
        "zipcode": None,
        "lat": loc.get("latitude") if full else privacy.round_coordinate(loc.get("latitude")),
        "long": loc.get("longitude") if full else privacy.round_coordinate(loc.get("longitude")),
        "media_url": (body.get("attachments") or [None])[0] if full else None,
    }


def public_note(conn: Any, complaint_id: str) -> str | None:
    """The latest public note: a resolution note, a status note, a rejection reason."""
    for e in conn.execute(sa.select(events.c.type, events.c.data).where(
            events.c.complaint_id == complaint_id, events.c.type.in_(("status_changed", "rerouted", "reopened")))
            .order_by(events.c.id.desc())):
        data = e.data or {}
        note = data.get("resolution_note") or data.get("note") or data.get("reason")
        if note:
            return note
    return None


def readable_by(who: Principal | None) -> Any:
    """SQL for the complaints this key may read in full (False without a key)."""
    if who is None:
        return sa.false()
    if who.role in READ_ALL:
        return sa.true()
    if who.role == "channel":
        return complaints.c.channel == (who.scope or "")
    if who.role == "destination":
        return complaints.c.id.in_(sa.select(deliveries.c.complaint_id)
                                   .where(deliveries.c.destination == (who.scope or "")))
    return sa.false()


def load(hub: Hub, where: list[Any], limit: int, who: Principal | None = None) -> list[dict[str, Any]]:
    """Service requests: those the key may read in full, and the public data of every complaint
    that is not confidential (Rahasia)."""
    readable = readable_by(who)
    where = [*where, sa.or_(complaints.c.privacy != privacy.CONFIDENTIAL, readable)]
    with hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(complaints, readable.label("readable")).where(*where)
                            .order_by(complaints.c.received_at.desc()).limit(limit)).mappings().all()
        out = []
        for row in rows:
            dels = conn.execute(sa.select(deliveries).where(deliveries.c.complaint_id == row["id"])).mappings().all()
            doc = request_doc(hub, row, list(dels), public_note(conn, row["id"]), full=bool(row["readable"]))
            if who is None or who.role not in READ_ALL:
                doc.update(description=privacy.mask_text(doc["description"]),
                           status_notes=privacy.mask_text(doc["status_notes"] or "") or None,
                           address=privacy.mask_text(doc["address"] or "") or None)
            out.append(doc)
    return out


