"""Input that cannot hurt: whatever a client sends, the hub answers a 4xx JSON error naming the
field (never a 500, never a stored value that breaks later reads)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.http.app import create_app
from hub.settings.runtime import Hub
from tests.harness import delivered, key_headers, make_hub

COMPLAINT = {"channel": "web", "text": "Jalan rusak parah di depan sekolah, banyak lubang.",
             "location": {"kota": "Jakarta Timur"}}
JSON = {"content-type": "application/json"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hostile.db'}", "hostile-test")
    yield hub
    hub.store.engine.dispose()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub, relay=False), raise_server_exceptions=False,
                    headers=key_headers(hub, "channel", "web")) as c:
        yield c


@pytest.fixture
def admin(hub: Hub) -> dict[str, str]:
    return key_headers(hub, "admin")


def refused(resp, status: int, field: str) -> dict:
    """A 4xx answer in the hub's error shape that names `field`."""
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) >= {"error", "message", "errors"}, body
    assert field in [e["field"] for e in body["errors"]], body
    return body


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_a_non_finite_number_in_json_is_refused_naming_its_field(client: TestClient, literal: bytes) -> None:
    raw = (b'{"channel":"web","text":"Jalan rusak parah sekali","location":{"latitude":' + literal
           + b',"longitude":106.8}}')
    refused(client.post("/v1/complaints", content=raw, headers=JSON), 422, "location.latitude")


def test_deeply_nested_json_is_a_400_not_a_recursion_error(client: TestClient) -> None:
    raw = b'{"channel":"web","text":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    body = refused(client.post("/v1/complaints", content=raw, headers=JSON), 400, "$")
    assert "nest" in body["errors"][0]["reason"]


def test_json_nested_deeper_than_the_limit_is_refused_naming_where(client: TestClient) -> None:
    nested: object = "x"
    for _ in range(40):
        nested = [nested]
    raw = json.dumps({**COMPLAINT, "text": nested})
    resp = client.post("/v1/complaints", content=raw, headers=JSON)
    assert resp.status_code == 422
    [error] = resp.json()["errors"]
    assert error["field"].startswith("text[0][0]") and "nested too deeply" in error["reason"]


def test_a_lone_surrogate_in_text_is_refused_naming_the_field(client: TestClient) -> None:
    raw = json.dumps({**COMPLAINT, "text": "Jalan rusak \ud800 parah sekali"})  # ensure_ascii: \\ud800
    refused(client.post("/v1/complaints", content=raw, headers=JSON), 422, "text")


def test_nul_in_text_is_refused_because_postgresql_cannot_store_it(client: TestClient) -> None:
    raw = json.dumps({**COMPLAINT, "text": "Jalan rusak \u0000 parah sekali",
                      "reporter": {"name": "Bu\u0000di"}})
    body = refused(client.post("/v1/complaints", content=raw, headers=JSON), 422, "text")
    assert "reporter.name" in [e["field"] for e in body["errors"]]


def test_a_lone_surrogate_in_a_field_name_is_refused(client: TestClient) -> None:
    raw = '{"channel":"web","text":"Jalan rusak parah sekali","\\udc00":1}'
    assert client.post("/v1/complaints", content=raw, headers=JSON).status_code == 422


def test_a_body_that_is_not_utf8_is_refused(client: TestClient) -> None:
    raw = json.dumps(COMPLAINT).encode("utf-16")
    refused(client.post("/v1/complaints", content=raw, headers=JSON), 400, "$")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=utf-16", None])
def test_a_json_endpoint_refuses_other_content_types_with_415(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    resp = client.post("/v1/complaints", content=json.dumps(COMPLAINT).encode(), headers=headers)
    refused(resp, 415, "content-type")


def test_json_with_a_charset_utf8_parameter_is_accepted(client: TestClient) -> None:
    resp = client.post("/v1/complaints", content=json.dumps(COMPLAINT).encode(),
                       headers={"content-type": "application/json; charset=UTF-8"})
    assert resp.status_code == 201, resp.text


def test_a_huge_integer_is_refused_naming_the_field(client: TestClient) -> None:
    raw = '{"channel":"web","text":"Jalan rusak parah sekali","location":{"latitude":' + "9" * 40 + "}}"
    refused(client.post("/v1/complaints", content=raw, headers=JSON), 422, "location.latitude")


def test_a_routing_version_id_too_large_for_the_database_is_a_422(client: TestClient, admin: dict) -> None:
    for path in ("/v1/admin/routing/versions/" + "9" * 40, "/v1/admin/routing/versions/-1"):
        refused(client.get(path, headers=admin), 422, "vid")
    refused(client.post("/v1/admin/explain?version=" + "9" * 40, json=COMPLAINT, headers=admin), 422, "version")


@pytest.mark.parametrize("value", ["abc", "nan", -1, 1e9, None, [1]])
def test_overlap_hours_that_is_not_a_sensible_number_is_a_422(client: TestClient, admin: dict, value: object) -> None:
    resp = client.post("/v1/admin/destinations/pln-uid-jakarta-raya/rotate-secret",
                       json={"reason": "test", "overlap_hours": value}, headers=admin)
    refused(resp, 422, "overlap_hours")


def test_a_javascript_photo_url_in_a_status_update_is_refused() -> None:
    from hub.core import schemas

    update = {"complaint_id": "c-1", "destination": "pln-uid-jakarta-raya", "status": "resolved",
              "resolution_note": "Sudah diperbaiki", "photo_url": "javascript:alert(document.cookie)"}
    assert "photo_url" in [e.field for e in schemas.errors("status-update", update)]
    assert not [e for e in schemas.errors("status-update", {**update, "photo_url": "https://cdn.pln.co.id/a.jpg"})
                if e.field == "photo_url"]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
                                 "file:///etc/passwd", "//evil.example/a.jpg"])
def test_attachments_accept_only_http_and_https(client: TestClient, url: str) -> None:
    refused(client.post("/v1/complaints", json={**COMPLAINT, "attachments": [url]}), 422, "attachments[0]")


def test_an_unexpected_error_answers_the_json_error_shape(hub: Hub) -> None:
    app = create_app(hub, relay=False)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret detail that must not leak")

    with TestClient(app, raise_server_exceptions=False) as c:
        resp = c.get("/v1/boom")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert body["error"] == "internal_error" and body["errors"] == []
    assert "secret detail" not in resp.text


@pytest.mark.parametrize("token", ["x", "a" * 5000, "..\\..\\etc\\passwd", "%00", "ü🙂<script>", "a.b.c.d",
                                   "eyJhbGciOiJub25lIn0.e30.", "AAAA" * 40])
def test_an_action_link_that_is_not_ours_gets_a_page_that_says_so_never_a_500(client: TestClient, token: str) -> None:
    """/act/{token} is opened by anyone who has the e-mail, and by mail scanners: a made-up token,
    opened or posted, is a 4xx HTML page, and the token is not echoed back as markup."""
    for resp in (client.get(f"/act/{token}"),
                 client.post(f"/act/{token}", data={"note": "<img src=x onerror=alert(1)>", "reason": "x"})):
        assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:200])
        assert resp.headers["content-type"].startswith("text/html")
        assert "<script>" not in resp.text and "onerror=alert" not in resp.text


@pytest.mark.parametrize("body", [{"action": "teleport"}, {"action": ["resolve"]},
                                  {"action": "transfer", "transfer_to": {"$ne": 1}}, {"action": "progress", "note": 7},
                                  {"action": "progress", "note": "ok", "photo_url": "javascript:alert(1)"},
                                  {"action": "progress", "note": "ok", "update_id": "x" * 10_000}])
def test_a_portal_action_with_bad_fields_is_named(hub: Hub, body: dict) -> None:
    """A destination key posting nonsense about a complaint it was delivered gets a 4xx naming what
    is wrong, never a 500, and the complaint does not move."""
    cid, _ = delivered(hub, {"channel": "web", "text": "Air PAM tidak mengalir sudah tiga hari, pipa ledeng bocor.",
                             "location": {"kota": "Jakarta Timur"}})
    assert "pam-jaya" in [d["destination"] for d in hub.store.deliveries_of(cid)]
    key = key_headers(hub, "destination", "pam-jaya")
    with TestClient(create_app(hub, relay=False), raise_server_exceptions=False, headers=key) as c:
        resp = c.post(f"/v1/portal/complaints/{cid}/status", json=body)
    assert resp.status_code == 422, (resp.status_code, resp.text[:300])
    assert resp.json()["errors"], resp.json()
    assert hub.store.deliveries_of(cid)[0]["state"] == "sent"
