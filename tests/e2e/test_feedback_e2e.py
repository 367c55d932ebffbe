"""The citizen reopens a resolution (back to the destination that resolved it), confirms and rates."""

from __future__ import annotations

import pytest

from hub.cli.receiver import Receiver
from tests.harness import point_webhooks_at, running, settled, wait_for
from tests.e2e.test_lifecycle_e2e import WATER, callback, channel_events, hub  # noqa: F401 - fixture

pytestmark = pytest.mark.rabbitmq

def test_citizen_reopens_a_resolution_and_it_goes_back_to_the_destination_that_resolved_it(hub):
    with Receiver() as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        cid = client.post("/v1/complaints", json=WATER).json()["id"]
        wait_for(lambda: settled(hub, cid))
        assert callback(client, hub, cid, "pam-jaya", status="resolved", resolution_note="Pipa diganti.").status_code == 200
        early = client.post(f"/v1/complaints/{cid}/feedback", json={"action": "reopen"})
        reopened = client.post(f"/v1/complaints/{cid}/feedback", json={"action": "reopen", "reason": "Masih bocor."})
        wait_for(lambda: len([r for r in receiver.received if r.path.endswith("/pam-jaya")]) == 2)
        again = callback(client, hub, cid, "pam-jaya", status="resolved", resolution_note="Sudah dicek ulang.")
        confirmed = client.post(f"/v1/complaints/{cid}/feedback", json={"action": "confirm"})
        rated = client.post(f"/v1/complaints/{cid}/feedback", json={"action": "rate", "rating": 5})
        wait_for(lambda: [e["kind"] for e in channel_events(receiver)][-1:] == ["rated"])
    assert early.status_code == 422
    assert reopened.json()["state"] == "open"
    second = [r for r in receiver.received if r.path.endswith("/pam-jaya")][1].json
    assert second["handoff"]["kind"] == "reopened" and second["handoff"]["reason"] == "Masih bocor."
    assert second["handoff"]["send"] == 2
    assert again.status_code == 200 and confirmed.json()["state"] == "closed" and rated.status_code == 200
    assert [e["kind"] for e in channel_events(receiver)] == ["resolved", "reopened", "resolved", "confirmed", "rated"]
