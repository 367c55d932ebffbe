"""The open311 adapter: a delivery becomes a GeoReport v2 form; the remote system's statuses come
back as ordinary status updates."""

from __future__ import annotations

from types import SimpleNamespace

import requests

from adapters.open311 import Open311Adapter
from hub.aftercare.open311_sync import to_update
from hub.core.destinations import Destination
from hub.settings.environment import Settings

DELIVERY = {"delivery_id": "d-1", "complaint_id": "c-1", "destination": "council",
            "complaint": {"text": "Lampu jalan mati", "channel": "jaki",
                          "location": {"latitude": -6.2, "longitude": 106.8, "kecamatan": "Cilandak"}},
            "classification": {"category": "street-lighting"}}


def adapter(**options: object) -> Open311Adapter:
    dest = Destination("council", "Council", "operator", "open311",
                       {"endpoint": "http://council.example/open311/v2/", **options})
    return Open311Adapter(dest, SimpleNamespace(settings=Settings(), bus=None, http=requests.Session))  # type: ignore[arg-type]


def test_delivery_becomes_a_georeport_form_with_the_destinations_service_code_and_key() -> None:
    form = adapter(api_key="k-1", service_codes={"street-lighting": "STLT"}).form(DELIVERY)
    assert form["service_code"] == "STLT" and form["api_key"] == "k-1"
    assert form["lat"] == "-6.2" and form["long"] == "106.8" and form["address_string"] == "Cilandak"
    assert form["attribute[laporhub_complaint_id]"] == "c-1"


def test_unmapped_category_uses_its_own_id_and_no_key_is_sent_when_none_is_set() -> None:
    form = adapter().form(DELIVERY)
    assert form["service_code"] == "street-lighting" and "api_key" not in form


def test_remote_statuses_map_to_status_updates_only_when_they_move_the_delivery_on() -> None:
    d = {"complaint_id": "c-1", "destination": "council", "state": "sent"}
    ack = to_update(d, {"status": "open"}, "u1")
    assert ack and ack["status"] == "acknowledged"
    assert to_update({**d, "state": "acknowledged"}, {"status": "open"}, "u2") is None
    done = to_update({**d, "state": "acknowledged"}, {"status": "closed", "status_notes": "Lampu diganti"}, "u3")
    assert done and done["status"] == "resolved" and done["resolution_note"] == "Lampu diganti"
    refused = to_update(d, {"status": "NOT_COUNCILS_RESPONSIBILITY"}, "u4")
    assert refused and refused["status"] == "rejected" and refused["reason"]
