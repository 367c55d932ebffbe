"""Closing the loop end to end on the real RabbitMQ, SQLite and PostgreSQL: status back from
departments (bus) and operators (signed callbacks), re-routing, and the citizen told each change."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.cli.receiver import Receiver
from hub.aftercare import transfers
from hub.core import signing
from hub.settings.runtime import Hub
from tests.harness import key_headers, point_webhooks_at, running, settled, wait_for
from tests.e2e.test_pipeline import consume_all

pytestmark = pytest.mark.rabbitmq

BUS = {"channel": "jaki", "external_ref": "LC-BUS-1",
       "text": "Bus Transjakarta koridor 6 ngetem lama sekali di halte Kuningan, sopir ugal-ugalan",
       "location": {"kecamatan": "Setiabudi", "kota": "Jakarta Selatan"},
       "reporter": {"name": "Sari", "phone": "+62 812 2222 3333"}}
WATER = {"channel": "jaki", "external_ref": "LC-WATER-1",
         "text": "Air PAM tidak mengalir sudah 3 hari, pipa bocor di depan rumah",
         "location": {"kecamatan": "Matraman", "kota": "Jakarta Timur"}}


@pytest.fixture
def hub(rabbitmq_hub: Hub) -> Hub:
    return rabbitmq_hub


def callback(client: TestClient, hub: Hub, complaint_id: str, destination: str, *,
             secret: str | None = None, webhook_id: str | None = None, timestamp: int | None = None,
             signed: bool = True, **update: Any) -> Any:
    """An operator's signed status callback, as its own system would send it."""
    body = json.dumps({"update_id": update.pop("update_id", f"u-{uuid.uuid4()}"), "complaint_id": complaint_id,
                       "destination": destination, **update}).encode()
    headers = {"content-type": "application/json"}
    if signed:
        key = secret or hub.config.registry.get(destination).options["callback_secret"]
        headers.update(signing.headers([key], webhook_id or f"msg_{uuid.uuid4().hex}", body, timestamp))
    return client.post(f"/v1/complaints/{complaint_id}/status", content=body, headers=headers)


def department_publishes(hub: Hub, update: dict[str, Any]) -> None:
    """A department's status update on the hub's status exchange, with its own AMQP connection."""
    with hub.bus() as bus:
        bus.publish("status", "status", json.dumps(update), message_id=update["update_id"])


def channel_events(receiver: Receiver) -> list[dict[str, Any]]:
    return [r.json["event"] for r in receiver.received if r.path.endswith("/jaki-app") and r.verified]


def test_department_acknowledges_on_the_bus_operator_resolves_by_callback_and_the_citizen_hears_each(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=BUS).json()["id"]
        wait_for(lambda: settled(hub, cid))
        department_publishes(hub, {"update_id": "sudin-1", "complaint_id": cid,
                                   "destination": "sudin-perhubungan-jakarta-selatan", "status": "acknowledged",
                                   "note": "Diterima, petugas dijadwalkan.", "internal_note": "assign to team B"})
        wait_for(lambda: [e["kind"] for e in channel_events(receiver)] == ["acknowledged"])
        resp = callback(client, hub, cid, "transjakarta", status="resolved",
                        resolution_note="Sopir sudah diberi sanksi.", photo_url="https://tj.example/p/1.jpg")
        assert resp.status_code == 200, resp.text
        again = callback(client, hub, cid, "transjakarta", update_id=json.loads(resp.request.content)["update_id"],
                         status="resolved", resolution_note="Sopir sudah diberi sanksi.")
        assert again.status_code == 200 and again.json()["duplicate"] is True
        department_publishes(hub, {"update_id": "sudin-2", "complaint_id": cid,
                                   "destination": "sudin-perhubungan-jakarta-selatan", "status": "resolved",
                                   "resolution_note": "Halte ditertibkan."})
        wait_for(lambda: len(channel_events(receiver)) == 3)
        public = client.get(f"/v1/complaints/{cid}").json()
        full = client.get(f"/v1/admin/complaints/{cid}", headers=key_headers(hub, "auditor")).json()
    events = channel_events(receiver)
    assert [e["kind"] for e in events] == ["acknowledged", "resolved", "resolved"]
    assert [e["state"] for e in events] == ["in_progress", "in_progress", "resolved"]
    assert events[1]["resolution_note"] == "Sopir sudah diberi sanksi."
    assert events[1]["photo_url"] == "https://tj.example/p/1.jpg"
    assert public["state"] == "resolved" and public["citizen_may"] == ["confirm", "reopen"]
    text = json.dumps(public)
    assert "assign to team B" not in text and "+62 812" not in text, "no internal notes or contact in public"
    assert [t["type"] for t in public["timeline"]] == ["received", "sent", "acknowledged", "resolved", "resolved"]
    assert "assign to team B" in json.dumps(full["timeline"])
    assert {d["destination"]: d["state"] for d in full["deliveries"]} == {
        "transjakarta": "resolved", "sudin-perhubungan-jakarta-selatan": "resolved"}
    with hub.store.engine.connect() as conn:
        import sqlalchemy as sa

        from hub.aftercare.status import status_updates
        assert conn.execute(sa.select(sa.func.count()).select_from(status_updates)).scalar_one() == 3


def test_unsigned_wrongly_signed_stale_or_replayed_callbacks_are_refused_and_change_nothing(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=WATER).json()["id"]
        wait_for(lambda: settled(hub, cid))
        before = hub.store.complaint(cid)
        unsigned = callback(client, hub, cid, "pam-jaya", signed=False, status="acknowledged")
        wrong = callback(client, hub, cid, "pam-jaya", status="acknowledged",
                         secret=hub.config.registry.get("pam-jaya").options["secret"])  # its outbound one
        stale = callback(client, hub, cid, "pam-jaya", status="acknowledged", timestamp=int(time.time()) - 600)
        not_ours = callback(client, hub, cid, "pln-uid-jakarta-raya", status="acknowledged")
        after_refusals = hub.store.complaint(cid)
        ok = callback(client, hub, cid, "pam-jaya", status="acknowledged", webhook_id="msg_once")
        replay = callback(client, hub, cid, "pam-jaya", status="in_progress", webhook_id="msg_once")
        illegal = callback(client, hub, cid, "pam-jaya", status="acknowledged")
        final = hub.store.complaint(cid)
    assert unsigned.status_code == 401 and "missing header" in unsigned.json()["message"]
    assert wrong.status_code == 401 and wrong.json()["message"] == "no signature matches"
    assert stale.status_code == 401 and "tolerance" in stale.json()["message"]
    assert not_ours.status_code == 403 and not_ours.json()["error"] == "not_delivered"
    assert after_refusals["timeline"] == before["timeline"] and after_refusals["deliveries"] == before["deliveries"]
    assert ok.status_code == 200
    assert replay.status_code == 409 and replay.json()["error"] == "replayed"
    assert illegal.status_code == 409 and illegal.json()["current"] == "acknowledged"
    assert "in_progress" in illegal.json()["allowed"] and "acknowledged" not in illegal.json()["allowed"]
    assert [d["state"] for d in final["deliveries"]] == ["acknowledged"]
    assert [e["type"] for e in final["timeline"]].count("status_changed") == 1


def test_operator_rejects_and_the_complaint_reaches_the_suggested_department(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=WATER).json()["id"]
        wait_for(lambda: settled(hub, cid))
        resp = callback(client, hub, cid, "pam-jaya", status="rejected",
                        reason="Saluran air hujan, bukan pipa PAM.", suggested_destination="sudin-sda-jakarta-timur")
        assert resp.status_code == 200, resp.text
        assert resp.json()["rerouted_to"] == ["sudin-sda-jakarta-timur"]
        wait_for(lambda: settled(hub, cid))
        [msg] = consume_all(hub, hub.topology.department_queue("sudin-sda-jakarta-timur"), 1)
        wait_for(lambda: [e["kind"] for e in channel_events(receiver)] == ["rejected", "rerouted"])
        public = client.get(f"/v1/complaints/{cid}").json()
        report = client.get("/v1/reports/handoffs", headers=key_headers(hub, "auditor")).json()
    delivery = msg["body"]
    assert delivery["complaint_id"] == cid and delivery["destination"] == "sudin-sda-jakarta-timur"
    assert delivery["handoff"] == {"hop": 1, "from": "pam-jaya", "kind": "rejected",
                                   "reason": "Saluran air hujan, bukan pipa PAM.", "supervisor": False,
                                   "refused_by": ["pam-jaya"]}
    assert public["timeline"][-1]["type"] == "rerouted"
    assert public["timeline"][-1]["to"] == ["Suku Dinas Sumber Daya Air Jakarta Timur"]
    assert report["by_pair"][0]["from"] == "pam-jaya" and report["by_pair"][0]["to"] == "sudin-sda-jakarta-timur"
    assert report["by_category"][0]["category"] == "water"


def test_a_bounce_loop_ends_at_triage_for_a_supervisor_after_the_hop_limit(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=WATER).json()["id"]
        wait_for(lambda: settled(hub, cid))
        with hub.store.begin() as conn:  # an administrator lets water complaints go to PLN too (issue 11)
            transfers.replace(conn, "water", ["pam-jaya", "pln-uid-jakarta-raya"], actor="test", reason="pumps")
        first = callback(client, hub, cid, "pam-jaya", status="transferred", transfer_to="pln-uid-jakarta-raya",
                         reason="Pompa listrik mati, urusan PLN.")
        wait_for(lambda: settled(hub, cid))
        second = callback(client, hub, cid, "pln-uid-jakarta-raya", status="transferred", transfer_to="pam-jaya",
                          reason="Bukan gangguan listrik.")
        wait_for(lambda: settled(hub, cid))
        assert second.json()["rerouted_to"] == ["triage"], "never back to pam-jaya, which refused it"
        department_publishes(hub, {"update_id": "triage-1", "complaint_id": cid, "destination": "triage",
                                   "status": "transferred", "transfer_to": "pam-jaya",
                                   "reason": "Coba lagi ke PAM."})
        wait_for(lambda: hub.store.complaint(cid)["supervisor"])
        wait_for(lambda: settled(hub, cid))
        messages = consume_all(hub, hub.topology.department_queue("triage"), 2)
        view = client.get(f"/v1/admin/complaints/{cid}", headers=key_headers(hub, "auditor")).json()
    assert first.json()["rerouted_to"] == ["pln-uid-jakarta-raya"]
    flagged = messages[-1]["body"]["handoff"]
    assert flagged["supervisor"] is True and flagged["hop"] == 3
    assert flagged["refused_by"] == ["pam-jaya", "pln-uid-jakarta-raya", "triage"]
    assert view["supervisor"] is True
    hops = [e for e in view["timeline"] if e["type"] == "rerouted"]
    assert [h["hop"] for h in hops] == [1, 2, 3]
    assert all(h["actor"] and h["at"] and h["reason"] for h in hops), "who, when and why for every hop"
