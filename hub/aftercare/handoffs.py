"""The hand-offs report: rejections and transfers between destinations and across the borders
between sectors (government, state-owned, private), over a time window, with the hours lost, a
weekly trend and the complaints behind every number, so administrators see where complaints stall.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from statistics import median
from typing import Any, Callable, Iterable, Mapping

import sqlalchemy as sa

from hub.infra.store import Store, aware, metadata

hops = sa.Table(
    "hops", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("complaint_id", sa.String(64), nullable=False, index=True),
    sa.Column("from_destination", sa.String(128), nullable=False),
    sa.Column("to_destinations", sa.JSON, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # rejected, transferred
    sa.Column("category", sa.String(64)),
    sa.Column("reason", sa.Text),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("held_seconds", sa.Float, nullable=False),  # time lost: delivery created -> passed on
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

NOBODY = "(nobody: others still hold it)"
SECTORS = ("government", "state-owned", "private")


def _stats(group: list[Mapping[str, Any]]) -> dict[str, Any]:
    hours = [r["held_seconds"] / 3600 for r in group]
    return {"hops": len(group),
            "rejected": sum(1 for r in group if r["kind"] == "rejected"),
            "transferred": sum(1 for r in group if r["kind"] == "transferred"),
            "median_hours_lost": round(median(hours), 2) if hours else 0.0,
            "total_hours_lost": round(sum(hours), 2),
            "complaints": sorted({r["complaint_id"] for r in group})}


def week_of(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def summarise(rows: Iterable[Mapping[str, Any]], sector: Callable[[str], str] = lambda _: "government") -> dict[str, Any]:
    """Pure: hop rows (complaint_id, from_destination, to_destinations, kind, category,
    held_seconds, at) in; pairs, borders, categories, weekly trend and a Sankey out."""
    pairs: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    borders: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    cats: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    weeks: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    total = 0
    for r in rows:
        total += 1
        for to in r["to_destinations"] or [NOBODY]:
            pairs[(r["from_destination"], to)].append(r)
            if to != NOBODY:
                border = (sector(r["from_destination"]), sector(to))
                borders[border].append(r)
                weeks[(week_of(aware(r["at"])), f"{border[0]} → {border[1]}")].append(r)
        cats[r["category"] or "unknown"].append(r)

    by_pair = [{"from": f, "from_sector": sector(f), "to": t, "to_sector": sector(t) if t != NOBODY else None,
                **_stats(g)} for (f, t), g in pairs.items()]
    by_border = [{"border": f"{a} → {b}", "from_sector": a, "to_sector": b, "crosses": a != b, **_stats(g)}
                 for (a, b), g in borders.items()]
    by_category = [{"category": c, **_stats(g)} for c, g in cats.items()]
    weekly = [{"week": w, "border": b, **{k: v for k, v in _stats(g).items() if k != "complaints"}}
              for (w, b), g in sorted(weeks.items())]
    by_pair.sort(key=lambda x: (-x["hops"], x["from"], x["to"]))
    by_border.sort(key=lambda x: (-x["total_hours_lost"], x["border"]))
    by_category.sort(key=lambda x: (-x["hops"], x["category"]))
    return {"hops": total, "by_pair": by_pair, "by_border": by_border, "by_category": by_category,
            "weekly": weekly, "sankey": sankey(by_pair)}


def sankey(by_pair: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Four columns, so the flow has no cycles however complaints bounce: the sector it leaves,
    the destination that passed it on, the destination that got it, the sector it lands in."""
    nodes: dict[str, dict[str, Any]] = {}
    links: dict[tuple[str, str], dict[str, Any]] = {}

    def node(name: str, depth: int, label: str, sector: str | None) -> str:
        nodes.setdefault(name, {"name": name, "depth": depth, "label": label, "sector": sector})
        return name

    def link(a: str, b: str, p: Mapping[str, Any]) -> None:
        entry = links.setdefault((a, b), {"source": a, "target": b, "value": 0, "complaints": set()})
        entry["value"] += p["hops"]
        entry["complaints"].update(p["complaints"])

    for p in by_pair:
        if p["to"] == NOBODY:
            continue
        s1 = node(f"from {p['from_sector']}", 0, p["from_sector"], p["from_sector"])
        d1 = node(f"{p['from']} ▸", 1, p["from"], p["from_sector"])
        d2 = node(f"▸ {p['to']}", 2, p["to"], p["to_sector"])
        s2 = node(f"to {p['to_sector']}", 3, p["to_sector"], p["to_sector"])
        link(s1, d1, p)
        link(d1, d2, p)
        link(d2, s2, p)
    return {"nodes": list(nodes.values()),
            "links": [{**v, "complaints": sorted(v["complaints"])} for v in links.values()]}


def report(store: Store, sector: Callable[[str], str] = lambda _: "government",
           since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    q = sa.select(hops).order_by(hops.c.at)
    if since is not None:
        q = q.where(hops.c.at >= since)
    if until is not None:
        q = q.where(hops.c.at < until)
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    doc = summarise(rows, sector)
    doc["since"] = since.isoformat() if since else None
    doc["until"] = until.isoformat() if until else None
    return doc


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """`2026-03-01`, an ISO time, or a span back from now: `7d`, `12h`, `4w`."""
    if not value:
        return None
    units = {"h": 1, "d": 24, "w": 24 * 7}
    if value[-1:] in units and value[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(hours=float(value[:-1]) * units[value[-1]])
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=now.tzinfo)


CSV_COLUMNS = ["from", "from_sector", "to", "to_sector", "hops", "rejected", "transferred",
               "median_hours_lost", "total_hours_lost", "complaints"]


def to_csv(doc: Mapping[str, Any]) -> str:
    """One row per (from, to) pair; complaint ids separated by spaces."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in doc["by_pair"]:
        writer.writerow({**{k: p.get(k) for k in CSV_COLUMNS}, "complaints": " ".join(p["complaints"])})
    return out.getvalue()


def render(doc: Mapping[str, Any]) -> str:
    """A plain-text table for `laporhub report handoffs`."""
    window = f" since {doc['since']}" if doc.get("since") else ""
    lines = [f"{doc['hops']} hand-offs{window}", "",
             f"{'border':<30} {'hops':>5} {'median h lost':>14} {'total h lost':>13}"]
    for b in doc["by_border"]:
        lines.append(f"{b['border']:<30} {b['hops']:>5} {b['median_hours_lost']:>14} {b['total_hours_lost']:>13}")
    lines += ["", f"{'from':<34} {'to':<34} {'hops':>5} {'rej':>4} {'xfer':>5} {'median h lost':>14}"]
    for p in doc["by_pair"]:
        lines.append(f"{p['from']:<34} {p['to']:<34} {p['hops']:>5} {p['rejected']:>4} {p['transferred']:>5} "
                     f"{p['median_hours_lost']:>14}")
    lines += ["", f"{'category':<34} {'hops':>5} {'rej':>4} {'xfer':>5} {'median h lost':>14}"]
    for c in doc["by_category"]:
        lines.append(f"{c['category']:<34} {c['hops']:>5} {c['rejected']:>4} {c['transferred']:>5} "
                     f"{c['median_hours_lost']:>14}")
    return "\n".join(lines)
