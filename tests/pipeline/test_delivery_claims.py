"""Issue 10, piece by piece: a delivery is claimed before it is worked (one winner, an expired
lease taken over, settling only under the lease); a retry's message id never collides with an
earlier one and an open circuit never strands a delivery; the reconciler re-queues what nothing
would move on; destination options are declared per adapter."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from adapters import Context
from adapters.webhook import WebhookAdapter
from hub.cli.receiver import Receiver
from hub.core.destinations import Destination, dispatch_options
from hub.infra.store import deliveries, now, outbox
from hub.pipeline import leases, reconcile, retry
from hub.pipeline.intake import accept
from hub.pipeline.leases import LeaseLost, Leases
from hub.pipeline.routing import route
from hub.settings.runtime import Hub
from tests.harness import make_hub, point_webhooks_at, running, settled, wait_for

POWER = {"channel": "jaki", "text": "Listrik padam total sejak subuh, PLN belum datang. Token listrik penuh tapi tetap mati lampu.",
         "location": {"latitude": -6.2297, "longitude": 106.9005}}


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", database_url, f"claims-{tmp_path.name[-6:]}",
                   webhook_schedule=(0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2))
    yield hub
    hub.store.engine.dispose()


def routed_delivery(hub: Hub, ref: str = "L-1") -> str:
    cid = accept(hub.store, {**POWER, "external_ref": ref}).complaint_id
    route(hub, cid)
    [d] = hub.store.deliveries_of(cid)
    return d["id"]


def test_one_worker_wins_a_delivery_and_the_other_moves_on(hub: Hub) -> None:
    did = routed_delivery(hub)
    first, second = Leases(hub.store, "w1"), Leases(hub.store, "w2")
    token = first.take(did)
    assert token is not None and second.take(did) is None
    with hub.store.begin() as conn:
        leases.settle(conn, did, token, status="delivered")
    assert first.take(did) is None, "a settled delivery is not claimed again"


def test_an_expired_lease_is_taken_over_and_the_first_worker_can_no_longer_settle(hub: Hub) -> None:
    did = routed_delivery(hub)
    token = Leases(hub.store, "dead-worker", seconds=0.01).take(did)
    assert token is not None
    wait_for(lambda: (now() - timedelta(seconds=0.05)) > now() - timedelta(seconds=1))
    import time
    time.sleep(0.05)
    taker = Leases(hub.store, "w2")
    new = taker.take(did)
    assert new is not None
    with pytest.raises(LeaseLost), hub.store.begin() as conn:
        leases.settle(conn, did, token, status="delivered")
    with hub.store.begin() as conn:
        leases.settle(conn, did, new, status="delivered")
    assert hub.store.delivery(did)["status"] == "delivered"


def test_a_held_lease_is_renewed_while_its_worker_works(hub: Hub) -> None:
    did = routed_delivery(hub)
    held = Leases(hub.store, "w1", seconds=30)
    held.take(did)
    with hub.store.begin() as conn:
        conn.execute(deliveries.update().values(lease_until=now() + timedelta(seconds=1)))
    assert held.renew() == 1
    with hub.store.engine.connect() as conn:
        until = conn.execute(sa.select(deliveries.c.lease_until)).scalar_one()
    assert (until if until.tzinfo else until.replace(tzinfo=now().tzinfo)) > now() + timedelta(seconds=20)


def test_every_requeued_retry_has_a_message_id_of_its_own(hub: Hub) -> None:
    did = routed_delivery(hub)
    ids = []
    for _ in range(3):  # the same step re-queued three times (as an open circuit used to)
        with hub.store.begin() as conn:
            retry.schedule(conn, did, "pln-uid-jakarta-raya", "{}", 0, -1, "circuit open")
        ids += retry.requeue_due(hub.store)
    assert len(ids) == 3 and len(set(ids)) == 3
    with hub.store.engine.connect() as conn:
        queued = conn.execute(sa.select(sa.func.count()).select_from(outbox)
                              .where(outbox.c.message_id.in_(ids))).scalar_one()
        due = conn.execute(sa.select(retry.delivery_retries.c.due_at)).scalar_one()
    assert queued == 3, "each re-queue put a message in the outbox"
    due = due if due.tzinfo else due.replace(tzinfo=now().tzinfo)
    assert due < now() + timedelta(seconds=retry.WATCH_SECONDS + 1), "the row comes due again, not in a year"


def test_an_operator_down_while_its_circuit_opens_and_closes_gets_every_delivery_once(hub: Hub) -> None:
    calls: list[int] = []

    def down_then_up(_: Any) -> int:
        calls.append(1)
        return 503 if len(calls) <= 4 else 204

    with Receiver(respond=down_then_up) as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver, max_attempts=1, circuit_threshold=1, circuit_cooldown=0.3)
        ids = [client.post("/v1/complaints", json={**POWER, "external_ref": f"C-{n}"}).json()["id"]
               for n in range(6)]
        views = [wait_for(lambda cid=cid: settled(hub, cid), timeout=30) for cid in ids]
    assert {d["status"] for v in views for d in v["deliveries"]} == {"delivered"}
    assert len(receiver.received) == 6 and receiver.duplicates == 0
    opened = [e for v in views for e in v["timeline"] if e["type"] == "delivery_retry_scheduled"
              and e["reason"].startswith("circuit open")]
    assert opened, "the circuit opened while the operator was down"


def test_the_reconciler_requeues_a_delivery_nothing_would_move_on(hub: Hub) -> None:
    did = routed_delivery(hub)
    with hub.store.begin() as conn:  # its message lost: never claimed, no retry, untouched for long
        conn.execute(deliveries.update().values(updated_at=now() - timedelta(hours=1)))
    assert [r.id for r in _overdue(hub)] == [did]
    bus = hub.bus()
    try:
        assert reconcile.reconcile(hub, bus) == [did]
    finally:
        bus.close()
    assert _overdue(hub) == [], "re-queued: not overdue until the grace passes again"
    with hub.store.engine.connect() as conn:
        [mid] = conn.execute(sa.select(outbox.c.message_id).where(outbox.c.message_id.like("reconcile:%"))).scalars()
    assert mid.startswith(f"reconcile:{did}:")


def test_a_lease_whose_worker_died_is_reconciled_at_once(hub: Hub) -> None:
    did = routed_delivery(hub)
    Leases(hub.store, "killed").take(did)
    assert _overdue(hub) == []
    with hub.store.begin() as conn:
        conn.execute(deliveries.update().values(lease_until=now() - timedelta(seconds=10)))
    assert [r.id for r in _overdue(hub)] == [did]


def _overdue(hub: Hub) -> list[Any]:
    with hub.store.engine.connect() as conn:
        return list(conn.execute(reconcile.overdue(hub.store, grace=60)).all())


def test_options_are_declared_per_adapter_and_a_wrong_one_is_named(hub: Hub) -> None:
    dest = hub.config.registry.get("pln-uid-jakarta-raya")
    odd = Destination(**{**dest.__dict__, "options": {**dest.options, "timout": 3}})
    with pytest.raises(ValueError, match=r"options\.timout"):
        WebhookAdapter(odd, Context(None, hub.settings))  # type: ignore[arg-type]
    bad = Destination(**{**dest.__dict__, "options": {**dest.options, "circuit_threshold": "five"}})
    with pytest.raises(ValueError, match=r"options\.circuit_threshold"):
        WebhookAdapter(bad, Context(None, hub.settings))  # type: ignore[arg-type]
    tuned = Destination(**{**dest.__dict__, "options": {**dest.options, "circuit_threshold": 2, "rate_per_second": 5}})
    assert WebhookAdapter(tuned, Context(None, hub.settings)).url == dest.options["url"]
    assert dispatch_options(tuned).circuit_threshold == 2 and dispatch_options(tuned).rate_per_second == 5.0
    assert dispatch_options(dest).circuit_cooldown == 30.0
