"""The overview an administrator opens first: complaints per day by category, how many are open,
overdue and resolved, how fast each destination first responds, and where in the city the open
complaints and incidents are (by kecamatan code, to shade the boundary map)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from statistics import median
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from hub.core.lifecycle import DONE
from hub.aftercare.scheduler import escalations
from hub.infra.store import aware, complaints, deliveries, iso
from hub.pipeline import linking
from hub.settings.runtime import Hub

WIB = ZoneInfo("Asia/Jakarta")
OPEN = ("open", "in_progress", "needs_info")
MAX_POINTS = 3000


def _filtered(hub: Hub, conn: Any, since: datetime | None, until: datetime | None, city: str | None,
              category: str | None, destination: str | None) -> list[Mapping[str, Any]]:
    q = sa.select(complaints.c.id, complaints.c.body, complaints.c.category, complaints.c.city,
                  complaints.c.classification, complaints.c.state, complaints.c.status,
                  complaints.c.received_at).where(complaints.c.classification.is_not(None))
    if since is not None:
        q = q.where(complaints.c.received_at >= since)
    if until is not None:
        q = q.where(complaints.c.received_at < until)
    if city:
        q = q.where(complaints.c.city == city)
    if category:
        q = q.where(complaints.c.category == category)
    if destination:
        q = q.where(complaints.c.id.in_(sa.select(deliveries.c.complaint_id).where(
            deliveries.c.destination == destination)))
    return conn.execute(q).mappings().all()


def report(hub: Hub, since: datetime | None = None, until: datetime | None = None, city: str | None = None,
           category: str | None = None, destination: str | None = None) -> dict[str, Any]:
    areas = hub.config.areas
    with hub.store.engine.connect() as conn:
        rows = _filtered(hub, conn, since, until, city, category, destination)
        ids = [r["id"] for r in rows]
        dels = conn.execute(sa.select(deliveries.c.complaint_id, deliveries.c.destination, deliveries.c.delivered_at,
                                      deliveries.c.acknowledged_at, deliveries.c.state)
                            .where(deliveries.c.complaint_id.in_(ids))).mappings().all() if ids else []
        late_complaints = set(conn.execute(sa.select(escalations.c.complaint_id).distinct()
                                           .where(escalations.c.complaint_id.in_(ids))).scalars()) if ids else set()
        incident_rows = linking.incident_list(conn, since=since, category=category, city=city)
    if destination:
        dels = [d for d in dels if d["destination"] == destination]
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    behind: dict[str, list[str]] = defaultdict(list)  # "day|category" -> complaint ids
    by_kecamatan: dict[str, dict[str, Any]] = {}
    points = []
    totals: Counter[str] = Counter()
    state_ids: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        day = aware(r["received_at"]).astimezone(WIB).date().isoformat()
        per_day[day][r["category"]] += 1
        behind[f"{day}|{r['category']}"].append(r["id"])
        is_open = r["state"] in OPEN and r["status"] != "duplicate"
        totals["complaints"] += 1
        totals["duplicates"] += r["status"] == "duplicate"
        totals["open"] += is_open
        totals["overdue"] += is_open and r["id"] in late_complaints
        totals["resolved"] += r["state"] in ("resolved", "closed")
        for key, yes in (("open", is_open), ("overdue", is_open and r["id"] in late_complaints),
                         ("resolved", r["state"] in ("resolved", "closed"))):
            if yes:
                state_ids[key].append(r["id"])
        area = linking.area_of(r["classification"])
        code = areas.kode(area)
        if code and is_open:
            k = by_kecamatan.setdefault(code, {"kode": code, "city": area.city, "kecamatan": area.kecamatan,
                                               "open": 0, "complaints": []})
            k["open"] += 1
            k["complaints"].append(r["id"])
        loc = (r["body"] or {}).get("location") or {}
        if loc.get("latitude") is not None and loc.get("longitude") is not None and len(points) < MAX_POINTS:
            points.append({"id": r["id"], "lat": loc["latitude"], "lon": loc["longitude"], "category": r["category"],
                           "state": r["state"], "duplicate": r["status"] == "duplicate",
                           "title": (r["body"] or {}).get("title") or (r["body"] or {}).get("text", "")[:60]})
    categories = sorted({c for day in per_day.values() for c in day})
    days = sorted(per_day)
    return {
        "filters": {"since": iso(since), "until": iso(until), "city": city, "category": category,
                    "destination": destination},
        "totals": {k: totals[k] for k in ("complaints", "open", "overdue", "resolved", "duplicates")},
        "totals_complaints": dict(state_ids),
        "per_day": {"days": days, "series": [{"category": c, "counts": [per_day[d][c] for d in days]}
                                             for c in categories], "complaints": dict(behind)},
        "first_response": first_response(dels),
        "by_kecamatan": sorted(by_kecamatan.values(), key=lambda k: -k["open"]),
        "points": points,
        "incidents": [{**i, "centre": areas.centre(linking.area_of({"area": _area_ref(i["kecamatan"])}))}
                      for i in incident_rows],
    }


def _area_ref(key: str) -> dict[str, Any]:
    city, _, kec = key.partition("/")
    return {"city": city, "kecamatan": kec or None, "source": "address"}


def first_response(dels: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Median hours from delivery to the destination's first answer, per destination, slowest first;
    deliveries still waiting for a first answer are counted apart."""
    hours: dict[str, list[float]] = defaultdict(list)
    waiting: Counter[str] = Counter()
    for d in dels:
        if d["delivered_at"] is None:
            continue
        if d["acknowledged_at"] is None and d["state"] not in DONE:
            waiting[d["destination"]] += 1
            continue
        if d["acknowledged_at"] is not None:
            span = aware(d["acknowledged_at"]) - aware(d["delivered_at"])
            hours[d["destination"]].append(max(span.total_seconds(), 0) / 3600)
    names = set(hours) | set(waiting)
    out = [{"destination": n, "median_hours": round(median(hours[n]), 2) if hours[n] else None,
            "answered": len(hours[n]), "waiting": waiting[n]} for n in names]
    return sorted(out, key=lambda x: (-(x["median_hours"] or -1), x["destination"]))
