"""The store and the outbox on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import threading
from typing import Iterator

import pytest

from hub.infra import outbox
from hub.infra.outbox import relay
from hub.infra.publisher import NotConfirmed
from hub.infra.store import Store, delivery_id
from hub.pipeline.intake import accept

COMPLAINT = {"channel": "jaki", "external_ref": "S-1", "text": "Lampu jalan mati di Jl. Kemang Raya."}


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.engine.dispose()


class RecordingBus:
    """Stands in for the broker to observe what a relay publishes (the real broker is covered
    by test_pipeline); can be told to fail after n publishes."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.published: list[str] = []
        self.fail_after = fail_after
        self.lock = threading.Lock()

    def publish(self, exchange: str, routing_key: str, body: str, *, message_id: str, headers: dict) -> None:
        with self.lock:
            if self.fail_after is not None and len(self.published) >= self.fail_after:
                raise ConnectionError("broker went away")
            self.published.append(message_id)

    def publish_many(self, messages: list[dict]) -> list[bool]:
        """Like the pipelined publisher: a message not confirmed before the failure stays False."""
        confirmed = []
        for m in messages:
            try:
                self.publish(m["exchange"], m["routing_key"], m["body"], message_id=m["message_id"],
                             headers=m["headers"])
                confirmed.append(True)
            except ConnectionError:
                confirmed.append(False)
        return confirmed


def test_accepted_complaint_is_stored_with_its_received_event_and_intake_message(store: Store) -> None:
    result = accept(store, COMPLAINT)
    view = store.complaint(result.complaint_id)
    assert view["status"] == "received" and view["complaint"] == COMPLAINT
    assert [e["type"] for e in view["timeline"]] == ["received"]
    assert outbox.backlog(store) == 1


def test_same_channel_and_reference_is_stored_once(store: Store) -> None:
    a, b = accept(store, COMPLAINT), accept(store, COMPLAINT)
    assert a.complaint_id == b.complaint_id and a.created and not b.created
    assert outbox.backlog(store) == 1


def test_relay_marks_only_confirmed_messages_and_resumes_after_a_broker_failure(store: Store) -> None:
    for i in range(5):
        accept(store, {**COMPLAINT, "external_ref": f"S-{i}"})
    flaky = RecordingBus(fail_after=2)
    with pytest.raises(NotConfirmed):
        relay(store, flaky)
    assert outbox.backlog(store) == 3
    healthy = RecordingBus()
    assert relay(store, healthy) == 3
    assert outbox.backlog(store) == 0
    assert set(flaky.published).isdisjoint(healthy.published)


def test_delivery_ids_are_stable_for_a_complaint_and_destination() -> None:
    assert delivery_id("c-1", "pam-jaya") == delivery_id("c-1", "pam-jaya")
    assert delivery_id("c-1", "pam-jaya") != delivery_id("c-1", "pgn")


@pytest.mark.postgres
def test_two_deliveries_of_one_complaint_settling_at_once_leave_it_delivered(postgres_url: str) -> None:
    """Each transaction marks its own delivery, then settles: without a lock on the complaint each
    sees the other's delivery still pending and the complaint stays `routed` for ever."""
    store = Store(postgres_url)
    cid = accept(store, COMPLAINT).complaint_id
    with store.begin() as conn:
        dids = [store.insert_delivery(conn, cid, dest, "queue", "r", "test") for dest in ("a", "b")]
    both_marked = threading.Barrier(2)

    def deliver(did: str) -> None:
        with store.begin() as conn:
            store.update_delivery(conn, did, status="delivered")
            both_marked.wait(5)
            store.settle_complaint(conn, cid)

    threads = [threading.Thread(target=deliver, args=(did,)) for did in dids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert store.complaint(cid)["status"] == "delivered"
    store.engine.dispose()


@pytest.mark.postgres
def test_processes_starting_at_once_on_an_empty_postgresql_create_one_schema_and_one_first_version(
        postgres_url: str) -> None:
    from hub.settings import versions
    from hub.settings.files import load

    cfg, _ = load()
    errors: list[BaseException] = []
    stores: list[Store] = []
    go = threading.Barrier(4)

    def start() -> None:
        try:
            go.wait(5)
            store = Store(postgres_url)
            stores.append(store)
            versions.seed(store, cfg.documents["rules"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    listing = versions.listing(stores[0])
    assert len(listing["versions"]) == 1 and len(listing["history"]) == 1
    for store in stores:
        store.engine.dispose()


@pytest.mark.postgres
def test_concurrent_relays_on_postgresql_never_publish_a_message_twice(postgres_url: str) -> None:
    store = Store(postgres_url)
    for i in range(200):
        accept(store, {**COMPLAINT, "external_ref": f"P-{i}"})
    bus = RecordingBus()

    def drain() -> None:
        while relay(store, bus, limit=10):
            pass

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(bus.published) == 200 == len(set(bus.published))
    assert outbox.backlog(store) == 0
    store.engine.dispose()
