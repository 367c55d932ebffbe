"""The hand-offs report: rejections and transfers by (from, to) pair and by category, with the
median time lost per hop, so administrators see which government<->private borders leak."""

from __future__ import annotations

from collections import defaultdict
from statistics import median
from typing import Any, Iterable, Mapping

import sqlalchemy as sa

from hub.infra.store import Store, metadata

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


def summarise(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Pure: hop rows (from_destination, to_destinations, kind, category, held_seconds) in."""
    pairs: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    cats: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    total = 0
    for r in rows:
        total += 1
        for to in r["to_destinations"] or ["(nobody: others still hold it)"]:
            pairs[(r["from_destination"], to)].append(r)
        cats[r["category"] or "unknown"].append(r)

    def stats(group: list[Mapping[str, Any]]) -> dict[str, Any]:
        return {"hops": len(group),
                "rejected": sum(1 for r in group if r["kind"] == "rejected"),
                "transferred": sum(1 for r in group if r["kind"] == "transferred"),
                "median_hours_lost": round(median(r["held_seconds"] for r in group) / 3600, 2)}

    by_pair = [{"from": f, "to": t, **stats(g)} for (f, t), g in pairs.items()]
    by_category = [{"category": c, **stats(g)} for c, g in cats.items()]
    by_pair.sort(key=lambda x: (-x["hops"], x["from"], x["to"]))
    by_category.sort(key=lambda x: (-x["hops"], x["category"]))
    return {"hops": total, "by_pair": by_pair, "by_category": by_category}


def report(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(hops)).mappings().all()
    return summarise(rows)


def render(doc: Mapping[str, Any]) -> str:
    """A plain-text table for `laporhub report handoffs`."""
    lines = [f"{doc['hops']} hand-offs", "", f"{'from':<34} {'to':<34} {'hops':>5} {'rej':>4} {'xfer':>5} {'median h lost':>14}"]
    for p in doc["by_pair"]:
        lines.append(f"{p['from']:<34} {p['to']:<34} {p['hops']:>5} {p['rejected']:>4} {p['transferred']:>5} "
                     f"{p['median_hours_lost']:>14}")
    lines += ["", f"{'category':<34} {'hops':>5} {'rej':>4} {'xfer':>5} {'median h lost':>14}"]
    for c in doc["by_category"]:
        lines.append(f"{c['category']:<34} {c['hops']:>5} {c['rejected']:>4} {c['transferred']:>5} "
                     f"{c['median_hours_lost']:>14}")
    return "\n".join(lines)
