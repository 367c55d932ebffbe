"""The HTTP contract for citizen channels: what is accepted, what is refused and why."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.infra import outbox
from hub.http.app import create_app
from hub.settings.runtime import Hub
from tests.harness import key_headers, make_hub, running, settled, wait_for

COMPLAINT = {"channel": "web", "external_ref": "API-1",
             "text": "Sampah menumpuk di pinggir kali, truk sampah tidak datang seminggu.",
             "location": {"kota": "Jakarta Timur"}}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'api.db'}", "api-test")
    yield hub
    hub.store.engine.dispose()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub, relay=False), headers=key_headers(hub, "channel", "web")) as c:
        yield c


def test_invalid_complaint_is_refused_with_422_naming_each_field_and_reason(client: TestClient) -> None:
    resp = client.post("/v1/complaints", json={"text": "", "channel": "Bad Channel!",
                                               "location": {"latitude": 123}, "colour": "red"})
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "invalid_complaint"
    fields = {e["field"]: e["reason"] for e in body["errors"]}
    assert set(fields) >= {"text", "channel", "location.latitude", "colour"}
    assert fields["colour"] == "is not an allowed field"
    assert "longitude" in fields["location.latitude"] or "maximum" in fields["location.latitude"] or fields["location.latitude"]


def test_body_that_is_not_json_is_refused_with_400_and_a_json_reason(client: TestClient) -> None:
    resp = client.post("/v1/complaints", content=b"text=hello", headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_json"
    assert resp.json()["errors"][0]["field"] == "$"


def test_oversized_body_is_refused_with_413(client: TestClient) -> None:
    resp = client.post("/v1/complaints", content=b"{" + b" " * (300 * 1024) + b"}")
    assert resp.status_code == 413 and "limit" in resp.json()["message"]


def test_repeated_submission_from_the_same_channel_returns_the_existing_complaint(client: TestClient, hub: Hub) -> None:
    first = client.post("/v1/complaints", json=COMPLAINT)
    again = client.post("/v1/complaints", json=COMPLAINT)
    other_channel = client.post("/v1/complaints", json={**COMPLAINT, "channel": "jaki"},
                                headers=key_headers(hub, "channel", "jaki"))
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["created"] is False
    assert other_channel.json()["id"] != first.json()["id"]
    assert outbox.backlog(hub.store) == 2, "one intake message per distinct complaint"


def test_unknown_complaint_is_a_404_with_a_json_body(client: TestClient) -> None:
    resp = client.get("/v1/complaints/c-nope")
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"


def test_admin_view_explains_classification_decision_deliveries_and_timeline(hub: Hub) -> None:
    with running(hub, channel="web") as client:
        cid = client.post("/v1/complaints", json=COMPLAINT).json()["id"]
        wait_for(lambda: settled(hub, cid))
        view = client.get(f"/v1/admin/complaints/{cid}", headers=key_headers(hub, "auditor")).json()
        refused = client.get(f"/v1/admin/complaints/{cid}")
    assert refused.status_code == 403, "a channel key does not see the internal view"
    assert view["classification"]["category"] == "waste"
    assert view["classification"]["evidence"]["matches"]["waste"]
    assert view["decision"]["ruleset_version"]
    [target] = view["decision"]["targets"]
    assert target == {"destination": "sudin-lh-jakarta-timur", "rule_id": "waste-pollution",
                      "reason": target["reason"]} and "waste" in target["reason"]
    assert [e["type"] for e in view["timeline"]] == ["received", "classified", "routed",
                                                     "delivery_attempt", "delivered"]


def test_openapi_document_describes_the_complaint_body(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    ref = doc["paths"]["/v1/complaints"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "text" in body["required"] and "location" in body["properties"]


def test_healthz_answers(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
