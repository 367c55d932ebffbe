"""Finding complaints: by text, category, status, city, channel or destination, newest first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hub.infra.store import Store, complaints, deliveries, iso


def search(store: Store, *, q: str | None = None, category: str | None = None,
           status: str | None = None, city: str | None = None, channel: str | None = None,
           destination: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    query = sa.select(complaints.c.id, complaints.c.status, complaints.c.category, complaints.c.city,
                      complaints.c.urgency, complaints.c.channel, complaints.c.external_ref,
                      complaints.c.ruleset_version, complaints.c.received_at, complaints.c.body)
    if category:
        query = query.where(complaints.c.category == category)
    if status:
        query = query.where(complaints.c.status == status)
    if city:
        query = query.where(complaints.c.city == city)
    if channel is not None:
        query = query.where(complaints.c.channel == channel)
    if destination is not None:
        query = query.where(complaints.c.id.in_(
            sa.select(deliveries.c.complaint_id).where(deliveries.c.destination == destination)))
    if q:
        like = f"%{q.lower()}%"
        query = query.where(sa.or_(sa.func.lower(complaints.c.id) == q.lower(),
                                   sa.func.lower(complaints.c.external_ref) == q.lower(),
                                   sa.func.lower(sa.cast(complaints.c.body, sa.Text)).like(like)))
    query = query.order_by(complaints.c.received_at.desc()).limit(limit)
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [{"id": r["id"], "status": r["status"], "category": r["category"], "city": r["city"],
             "urgency": r["urgency"], "channel": r["channel"], "external_ref": r["external_ref"],
             "ruleset_version": r["ruleset_version"], "received_at": iso(r["received_at"]),
             "title": (r["body"] or {}).get("title") or ((r["body"] or {}).get("text") or "")[:80]}
            for r in rows]
