"""Open311 GeoReport v2 details clients depend on: discovery's base url, the spec's error shape
for every error, api_key in the query string, 405 with Allow, and no 500 for a NaN location."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient

from hub.http.app import create_app
from hub.settings.runtime import Hub
from tests.harness import key_headers, make_hub

POTHOLE = {"service_code": "roads", "lat": "-6.2615", "long": "106.8106",
           "description": "Jalan berlubang besar di depan pasar, bahaya buat motor"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'o311.db'}", "o311-test")
    yield hub
    hub.store.engine.dispose()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub, relay=False), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api_key(hub: Hub) -> str:
    return key_headers(hub, "channel", "open311")["authorization"].split()[1]


def open311_error(resp, status: int) -> str:
    """The spec's error answer: a list of {code, description}; returns the description."""
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    body = resp.json()
    assert isinstance(body, list) and len(body) == 1, body
    assert set(body[0]) == {"code", "description"} and body[0]["code"] == status
    return body[0]["description"]


def test_discovery_url_has_no_trailing_slash_so_clients_build_single_slash_paths(client: TestClient) -> None:
    for fmt in ("json", "xml"):
        resp = client.get(f"/open311/v2/discovery.{fmt}")
        assert resp.status_code == 200
    [endpoint] = client.get("/open311/v2/discovery.json").json()["endpoints"]
    assert not endpoint["url"].endswith("/")
    assert client.get(endpoint["url"].split("127.0.0.1:8000")[-1] + "/services.json").status_code == 200


def test_api_key_in_the_query_string_is_accepted(client: TestClient, api_key: str) -> None:
    resp = client.post(f"/open311/v2/requests.json?api_key={api_key}", data=POTHOLE)
    assert resp.status_code == 200, resp.text
    assert resp.json()[0]["service_request_id"].startswith("c-")


def test_a_method_not_allowed_carries_allow_and_the_open311_error_shape(client: TestClient) -> None:
    resp = client.delete("/open311/v2/services.json")
    assert "GET" in resp.headers.get("allow", "")
    open311_error(resp, 405)


def test_a_405_on_the_v1_api_also_carries_allow(client: TestClient) -> None:
    resp = client.delete("/v1/complaints")
    assert resp.status_code == 405 and "POST" in resp.headers.get("allow", "")
    assert resp.json()["error"] == "method_not_allowed"


def test_an_unknown_open311_path_answers_the_open311_error_shape(client: TestClient) -> None:
    open311_error(client.get("/open311/v2/nothing-here.json"), 404)


def test_an_oversized_open311_post_answers_the_open311_error_shape(client: TestClient, api_key: str) -> None:
    resp = client.post("/open311/v2/requests.json", data={**POTHOLE, "api_key": api_key,
                                                          "description": "x" * (300 * 1024)})
    open311_error(resp, 413)


def test_a_wrong_content_type_on_open311_answers_the_open311_error_shape(client: TestClient) -> None:
    resp = client.post("/open311/v2/requests.json", content=b'{"service_code":"roads"}',
                       headers={"content-type": "application/json"})
    assert "content-type" in open311_error(resp, 415).lower()


@pytest.mark.parametrize("lat, long", [("nan", "106.8"), ("-6.2", "inf"), ("1e999", "106.8"), ("-91", "106.8")])
def test_a_non_finite_or_impossible_location_is_a_400(client: TestClient, api_key: str, lat: str, long: str) -> None:
    resp = client.post("/open311/v2/requests.json", data={**POTHOLE, "lat": lat, "long": long, "api_key": api_key})
    assert "lat" in open311_error(resp, 400)
    assert client.get("/open311/v2/requests.json").status_code == 200


@pytest.mark.parametrize("text", ["Jalan rusak\x00 parah sekali", "Jalan rusak \udc80 parah sekali"])
def test_nul_or_a_lone_surrogate_in_a_form_field_is_a_400(client: TestClient, api_key: str, text: str) -> None:
    raw = text.encode("utf-8", "surrogateescape") if "\udc80" in text else text.encode()
    from urllib.parse import urlencode, quote_from_bytes

    body = urlencode({**POTHOLE, "api_key": api_key}) + "&description=" + quote_from_bytes(raw)
    body = body.replace("description=" + POTHOLE["description"].replace(" ", "+") + "&", "", 1)
    resp = client.post("/open311/v2/requests.json", content=body.encode(),
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert "description" in open311_error(resp, 400)


def test_an_open311_post_without_a_key_is_a_403_in_the_spec_shape(client: TestClient) -> None:
    open311_error(client.post("/open311/v2/requests.json", data=POTHOLE), 403)
