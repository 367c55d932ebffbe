"""End to end: a complaint over HTTP is stored, classified, routed and delivered.

Each test runs on the in-process bus and on the machine's real RabbitMQ, and on SQLite and
PostgreSQL, so "the bus works" and "the store works" are claims about the real components.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pika
import pytest
from kombu import Queue
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from hub.cli.receiver import Receiver
from hub.infra import outbox
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

ROADS = {
    "channel": "jaki", "external_ref": "T-ROADS-1", "title": "Jalan berlubang",
    "text": "Jln berlubang besar di depan sekolah, aspal rusak parah dan gak pernah diperbaiki.",
    "location": {"kecamatan": "Cilandak", "kota": "Jakarta Selatan"},
    "reporter": {"name": "Budi", "phone": "+62 811 1111 1111"},
}
POWER = {
    "channel": "jaki", "external_ref": "T-PLN-1",
    "text": "Listrik padam total sejak subuh, PLN belum datang. Token listrik penuh tapi tetap mati lampu.",
    "location": {"latitude": -6.2297, "longitude": 106.9005},
}


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://localhost/"
    return request.getfixturevalue("amqp_url")


@pytest.fixture
def hub(broker_url: str, database_url: str, bus_prefix: str) -> Iterator[Hub]:
    hub = make_hub(broker_url, database_url, bus_prefix)
    yield hub
    if broker_url.startswith("amqp"):
        delete_topology(hub, broker_url)
    hub.store.engine.dispose()


def consume_all(hub: Hub, queue: Queue, expect: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Read `expect` messages from a queue the way a department would: with its own client."""
    queue_name = queue.name
    bodies: list[dict[str, Any]] = []
    if hub.settings.broker_url.startswith("amqp"):
        url = hub.settings.broker_url
        conn = pika.BlockingConnection(pika.URLParameters(url[:-2] + "/%2F" if url.endswith("//") else url))
        ch = conn.channel()
        for method, props, body in ch.consume(queue_name, inactivity_timeout=timeout):
            if method is None:
                break
            bodies.append({"body": json.loads(body), "message_id": props.message_id,
                           "persistent": props.delivery_mode == 2, "headers": props.headers})
            ch.basic_ack(method.delivery_tag)
            if len(bodies) >= expect:
                break
        ch.cancel()
        conn.close()
        return bodies
    from kombu import Connection

    with Connection(hub.settings.broker_url) as conn:
        q = conn.SimpleQueue(queue)
        for _ in range(expect):
            m = q.get(timeout=timeout)
            bodies.append({"body": json.loads(m.body), "message_id": m.properties.get("message_id"),
                           "persistent": True, "headers": m.headers})
            m.ack()
        q.close()
    return bodies


def test_complaint_posted_over_http_arrives_in_the_city_roads_office_queue(hub: Hub) -> None:
    with running(hub) as client:
        resp = client.post("/v1/complaints", json=ROADS)
        assert resp.status_code == 201, resp.text
        cid = resp.json()["id"]
        view = wait_for(lambda: settled(hub, cid))
        queue = hub.topology.department_queue("sudin-bina-marga-jakarta-selatan")
        [msg] = consume_all(hub, queue, 1)
    delivery = msg["body"]
    assert delivery["complaint_id"] == cid
    assert delivery["destination"] == "sudin-bina-marga-jakarta-selatan"
    assert delivery["complaint"]["text"] == ROADS["text"]
    assert delivery["classification"]["category"] == "roads"
    assert delivery["classification"]["area"]["city"] == "jakarta-selatan"
    assert delivery["routing"]["rule_id"] == "roads"
    assert "reporter" not in delivery["complaint"], "a department sees no contact unless allowed"
    assert msg["message_id"] == delivery["delivery_id"] == view["deliveries"][0]["id"]
    assert msg["persistent"]
    assert [d["status"] for d in view["deliveries"]] == ["delivered"]
    assert wait_for(lambda: hub.store.complaint(cid)["status"] == "delivered")


def test_operator_webhook_is_signed_so_an_independent_verifier_accepts_it(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=POWER).json()["id"]
        view = wait_for(lambda: settled(hub, cid))
    assert [d["destination"] for d in view["deliveries"]] == ["pln-uid-jakarta-raya"]
    [got] = receiver.received
    secret = hub.config.registry.get("pln-uid-jakarta-raya").options["secret"]
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["complaint_id"] == cid and payload["destination"] == "pln-uid-jakarta-raya"
    assert got.headers["webhook-id"] == payload["delivery_id"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=").verify(got.body, got.headers)


def test_endpoint_failing_twice_then_succeeding_is_delivered_exactly_once(hub: Hub) -> None:
    calls: list[int] = []

    def flaky(_: Any) -> int:
        calls.append(1)
        return 503 if len(calls) <= 2 else 204

    with Receiver(respond=flaky) as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=POWER).json()["id"]
        view = wait_for(lambda: settled(hub, cid))
    assert len(calls) == 3
    assert len(receiver.received) == 1
    [d] = view["deliveries"]
    assert d["status"] == "delivered" and d["attempts"] == 3
    attempts = [e for e in view["timeline"] if e["type"] == "delivery_attempt"]
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "delivered"]
    assert len({h.headers["webhook-id"] for h in receiver.received}) == 1


def test_endpoint_that_always_fails_ends_on_the_dead_letter_queue_with_the_reason(hub: Hub) -> None:
    with Receiver(respond=lambda _: 500) as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver, max_attempts=3)
        cid = client.post("/v1/complaints", json=POWER).json()["id"]
        view = wait_for(lambda: settled(hub, cid))
        [dead] = consume_all(hub, hub.topology.dead, 1)
    [d] = view["deliveries"]
    assert d["status"] == "dead" and d["attempts"] == 3
    assert "HTTP 500" in d["last_error"]
    letter = dead["body"]
    assert letter["stage"] == "dispatcher"
    assert letter["delivery_id"] == d["id"] and letter["destination"] == "pln-uid-jakarta-raya"
    assert "failed after 3 attempts" in letter["reason"] and "HTTP 500" in letter["reason"]
    assert json.loads(letter["original"])["delivery_id"] == d["id"]
    assert any(e["type"] == "delivery_failed" for e in view["timeline"])
    assert hub.store.complaint(cid)["status"] == "delivery_failed"


def test_client_error_from_an_operator_is_not_retried(hub: Hub) -> None:
    with Receiver(respond=lambda _: 400) as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=POWER).json()["id"]
        view = wait_for(lambda: settled(hub, cid))
    [d] = view["deliveries"]
    assert d["status"] == "dead" and d["attempts"] == 1 and "HTTP 400" in d["last_error"]


def test_message_that_is_not_json_on_the_intake_queue_is_dead_lettered_with_the_reason(hub: Hub) -> None:
    bus = hub.bus()
    with running(hub):
        bus.publish("intake", "complaint", b"\xff not json", message_id="garbage-1")
        [dead] = consume_all(hub, hub.topology.dead, 1)
    bus.close()
    assert dead["body"]["stage"] == "router"
    assert "not JSON" in dead["body"]["reason"]
    assert dead["body"]["original"].endswith("not json")


def test_complaint_published_straight_onto_the_bus_is_stored_and_routed(hub: Hub) -> None:
    bus = hub.bus()
    message = {"type": "laporhub.intake.v1", "complaint": {**ROADS, "external_ref": "BUS-1"}}
    with running(hub):
        bus.publish("intake", "complaint", json.dumps(message), message_id="bus-1")
        cid = wait_for(lambda: hub.store.find_by_ref("jaki", "BUS-1"))
        view = wait_for(lambda: settled(hub, cid))
    bus.close()
    assert view["deliveries"][0]["destination"] == "sudin-bina-marga-jakarta-selatan"
    assert view["timeline"][0]["actor"] == "bus"


def test_invalid_complaint_on_the_bus_is_dead_lettered_naming_the_field(hub: Hub) -> None:
    bus = hub.bus()
    message = {"type": "laporhub.intake.v1", "complaint": {"channel": "jaki"}}
    with running(hub):
        bus.publish("intake", "complaint", json.dumps(message), message_id="bad-1")
        [dead] = consume_all(hub, hub.topology.dead, 1)
    bus.close()
    assert {"field": "complaint.text", "reason": "is required"} in dead["body"]["errors"]


@pytest.mark.rabbitmq
def test_complaint_accepted_while_the_broker_is_down_is_delivered_once_it_is_back(
        amqp_url: str, database_url: str, bus_prefix: str) -> None:
    down = make_hub("amqp://guest:guest@127.0.0.1:1//", database_url, bus_prefix)
    from fastapi.testclient import TestClient

    from hub.http.app import create_app

    with TestClient(create_app(down, relay=False), headers=key_headers(down, "channel", "jaki")) as client:
        resp = client.post("/v1/complaints", json=ROADS)
    assert resp.status_code == 201
    cid = resp.json()["id"]
    assert outbox.backlog(down.store) == 1
    up = make_hub(amqp_url, database_url, bus_prefix)
    try:
        with running(up):
            view = wait_for(lambda: settled(up, cid))
        assert [d["status"] for d in view["deliveries"]] == ["delivered"]
        assert outbox.backlog(up.store) == 0
    finally:
        delete_topology(up, amqp_url)
        down.store.engine.dispose()
        up.store.engine.dispose()
