"""A message redelivered after a crash is processed again without a second delivery."""

from __future__ import annotations

import json
from pathlib import Path

from hub.infra import outbox
from hub.pipeline.intake import accept, intake_message
from hub.pipeline.routing import Router
from tests.harness import make_hub

ROADS = {"channel": "jaki", "external_ref": "RE-1", "title": "Jalan berlubang",
         "text": "Jln berlubang besar di depan sekolah, aspal rusak parah dan gak pernah diperbaiki.",
         "location": {"kecamatan": "Cilandak", "kota": "Jakarta Selatan"}}


def test_intake_message_routed_twice_keeps_its_first_decision_and_deliveries(tmp_path: Path) -> None:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", "redelivery")
    cid = accept(hub.store, ROADS).complaint_id
    raw = json.dumps(intake_message(cid, ROADS))
    router = Router(hub)
    assert router.process(raw) == cid
    first = hub.store.deliveries_of(cid)
    assert router.process(raw) == cid
    assert hub.store.deliveries_of(cid) == first and len(first) == 1
    assert outbox.backlog(hub.store) == 1  # only the intake message: nothing relayed it here
    hub.store.engine.dispose()
