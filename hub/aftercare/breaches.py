"""SLA breaches as an administrator reads them: one line per late delivery (not one per escalation
level), with the complaint's title and category and how many working hours it is overdue now,
summed per destination, worst first."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa

from hub.core.lifecycle import DONE
from hub.aftercare.scheduler import escalations
from hub.infra.store import aware, complaints, deliveries, iso, now as utcnow
from hub.settings.runtime import Hub


def overdue_hours(hub: Hub, delivery: Mapping[str, Any], recorded: list[Mapping[str, Any]], at: datetime) -> float:
    """Working hours past the limit: now, while the clock runs; else the most the escalations saw."""
    policy = hub.config.policy
    if policy is not None and delivery["delivered_at"] is not None and delivery["state"] not in DONE:
        live = policy.breaches({**delivery, "clock_from": aware(delivery["clock_from"] or delivery["created_at"]),
                                "acknowledged_at": aware(delivery["acknowledged_at"])}, at)
        if live:
            return max(b.used_hours - b.target_hours for b in live)
    return max((b["used_hours"] - b["target_hours"] for b in recorded), default=0.0)


def report(hub: Hub, since: datetime | None = None, destination: str | None = None,
           at: datetime | None = None) -> dict[str, Any]:
    at = at or utcnow()
    q = sa.select(escalations)
    if since is not None:
        q = q.where(escalations.c.at >= since)
    with hub.store.engine.connect() as conn:
        escs = conn.execute(q).mappings().all()
        ids = sorted({e["delivery_id"] for e in escs})
        dels = {d["id"]: d for d in conn.execute(sa.select(deliveries).where(deliveries.c.id.in_(ids))).mappings()} if ids else {}
        cids = sorted({d["complaint_id"] for d in dels.values()})
        comps = {c["id"]: c for c in conn.execute(sa.select(
            complaints.c.id, complaints.c.body, complaints.c.category, complaints.c.city, complaints.c.state)
            .where(complaints.c.id.in_(cids))).mappings()} if cids else {}
    by_delivery: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for e in escs:
        by_delivery[e["delivery_id"]].append(e)
    rows = []
    for did, group in by_delivery.items():
        d = dels.get(did)
        if d is None or (destination and d["destination"] != destination):
            continue
        c = comps.get(d["complaint_id"], {})
        body = c.get("body") or {}
        recorded = [e["breach"] for e in group]
        rows.append({
            "complaint_id": d["complaint_id"], "delivery_id": did, "destination": d["destination"],
            "destination_name": hub.config.registry.get(d["destination"]).name if d["destination"] in hub.config.registry else d["destination"],
            "title": body.get("title") or (body.get("text") or "")[:80], "category": c.get("category"),
            "city": c.get("city"), "limits": sorted({e["kind"] for e in group}),
            "level": max(e["level"] for e in group), "state": d["state"],
            "open": d["state"] not in DONE,
            "hours_overdue": round(overdue_hours(hub, d, recorded, at), 2),
            "first_escalated_at": iso(min(e["at"] for e in group)),
        })
    rows.sort(key=lambda r: (-r["hours_overdue"], r["complaint_id"]))
    per_dest: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = per_dest.setdefault(r["destination"], {"destination": r["destination"], "name": r["destination_name"],
                                                   "breaches": 0, "open": 0, "hours_overdue": 0.0, "worst_hours": 0.0})
        t["breaches"] += 1
        t["open"] += r["open"]
        t["hours_overdue"] = round(t["hours_overdue"] + r["hours_overdue"], 2)
        t["worst_hours"] = max(t["worst_hours"], r["hours_overdue"])
    return {"at": iso(at), "breaches": rows,
            "by_destination": sorted(per_dest.values(), key=lambda t: (-t["hours_overdue"], t["destination"])),
            "total": {"breaches": len(rows), "open": sum(r["open"] for r in rows),
                      "hours_overdue": round(sum(r["hours_overdue"] for r in rows), 2)}}
