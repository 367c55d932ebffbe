"""The administrators' HTTP API (`hub/http/admin.py`) through FastAPI's TestClient on the
in-process bus and SQLite, with no workers: routing drafts, validation, publication and rollback,
each audited and announced; destinations paused, resumed and sent a test delivery (through an
injected HTTP transport); keys created, listed, rotated and revoked. Refusals carry the hub's one
error body, `{error, message, errors: [{field, reason}]}` (hub/http/errors.py); a body the
contract refuses (hub/http/contract_bodies.py) is a 422 before the endpoint runs. (Access control
end to end, preview and secret rotation are in tests/http/test_admin.py.)"""

from __future__ import annotations

import functools
import json
from typing import Any, Iterator

import pytest
import requests
import sqlalchemy as sa
from fastapi.testclient import TestClient
from kombu import Connection
from standardwebhooks.webhooks import Webhook

import adapters
from hub.http.app import create_app
from hub.infra.store import outbox
from hub.settings import versions
from hub.settings.runtime import Hub
from tests.adapters.test_webhook_adapter import Transport
from tests.harness import key_headers

WATER = {"channel": "web", "text": "Air PAM tidak mengalir tiga hari, pipa ledeng bocor.",
         "location": {"kota": "Jakarta Timur"}}


@pytest.fixture
def hub(memory_hub: Hub) -> Hub:
    return memory_hub


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub, relay=False)) as c:
        yield c


@pytest.fixture
def admin(hub: Hub) -> dict[str, str]:
    return key_headers(hub, "admin", name="Dewi")


@pytest.fixture
def auditor(hub: Hub) -> dict[str, str]:
    return key_headers(hub, "auditor", name="BPK")


def water_to(doc: dict[str, Any], destination: str) -> dict[str, Any]:
    for rule in doc["rules"]:
        if rule["id"] == "water":
            rule["send_to"] = [destination]
    return doc


def changes(client: TestClient, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    resp = client.get("/v1/admin/changes", params=query, headers=headers)
    assert resp.status_code == 200
    return resp.json()["changes"]


def announced(hub: Hub) -> list[dict[str, Any]]:
    """The control broadcasts queued for every worker (the outbox; no relay runs here)."""
    with hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.body).where(outbox.c.exchange == "control")
                            .order_by(outbox.c.id)).scalars().all()
    return [json.loads(b) for b in rows]


def explain_water(client: TestClient, headers: dict[str, str]) -> list[str]:
    resp = client.post("/v1/admin/explain", json={"complaint": WATER}, headers=headers)
    assert resp.status_code == 200
    return [d["id"] for d in resp.json()["destinations"]]


# -- routing versions -----------------------------------------------------------------------------

def test_a_draft_is_saved_edited_and_listed_and_each_save_is_audited(
        client: TestClient, hub: Hub, admin: dict[str, str], auditor: dict[str, str]) -> None:
    doc = water_to(versions.get(hub.store, 1)["document"], "dinas-sda")
    created = client.post("/v1/admin/routing/drafts", json={"document": doc, "note": "water to SDA"}, headers=admin)
    assert created.status_code == 201
    assert created.json() == {"id": 2, "label": "r2", "valid": True, "errors": []}
    edited = client.put("/v1/admin/routing/drafts/2", json={"document": water_to(doc, "nowhere")}, headers=admin)
    assert edited.status_code == 200 and edited.json()["valid"] is False
    assert edited.json()["errors"][0]["reason"] == "unknown destination 'nowhere' in rule 'water'"
    listing = client.get("/v1/admin/routing", headers=auditor).json()
    assert (listing["published"], listing["running"]) == (1, "r1")
    assert [(v["id"], v["status"]) for v in listing["versions"]] == [(2, "draft"), (1, "published")]
    shown = client.get("/v1/admin/routing/versions/2", headers=auditor).json()
    assert shown["document"]["version"] == "r2" and "nowhere" in shown["yaml"]
    audit = changes(client, auditor, action="routing.draft")
    assert [(c["target"], c["actor"].startswith("admin:Dewi")) for c in audit] == [("r2", True), ("r2", True)]
    assert audit[1]["reason"] == "water to SDA" and audit[0]["before"]["rules"]


def test_a_draft_from_yaml_text_is_checked_and_bad_yaml_names_the_line(client: TestClient, hub: Hub,
                                                                      admin: dict[str, str]) -> None:
    text = versions.dump(versions.get(hub.store, 1)["document"])
    ok = client.post("/v1/admin/routing/validate", json={"yaml": text}, headers=admin)
    assert ok.status_code == 200 and ok.json()["valid"] is True and ok.json()["errors"] == []
    bad = client.post("/v1/admin/routing/drafts", json={"yaml": "rules: [unclosed"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_routing"
    assert "line" in bad.json()["errors"][0]["field"]
    neither = client.post("/v1/admin/routing/drafts", json={"rules": []}, headers=admin)
    assert neither.status_code == 422 and neither.json()["errors"][0]["field"] == "document"
    assert [v["id"] for v in versions.listing(hub.store)["versions"]] == [1]


def test_an_auditor_may_validate_but_not_save_a_draft(client: TestClient, hub: Hub, auditor: dict[str, str]) -> None:
    doc = versions.get(hub.store, 1)["document"]
    assert client.post("/v1/admin/routing/validate", json={"document": doc}, headers=auditor).status_code == 200
    assert client.post("/v1/admin/routing/drafts", json={"document": doc}, headers=auditor).status_code == 403
    assert [v["id"] for v in versions.listing(hub.store)["versions"]] == [1]


def test_publishing_switches_the_hub_audits_and_announces_and_then_the_version_is_frozen(
        client: TestClient, hub: Hub, admin: dict[str, str], auditor: dict[str, str]) -> None:
    assert explain_water(client, admin) == ["pam-jaya"]
    vid = client.post("/v1/admin/routing/drafts", json={"document": water_to(versions.get(hub.store, 1)["document"],
                                                                              "dinas-sda")}, headers=admin).json()["id"]
    resp = client.post(f"/v1/admin/routing/versions/{vid}/publish", json={"reason": "SDA takes water"}, headers=admin)
    assert resp.status_code == 200
    assert {k: resp.json()[k] for k in ("published", "label", "previous")} == {"published": 2, "label": "r2",
                                                                                "previous": 1}
    assert hub.config.ruleset.version == "r2" and explain_water(client, admin) == ["dinas-sda"]
    [entry] = changes(client, auditor, action="routing.publish")
    assert (entry["target"], entry["reason"], entry["after"]["version"], entry["before"]["version"]) == (
        "routing", "SDA takes water", "r2", "r1")
    assert announced(hub)[-1]["change"] == "routing.published"
    assert announced(hub)[-1]["routing_version"] == "r2"
    frozen = client.put(f"/v1/admin/routing/drafts/{vid}", json={"document": versions.get(hub.store, 1)["document"]},
                        headers=admin)
    assert frozen.status_code == 422 and "published versions never change" in frozen.json()["message"]
    twice = client.post(f"/v1/admin/routing/versions/{vid}/publish", json={"reason": "again"}, headers=admin)
    assert twice.status_code == 422 and "already published" in twice.json()["message"]


def test_rollback_publishes_an_earlier_version_again_and_is_audited_as_a_rollback(
        client: TestClient, hub: Hub, admin: dict[str, str], auditor: dict[str, str]) -> None:
    vid = client.post("/v1/admin/routing/drafts", json={"document": water_to(versions.get(hub.store, 1)["document"],
                                                                              "dinas-sda")}, headers=admin).json()["id"]
    client.post(f"/v1/admin/routing/versions/{vid}/publish", json={"reason": "try SDA"}, headers=admin)
    for body, field in (({"reason": "undo"}, "version"), ({"version": "1", "reason": "undo"}, "version"),
                        ({"version": 1}, "reason"), ({"version": 1, "reason": "  "}, "reason")):
        refused = client.post("/v1/admin/routing/rollback", json=body, headers=admin)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, body
    assert hub.config.ruleset.version == "r2"
    back = client.post("/v1/admin/routing/rollback", json={"version": 1, "reason": "SDA not ready"}, headers=admin)
    assert back.status_code == 200 and back.json()["previous"] == 2
    assert hub.config.ruleset.version == "r1" and explain_water(client, admin) == ["pam-jaya"]
    [entry] = changes(client, auditor, action="routing.rollback")
    assert entry["reason"] == "SDA not ready" and entry["actor"].startswith("admin:Dewi")
    assert announced(hub)[-1]["change"] == "routing.rollback"
    history = client.get("/v1/admin/routing", headers=auditor).json()["history"]
    assert [(h["version"], h["reason"]) for h in history][:2] == [(1, "SDA not ready"), (2, "try SDA")]


def test_explain_under_a_draft_shows_where_a_complaint_would_go_without_publishing(
        client: TestClient, hub: Hub, admin: dict[str, str]) -> None:
    vid = versions.save_draft(hub.store, water_to(versions.get(hub.store, 1)["document"], "dinas-sda"), actor="t")
    resp = client.post(f"/v1/admin/explain?version={vid}", json=WATER, headers=admin)
    assert [d["id"] for d in resp.json()["destinations"]] == ["dinas-sda"]
    assert resp.json()["classification"]["category"] == "water"
    assert hub.config.ruleset.version == "r1"
    invalid = client.post("/v1/admin/explain", json={"complaint": {"channel": "web"}}, headers=admin)
    assert invalid.status_code == 422 and invalid.json()["error"] == "invalid_request"
    assert [e["field"] for e in invalid.json()["errors"]] == ["$"], "the contract: neither a complaint nor one inside"


def test_a_routing_version_that_does_not_exist_is_404(client: TestClient, auditor: dict[str, str]) -> None:
    resp = client.get("/v1/admin/routing/versions/999", headers=auditor)
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"


# -- destinations ---------------------------------------------------------------------------------

def test_pause_and_resume_change_the_live_settings_once_each_with_the_audit_and_a_broadcast(
        client: TestClient, hub: Hub, admin: dict[str, str], auditor: dict[str, str]) -> None:
    url = "/v1/admin/destinations/pam-jaya"
    paused = client.post(f"{url}/pause", json={"reason": "PAM maintenance"}, headers=admin)
    assert paused.status_code == 200 and paused.json()["paused"] is True and "pam-jaya" in hub.paused
    again = client.post(f"{url}/pause", json={"reason": "again"}, headers=admin)
    assert again.status_code == 409 and again.json() == {"error": "conflict", "message": "pam-jaya is already paused",
                                                         "errors": []}
    assert client.get(url, headers=auditor).json()["paused"] is True
    resumed = client.post(f"{url}/resume", json={"reason": "done"}, headers=admin)
    assert resumed.status_code == 200 and resumed.json()["paused"] is False and "pam-jaya" not in hub.paused
    audit = changes(client, auditor, target="pam-jaya")
    assert [(c["action"], c["before"], c["after"], c["reason"]) for c in audit] == [
        ("destination.resume", {"paused": True}, {"paused": False}, "done"),
        ("destination.pause", {"paused": False}, {"paused": True}, "PAM maintenance")]
    assert [(m["change"], m["destination"]) for m in announced(hub)] == [("destination.changed", "pam-jaya")] * 2


def test_an_unknown_destination_is_404_and_a_change_without_a_reason_is_422(
        client: TestClient, hub: Hub, admin: dict[str, str]) -> None:
    missing = client.post("/v1/admin/destinations/pam-jya/pause", json={"reason": "x"}, headers=admin)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found" and "pam-jya" in missing.json()["message"]
    assert client.get("/v1/admin/destinations/pam-jya", headers=admin).status_code == 404
    empty = client.post("/v1/admin/destinations/pam-jaya/pause", json={"reason": ""}, headers=admin)
    assert empty.status_code == 422 and [e["field"] for e in empty.json()["errors"]] == ["reason"]  # the contract
    reasonless = client.post("/v1/admin/destinations/pam-jaya/pause", json={"reason": "  "}, headers=admin)
    assert reasonless.status_code == 422 and reasonless.json()["errors"] == [
        {"field": "reason", "reason": "is required: say why, for the audit"}]
    assert hub.paused == frozenset() and announced(hub) == []


def test_destinations_are_listed_with_health_and_without_secrets(client: TestClient, hub: Hub,
                                                                 auditor: dict[str, str]) -> None:
    listed = client.get("/v1/admin/destinations", headers=auditor).json()["destinations"]
    assert {d["id"] for d in listed} == {d.id for d in hub.config.registry}
    pam = next(d for d in listed if d["id"] == "pam-jaya")
    assert set(pam["health"]) >= {"last_success", "last_error", "pending", "dead", "queue_depth"}
    secret = hub.config.registry.get("pam-jaya").options["secret"]
    assert secret not in json.dumps(listed)


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Transport]:
    """The operator's end of a test delivery: the webhook adapter's HTTP goes to this transport.

    The endpoint builds its adapter Context without an `http` factory, so the test hands one in
    by giving Context that default for the test's duration."""
    transport = Transport(200)

    def session() -> requests.Session:
        s = requests.Session()
        s.mount("https://", transport)
        s.mount("http://", transport)
        return s

    monkeypatch.setattr(adapters, "Context", functools.partial(adapters.Context, http=session))
    yield transport


def test_a_test_delivery_to_a_webhook_is_signed_marked_as_a_test_and_reports_the_outcome(
        client: TestClient, hub: Hub, admin: dict[str, str], operator: Transport) -> None:
    result = client.post("/v1/admin/destinations/pam-jaya/test", headers=admin)
    assert result.status_code == 200
    assert {k: result.json()[k] for k in ("destination", "outcome", "status", "attempts")} == {
        "destination": "pam-jaya", "outcome": "delivered", "status": 200, "attempts": 1}
    [sent] = operator.seen
    body = Webhook(hub.config.registry.get("pam-jaya").options["secret"]).verify(sent.body, dict(sent.headers))
    assert body["complaint"]["title"].startswith("[TEST]") and body["routing"]["rule_id"] == "test-delivery"
    assert body["delivery_id"] == result.json()["delivery_id"] and body["delivery_id"].startswith("d-test-")
    assert hub.store.recent_complaints() == [], "a test delivery stores no complaint"


def test_a_failing_test_delivery_is_tried_once_and_says_why(
        client: TestClient, admin: dict[str, str], operator: Transport) -> None:
    operator.answers = [503, 503, 503]
    result = client.post("/v1/admin/destinations/pam-jaya/test", headers=admin).json()
    assert (result["outcome"], result["status"], result["attempts"]) == ("failed", 503, 1)
    assert "HTTP 503" in result["detail"] and "operator says no" not in result["detail"], "never the answer body"
    assert len(operator.seen) == 1


def test_a_test_delivery_to_a_department_lands_on_its_queue(client: TestClient, hub: Hub,
                                                          admin: dict[str, str]) -> None:
    result = client.post("/v1/admin/destinations/dinas-sda/test", headers=admin).json()
    assert (result["outcome"], result["attempts"]) == ("delivered", 1)
    with Connection(hub.settings.broker_url) as conn:
        q = conn.SimpleQueue(hub.topology.department_queue("dinas-sda"))
        message = q.get(block=False)
        got = json.loads(message.body)
        message.ack()
        q.close()
    assert got["delivery_id"] == result["delivery_id"] and got["complaint"]["title"].startswith("[TEST]")


# -- keys -----------------------------------------------------------------------------------------

def test_a_key_is_shown_once_on_creation_and_listed_without_it(client: TestClient, hub: Hub,
                                                               admin: dict[str, str]) -> None:
    created = client.post("/v1/admin/keys", json={"name": "PAM Jaya", "role": "destination", "scope": "pam-jaya",
                                                  "reason": "onboarding"}, headers=admin)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith(f"lhk_{created.json()['id']}_")
    who = client.get("/v1/admin/whoami", headers={"authorization": f"Bearer {key}"}).json()
    assert (who["role"], who["scope"], who["name"]) == ("destination", "pam-jaya", "PAM Jaya")
    listed = client.get("/v1/admin/keys", headers=admin).json()
    assert key not in json.dumps(listed) and set(listed["roles"]) == {"channel", "destination", "admin", "auditor"}
    [entry] = changes(client, admin, action="key.create", target=created.json()["id"])
    assert entry["reason"] == "onboarding" and key not in json.dumps(entry)


@pytest.mark.parametrize("body, status, says", [
    ({"name": "x", "role": "root", "reason": "r"}, 409, "unknown role 'root'"),
    ({"name": "x", "role": "channel", "reason": "r"}, 409, "needs a scope"),
    ({"name": "x", "role": "admin", "scope": "jaki", "reason": "r"}, 409, "has no scope"),
    ({"name": "x", "role": "admin"}, 422, "reason"),
])
def test_a_key_that_cannot_be_made_is_refused_saying_why(client: TestClient, hub: Hub, admin: dict[str, str],
                                                        body: dict[str, Any], status: int, says: str) -> None:
    before = client.get("/v1/admin/keys", headers=admin).json()["keys"]
    resp = client.post("/v1/admin/keys", json=body, headers=admin)
    assert resp.status_code == status and says in json.dumps(resp.json())
    assert client.get("/v1/admin/keys", headers=admin).json()["keys"] == before


def test_revoking_twice_or_rotating_a_revoked_key_is_a_conflict_and_revoked_keys_list_on_request(
        client: TestClient, hub: Hub, admin: dict[str, str]) -> None:
    kid = client.post("/v1/admin/keys", json={"name": "JAKI", "role": "channel", "scope": "jaki",
                                              "reason": "r"}, headers=admin).json()["id"]
    assert client.post(f"/v1/admin/keys/{kid}/revoke", json={"reason": "gone"}, headers=admin).json()["revoked_at"]
    again = client.post(f"/v1/admin/keys/{kid}/revoke", json={"reason": "gone"}, headers=admin)
    rotate = client.post(f"/v1/admin/keys/{kid}/rotate", json={"reason": "r"}, headers=admin)
    unknown = client.post("/v1/admin/keys/nothere/revoke", json={"reason": "r"}, headers=admin)
    assert (again.status_code, rotate.status_code, unknown.status_code) == (409, 409, 409)
    assert "already revoked" in again.json()["message"] and "no key 'nothere'" in unknown.json()["message"]
    assert kid not in [k["id"] for k in client.get("/v1/admin/keys", headers=admin).json()["keys"]]
    assert kid in [k["id"] for k in client.get("/v1/admin/keys?revoked=true", headers=admin).json()["keys"]]


def test_only_an_admin_may_see_or_manage_keys(client: TestClient, hub: Hub, auditor: dict[str, str]) -> None:
    assert client.get("/v1/admin/keys", headers=auditor).status_code == 403
    made = client.post("/v1/admin/keys", json={"name": "x", "role": "admin", "reason": "r"}, headers=auditor)
    assert made.status_code == 403
    assert [k["role"] for k in client.get("/v1/admin/keys", headers=key_headers(hub, "admin")).json()["keys"]
            ].count("admin") == 1
