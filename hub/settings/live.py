"""Live configuration: what every router and dispatcher runs, reloaded without a restart.

The store holds the published routing version and the destinations' live settings; `build` lays
them over the files in config/ as one immutable snapshot. How workers learn of a change is in
control.py (the broadcast) and workers.py (polling, reporting).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa
import structlog

from hub.core import privacy
from hub.core.destinations import Destination, Registry, from_document
from hub.infra.store import Store, aware, metadata, now
from hub.settings import audit, secrets, versions
from hub.settings.files import HubConfig

log = structlog.get_logger("hub.settings.live")


destination_settings = sa.Table(
    "destination_settings", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("document", sa.JSON),  # a full destination definition, replacing config/'s
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("old_secrets", sa.JSON, nullable=False, default=list),  # [{secret, until}]
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)



@dataclass(frozen=True)
class Effective:
    """One immutable snapshot: swapped whole, never changed in place."""

    config: HubConfig
    paused: frozenset[str]
    generation: int
    expires: datetime | None  # when an old webhook secret's overlap ends and a reload is due


def settings_rows(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(destination_settings)).mappings()]


def build(base: HubConfig, store: Store) -> Effective:
    """The published rules and the destinations' live settings over the files in config/."""
    generation = audit.generation(store)
    published = versions.current(store)
    rows = settings_rows(store)
    at = now()
    expires: datetime | None = None
    registry = base.registry
    paused = frozenset(r["id"] for r in rows if r["paused"])
    if any(r["document"] or r["old_secrets"] for r in rows):
        by_id = {d.id: d for d in base.registry}
        for r in rows:
            dest = by_id.get(r["id"])
            if r["document"]:
                doc = {**r["document"], "options": secrets.unseal_options(r["document"].get("options") or {})}
                dest = from_document(doc, parent=dest.parent if dest else None, city=dest.city if dest else None)
            if dest is None:
                continue
            olds = [s for s in r["old_secrets"] or [] if aware(datetime.fromisoformat(s["until"])) > at]
            for option in ("secret", "callback_secret"):
                mine = [secrets.unseal(s["secret"]) for s in olds if s.get("option", "secret") == option]
                if mine and isinstance(dest.options.get(option), str):
                    dest = replace(dest, options={**dest.options, option: [dest.options[option], *mine]})
            if olds:
                soonest = min(aware(datetime.fromisoformat(s["until"])) for s in olds)
                expires = soonest if expires is None else min(expires, soonest)
            by_id[dest.id] = dest
        registry = Registry(by_id.values(), base.registry.templates)
    ruleset = published.ruleset if published else base.ruleset
    documents = {**base.documents, "rules": published.document} if published else base.documents
    config = replace(base, registry=registry, ruleset=ruleset, documents=documents)
    return Effective(config, paused, generation, expires)


def stale(snap: Effective | None, store: Store) -> bool:
    """Has something changed since this snapshot (or an old secret's overlap ended)?"""
    if snap is None:
        return True
    if snap.expires is not None and now() >= snap.expires:
        return True
    return audit.generation(store) != snap.generation




def redact(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options fit to show or audit: secrets, api keys and passwords (also in URLs) hidden."""
    return privacy.redact_options(dict(options))


def as_document(dest: Destination) -> dict[str, Any]:
    return {"id": dest.id, "name": dest.name, "kind": dest.kind, "adapter": dest.adapter,
            "options": dict(dest.options), "reporter_fields": list(dest.reporter_fields)}
