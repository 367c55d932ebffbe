"""Status updates from destinations: validated, authorised, deduplicated, applied to the delivery's
lifecycle, re-routed on rejection or transfer, and told to the citizen, all in one transaction.

Departments publish updates on the status exchange (`<prefix>.status`, routing key `status`);
operators POST them to /v1/complaints/{id}/status signed with their own webhook secret. Both
arrive here.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

import sqlalchemy as sa
import structlog
from kombu.message import Message
from sqlalchemy.exc import IntegrityError

from hub.aftercare import citizen
from hub.aftercare.reroute import reroute
from hub.core import lifecycle, schemas
from hub.core.errors import ComplaintNotFound, InvalidMessage, LaporHubError
from hub.infra.bus import Bus, ack_after
from hub.infra.outbox import relay
from hub.infra.store import aware, complaints, deliveries, metadata
from hub.infra.store import now as utcnow
from hub.pipeline import linking
from hub.pipeline.outcomes import park
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.aftercare.status")


status_updates = sa.Table(
    "status_updates", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("destination", sa.String(128), nullable=False),
    sa.Column("update_id", sa.String(200), nullable=False),
    sa.Column("complaint_id", sa.String(64), nullable=False, index=True),
    sa.Column("delivery_id", sa.String(64)),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("destination", "update_id", name="uq_status_updates_destination_update"),
)

webhook_ids = sa.Table(
    "webhook_ids", metadata,
    sa.Column("destination", sa.String(128), primary_key=True),
    sa.Column("webhook_id", sa.String(200), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
)


class NotDelivered(LaporHubError):
    """The sender is not a destination this complaint was delivered to."""

    def __init__(self, complaint_id: str, destination: str) -> None:
        self.destination = destination
        super().__init__(f"complaint {complaint_id!r} was not delivered to {destination!r}; "
                         "only a destination that received it may report its status")


@dataclass
class Applied:
    complaint_id: str
    delivery_id: str
    state: str
    complaint_state: str
    duplicate: bool = False
    rerouted_to: list[str] = field(default_factory=list)
    supervisor: bool = False
    message_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"complaint_id": self.complaint_id, "delivery_id": self.delivery_id, "state": self.state,
                "complaint_state": self.complaint_state, "duplicate": self.duplicate,
                "rerouted_to": self.rerouted_to, "supervisor": self.supervisor}


def webhook_id_seen(hub: Hub, destination: str, webhook_id: str) -> bool:
    with hub.store.engine.connect() as conn:
        return conn.execute(sa.select(webhook_ids.c.seen_at).where(
            webhook_ids.c.destination == destination, webhook_ids.c.webhook_id == webhook_id)).first() is not None


def remember_webhook_id(hub: Hub, destination: str, webhook_id: str) -> None:
    """Record an applied callback's webhook-id, so a replay of it is refused. Only applied ones are
    recorded: a callback refused for another reason may be retried with the same id."""
    try:
        with hub.store.begin() as conn:
            conn.execute(webhook_ids.insert().values(destination=destination, webhook_id=webhook_id,
                                                     seen_at=utcnow()))
    except IntegrityError:
        pass


def pause(hub: Hub, delivery: Mapping[str, Any], new: str, at: datetime) -> dict[str, Any]:
    """The SLA clock stops while the destination waits for the citizen: `needs_info` starts a
    pause, leaving it adds the pause's working time to `paused_seconds`."""
    since = aware(delivery.get("paused_at"))
    if new == "needs_info":
        return {} if since else {"paused_at": at}
    if since is None:
        return {}
    calendar = hub.config.policy.calendar_for(delivery["destination"]) if hub.config.policy else None
    spent = calendar.working_seconds(since, at) if calendar else (at - since).total_seconds()
    return {"paused_at": None, "paused_seconds": float(delivery.get("paused_seconds") or 0) + spent}


def apply(hub: Hub, update: Mapping[str, Any], now: datetime | None = None) -> Applied:
    """Apply one status update. Raises InvalidMessage, ComplaintNotFound, NotDelivered or
    IllegalTransition; a repeated update_id from the same destination changes nothing."""
    schemas.validate("status-update", update)
    at = now or utcnow()
    store = hub.store
    cid, dest, status = update["complaint_id"], update["destination"], update["status"]
    try:
        with store.begin() as conn:
            complaint = store.complaint_row(conn, cid, lock=True)
            if complaint is None:
                raise ComplaintNotFound(cid)
            delivery = conn.execute(sa.select(deliveries).where(
                deliveries.c.complaint_id == cid, deliveries.c.destination == dest)).mappings().first()
            if delivery is None or delivery["delivered_at"] is None or (
                    update.get("delivery_id") not in (None, delivery["id"])):
                raise NotDelivered(cid, dest)
            seen = conn.execute(sa.select(status_updates.c.id).where(
                status_updates.c.destination == dest, status_updates.c.update_id == update["update_id"])).scalar()
            if seen:
                return _duplicate(conn, complaint, delivery)
            conn.execute(status_updates.insert().values(
                destination=dest, update_id=update["update_id"], complaint_id=cid, delivery_id=delivery["id"],
                status=status, body=dict(update), received_at=at))
            new = lifecycle.transition(delivery["state"], status)
            values: dict[str, Any] = {"state": new, "state_at": at}
            if new == "acknowledged" or (delivery["acknowledged_at"] is None and new != "needs_info"):
                values["acknowledged_at"] = delivery["acknowledged_at"] or at
            values.update(pause(hub, delivery, new, at))
            conn.execute(deliveries.update().where(deliveries.c.id == delivery["id"]).values(**values))
            public = {k: update.get(k) for k in ("note", "resolution_note", "photo_url", "reason")}
            store.add_event(conn, cid, "status_changed", {
                "destination": dest, "from": delivery["state"], "to": new, "update_id": update["update_id"],
                **{k: v for k, v in public.items() if v},
                **({"internal_note": update["internal_note"]} if update.get("internal_note") else {}),
                **({"suggested_destination": update["suggested_destination"]} if update.get("suggested_destination") else {}),
                **({"transfer_to": update["transfer_to"]} if update.get("transfer_to") else {})},
                actor=dest, delivery_id_=delivery["id"])
            result = Applied(cid, delivery["id"], new, "")
            if new in lifecycle.PASSED_ON:
                named = update.get("transfer_to") or update.get("suggested_destination")
                plan, mids = reroute(hub, conn, complaint, {**delivery, **values}, new, named,
                                     update.get("reason"), at)
                result.rerouted_to = [t.destination for t in plan.targets]
                result.supervisor = plan.supervisor
                result.message_ids += mids
            result.complaint_state = citizen.refresh_state(conn, cid)
            result.message_ids += citizen.publish(hub, conn, complaint, new, result.complaint_state,
                                                  public, destination=dest, at=at)
            result.message_ids += _tell_followers(hub, conn, cid, new, result.complaint_state, public, dest, at)
            if result.rerouted_to:
                names = [citizen.destination_name(hub, d) for d in result.rerouted_to]
                result.message_ids += citizen.publish(hub, conn, complaint, "rerouted", result.complaint_state,
                                                      {"reason": update.get("reason"), "to": names},
                                                      destination=dest, at=at)
    except IntegrityError:
        # The same update raced in twice; the other transaction applied it.
        with store.engine.connect() as conn:
            complaint = store.complaint_row(conn, cid)
            delivery = conn.execute(sa.select(deliveries).where(
                deliveries.c.complaint_id == cid, deliveries.c.destination == dest)).mappings().one()
            return _duplicate(conn, complaint, delivery)
    log.info("status.applied", complaint_id=cid, destination=dest, state=result.state,
             rerouted_to=result.rerouted_to)
    return result


def _tell_followers(hub: Hub, conn: Any, original_id: str, kind: str, state: str,
                    public: Mapping[str, Any], destination: str, at: datetime) -> list[str]:
    """Every citizen whose report was linked to this one hears the change on their own channel."""
    ids: list[str] = []
    for follower in linking.followers(conn, original_id):
        conn.execute(complaints.update().where(complaints.c.id == follower["id"]).values(state=state, updated_at=at))
        store_event = {"destination": destination, "to": kind, "original": original_id}
        hub.store.add_event(conn, follower["id"], "status_changed", store_event, actor=destination)
        ids += citizen.publish(hub, conn, follower, kind, state, public, destination=destination, at=at)
    return ids


def _duplicate(conn: Any, complaint: Mapping[str, Any], delivery: Mapping[str, Any]) -> Applied:
    return Applied(complaint["id"], delivery["id"], delivery["state"], complaint["state"], duplicate=True)


class StatusConsumer:
    """Consumes the status queue; an update that can never apply goes to the dead-letter queue
    with the reason, so the department can see why."""

    def __init__(self, hub: Hub, bus: Bus | None = None) -> None:
        self.hub = hub
        self.bus = bus or hub.bus()

    def process(self, raw: bytes | str, routing_key: str | None = None, user_id: str | None = None) -> str:
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._dead(f"status update is not JSON: {exc}", raw, routing_key)
        refused = self.refusal(doc, user_id)
        if refused:
            return self._dead(refused, raw, routing_key, complaint_id=doc.get("complaint_id"),
                              destination=doc.get("destination"))
        try:
            result = apply(self.hub, doc)
        except InvalidMessage as exc:
            return self._dead(str(exc), raw, routing_key, errors=exc.errors)
        except (ComplaintNotFound, NotDelivered, lifecycle.IllegalTransition) as exc:
            return self._dead(str(exc), raw, routing_key, complaint_id=doc.get("complaint_id"),
                              destination=doc.get("destination"))
        relay(self.hub.store, self.bus, message_ids=result.message_ids)
        return "duplicate" if result.duplicate else result.state

    def _dead(self, reason: str, raw: bytes | str, routing_key: str | None, **extra: Any) -> str:
        return park(self.hub, self.bus, "status", reason, raw, routing_key=routing_key, **extra)

    def refusal(self, doc: Any, user_id: str | None) -> str | None:
        """Why a sender may not post this update, or None. On RabbitMQ a department publishes as
        its own broker user (AMQP user_id, checked by the broker against its login) and may speak
        only for its own destination; the hub's own user may speak for any. The in-process bus
        has no one else on it."""
        if self.hub.settings.embedded:
            return None
        dest = doc.get("destination") if isinstance(doc, dict) else None
        if not user_id:
            return "status update without user_id: publish it as your department's broker user, with user_id set"
        if user_id in (self.bus.connection.userid, self.hub.topology.user(str(dest))):
            return None
        return f"broker user {user_id!r} may not post status for destination {dest!r} (it is not that destination's user)"

    def handle(self, message: Message) -> None:
        user_id = message.properties.get("user_id")
        ack_after(lambda raw, key: self.process(raw, key, user_id), message, "status")

    def run(self, stop: threading.Event) -> None:
        log.info("status.started", broker=self.bus.connection.as_uri())
        self.bus.consume([self.hub.topology.status], self.handle, stop=stop)
