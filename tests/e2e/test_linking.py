"""One report per problem, end to end on the in-process bus: a repeat is linked, not delivered
again; the operator gets a signed "+1 report" with the new reporter's identifiers masked; the
original's status reaches every linked reporter; admins unlink and link by hand (audited); a burst
of flooding in one kecamatan becomes an incident."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.cli.receiver import Receiver
from hub.core import privacy, signing
from hub.settings.runtime import Hub
from tests.harness import key_headers, make_hub, point_webhooks_at, running, settled, wait_for

pytestmark = pytest.mark.linking

MONAS = (-6.1754, 106.8272)
BLACKOUT = {"channel": "jaki", "title": "Listrik padam",
            "text": "Listrik padam di sekitar Monas sejak jam tiga pagi, belum ada petugas PLN datang.",
            "location": {"latitude": MONAS[0], "longitude": MONAS[1]}}


def north(metres: float) -> dict[str, float]:
    return {"latitude": MONAS[0] + metres / 110_574.0, "longitude": MONAS[1]}


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    return make_hub("memory://", f"sqlite:///{tmp_path / 'linking.db'}", f"t{uuid.uuid4().hex[:8]}")


def on(receiver: Receiver, destination: str) -> list[dict[str, Any]]:
    return [r.json for r in receiver.received if r.path.endswith(f"/{destination}") and r.verified]


def resolve(client: TestClient, hub: Hub, complaint_id: str, destination: str) -> Any:
    body = json.dumps({"update_id": f"u-{uuid.uuid4()}", "complaint_id": complaint_id, "destination": destination,
                       "status": "resolved", "resolution_note": "Gardu sudah diperbaiki."}).encode()
    headers = {"content-type": "application/json",
               **signing.headers([hub.config.registry.get(destination).options["callback_secret"]],
                                 f"msg_{uuid.uuid4().hex}", body, None)}
    return client.post(f"/v1/complaints/{complaint_id}/status", content=body, headers=headers)


def test_a_repeat_is_linked_told_to_the_operator_once_and_hears_the_resolution(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        admin = key_headers(hub, "admin")
        first = client.post("/v1/complaints", json={**BLACKOUT, "external_ref": "A"}).json()["id"]
        wait_for(lambda: settled(hub, first))
        again = client.post("/v1/complaints", json={
            "channel": "jaki", "external_ref": "B", "location": north(30),
            "text": "mati lampu dr subuh, hubungi sy 0812-3456-7890 atau budi.santoso@mail.com, NIK 3171012345678901"}).json()["id"]
        wait_for(lambda: len(on(receiver, "pln-uid-jakarta-raya")) == 2)

        pln = on(receiver, "pln-uid-jakarta-raya")
        assert [m["type"] for m in pln] == ["laporhub.delivery.v1", "laporhub.notice.v1"]
        plus_one = pln[1]
        assert plus_one["kind"] == "duplicate" and plus_one["complaint_id"] == first
        assert plus_one["duplicate"]["reports"] == 2 and plus_one["duplicate"]["method"] == "distance"
        text = plus_one["duplicate"]["text"]
        assert "0812-3456-7890" not in text and "budi.santoso" not in text and "3171012345678901" not in text
        assert text.count(privacy.PHONE_MASK) == 1 and privacy.EMAIL_MASK in text and privacy.NIK_MASK in text

        repeat = client.get(f"/v1/admin/complaints/{again}", headers=admin).json()
        original = client.get(f"/v1/admin/complaints/{first}", headers=admin).json()
        assert repeat["duplicate_of"]["id"] == first and repeat["deliveries"] == []
        assert repeat["duplicate_of"]["distance_m"] == pytest.approx(30, abs=2)
        assert [d["id"] for d in original["duplicates"]] == [again] and original["duplicate_of"] is None
        assert repeat["status"] == "duplicate"

        assert resolve(client, hub, first, "pln-uid-jakarta-raya").status_code == 200
        wait_for(lambda: {e["event"]["complaint_id"] for e in on(receiver, "jaki-app")
                          if e["event"]["kind"] == "resolved"} == {first, again})
        assert client.get(f"/v1/complaints/{again}").json()["state"] == "resolved"
    linked = [e["event"] for e in on(receiver, "jaki-app") if e["event"]["kind"] == "linked"]
    assert linked == [{**linked[0], "complaint_id": again, "linked_to": first, "reports": 2}]


def test_an_admin_unlinks_a_wrong_match_and_it_is_delivered_then_links_by_hand(hub: Hub) -> None:
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        admin, auditor = key_headers(hub, "admin"), key_headers(hub, "auditor")
        first = client.post("/v1/complaints", json={**BLACKOUT, "external_ref": "A"}).json()["id"]
        wait_for(lambda: settled(hub, first))
        near = client.post("/v1/complaints", json={**BLACKOUT, "external_ref": "B", "location": north(20),
                                                   "text": "Gardu di gedung sebelah rusak, listrik kami padam."}).json()["id"]
        wait_for(lambda: client.get(f"/v1/admin/complaints/{near}", headers=admin).json().get("duplicate_of"))

        refused = client.post(f"/v1/admin/complaints/{near}/unlink", json={}, headers=admin)
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["reason"]
        blank = client.post(f"/v1/admin/complaints/{near}/unlink", json={"reason": "  "}, headers=admin)
        assert blank.status_code == 422 and [e["field"] for e in blank.json()["errors"]] == ["reason"]
        assert client.post(f"/v1/admin/complaints/{near}/unlink", json={"reason": "x"}, headers=auditor).status_code == 403
        done = client.post(f"/v1/admin/complaints/{near}/unlink", json={"reason": "another gardu"}, headers=admin)
        assert done.status_code == 200, done.text
        assert done.json()["duplicate_of"] is None
        view = wait_for(lambda: settled(hub, near))
        assert [d["destination"] for d in view["deliveries"]] == ["pln-uid-jakarta-raya"]

        far = client.post("/v1/complaints", json={**BLACKOUT, "external_ref": "C", "location": north(3000),
                                                  "text": "PLN padam juga di kantor kami, apakah gangguan yang sama?"}).json()["id"]
        wait_for(lambda: settled(hub, far))
        assert client.post(f"/v1/admin/complaints/{far}/link", json={"original": "nope", "reason": "same outage"},
                           headers=admin).status_code == 404
        hand = client.post(f"/v1/admin/complaints/{far}/link", json={"original": first, "reason": "same outage"},
                           headers=admin)
        assert hand.status_code == 200, hand.text
        assert hand.json()["duplicate_of"]["method"] == "hand"
        assert [d["id"] for d in client.get(f"/v1/admin/complaints/{first}", headers=admin).json()["duplicates"]] == [far]
        again = client.post(f"/v1/admin/complaints/{far}/link", json={"original": first, "reason": "twice"}, headers=admin)
        assert again.status_code == 409
        audit = client.get("/v1/admin/changes", headers=admin).json()["changes"]
        assert [(c["action"], c["target"]) for c in audit[:2]] == [("complaint.link", far), ("complaint.unlink", near)]


def test_a_burst_of_flooding_in_one_kecamatan_is_an_incident(hub: Hub) -> None:
    texts = ["Banjir setinggi lutut di gang kami, air terus naik", "air masuk rumah udah sepinggang tolong",
             "Jalan depan sekolah tergenang banjir, motor mogok", "banjir lagi, got meluap ke jalan raya",
             "Genangan tinggi di perempatan, mobil tidak bisa lewat"]
    with running(hub) as client:
        admin = key_headers(hub, "admin")
        ids = [client.post("/v1/complaints", json={
            "channel": "jaki", "external_ref": f"F{i}", "category": "drainage-flooding", "text": text,
            "location": north(150 * i)}).json()["id"] for i, text in enumerate(texts)]
        found = wait_for(lambda: client.get("/v1/admin/incidents", headers=admin).json()["incidents"])
        assert client.get("/v1/admin/incidents?since=yesterday", headers=admin).status_code == 422
    assert len(found) == 1
    incident = found[0]
    assert incident["category"] == "drainage-flooding" and incident["kecamatan"] == "jakarta-pusat/gambir"
    assert sorted(incident["complaints"]) == sorted(ids) and incident["count"] == 5
