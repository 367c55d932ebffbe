"""The audit of administrative changes: who changed what, when, why, and what it was before and after.

Written in the same transaction as the change itself, so there is no change without its record.
Its highest id is also the hub's configuration generation: workers reload when it moves.
"""

from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.infra.store import Store, iso, metadata, now

admin_changes = sa.Table(
    "admin_changes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
)


def record(conn: Connection, actor: str, action: str, target: str, reason: str,
           before: Any = None, after: Any = None) -> int:
    result = conn.execute(admin_changes.insert().values(
        at=now(), actor=actor, action=action, target=target, reason=reason,
        before=before, after=after))
    return int(result.inserted_primary_key[0])



def generation(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.max(admin_changes.c.id))).scalar() or 0)


def changes(store: Store, limit: int = 100, target: str | None = None,
            action: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(admin_changes).order_by(admin_changes.c.id.desc()).limit(limit)
    if target:
        q = q.where(admin_changes.c.target == target)
    if action:
        q = q.where(admin_changes.c.action == action)
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [_row(r) for r in rows]


def _row(r: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "at": iso(r["at"]), "actor": r["actor"], "action": r["action"],
            "target": r["target"], "reason": r["reason"], "before": r["before"], "after": r["after"]}
