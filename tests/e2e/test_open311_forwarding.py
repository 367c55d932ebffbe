"""The open311 adapter against a live GeoReport v2 server: another LaporHub's /open311/v2, the
way FixMyStreet forwards to a council's back-end and imports its statuses back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from hub.aftercare import open311_sync
from hub.cli.processes import ApiServer
from hub.infra.store import complaints
from hub.settings.runtime import Hub
from tests.harness import key_headers, make_hub, running, settled, wait_for

WATER = {"channel": "jaki", "external_ref": "O311-FWD-1",
         "text": "Air PAM tidak mengalir sejak kemarin, pipa ledeng bocor di depan rumah.",
         "location": {"latitude": -6.2297, "longitude": 106.9005, "kecamatan": "Duren Sawit", "kota": "Jakarta Timur"}}


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[Hub, str, str]]:
    """A council back-end speaking GeoReport v2, with a channel key issued to the hub."""
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'remote.db'}", "remote311")
    server = ApiServer(hub, port=0).start()
    api_key = key_headers(hub, "channel", "laporhub-forward")["authorization"].split()[1]
    yield hub, f"http://127.0.0.1:{server.port}/open311/v2", api_key
    server.stop()
    hub.store.engine.dispose()


PUSH_KEY = "pam-jaya-inbound-key"  # what PAM Jaya's system presents when it pushes (callback_api_key)


@pytest.fixture
def local(tmp_path: Path, remote: tuple[Hub, str, str]) -> Iterator[Hub]:
    """PAM Jaya reached through its Open311 endpoint instead of a webhook."""
    _, endpoint, api_key = remote
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'local.db'}", "local311")
    registry = hub.config.registry
    registry._by_id["pam-jaya"] = replace(registry.get("pam-jaya"), adapter="open311", options={
        "endpoint": endpoint, "api_key": api_key, "callback_api_key": PUSH_KEY, "service_codes": {"water": "water"}})
    yield hub
    hub.store.engine.dispose()


def test_a_delivery_is_filed_on_the_destinations_open311_server_and_its_closing_comes_back(
        local: Hub, remote: tuple[Hub, str, str]) -> None:
    remote_hub, _, _ = remote
    with running(local) as client:
        cid = client.post("/v1/complaints", json=WATER).json()["id"]
        view = wait_for(lambda: settled(local, cid))
    [delivery] = local.store.deliveries_of(cid)
    assert delivery["destination"] == "pam-jaya" and delivery["status"] == "delivered"
    filed = remote_hub.store.complaint(delivery["remote_ref"])
    assert filed is not None, "the remote system holds the request under the id it answered"
    assert filed["channel"] == "laporhub-forward" and filed["complaint"]["category"] == "water"
    assert WATER["text"] in filed["complaint"]["text"]
    assert "service_request_id" in [e for e in view["timeline"] if e["type"] == "delivered"][0]["detail"]

    opened = open311_sync.pull(local, "pam-jaya")
    assert [d["state"] for d in local.store.deliveries_of(cid)] == ["acknowledged"], "open remotely: taken on"
    with remote_hub.store.begin() as conn:
        conn.execute(complaints.update().where(complaints.c.id == delivery["remote_ref"]).values(state="closed"))
    applied = open311_sync.pull(local, "pam-jaya")
    again = open311_sync.pull(local, "pam-jaya")
    [after] = local.store.deliveries_of(cid)
    assert after["state"] == "resolved"
    assert len(opened) == 1 and len(applied) == 1 and again == [], "each remote change is imported once"
    changes = [e for e in local.store.complaint(cid)["timeline"] if e["type"] == "status_changed"]
    assert [(c["from"], c["to"]) for c in changes] == [("sent", "acknowledged"), ("acknowledged", "resolved")]


def test_the_destinations_system_can_push_its_status_change_instead(local: Hub, remote: tuple[Hub, str, str]) -> None:
    _, _, api_key = remote
    with running(local) as client:
        cid = client.post("/v1/complaints", json={**WATER, "external_ref": "O311-FWD-2"}).json()["id"]
        wait_for(lambda: settled(local, cid))
        [delivery] = local.store.deliveries_of(cid)
        update = {"api_key": PUSH_KEY, "service_request_id": delivery["remote_ref"], "status": "closed",
                  "description": "Pipa sudah diganti.", "update_id": "u-1",
                  "updated_datetime": "2026-11-29T10:00:00+07:00"}
        pushed = client.post("/open311/v2/servicerequestupdates.json", data=update)
        repeated = client.post("/open311/v2/servicerequestupdates.json", data=update)
        stranger = client.post("/open311/v2/servicerequestupdates.json", data={**update, "api_key": "nope"})
        outbound = client.post("/open311/v2/servicerequestupdates.json", data={**update, "api_key": api_key})
    assert pushed.status_code == 200 and pushed.json()[0]["applied"] is True
    assert repeated.status_code == 200 and repeated.json()[0]["applied"] is False
    assert stranger.status_code == 403 and stranger.json()[0]["code"] == 403
    assert outbound.status_code == 403, "the key the hub sends with never authenticates what comes back"
    [after] = local.store.deliveries_of(cid)
    assert after["state"] == "resolved"
