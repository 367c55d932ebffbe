"""Where a destination may transfer a complaint (issue 11): only to destinations the rules send that
category to, or that an administrator put on the category's allow-list. A complaint with a NIK in
it must not travel from PLN to Telkom because PLN said so.

The allow-list is a table an administrator maintains (PUT /v1/admin/transfers/{category}); each
change is audited. Category `*` allows a destination for every category.
"""

from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.core.destinations import Registry
from hub.core.rules import RuleSet
from hub.infra.store import metadata, now
from hub.settings import audit

EVERY = "*"
GOVERNMENT = ("department", "city-office", "triage")

transfer_allow = sa.Table(
    "transfer_allow", metadata,
    sa.Column("category", sa.String(64), primary_key=True),
    sa.Column("destination", sa.String(128), primary_key=True),
    sa.Column("added_by", sa.String(128), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)


def by_rules(ruleset: RuleSet, registry: Registry, category: str | None) -> set[str]:
    """Every destination a rule for this category (or one for every category) may send to; a
    `{city}` template counts for each of its city offices and its parent department."""
    found: set[str] = set()
    for rule in ruleset.rules:
        cats = rule.when.get("category")
        if cats and category not in cats:
            continue
        for ref in rule.send_to:
            if ref in registry.templates:
                found.add(registry.templates[ref])
                found.update(d.id for d in registry if d.parent == registry.templates[ref])
            elif ref in registry:
                found.add(ref)
    return found | {ruleset.triage}


def allowed(conn: Connection, category: str | None) -> set[str]:
    rows = conn.execute(sa.select(transfer_allow.c.destination).where(
        transfer_allow.c.category.in_([category or "", EVERY]))).scalars()
    return set(rows)


def permitted(conn: Connection, ruleset: RuleSet, registry: Registry, category: str | None,
              destination: str, kind: str = "transferred") -> bool:
    """May the complaint go to `destination`? A transfer (`transfer_to`) only by the rules or the
    allow-list; a rejection's suggestion also to any government office (the category was likely
    wrong, and the department is bound by the same duties), never to another private operator."""
    if destination in by_rules(ruleset, registry, category) or destination in allowed(conn, category):
        return True
    return kind == "rejected" and destination in registry and registry.get(destination).kind in GOVERNMENT


def listing(conn: Connection) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for cat, dest in conn.execute(sa.select(transfer_allow.c.category, transfer_allow.c.destination)
                                  .order_by(transfer_allow.c.category, transfer_allow.c.destination)):
        out.setdefault(cat, []).append(dest)
    return out


def replace(conn: Connection, category: str, destinations: Iterable[str], *, actor: str,
            reason: str) -> dict[str, Any]:
    """Set the allow-list of one category; audited with before and after."""
    wanted = sorted(set(destinations))
    before = sorted(allowed_exactly(conn, category))
    conn.execute(transfer_allow.delete().where(transfer_allow.c.category == category))
    if wanted:
        conn.execute(transfer_allow.insert(), [{"category": category, "destination": d, "added_by": actor,
                                                "added_at": now()} for d in wanted])
    audit.record(conn, actor, "transfers.allow", f"transfers:{category}", reason, before, wanted)
    return {"category": category, "destinations": wanted}


def allowed_exactly(conn: Connection, category: str) -> set[str]:
    return set(conn.execute(sa.select(transfer_allow.c.destination)
                            .where(transfer_allow.c.category == category)).scalars())
