"""What becomes of a message: delivered, retry scheduled, or dead. One place records each, with
its events, in one transaction; `park` is the one way any stage dead-letters what it cannot use
(routing, status updates, notices, deliveries).

A delivery's outcome is recorded only under its lease (hub/pipeline/leases.py): a worker whose
lease was taken over records nothing, so one delivery never gets two outcomes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import structlog
from sqlalchemy.engine import Connection

import adapters
from hub.core import retries
from hub.infra.bus import Bus
from hub.infra.metrics import DELIVERIES, DELIVERY_SECONDS, RETRIES
from hub.infra import outbox
from hub.infra.outbox import relay
from hub.infra.store import event_row, events, now
from hub.pipeline import attempts as attempt_log
from hub.pipeline import deadletter, leases, retry
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.pipeline.outcomes")


def park(hub: Hub, bus: Bus, stage: str, reason: str, raw: bytes | str, *, routing_key: str | None = None,
         also: Callable[[Connection], None] | None = None, **fields: Any) -> str:
    """Dead-letter `raw` at `stage` with the reason (and `also` the caller's own state change, in
    the same transaction), then publish the dead letter. Returns "dead"."""
    doc = deadletter.document(stage, reason, raw, routing_key=routing_key,
                              **{k: v for k, v in fields.items() if v is not None})
    park_letter(hub, bus, doc, also)
    log.warning(f"{stage}.dead_lettered", reason=reason[:300], complaint_id=fields.get("complaint_id"),
                delivery_id=fields.get("delivery_id"))
    return "dead"


def park_letter(hub: Hub, bus: Bus, doc: dict[str, Any], also: Callable[[Connection], None] | None = None) -> str:
    """The one way a dead letter is written: record `doc` (a `deadletter.document`; `also` may
    still fill it in) with the caller's state change in one transaction, then publish it.
    Returns the outbox message id."""
    with hub.store.begin() as conn:
        if also is not None:
            also(conn)
        mid = deadletter.enqueue(hub.store, conn, doc)
    relay(hub.store, bus, message_ids=[mid])
    return mid


def observe(destination: str, outcome: str, attempts: list[adapters.Attempt], created_at: str | None) -> None:
    DELIVERIES.labels(destination, outcome).inc()
    RETRIES.labels(destination).inc(sum(1 for a in attempts if a.outcome == "retry"))
    if created_at:
        created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        DELIVERY_SECONDS.labels(destination).observe(max(0.0, (now() - created).total_seconds()))


def _attempt_events(cid: str, did: str, dest_id: str, attempts: list[adapters.Attempt]) -> list[dict[str, Any]]:
    return [event_row(cid, "delivery_attempt", {"destination": dest_id, **a.as_dict()}, delivery_id_=did)
            for a in attempts]


class Outcomes:
    """Records a delivery's outcome for one dispatcher (whose bus publishes what follows)."""

    def __init__(self, hub: Hub, bus: Bus) -> None:
        self.hub, self.bus = hub, bus

    def delivered(self, doc: dict[str, Any], token: str, receipt: adapters.Receipt, attempts_before: int,
                  endpoint_failing: bool) -> str:
        did, cid, dest_id = doc["delivery_id"], doc["complaint_id"], doc["destination"]
        store = self.hub.store
        with store.begin() as conn:
            leases.settle(conn, did, token, status="delivered", attempts=attempts_before + len(receipt.attempts),
                          delivered_at=now(), last_error=None,
                          **({"remote_ref": receipt.remote_ref} if receipt.remote_ref else {}))
            retry.forget(conn, did)
            if endpoint_failing:
                retry.recovered(conn, dest_id)
            conn.execute(events.insert(), [
                *_attempt_events(cid, did, dest_id, receipt.attempts),
                event_row(cid, "delivered", {"destination": dest_id, "detail": receipt.detail}, delivery_id_=did)])
            attempt_log.record(conn, dest_id, did, receipt.attempts)
            store.settle_complaint(conn, cid)
        log.info("delivery.delivered", destination=dest_id, attempts=len(receipt.attempts))
        observe(dest_id, "delivered", receipt.attempts, doc.get("created_at"))
        return "delivered"

    def later(self, doc: dict[str, Any], raw: bytes | str, token: str, reason: str,
              attempts: list[adapters.Attempt], retry_after: float | None, count: bool = True) -> str:
        """Schedule the next try by the long schedule (a delayed re-queue, not a sleeping thread);
        dead once the schedule is used up. With `count` False (an open circuit: nothing was
        tried) the step is not used up, only put off."""
        did, cid, dest_id = doc["delivery_id"], doc["complaint_id"], doc["destination"]
        store, settings = self.hub.store, self.hub.settings
        with store.engine.connect() as conn:
            step = retry.next_step(conn, did)
        if not count:
            step -= 1  # put off, not tried: the step stays where it was (-1: none used yet)
            seconds: float | None = retries.put_off(step, settings.webhook_schedule, retry_after)
        else:
            seconds = retries.later(step, settings.webhook_schedule, retry_after)
        if seconds is None:
            return self.dead(doc, raw, token, reason, attempts, dest_id)
        with store.begin() as conn:
            current = store.delivery(did, conn)
            leases.settle(conn, did, token, last_error=reason,
                          attempts=(current["attempts"] if current else 0) + len(attempts))
            if attempts:
                conn.execute(events.insert(), _attempt_events(cid, did, dest_id, attempts))
            attempt_log.record(conn, dest_id, did, attempts)
            retry.schedule(conn, did, dest_id, raw if isinstance(raw, str) else raw.decode(), step, seconds, reason)
            store.add_event(conn, cid, "delivery_retry_scheduled",
                            {"destination": dest_id, "reason": reason, "in_seconds": round(seconds, 1)},
                            delivery_id_=did)
            alert = count and retry.failing(conn, dest_id, reason, settings.webhook_failing_after)
            if alert:
                store.add_event(conn, cid, "endpoint_failing", {"destination": dest_id, "reason": reason},
                                delivery_id_=did)
                outbox.enqueue(conn, f"alert:{dest_id}:{did}", "events", "endpoint.failing",
                               {"type": "laporhub.endpoint_failing.v1", "destination": dest_id, "reason": reason,
                                "at": now().isoformat()})
        RETRIES.labels(dest_id).inc()
        if alert:
            log.error("endpoint.failing", destination=dest_id, reason=reason)
        log.info("delivery.retry_scheduled", destination=dest_id, in_seconds=round(seconds, 1), step=step)
        return "scheduled"

    def dead(self, doc: dict[str, Any], raw: bytes | str, token: str | None, reason: str,
             attempts: list[adapters.Attempt], routing_key: str | None) -> str:
        did, cid, dest_id = doc["delivery_id"], doc["complaint_id"], doc["destination"]
        store = self.hub.store

        def record(conn: Connection) -> None:
            current = store.delivery(did, conn)
            leases.settle(conn, did, token, status="dead", last_error=reason,
                          attempts=(current["attempts"] if current else 0) + len(attempts))
            if attempts:
                conn.execute(events.insert(), _attempt_events(cid, did, dest_id, attempts))
            attempt_log.record(conn, dest_id, did, attempts)
            retry.forget(conn, did)
            store.add_event(conn, cid, "delivery_failed", {"destination": dest_id, "reason": reason},
                            delivery_id_=did)
            store.settle_complaint(conn, cid)

        park(self.hub, self.bus, "dispatcher", reason, raw, routing_key=routing_key, also=record,
             complaint_id=cid, delivery_id=did, destination=dest_id)
        observe(dest_id, "dead", attempts, None)
        return "dead"
