"""Poison messages end as dead letters with the reason, the stage and the original body; an
administrator lists, shows, replays (idempotently) and purges them over the CLI and the admin API."""

from __future__ import annotations

import json
from typing import Any

import pika
import pytest

from hub.cli.main import main
from hub.cli.receiver import Receiver
from hub.infra import bus as bus_mod
from hub.infra.bus import DELIVERY_LIMIT, GIVE_UP_AFTER
from hub.pipeline import deadletter
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

POWER = {"channel": "jaki", "external_ref": "DL-PLN-1",
         "text": "Listrik padam total sejak subuh, PLN belum datang. Token listrik penuh tapi tetap mati lampu.",
         "location": {"latitude": -6.2297, "longitude": 106.9005}}
ROADS = {"channel": "jaki", "external_ref": "DL-ROADS-1", "title": "Jalan berlubang",
         "text": "Jln berlubang besar di depan sekolah, aspal rusak parah dan gak pernah diperbaiki.",
         "location": {"kecamatan": "Cilandak", "kota": "Jakarta Selatan"}}


@pytest.fixture
def hub(either_bus_hub: Hub) -> Hub:
    return either_bus_hub


def test_a_crash_that_repeats_ends_as_a_dead_letter_with_the_error_stage_and_original(
        hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bus_mod, "pause_for", lambda _: None)
    calls: list[str] = []

    def crashes(_hub: Hub, complaint_id: str, _complaint: Any = None) -> list[str]:
        calls.append(complaint_id)
        raise RuntimeError("classifier exploded")

    monkeypatch.setattr("hub.pipeline.routing.route", crashes)
    with running(hub) as client:
        cid = client.post("/v1/complaints", json=ROADS).json()["id"]
        [letter] = wait_for(lambda: deadletter.list_(hub.store))
    assert len(calls) == GIVE_UP_AFTER
    shown = deadletter.show(hub.store, letter["id"])
    assert shown["stage"] == "router"
    assert "classifier exploded" in shown["reason"] and f"{GIVE_UP_AFTER} times" in shown["reason"]
    assert json.loads(shown["original"])["complaint_id"] == cid


def test_replaying_a_dead_delivery_delivers_it_once_however_often_it_is_replayed(hub: Hub) -> None:
    status = {"code": 500}
    with Receiver(respond=lambda _: status["code"]) as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver, max_attempts=1)
        cid = client.post("/v1/complaints", json=POWER).json()["id"]
        wait_for(lambda: settled(hub, cid))
        [letter] = client.get("/v1/admin/dead-letters", headers=key_headers(hub, "admin")).json()["dead_letters"]
        assert letter["stage"] == "dispatcher" and "HTTP 500" in letter["reason"]
        status["code"] = 204
        first = client.post(f"/v1/admin/dead-letters/{letter['id']}/replay", headers=key_headers(hub, "admin"))
        second = client.post(f"/v1/admin/dead-letters/{letter['id']}/replay", headers=key_headers(hub, "admin"))
        view = wait_for(lambda: (v := settled(hub, cid)) and v["status"] == "delivered" and v)
    assert first.status_code == 202 and first.json()["replayed"] is True
    assert second.status_code == 200 and second.json()["replayed"] is False
    assert len(receiver.received) == 1 and receiver.duplicates == 0
    assert [d["status"] for d in view["deliveries"]] == ["delivered"]
    assert any(e["type"] == "delivery_replayed" for e in view["timeline"])
    assert client.get("/v1/admin/dead-letters", headers=key_headers(hub, "admin")).json()["dead_letters"] == []
    assert len(client.get("/v1/admin/dead-letters?status=replayed", headers=key_headers(hub, "admin")).json()["dead_letters"]) == 1


def test_admin_api_shows_a_dead_letter_and_refuses_unknown_ones(hub: Hub) -> None:
    b = hub.bus()
    with running(hub) as client:
        b.publish("intake", "complaint", b"{not json", message_id="garbage-admin")
        [letter] = wait_for(lambda: client.get("/v1/admin/dead-letters", headers=key_headers(hub, "admin")).json()["dead_letters"])
        shown = client.get(f"/v1/admin/dead-letters/{letter['id']}", headers=key_headers(hub, "admin")).json()
        missing = client.get("/v1/admin/dead-letters/dl-nope", headers=key_headers(hub, "admin"))
        bad_stage = client.get("/v1/admin/dead-letters?stage=nowhere", headers=key_headers(hub, "admin"))
        purged = client.delete("/v1/admin/dead-letters?stage=router", headers=key_headers(hub, "admin")).json()
    b.close()
    assert shown["original"] == "{not json" and "not JSON" in shown["reason"]
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert bad_stage.status_code == 422 and bad_stage.json()["errors"][0]["field"] == "stage"
    assert purged == {"purged": 1}


def test_cli_lists_shows_replays_and_purges_dead_letters(hub: Hub, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("hub.infra.logs.configure", lambda *a, **k: None)  # keep pytest's streams
    for key, value in (("LAPORHUB_BROKER_URL", hub.settings.broker_url),
                       ("LAPORHUB_DATABASE_URL", hub.settings.database_url),
                       ("LAPORHUB_BUS_PREFIX", hub.settings.bus_prefix)):
        monkeypatch.setenv(key, value)
    doc = deadletter.document("router", "intake message is not JSON", "{oops")
    with hub.store.begin() as conn:
        deadletter.enqueue(hub.store, conn, doc)
    assert main(["dead", "list"]) == 0
    out = capsys.readouterr().out
    dead_id = out.split()[0]
    assert dead_id.startswith("dl-") and "not JSON" in out
    assert main(["dead", "show", dead_id]) == 0
    assert json.loads(capsys.readouterr().out)["original"] == "{oops"
    assert main(["dead", "replay", dead_id]) == 0
    assert "replayed" in capsys.readouterr().out
    assert main(["dead", "replay", dead_id]) == 0
    assert "not replayed: already replayed" in capsys.readouterr().out
    assert main(["dead", "purge"]) == 2
    assert main(["dead", "purge", "--yes"]) == 0
    assert "purged 1" in capsys.readouterr().out
    assert main(["dead", "show", dead_id]) == 2


@pytest.mark.rabbitmq
def test_message_the_broker_gives_up_on_after_its_delivery_limit_is_recorded_as_a_dead_letter(
        amqp_url: str, tmp_path: Any, bus_prefix: str) -> None:
    hub = make_hub(amqp_url, f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix)
    try:
        b = hub.bus()
        b.declare(hub.delivery_queues())
        b.publish("intake", "complaint", b'{"crashes": "every worker"}', message_id="poison-1")
        b.close()
        # A worker that dies holding the message, over and over: the broker counts each return.
        params = pika.URLParameters(amqp_url[:-2] + "/%2F")
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        for _ in range(DELIVERY_LIMIT + 1):
            method, _, _ = wait_for(lambda: (m := ch.basic_get(hub.topology.intake.name))[0] and m)
            ch.basic_nack(method.delivery_tag, requeue=True)
        conn.close()
        with running(hub):
            [letter] = wait_for(lambda: deadletter.list_(hub.store))
        shown = deadletter.show(hub.store, letter["id"])
        assert shown["stage"] == "router"
        assert "delivery_limit" in shown["reason"] and shown["original"] == '{"crashes": "every worker"}'
    finally:
        delete_topology(hub, amqp_url)
        hub.store.engine.dispose()
