"""Open311 GeoReport v2: an Open311 client we did not write (georeport) and plain HTTP per the
spec file, discover, list services, post and follow a complaint; every response is validated
against the published GeoReport v2 JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from georeport import GeoReport
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from hub.cli.processes import ApiServer
from hub.settings.runtime import Hub
from tests.harness import key_headers, running, settled, wait_for

SCHEMAS = Path("/work/shared/open311-georeport-v2")
POTHOLE = {"service_code": "roads", "lat": "-6.2615", "long": "106.8106",
           "address_string": "Jl. Fatmawati Raya", "description": "Jalan berlubang besar di depan pasar, bahaya buat motor",
           "first_name": "Budi", "phone": "+62 811 1111 1111", "attribute[kelurahan]": "Cipete Selatan"}


def validator(name: str) -> Draft4Validator:
    """Draft-04 schemas with relative $refs, resolved from the folder they were published in."""
    resources = [(p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT4))
                 for p in SCHEMAS.glob("*.json") if p.name != "swagger.json"]
    registry = Registry().with_resources(resources)
    return Draft4Validator(json.loads((SCHEMAS / name).read_text()), registry=registry)


def valid(name: str, doc: Any) -> Any:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(doc)]
    assert not errors, errors
    return doc


@pytest.fixture
def hub(rabbitmq_hub: Hub) -> Hub:
    return rabbitmq_hub


@pytest.mark.rabbitmq
def test_an_open311_client_discovers_lists_posts_and_follows_a_complaint(hub: Hub) -> None:
    if not SCHEMAS.exists():
        pytest.fail(f"the GeoReport v2 schemas are missing at {SCHEMAS}")
    with running(hub):
        server = ApiServer(hub, port=0).start()
        try:
            base = f"http://127.0.0.1:{server.port}/open311/v2"
            discovery = requests.get(f"{base}/discovery.json", timeout=10).json()
            assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
            client = GeoReport(base)
            services = valid("services.json", client.get_service_list())
            assert "roads" in [s["service_code"] for s in services]
            definition = valid("service-definition.json", client.get_service_definition("roads"))
            assert {a["code"] for a in definition["attributes"]} == {"kota", "kelurahan"}
            api_key = key_headers(hub, "channel", "open311")["authorization"].split()[1]
            keyless = requests.post(f"{base}/requests.json", data=POTHOLE, timeout=10)
            posted = requests.post(f"{base}/requests.json", data={**POTHOLE, "api_key": api_key}, timeout=10)
            assert posted.status_code == 200, posted.text
            [created] = posted.json()
            rid = created["service_request_id"]
            assert isinstance(rid, str)
            wait_for(lambda: settled(hub, rid))
            one = valid("request.json", client.get_service_request(rid))
            many = valid("requests.json", client.get_service_requests(service_request_id=rid))
            opened = client.get_service_requests(status="open", service_code="roads")
            xml_client = GeoReport(base, output_format="xml")
            as_xml = xml_client.get_service_request(rid)
            token = requests.get(f"{base}/tokens/{rid}.json", timeout=10).json()
            missing = requests.get(f"{base}/requests/c-nope.json", timeout=10)
            bad = requests.post(f"{base}/requests.json", data={"service_code": "roads", "api_key": api_key}, timeout=10)
            unknown = requests.post(f"{base}/requests.json", data={**POTHOLE, "service_code": "nope", "api_key": api_key},
                                    timeout=10)
            bad_xml = requests.post(f"{base}/requests.xml", data={"service_code": "roads", "api_key": api_key}, timeout=10)
        finally:
            server.stop()
    assert keyless.status_code == 403 and keyless.json()[0]["code"] == 403, "POST needs a channel api_key"
    assert one["service_request_id"] == rid and one["status"] == "open"
    assert one["agency_responsible"] == "Suku Dinas Bina Marga Jakarta Selatan"
    assert one["expected_datetime"] and one["requested_datetime"]
    assert one["lat"] == round(-6.2615, 3) and one["service_code"] == "roads", "public reads round coordinates (issue 11)"
    assert [r["service_request_id"] for r in many] == [rid]
    assert rid in [r["service_request_id"] for r in opened]
    assert as_xml["service_request_id"] == rid and as_xml["status"] == "open"
    assert token == [{"service_request_id": rid, "token": rid}]
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404
    assert bad.status_code == 400 and "location" in bad.json()[0]["description"]
    assert unknown.status_code == 404
    assert bad_xml.status_code == 400 and b"<errors><error><code>400</code>" in bad_xml.content
    full = hub.store.complaint(rid)
    assert full["channel"] == "open311" and full["complaint"]["reporter"]["name"] == "Budi"
    assert "Budi" not in json.dumps(one), "the reporter is never shown publicly"
