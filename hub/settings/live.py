"""Live configuration: what every router and dispatcher runs, reloaded without a restart.

The store holds the published routing version and the destinations' live settings. After an
administrative change, a control message goes out on the `<prefix>.control` fanout exchange
(through the outbox, in the change's own transaction); every worker has its own exclusive queue
bound to it and reloads when a message arrives. Workers also look at the store's configuration
generation every few seconds, so a missed broadcast delays a change but never loses it. Each
worker reports the routing version it runs in the `workers` table.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

import sqlalchemy as sa
import structlog

from hub.settings import audit
from hub.core import schemas
from hub.settings import versions
from hub.settings.files import HubConfig
from hub.core.destinations import Destination, Registry, _destination
from hub.infra.store import Store, _aware, _iso, destination_settings, now, workers

if TYPE_CHECKING:
    from hub.settings.runtime import Hub

log = structlog.get_logger("hub.settings.live")

POLL_SECONDS = 3.0
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0


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
                dest = _destination(r["document"], parent=dest.parent if dest else None,
                                    city=dest.city if dest else None)
            if dest is None:
                continue
            olds = [s for s in r["old_secrets"] or [] if _aware(datetime.fromisoformat(s["until"])) > at]
            if olds and isinstance(dest.options.get("secret"), str):
                dest = replace(dest, options={**dest.options,
                                              "secret": [dest.options["secret"], *(s["secret"] for s in olds)]})
                soonest = min(_aware(datetime.fromisoformat(s["until"])) for s in olds)
                expires = soonest if expires is None else min(expires, soonest)
            by_id[dest.id] = dest
        registry = Registry(by_id.values(), base.registry.templates)
    ruleset = published.ruleset if published else base.ruleset
    documents = {**base.documents, "rules": published.document} if published else base.documents
    config = replace(base, registry=registry, ruleset=ruleset, documents=documents)
    return Effective(config, paused, generation, expires)


def stale(hub: "Hub") -> bool:
    """Has something changed since this hub's snapshot (or an old secret's overlap ended)?"""
    snap = hub.live
    if snap is None:
        return True
    if snap.expires is not None and now() >= snap.expires:
        return True
    return audit.generation(hub.store) != snap.generation


# -- the broadcast -----------------------------------------------------------------------------

def announce(store: Store, conn: sa.Connection, generation: int, change: str, *,
             routing_version: str | None = None, destination: str | None = None) -> str:
    """Queue a control message in the change's transaction; returns its outbox message id."""
    message = schemas.validate("control", {
        "type": "laporhub.control.v1", "change": change, "generation": generation,
        "routing_version": routing_version, "destination": destination,
        "at": _iso(now())})
    mid = f"control:{generation}"
    store.enqueue(conn, mid, "control", "", message)
    return mid


def is_control(message: Any, hub: "Hub") -> bool:
    return (message.delivery_info or {}).get("exchange") == f"{hub.settings.bus_prefix}.control"


# -- workers' reports --------------------------------------------------------------------------

@dataclass
class Worker:
    """A router or dispatcher: reloads when told or when the store moved, and says what it runs."""

    hub: "Hub"
    kind: str
    id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    started_at: datetime = field(default_factory=now)
    _polled: float = 0.0
    _reported: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def control_queue(self) -> Any:
        return self.hub.topology.control(self.id)

    def on_control(self, body: bytes | str) -> None:
        try:
            doc = json.loads(body)
            log.info("control.received", change=doc.get("change"), generation=doc.get("generation"))
        except ValueError:
            log.warning("control.unreadable", body=str(body)[:200])
        self.reload(force=True)

    def reload(self, force: bool = False) -> bool:
        changed = self.hub.refresh(force=force)
        if changed:
            log.info("config.reloaded", worker=self.id, routing_version=self.hub.config.ruleset.version,
                     paused=sorted(self.hub.paused))
        self.report()
        return changed

    def tick(self) -> bool:
        """Between messages: poll the store now and then, report now and then."""
        clock = time.monotonic()
        changed = False
        if clock - self._polled >= POLL_SECONDS:
            self._polled = clock
            try:
                changed = self.hub.refresh()
            except Exception as exc:  # noqa: BLE001 - store away: keep running what we have
                log.warning("config.poll_failed", error=str(exc))
        if changed or clock - self._reported >= HEARTBEAT_SECONDS:
            self.report()
        return changed

    def report(self) -> None:
        self._reported = time.monotonic()
        values = {"kind": self.kind, "host": socket.gethostname(), "pid": os.getpid(),
                  "routing_version": self.hub.config.ruleset.version,
                  "generation": self.hub.live.generation if self.hub.live else 0, "seen_at": now()}
        try:
            with self._lock, self.hub.store.begin() as conn:
                done = conn.execute(workers.update().where(workers.c.id == self.id).values(**values)).rowcount
                if not done:
                    conn.execute(workers.insert().values(id=self.id, started_at=self.started_at, **values))
        except Exception as exc:  # noqa: BLE001 - a missed report is not worth stopping for
            log.warning("worker.report_failed", error=str(exc))

    def leave(self) -> None:
        try:
            with self.hub.store.begin() as conn:
                conn.execute(workers.delete().where(workers.c.id == self.id))
        except Exception:  # noqa: BLE001 - it will show as stale instead
            pass


def listing(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(workers).order_by(workers.c.kind, workers.c.started_at)
    if kind:
        q = q.where(workers.c.kind == kind)
    at = now()
    with store.engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{"id": r["id"], "kind": r["kind"], "host": r["host"], "pid": r["pid"],
             "routing_version": r["routing_version"], "generation": r["generation"],
             "started_at": _iso(r["started_at"]), "seen_at": _iso(r["seen_at"]),
             "stale": (at - _aware(r["seen_at"])).total_seconds() > STALE_SECONDS} for r in rows]


def forget_stale(store: Store, older_than: float = 3600.0) -> None:
    with store.begin() as conn:
        for r in conn.execute(sa.select(workers.c.id, workers.c.seen_at)).mappings().all():
            if (now() - _aware(r["seen_at"])).total_seconds() > older_than:
                conn.execute(workers.delete().where(workers.c.id == r["id"]))


def redact(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options fit to show or audit: secrets shortened to their first characters."""
    def short(s: Any) -> Any:
        return f"{s[:10]}…" if isinstance(s, str) and len(s) > 10 else s
    out = dict(options)
    if "secret" in out:
        out["secret"] = [short(s) for s in out["secret"]] if isinstance(out["secret"], list) else short(out["secret"])
    return out


def as_document(dest: Destination) -> dict[str, Any]:
    return {"id": dest.id, "name": dest.name, "kind": dest.kind, "adapter": dest.adapter,
            "options": dict(dest.options), "share_reporter_contact": dest.share_reporter_contact}
