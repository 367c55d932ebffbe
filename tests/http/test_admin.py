"""Administering the hub: who may do what, the audit, versioned routing and live destinations."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub.admin import keys
from hub.admin.keys import api_keys
from hub.cli.receiver import Receiver
from hub.core import signing
from hub.http.app import create_app
from hub.infra.outbox import relay
from hub.pipeline.intake import accept
from hub.settings import versions, workers
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

WASTE = {"channel": "web", "text": "Sampah menumpuk di pinggir kali, truk sampah tidak datang seminggu.",
         "location": {"kota": "Jakarta Timur"}}
WATER = {"channel": "web", "text": "Air PAM tidak mengalir tiga hari, pipa ledeng bocor.",
         "location": {"kota": "Jakarta Timur"}}
POWER = {"channel": "web", "text": "Listrik padam total sejak subuh, PLN belum datang.",
         "location": {"kota": "Jakarta Timur"}}


@pytest.fixture
def hub(tmp_path: Path, bus_prefix: str) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'admin.db'}", bus_prefix)
    yield hub
    hub.store.engine.dispose()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub, relay=False)) as c:
        yield c


def water_to(doc: dict, destination: str) -> dict:
    for rule in doc["rules"]:
        if rule["id"] == "water":
            rule["send_to"] = [destination]
    return doc


# -- access control ----------------------------------------------------------------------------

def test_no_key_or_a_bad_key_is_refused_with_401_and_a_json_reason(client: TestClient, hub: Hub) -> None:
    none = client.get("/v1/complaints")
    bad = client.get("/v1/complaints", headers={"authorization": "Bearer lhk_nothere_xyz"})
    forged = client.get("/v1/complaints", headers={"x-api-key": key_headers(hub, "admin")["authorization"][7:] + "x"})
    for resp in (none, bad, forged):
        assert resp.status_code == 401 and resp.json()["error"] == "unauthenticated"
        assert resp.headers["www-authenticate"].startswith("Bearer")
    assert "no API key" in none.json()["message"] and "not valid" in bad.json()["message"]
    assert client.get("/healthz").status_code == 200 and client.get("/openapi.json").status_code == 200


def test_a_key_of_the_wrong_role_is_refused_with_403_naming_the_role_needed(client: TestClient, hub: Hub) -> None:
    channel, auditor, admin = (key_headers(hub, "channel", "web"), key_headers(hub, "auditor"),
                               key_headers(hub, "admin"))
    resp = client.get("/v1/admin/routing", headers=channel)
    assert resp.status_code == 403 and resp.json()["error"] == "forbidden" and "admin or auditor" in resp.json()["message"]
    assert client.get("/v1/admin/routing", headers=auditor).status_code == 200
    assert client.post("/v1/admin/routing/versions/1/publish", json={"reason": "x"}, headers=auditor).status_code == 403
    assert client.post("/v1/admin/destinations/pam-jaya/pause", json={"reason": "x"}, headers=auditor).status_code == 403
    refused = client.post("/v1/complaints", json=WASTE, headers=admin)
    assert refused.status_code == 403 and "needs a key with role channel" in refused.json()["message"]
    other = client.post("/v1/complaints", json={**WASTE, "channel": "jaki"}, headers=channel)
    assert other.status_code == 403 and "'web', not 'jaki'" in other.json()["message"]


def test_a_channel_reads_only_what_it_submitted(client: TestClient, hub: Hub) -> None:
    web, jaki = key_headers(hub, "channel", "web"), key_headers(hub, "channel", "jaki")
    cid = client.post("/v1/complaints", json=WASTE, headers=web).json()["id"]
    client.post("/v1/complaints", json={**WASTE, "channel": "jaki"}, headers=jaki)
    assert client.get(f"/v1/complaints/{cid}", headers=web).status_code == 200
    theirs = client.get(f"/v1/complaints/{cid}", headers=jaki)
    assert theirs.status_code == 403 and "not yours" in theirs.json()["message"]
    assert [c["id"] for c in client.get("/v1/complaints", headers=web).json()["complaints"]] == [cid]
    assert len(client.get("/v1/complaints", headers=key_headers(hub, "auditor")).json()["complaints"]) == 2


def test_a_destination_reads_only_complaints_delivered_to_it(hub: Hub) -> None:
    with running(hub, channel="web") as client:
        cid = client.post("/v1/complaints", json=WASTE).json()["id"]
        wait_for(lambda: settled(hub, cid))
        office = key_headers(hub, "destination", "sudin-lh-jakarta-timur")
        elsewhere = key_headers(hub, "destination", "pam-jaya")
        assert client.get(f"/v1/complaints/{cid}", headers=office).status_code == 200
        assert client.get(f"/v1/complaints/{cid}", headers=elsewhere).status_code == 403
        assert [c["id"] for c in client.get("/v1/complaints", headers=office).json()["complaints"]] == [cid]
        assert client.get("/v1/complaints", headers=elsewhere).json()["complaints"] == []


def test_keys_are_stored_hashed_and_stop_working_once_rotated_or_revoked(client: TestClient, hub: Hub) -> None:
    issued = keys.create(hub.store, "ops", "admin", reason="test")
    with hub.store.engine.connect() as conn:
        stored = conn.execute(sa.select(api_keys.c.key_hash).where(api_keys.c.id == issued.id)).scalar_one()
    assert issued.secret not in stored and len(stored) == 64
    bearer = {"authorization": f"Bearer {issued.secret}"}
    assert client.get("/v1/admin/whoami", headers=bearer).json()["role"] == "admin"
    new = client.post(f"/v1/admin/keys/{issued.id}/rotate", json={"reason": "laptop lost"}, headers=bearer).json()
    assert client.get("/v1/admin/whoami", headers=bearer).status_code == 401
    fresh = {"authorization": f"Bearer {new['key']}"}
    assert client.get("/v1/admin/whoami", headers=fresh).status_code == 200
    other = client.post("/v1/admin/keys", json={"name": "PAM Jaya", "role": "destination", "scope": "pam-jaya",
                                                "reason": "onboarding"}, headers=fresh).json()
    assert client.post(f"/v1/admin/keys/{other['id']}/revoke", json={"reason": "offboarded"}, headers=fresh).status_code == 200
    assert client.get("/v1/complaints", headers={"authorization": f"Bearer {other['key']}"}).status_code == 401
    assert all("key" not in k and "key_hash" not in k for k in client.get("/v1/admin/keys", headers=fresh).json()["keys"])


def test_every_administrative_change_is_listed_with_actor_time_reason_before_and_after(client: TestClient, hub: Hub) -> None:
    admin = key_headers(hub, "admin", name="Dewi")
    client.post("/v1/admin/destinations/pam-jaya/pause", json={"reason": "PAM Jaya maintenance"}, headers=admin)
    missing = client.post("/v1/admin/destinations/pam-jaya/resume", json={}, headers=admin)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    changes = client.get("/v1/admin/changes", headers=key_headers(hub, "auditor")).json()["changes"]
    pause = next(c for c in changes if c["action"] == "destination.pause")
    assert pause["actor"].startswith("admin:Dewi") and pause["reason"] == "PAM Jaya maintenance" and pause["at"]
    assert (pause["before"], pause["after"]) == ({"paused": False}, {"paused": True})
    assert not any(c["action"] == "destination.resume" for c in changes)


# -- versioned routing -------------------------------------------------------------------------

def test_routing_is_seeded_from_config_as_version_1(hub: Hub) -> None:
    listing = versions.listing(hub.store)
    assert listing["published"] == 1 and hub.config.ruleset.version == "r1"
    assert [r.id for r in hub.config.ruleset.rules] == [r.id for r in hub.base.ruleset.rules]


def test_validate_names_the_path_of_each_error_as_rules_check_does(client: TestClient, hub: Hub) -> None:
    doc = water_to(versions.get(hub.store, 1)["document"], "pam-jya")
    doc["rules"][0]["when"]["urgency"] = ["sometimes"]
    body = client.post("/v1/admin/routing/validate", json={"document": doc}, headers=key_headers(hub, "admin")).json()
    assert body["valid"] is False
    assert {"field": "rules[0].when.urgency[0]", "file": "rules.yaml", "severity": "error"}.items() <= body["errors"][0].items()
    doc["rules"][0]["when"]["urgency"] = ["emergency"]
    body = client.post("/v1/admin/routing/validate", json={"document": doc}, headers=key_headers(hub, "admin")).json()
    water = next(i for i, r in enumerate(doc["rules"]) if r["id"] == "water")
    assert [(e["field"], e["reason"]) for e in body["errors"]] == [
        (f"rules[{water}].send_to[0]", "unknown destination 'pam-jya' in rule 'water'")]
    syntax = client.post("/v1/admin/routing/validate", json={"yaml": "rules: [unclosed"}, headers=key_headers(hub, "admin"))
    assert syntax.status_code == 422 and "line" in syntax.json()["errors"][0]["field"]


def test_publishing_refuses_a_version_with_errors_or_without_a_reason(client: TestClient, hub: Hub) -> None:
    admin = key_headers(hub, "admin")
    bad = client.post("/v1/admin/routing/drafts", json={"document": water_to(versions.get(hub.store, 1)["document"], "nowhere")},
                      headers=admin).json()
    assert bad["valid"] is False
    refused = client.post(f"/v1/admin/routing/versions/{bad['id']}/publish", json={"reason": "try"}, headers=admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"].endswith("send_to[0]")
    good = client.post("/v1/admin/routing/drafts", json={"document": water_to(versions.get(hub.store, 1)["document"], "dinas-sda")},
                       headers=admin).json()
    assert client.post(f"/v1/admin/routing/versions/{good['id']}/publish", json={}, headers=admin).status_code == 422
    assert hub.config.ruleset.version == "r1"


def test_preview_reports_which_recent_complaints_would_go_elsewhere_by_rule_and_by_move(client: TestClient, hub: Hub) -> None:
    for i in range(3):
        accept(hub.store, {**WATER, "external_ref": f"W{i}"})
    accept(hub.store, {**WASTE, "external_ref": "S1"})
    admin = key_headers(hub, "admin")
    draft = client.post("/v1/admin/routing/drafts", json={"document": water_to(versions.get(hub.store, 1)["document"], "dinas-sda")},
                        headers=admin).json()
    report = client.post(f"/v1/admin/routing/versions/{draft['id']}/preview", headers=admin).json()
    assert (report["examined"], report["changed"]) == (4, 3)
    [move] = report["moves"]
    assert (move["from"], move["to"], move["count"], len(move["examples"])) == (["pam-jaya"], ["dinas-sda"], 3, 3)
    assert report["by_rule"][0] == {"rule_id": "water", "before": 3, "after": 3, "changed": 3}
    limited = client.post(f"/v1/admin/routing/versions/{draft['id']}/preview?limit=1", headers=admin).json()
    assert limited["examined"] == 1


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
def broker_url(request: pytest.FixtureRequest) -> str:
    return "memory://localhost/" if request.param == "memory" else request.getfixturevalue("amqp_url")


def test_a_publication_reaches_a_running_router_by_broadcast_and_rollback_returns(
        broker_url: str, tmp_path: Path, bus_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "POLL_SECONDS", 3600.0)  # only the broadcast can tell the router
    running_hub = make_hub(broker_url, f"sqlite:///{tmp_path / 'live.db'}", bus_prefix)
    admin_hub = make_hub(broker_url, f"sqlite:///{tmp_path / 'live.db'}", bus_prefix)  # "another process"
    try:
        with running(running_hub, channel="web") as client:
            wait_for(lambda: workers.listing(admin_hub.store, "router"))
            vid = versions.save_draft(admin_hub.store, water_to(versions.get(admin_hub.store, 1)["document"], "dinas-sda"),
                                      actor="test")
            out = versions.publish(admin_hub.store, vid, admin_hub.config, actor="test", reason="water to SDA")
            with admin_hub.bus() as bus:
                assert relay(admin_hub.store, bus, message_ids=[f"control:{out['generation']}"]) == 1
            wait_for(lambda: running_hub.config.ruleset.version == "r2", timeout=10)
            cid = client.post("/v1/complaints", json=WATER).json()["id"]
            view = wait_for(lambda: settled(running_hub, cid))
            assert [d["destination"] for d in view["deliveries"]] == ["dinas-sda"]
            assert view["decision"]["ruleset_version"] == "r2"
            wait_for(lambda: {w["routing_version"] for w in workers.listing(admin_hub.store)} == {"r2"})

            back = versions.publish(admin_hub.store, 1, admin_hub.config, actor="test", reason="undo", rollback=True)
            with admin_hub.bus() as bus:
                relay(admin_hub.store, bus, message_ids=[f"control:{back['generation']}"])
            wait_for(lambda: running_hub.config.ruleset.version == "r1", timeout=10)
            cid = client.post("/v1/complaints", json={**WATER, "external_ref": "after-rollback"}).json()["id"]
            assert [d["destination"] for d in wait_for(lambda: settled(running_hub, cid))["deliveries"]] == ["pam-jaya"]
    finally:
        if broker_url.startswith("amqp"):
            delete_topology(running_hub, broker_url)
        running_hub.store.engine.dispose()
        admin_hub.store.engine.dispose()


# -- live destinations ---------------------------------------------------------------------------

def test_a_paused_destination_holds_its_deliveries_and_resuming_delivers_them(either_bus_hub: Hub) -> None:
    hub = either_bus_hub
    admin = key_headers(hub, "admin")
    with running(hub, channel="web") as client:
        resp = client.post("/v1/admin/destinations/sudin-lh-jakarta-timur/pause", json={"reason": "office moving"},
                           headers=admin)
        assert resp.status_code == 200 and resp.json()["paused"] is True
        time.sleep(1.0)  # the dispatcher's current round ends
        cid = client.post("/v1/complaints", json=WASTE).json()["id"]
        wait_for(lambda: hub.store.deliveries_of(cid))
        time.sleep(1.5)
        [held] = hub.store.deliveries_of(cid)
        assert held["status"] == "pending"
        health = client.get("/v1/admin/destinations/sudin-lh-jakarta-timur", headers=admin).json()["health"]
        assert health["pending"] == 1
        client.post("/v1/admin/destinations/sudin-lh-jakarta-timur/resume", json={"reason": "moved"}, headers=admin)
        view = wait_for(lambda: settled(hub, cid))
        assert [d["status"] for d in view["deliveries"]] == ["delivered"]
        assert client.get("/v1/admin/destinations/sudin-lh-jakarta-timur", headers=admin).json()["health"]["last_success"]


def test_during_a_secret_rotation_the_webhook_is_signed_with_the_old_and_the_new_secret(hub: Hub) -> None:
    admin = key_headers(hub, "admin")
    with Receiver() as receiver, running(hub, channel="web") as client:
        point_webhooks_at(hub, receiver)
        old = hub.config.registry.get("pln-uid-jakarta-raya").options["secret"]
        rotated = client.post("/v1/admin/destinations/pln-uid-jakarta-raya/rotate-secret",
                              json={"reason": "yearly rotation", "overlap_hours": 24}, headers=admin).json()
        new = rotated["secret"]
        assert new.startswith("whsec_") and new != old and rotated["old_secret_signs_until"]
        cid = client.post("/v1/complaints", json=POWER).json()["id"]
        wait_for(lambda: settled(hub, cid))
        [got] = [r for r in receiver.received if r.path.endswith("pln-uid-jakarta-raya")]
        signing.verify(new, got.headers, got.body)
        signing.verify(old, got.headers, got.body)
        assert len(got.headers["webhook-signature"].split()) == 2
        shown = client.get("/v1/admin/destinations/pln-uid-jakarta-raya", headers=admin).json()
        assert new not in str(shown) and shown["secret_overlap"]
        audit_entry = client.get("/v1/admin/changes?action=destination.rotate_secret", headers=admin).json()["changes"][0]
        assert new not in str(audit_entry) and old not in str(audit_entry)


def test_a_destination_can_be_added_and_sent_a_test_delivery(hub: Hub) -> None:
    admin = key_headers(hub, "admin")
    with Receiver() as receiver, running(hub) as client:
        doc = {"name": "PT Air Baru", "kind": "operator", "adapter": "webhook",
               "options": {"url": f"{receiver.url}/hooks/air-baru"}}
        added = client.put("/v1/admin/destinations/air-baru", json={"destination": doc, "reason": "new operator"},
                           headers=admin)
        assert added.status_code == 200 and added.json()["id"] == "air-baru"
        receiver.secrets["air-baru"] = hub.config.registry.get("air-baru").options["secret"]
        result = client.post("/v1/admin/destinations/air-baru/test", headers=admin).json()
        assert result["outcome"] == "delivered" and receiver.received[0].verified
        assert receiver.received[0].json["complaint"]["title"].startswith("[TEST]")
        bad = client.put("/v1/admin/destinations/x", json={"destination": {"name": "X", "kind": "operator",
                                                                           "adapter": "carrier-pigeon"}, "reason": "r"},
                         headers=admin)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "adapter"


def test_cli_creates_a_key_shown_once_and_lists_it_without_the_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from hub.cli.main import main

    monkeypatch.setenv("LAPORHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setattr("hub.infra.logs.configure", lambda *_, **__: None)  # keep structlog off capsys's stream
    assert main(["keys", "create", "--role", "admin", "--name", "Dewi"]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("lhk_")
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "Dewi" in listed and "admin" in listed and secret not in listed
    assert main(["keys", "create", "--role", "channel", "--name", "JAKI"]) == 2
    assert "needs a scope" in capsys.readouterr().err
    assert main(["routing", "list"]) == 0 and "r1" in capsys.readouterr().out
