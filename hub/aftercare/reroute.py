"""Re-routing after a rejection or transfer, and sending a delivery again.

`plan` is pure: who refused, who holds the complaint, what was named, how many hops so far, in;
where it goes next, out. A complaint never returns to a destination that refused (rejected or
transferred) it, and after `hop_limit` hops it goes to triage flagged for a supervisor.
`reroute` and `send` write the hop, the deliveries and their outbox messages in the caller's
transaction, as the router does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.aftercare import transfers
from hub.aftercare.handoffs import hops
from hub.core import lifecycle, privacy, schemas
from hub.core.areas import Area
from hub.core.classify import Classification
from hub.core.rules import Target, alternatives
from hub.infra import outbox
from hub.infra.metrics import HANDOFF_HOURS, HANDOFFS
from hub.infra.store import aware, complaints, deliveries
from hub.infra.store import now as utcnow
from hub.pipeline.routing import delivery_message
from hub.settings.runtime import Hub


@dataclass(frozen=True)
class Plan:
    targets: tuple[Target, ...]
    supervisor: bool
    hop: int
    note: str


def plan(named: str | None, refused: set[str], holding: set[str], hop: int, hop_limit: int,
         known: Callable[[str], bool], next_by_rules: Callable[[set[str]], tuple[Target, ...]],
         triage: str, actor: str, permitted: Callable[[str], bool] = lambda _: True) -> Plan:
    """Where a complaint goes after hop number `hop` (1 for the first rejection or transfer).
    A named destination must be `permitted` (by the rules or the transfer allow-list)."""
    if hop >= hop_limit:
        why = f"{hop} hand-offs (limit {hop_limit}): a supervisor decides"
        return Plan((Target(triage, "hop-limit", why),), True, hop, why)
    if named:
        if named in refused:
            note = f"{named} already refused it"
        elif not known(named):
            note = f"{named} is not a known destination"
        elif not permitted(named):
            note = f"{named} may not receive this category (not in its rules or transfer allow-list)"
        elif named in holding:
            return Plan((), False, hop, f"{named} already has it")
        else:
            return Plan((Target(named, f"handoff:{actor}", f"named by {actor}"),), False, hop,
                        f"to {named}, named by {actor}")
    else:
        note = "no destination named"
    found = next_by_rules(refused | holding)
    if found:
        return Plan(found, False, hop, f"{note}; next matching rule: {found[0].rule_id}")
    if holding - {triage}:
        return Plan((), False, hop, f"{note}; {', '.join(sorted(holding))} still have it")
    if triage in holding:
        return Plan((), False, hop, f"{note}; triage has it")
    why = f"{note}; no other rule matches: a person decides"
    return Plan((Target(triage, "fallback", why),), False, hop, why)


def classification_of(doc: Mapping[str, Any]) -> Classification:
    area = doc.get("area")
    return Classification(doc["category"], doc["confidence"],
                          Area(area["city"], area.get("kecamatan"), area["source"], area.get("kelurahan")) if area else None,
                          doc["urgency"], doc.get("evidence") or {})


def reroute(hub: Hub, conn: Connection, complaint: Mapping[str, Any], passed_on: Mapping[str, Any],
            kind: str, named: str | None, reason: str | None, at: datetime) -> tuple[Plan, list[str]]:
    """Record the hop and send the complaint on; returns the plan and the outbox message ids."""
    cfg = hub.config
    rows = conn.execute(sa.select(deliveries.c.destination, deliveries.c.state)
                        .where(deliveries.c.complaint_id == complaint["id"])).all()
    refused = {d for d, s in rows if s in lifecycle.PASSED_ON}
    holding = {d for d, s in rows if not lifecycle.is_done(s)}
    hop = conn.execute(sa.select(sa.func.count()).select_from(hops)
                       .where(hops.c.complaint_id == complaint["id"])).scalar_one() + 1
    c = classification_of(complaint["classification"])

    def next_by_rules(exclude: set[str]) -> tuple[Target, ...]:
        return alternatives(complaint["body"], c, cfg.ruleset, cfg.registry, cfg.taxonomy, exclude)

    actor = passed_on["destination"]
    p = plan(named, refused, holding, hop, cfg.policy.hop_limit if cfg.policy else 3,
             lambda d: d in cfg.registry, next_by_rules, cfg.ruleset.triage, actor,
             lambda d: transfers.permitted(conn, cfg.ruleset, cfg.registry, complaint["category"], d, kind))
    held = (at - aware(passed_on["clock_from"] or passed_on["created_at"])).total_seconds()
    conn.execute(hops.insert().values(
        complaint_id=complaint["id"], from_destination=actor, to_destinations=[t.destination for t in p.targets],
        kind=kind, category=complaint["category"], reason=reason, actor=actor, held_seconds=max(held, 0.0), at=at))
    sector = cfg.registry.get(actor).sector if actor in cfg.registry else "government"
    for t in p.targets:
        to = cfg.registry.get(t.destination).sector if t.destination in cfg.registry else "government"
        HANDOFFS.labels(sector, to, kind).inc()
        HANDOFF_HOURS.labels(sector, to).inc(max(held, 0.0) / 3600)
    handoff = {"hop": hop, "from": actor, "kind": kind, "reason": privacy.mask_text(reason or ""), "supervisor": p.supervisor,
               "refused_by": sorted(refused)}
    message_ids = [send(hub, conn, complaint, t, handoff, at) for t in p.targets]
    if p.supervisor:
        conn.execute(complaints.update().where(complaints.c.id == complaint["id"]).values(supervisor=True))
    hub.store.add_event(conn, complaint["id"], "rerouted", {
        "from": actor, "kind": kind, "reason": reason, "hop": hop, "to": [t.destination for t in p.targets],
        "supervisor": p.supervisor, "why": p.note}, actor=actor, delivery_id_=passed_on["id"])
    return p, message_ids


def send(hub: Hub, conn: Connection, complaint: Mapping[str, Any], target: Target,
         handoff: Mapping[str, Any], at: datetime) -> str:
    """A new delivery for `target`, or the existing one sent again (triage, a released copy)."""
    store = hub.store
    existing = conn.execute(sa.select(deliveries).where(
        deliveries.c.complaint_id == complaint["id"], deliveries.c.destination == target.destination)).mappings().first()
    if existing is None:
        destination = hub.config.registry.get(target.destination)
        did = store.insert_delivery(conn, complaint["id"], destination.id, destination.adapter,
                                    target.rule_id, target.reason)
        conn.execute(deliveries.update().where(deliveries.c.id == did).values(
            clock_from=at, paused_at=None, paused_seconds=0.0, state_at=at, handoff=dict(handoff)))
        row = conn.execute(sa.select(deliveries).where(deliveries.c.id == did)).mappings().one()
        return _enqueue(hub, conn, complaint, row, target, handoff, f"delivery:{did}")
    conn.execute(deliveries.update().where(deliveries.c.id == existing["id"]).values(
        state="sent", state_at=at, acknowledged_at=None, clock_from=at, paused_at=None, paused_seconds=0.0,
        rule_id=target.rule_id,
        reason=target.reason))
    return resend(hub, conn, complaint, {**existing, "rule_id": target.rule_id, "reason": target.reason}, handoff)


def resend(hub: Hub, conn: Connection, complaint: Mapping[str, Any], delivery: Mapping[str, Any],
           handoff: Mapping[str, Any]) -> str:
    """Send an existing delivery again (after a reopen or a return): a new message id, pending again."""
    sends = (delivery.get("sends") or 1) + 1
    handoff = {**handoff, "send": sends}
    conn.execute(deliveries.update().where(deliveries.c.id == delivery["id"]).values(
        status="pending", sends=sends, handoff=dict(handoff), updated_at=utcnow()))
    target = Target(delivery["destination"], delivery["rule_id"], delivery["reason"])
    return _enqueue(hub, conn, complaint, delivery, target, handoff, f"delivery:{delivery['id']}:{sends}")


def _enqueue(hub: Hub, conn: Connection, complaint: Mapping[str, Any], delivery: Mapping[str, Any],
             target: Target, handoff: Mapping[str, Any], message_id: str) -> str:
    destination = hub.config.registry.get(target.destination)
    message = delivery_message(complaint["id"], complaint["body"], complaint["classification"], target,
                               destination, complaint["ruleset_version"] or "", delivery["id"],
                               hub.settings.public_url)
    message["handoff"] = dict(handoff)
    schemas.validate("delivery", message)
    outbox.enqueue(conn, message_id, "delivery", destination.id, message,
                   headers={"laporhub-complaint-id": complaint["id"]})
    return message_id
