"""The router takes the intake messages at hand as one batch: one transaction, one pipelined
publish, then the acks; what the batch cannot take goes the one-at-a-time way."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

import hub.pipeline.routing
from hub.infra.outbox import relay
from hub.pipeline import deadletter
from hub.pipeline.intake import accept
from hub.pipeline.routing import Router, route_many
from tests.harness import make_hub, wait_for
from tests.pipeline.test_redelivery import ROADS

WATER = {"channel": "web", "external_ref": "B-W", "text": "Air PAM mati sejak pagi, tidak ada air bersih.",
         "location": {"kecamatan": "Kebayoran Baru", "kota": "Jakarta Selatan"}}


def test_a_batch_routes_each_complaint_once_and_routing_it_again_changes_nothing(tmp_path: Path) -> None:
    hub_ = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", "batch")
    ids = [accept(hub_.store, {**doc, "external_ref": f"B-{i}"}).complaint_id
           for i, doc in enumerate([ROADS, WATER, ROADS])]
    first = route_many(hub_, dict.fromkeys(ids + ids[:1]))
    views = [hub_.store.complaint(cid) for cid in ids]
    assert {v["status"] for v in views} == {"routed"}
    assert sorted(first) == sorted(f"delivery:{d['id']}" for v in views for d in v["deliveries"])
    assert route_many(hub_, dict.fromkeys(ids)) == first
    assert [len(hub_.store.complaint(cid)["timeline"]) for cid in ids] == [len(v["timeline"]) for v in views]
    hub_.store.engine.dispose()


def test_a_batch_with_a_poison_message_routes_the_rest_and_dead_letters_the_poison_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub_ = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", "batch")
    ids = [accept(hub_.store, {**ROADS, "external_ref": f"P-{i}"}).complaint_id for i in range(6)]
    batches: list[int] = []
    real = hub.pipeline.routing.route_many

    def spy(hub_arg: Any, complaint_ids: dict[str, Any]) -> list[str]:
        batches.append(len(complaint_ids))
        return real(hub_arg, complaint_ids)

    monkeypatch.setattr(hub.pipeline.routing, "route_many", spy)
    with hub_.bus() as bus:
        bus.declare(hub_.delivery_queues())
        bus.publish("intake", "complaint", json.dumps({"type": "laporhub.intake.v1", "complaint": {"channel": "x"}}),
                    message_id="poison-1")
        relay(hub_.store, bus)  # the six intake messages, after the poison one
    stop = threading.Event()
    worker = threading.Thread(target=Router(hub_).run, args=(stop,), daemon=True)
    worker.start()
    try:
        wait_for(lambda: all(hub_.store.complaint(cid)["status"] == "routed" for cid in ids), timeout=20)
        [letter] = wait_for(lambda: deadletter.list_(hub_.store))
    finally:
        stop.set()
        worker.join(10)
    assert max(batches) > 1, batches
    assert "complaint.text: is required" in letter["reason"] and letter["stage"] == "router"
    hub_.store.engine.dispose()
