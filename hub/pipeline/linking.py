"""One report per problem: the router links a complaint that repeats an open one to it, and groups
many complaints of one category in one kecamatan into an incident.

A linked complaint gets no delivery of its own. Each destination of the original gets a "+1 report"
notice instead (signed like any webhook, or on its queue), with the new reporter's text masked, so
it sees how many citizens are affected without opening a second case. Whether two complaints are
the same problem is decided by hub/core/duplicates.py; this module reads and writes the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from hub.core import privacy
from hub.core.areas import Area
from hub.core.duplicates import Link, Report, find_original, incident_members
from hub.infra.store import aware, complaints, deliveries, iso, metadata, new_id, now
from hub.pipeline.notices import enqueue_notice, publish
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.pipeline.linking")

complaint_links = sa.Table(
    "complaint_links", metadata,
    sa.Column("complaint_id", sa.String(64), sa.ForeignKey("complaints.id"), primary_key=True),  # the repeat
    sa.Column("original_id", sa.String(64), sa.ForeignKey("complaints.id"), nullable=False, index=True),
    sa.Column("method", sa.String(16), nullable=False),  # distance, text, hand
    sa.Column("distance_m", sa.Float),
    sa.Column("similarity", sa.Float),
    sa.Column("linked_by", sa.String(200), nullable=False),
    sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
)

incidents = sa.Table(
    "incidents", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("city", sa.String(64)),
    sa.Column("kecamatan", sa.String(64), nullable=False),  # city/kecamatan
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),  # first complaint received
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),  # latest complaint received
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_incidents_category_kecamatan", "category", "kecamatan"),
)

incident_complaints = sa.Table(
    "incident_complaints", metadata,
    sa.Column("incident_id", sa.String(64), sa.ForeignKey("incidents.id"), primary_key=True),
    sa.Column("complaint_id", sa.String(64), sa.ForeignKey("complaints.id"), primary_key=True, index=True),
)

OPEN_STATES = ("open", "in_progress", "needs_info")


def area_of(classification: Mapping[str, Any] | None) -> Area | None:
    a = (classification or {}).get("area")
    return Area(a["city"], a.get("kecamatan"), a.get("source", "address"), a.get("kelurahan")) if a else None


def report_of(hub: Hub, complaint_id: str, body: Mapping[str, Any], classification: Mapping[str, Any],
              received_at: datetime) -> Report:
    loc = body.get("location") or {}
    area = area_of(classification)
    return Report(id=complaint_id, category=classification["category"], received_at=aware(received_at),
                  text=" ".join(x for x in (body.get("title"), body.get("text")) if x),
                  lon=loc.get("longitude"), lat=loc.get("latitude"),
                  kecamatan=f"{area.city}/{area.kecamatan}" if area and area.kecamatan else None,
                  centre=hub.config.areas.centre(area))


def recent(hub: Hub, conn: Connection, categories: Iterable[str], since: datetime,
           originals_only: bool = True) -> list[Report]:
    """Routed complaints of these categories received since `since`; with `originals_only`, those
    still open and not themselves linked to another (the ones a new complaint may repeat)."""
    q = sa.select(complaints.c.id, complaints.c.body, complaints.c.classification, complaints.c.received_at).where(
        complaints.c.category.in_(list(set(categories))), complaints.c.received_at >= since,
        complaints.c.classification.is_not(None))
    if originals_only:
        q = q.where(complaints.c.state.in_(OPEN_STATES), complaints.c.status != "duplicate",
                    ~complaints.c.id.in_(sa.select(complaint_links.c.complaint_id)))
    return [report_of(hub, r["id"], r["body"], r["classification"], r["received_at"])
            for r in conn.execute(q).mappings()]


def reports_of(conn: Connection, original_id: str) -> int:
    """Citizens who reported the original's problem: itself and every complaint linked to it."""
    return 1 + conn.execute(sa.select(sa.func.count()).select_from(complaint_links).where(
        complaint_links.c.original_id == original_id)).scalar_one()


def record(hub: Hub, conn: Connection, complaint: Mapping[str, Any], link: Link, actor: str = "router") -> list[str]:
    """Link `complaint` to `link.original` in the caller's transaction: the link, events on both,
    a "+1 report" notice to each of the original's destinations and a note to the new reporter.
    Returns the outbox message ids to relay."""
    at = now()
    cid, original_id = complaint["id"], link.original
    conn.execute(complaint_links.insert().values(
        complaint_id=cid, original_id=original_id, method=link.method, distance_m=link.distance_m,
        similarity=link.similarity, linked_by=actor, linked_at=at))
    original = conn.execute(sa.select(complaints).where(complaints.c.id == original_id)).mappings().one()
    conn.execute(complaints.update().where(complaints.c.id == cid).values(
        status="duplicate", state=original["state"], updated_at=at))
    count = reports_of(conn, original_id)
    hub.store.add_event(conn, cid, "linked", {**link.as_dict(), "reports": count}, actor=actor)
    hub.store.add_event(conn, original_id, "reported_again",
                        {"complaint_id": cid, "method": link.method, "reports": count,
                         **({"distance_m": round(link.distance_m, 1)} if link.distance_m is not None else {})},
                        actor=actor)
    body = complaint["body"]
    loc = body.get("location") or {}
    payload = {"original_complaint_id": original_id, "complaint_id": cid, "reports": count,
               "text": privacy.mask_text(body.get("text") or ""), "received_at": iso(complaint["received_at"]),
               "method": link.method, "distance_m": None if link.distance_m is None else round(link.distance_m, 1),
               "location": ({"latitude": loc["latitude"], "longitude": loc["longitude"]}
                            if loc.get("latitude") is not None and loc.get("longitude") is not None else None)}
    ids = []
    for dest in conn.execute(sa.select(deliveries.c.destination).where(
            deliveries.c.complaint_id == original_id, deliveries.c.status != "dead")).scalars():
        ids.append(enqueue_notice(hub, conn, original_id, dest, "duplicate", {"duplicate": payload},
                                  notice_id=f"n-dup-{cid}-{dest}"))
    ids += publish(hub, conn, {**complaint, "id": cid}, "linked", original["state"],
                   {"linked_to": original_id, "reports": count}, at=at)
    log.info("complaint.linked", complaint_id=cid, original=original_id, method=link.method, reports=count)
    return ids


def note_incident(hub: Hub, conn: Connection, new: Report, city: str | None, batch: list[Report]) -> str | None:
    """Add `new` to the open incident of its category and kecamatan, or start one when enough
    complaints arrived in the window; returns the incident id, if any."""
    if new.kecamatan is None:
        return None
    policy = hub.config.linking
    since = new.received_at - policy.incident_window
    current = conn.execute(sa.select(incidents.c.id, incidents.c.last_at).where(
        incidents.c.category == new.category, incidents.c.kecamatan == new.kecamatan,
        incidents.c.last_at >= since)).mappings().first()
    if current is not None:
        conn.execute(incident_complaints.insert().values(incident_id=current["id"], complaint_id=new.id))
        conn.execute(incidents.update().where(incidents.c.id == current["id"]).values(
            last_at=max(aware(current["last_at"]), new.received_at)))
        return current["id"]
    nearby = recent(hub, conn, [new.category], since, originals_only=False) + batch
    members = incident_members(new, {r.id: r for r in nearby}.values(), policy)
    if not members:
        return None
    iid = new_id("inc")
    first = min(r.received_at for r in nearby if r.id in members)
    conn.execute(incidents.insert().values(id=iid, category=new.category, city=city, kecamatan=new.kecamatan,
                                           started_at=first, last_at=new.received_at, created_at=now()))
    conn.execute(incident_complaints.insert(), [{"incident_id": iid, "complaint_id": m} for m in members])
    log.warning("incident.started", incident_id=iid, category=new.category, kecamatan=new.kecamatan,
                complaints=len(members))
    return iid


class Linker:
    """The router's view for one batch: open originals of the batch's categories, plus the batch's
    own complaints as they are routed (two reports of one pothole may arrive in one batch)."""

    def __init__(self, hub: Hub, conn: Connection, categories: Iterable[str], oldest: datetime) -> None:
        self.hub, self.conn = hub, conn
        self.policy = hub.config.linking
        since = aware(oldest) - max(self.policy.window, self.policy.incident_window)
        self.open = recent(hub, conn, categories, since)
        self.batch: list[Report] = []

    def find(self, report: Report) -> Link | None:
        return find_original(report, self.open, self.policy)

    def routed(self, report: Report, original: bool) -> None:
        self.batch.append(report)
        if original:
            self.open.append(report)


def view(conn: Connection, complaint_id: str) -> dict[str, Any]:
    """duplicate_of, duplicates and incident of one complaint, for administrators."""
    mine = conn.execute(sa.select(complaint_links).where(complaint_links.c.complaint_id == complaint_id)).mappings().first()
    dups = conn.execute(sa.select(complaint_links, complaints.c.body, complaints.c.received_at.label("received_at"))
                        .join(complaints, complaints.c.id == complaint_links.c.complaint_id)
                        .where(complaint_links.c.original_id == complaint_id)
                        .order_by(complaint_links.c.linked_at)).mappings().all()
    inc = conn.execute(sa.select(incident_complaints.c.incident_id).where(
        incident_complaints.c.complaint_id == complaint_id)).scalar()

    def link_dict(r: Mapping[str, Any]) -> dict[str, Any]:
        return {"method": r["method"], "distance_m": r["distance_m"], "similarity": r["similarity"],
                "linked_by": r["linked_by"], "linked_at": iso(r["linked_at"])}

    return {
        "duplicate_of": {"id": mine["original_id"], **link_dict(mine)} if mine else None,
        "duplicates": [{"id": r["complaint_id"], "received_at": iso(r["received_at"]),
                        "location": (r["body"] or {}).get("location"), **link_dict(r)} for r in dups],
        "incident": inc,
    }


def followers(conn: Connection, original_id: str) -> list[Mapping[str, Any]]:
    """The complaints linked to `original_id`: their reporters hear what happens to it."""
    return conn.execute(sa.select(complaints).join(complaint_links, complaint_links.c.complaint_id == complaints.c.id)
                        .where(complaint_links.c.original_id == original_id)).mappings().all()


def incident_list(conn: Connection, since: datetime | None = None, category: str | None = None,
                  city: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    q = sa.select(incidents).order_by(incidents.c.started_at.desc()).limit(limit)
    if since is not None:
        q = q.where(incidents.c.last_at >= since)
    if category:
        q = q.where(incidents.c.category == category)
    if city:
        q = q.where(incidents.c.city == city)
    rows = conn.execute(q).mappings().all()
    members: dict[str, list[str]] = {}
    if rows:
        for m in conn.execute(sa.select(incident_complaints).where(
                incident_complaints.c.incident_id.in_([r["id"] for r in rows]))).mappings():
            members.setdefault(m["incident_id"], []).append(m["complaint_id"])
    return [{"id": r["id"], "category": r["category"], "city": r["city"], "kecamatan": r["kecamatan"],
             "started_at": iso(r["started_at"]), "last_at": iso(r["last_at"]),
             "complaints": sorted(members.get(r["id"], [])), "count": len(members.get(r["id"], []))}
            for r in rows]


__all__ = ["Linker", "followers", "incident_list", "note_incident", "record", "report_of", "view"]
