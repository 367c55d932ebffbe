"""Operations endpoints: /healthz says the process is alive, /readyz names what it cannot reach,
/metrics exposes what an operator alerts on (intake, decisions, delivery latency, retries, dead
letters, outbox backlog, circuits, queue depths).

Counters live in the process-wide Prometheus registry, so tests compare before and after."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.cli.receiver import Receiver
from hub.http.app import create_app
from hub.pipeline import backlog
from hub.settings.runtime import Hub
from tests.harness import (
    delete_topology,
    key_headers,
    make_hub,
    point_webhooks_at,
    running,
    settled,
    wait_for,
)
from tests.pipeline.test_deadletters import POWER, ROADS

PLN = "pln-uid-jakarta-raya"
UNREACHABLE_STORE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
UNREACHABLE_BROKER = "amqp://guest:guest@127.0.0.1:1//"

Sample = tuple[str, frozenset[tuple[str, str]]]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", "metrics-test")
    yield hub
    hub.store.engine.dispose()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    """The API without its outbox relay: what is accepted stays in the outbox."""
    with TestClient(create_app(hub, relay=False), headers=key_headers(hub, "channel", "jaki")) as c:
        yield c


def scrape(client: TestClient) -> dict[Sample, float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples: dict[Sample, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def break_store(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = sa.create_engine(UNREACHABLE_STORE, connect_args={"connect_timeout": 2})
    monkeypatch.setattr(hub.store, "engine", engine)


def test_healthz_says_alive_even_while_the_store_is_unreachable(
        client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    break_store(hub, monkeypatch)
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}


def test_readyz_answers_200_when_store_and_broker_answer(client: TestClient) -> None:
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "checks": {"store": "ok", "broker": "ok"}}


def test_readyz_answers_503_naming_the_store_when_it_is_unreachable(
        client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    break_store(hub, monkeypatch)
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable" and list(body["checks"]) == ["store"]
    assert body["checks"]["store"].startswith("store unreachable: OperationalError")


def test_readyz_answers_503_naming_the_broker_when_it_is_unreachable(
        client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub, "settings", dataclasses.replace(hub.settings, broker_url=UNREACHABLE_BROKER))
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable" and list(body["checks"]) == ["broker"]
    assert body["checks"]["broker"].startswith("broker unreachable:")


def test_readyz_names_both_when_store_and_broker_are_unreachable(
        client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    break_store(hub, monkeypatch)
    monkeypatch.setattr(hub, "settings", dataclasses.replace(hub.settings, broker_url=UNREACHABLE_BROKER))
    resp = client.get("/readyz")
    assert resp.status_code == 503 and set(resp.json()["checks"]) == {"store", "broker"}


def test_metrics_show_the_outbox_backlog_of_accepted_complaints_not_yet_published(client: TestClient) -> None:
    assert value(scrape(client), "laporhub_outbox_backlog") == 0
    assert client.post("/v1/complaints", json=ROADS).status_code == 201
    assert client.post("/v1/complaints", json=POWER).status_code == 201
    assert value(scrape(client), "laporhub_outbox_backlog") == 2


def test_metrics_scrape_still_answers_while_the_store_is_unreachable(
        client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    break_store(hub, monkeypatch)
    samples = scrape(client)
    assert ("laporhub_outbox_backlog", frozenset()) not in samples  # unknown, not a false zero


def test_metrics_count_intake_decisions_by_rule_and_destination_and_delivery_latency(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        before = scrape(client)
        ids = [client.post("/v1/complaints", json=c).json()["id"] for c in (POWER, ROADS)]
        views = [wait_for(lambda cid=cid: settled(hub, cid)) for cid in ids]
        after = scrape(client)
    roads_to = views[1]["deliveries"][0]["destination"]

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)
    assert delta("laporhub_complaints_accepted_total", channel="jaki") == 2
    assert delta("laporhub_decisions_total", rule="electricity", destination=PLN) == 1
    assert delta("laporhub_decisions_total", rule=views[1]["deliveries"][0]["rule_id"], destination=roads_to) == 1
    for destination in (PLN, roads_to):
        assert delta("laporhub_deliveries_total", destination=destination, outcome="delivered") == 1
        assert delta("laporhub_delivery_seconds_count", destination=destination) == 1
        assert delta("laporhub_delivery_seconds_bucket", destination=destination, le="+Inf") == 1
    assert value(after, "laporhub_circuit_open", destination=PLN) == 0


def test_metrics_count_retries_dead_letters_and_show_the_open_circuit(hub: Hub) -> None:
    with Receiver(respond=lambda _: 503) as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver, max_attempts=2, circuit_threshold=1)
        before = scrape(client)
        cid = client.post("/v1/complaints", json=POWER).json()["id"]
        view = wait_for(lambda: settled(hub, cid))
        after = scrape(client)
    assert [d["status"] for d in view["deliveries"]] == ["dead"]
    assert len(receiver.received) == 0
    assert (value(after, "laporhub_delivery_retries_total", destination=PLN)
            - value(before, "laporhub_delivery_retries_total", destination=PLN)) == 2
    assert (value(after, "laporhub_dead_letters_total", stage="dispatcher")
            - value(before, "laporhub_dead_letters_total", stage="dispatcher")) == 1
    assert value(after, "laporhub_dead_letters_waiting") == 1
    assert value(after, "laporhub_circuit_open", destination=PLN) == 1


def test_metrics_count_a_message_the_router_cannot_read_as_a_dead_letter(hub: Hub) -> None:
    bus = hub.bus()
    with running(hub) as client:
        before = scrape(client)
        bus.publish("intake", "complaint", b"{not json", message_id="garbage-metrics")
        wait_for(lambda: value(scrape(client), "laporhub_dead_letters_waiting") == 1)
        after = scrape(client)
    bus.close()
    assert (value(after, "laporhub_dead_letters_total", stage="router")
            - value(before, "laporhub_dead_letters_total", stage="router")) == 1


def test_queue_depths_are_empty_rather_than_failing_when_the_broker_is_unreachable(hub: Hub) -> None:
    broken = dataclasses.replace(hub.settings, broker_url=UNREACHABLE_BROKER)
    assert backlog.queue_depths(dataclasses.replace(hub, settings=broken)) == {}


@pytest.mark.rabbitmq
def test_metrics_show_the_depth_of_each_hub_queue_on_rabbitmq(amqp_url: str, tmp_path: Any, bus_prefix: str) -> None:
    hub = make_hub(amqp_url, f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix)
    try:
        bus = hub.bus()
        bus.declare(hub.delivery_queues())
        for n in range(3):
            bus.publish("intake", "complaint", b"{}", message_id=f"depth-{n}")
        bus.publish("delivery", PLN, b"{}", message_id="depth-pln")
        bus.close()
        with TestClient(create_app(hub, relay=False)) as client:
            samples = wait_for(lambda: (s := scrape(client))
                               and value(s, "laporhub_queue_depth", queue=hub.topology.intake.name) == 3 and s)
        assert value(samples, "laporhub_queue_depth", queue=hub.topology.delivery(PLN).name) == 1
        assert value(samples, "laporhub_queue_depth", queue=hub.topology.dead.name) == 0
    finally:
        delete_topology(hub, amqp_url)
        hub.store.engine.dispose()
