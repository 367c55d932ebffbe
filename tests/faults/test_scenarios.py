"""Fault injection against the machine's real RabbitMQ and PostgreSQL: a broker restart, killed
workers, a misbehaving operator, poison messages and a database restart, each while complaints
stream in. After each, every accepted complaint reached every destination its rules name exactly
once as a deduplicating receiver sees it; the counts are printed (run with -s to see them)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from hub.cli.receiver import Received, Receiver
from hub.http.app import create_app
from hub.pipeline import deadletter
from hub.settings.environment import Settings
from hub.settings.runtime import Hub
from tests.faults.fault_harness import (
    Stream,
    Worker,
    audit,
    config_for,
    restart_postgresql,
    restart_rabbitmq,
    secrets,
)
from tests.harness import delete_topology, key_headers, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.rabbitmq, pytest.mark.postgres, pytest.mark.timeout(600)]

FAST_WEBHOOKS = {"timeout": 2, "max_attempts": 40, "backoff_initial": 0.05, "backoff_max": 0.5}


class Scene:
    """A hub on the real services with its own prefix, database, config, receiver and workers."""

    def __init__(self, tmp: Path, amqp_url: str, postgres_url: str, receiver: Receiver,
                 **webhook_options: Any) -> None:
        self.tmp, self.receiver = tmp, receiver
        settings = Settings.from_env(broker_url=amqp_url, database_url=postgres_url,
                                     config_dir=config_for(tmp, receiver, **{**FAST_WEBHOOKS, **webhook_options}),
                                     bus_prefix=f"fault-{uuid.uuid4().hex[:8]}",
                                     rate_limit="off")  # one channel streams hundreds, as bench does
        self.hub = Hub.create(settings)
        receiver.secrets.update(secrets(self.hub))
        self.hub.bus().declare(self.hub.delivery_queues())
        self.workers: list[Worker] = []
        self.run = uuid.uuid4().hex[:6]

    def start(self, kind: str, ready: bool = True) -> Worker:
        worker = Worker(kind, self.hub, self.tmp)
        self.workers.append(worker)
        return worker.wait_ready() if ready else worker

    def stream(self, client: TestClient, count: int) -> Stream:
        """Each complaint is submitted with a key of its own channel, as channels do."""
        keys: dict[str, dict[str, str]] = {}

        def post(doc: dict[str, Any]) -> Any:
            if doc["channel"] not in keys:
                keys[doc["channel"]] = key_headers(self.hub, "channel", doc["channel"])
            return client.post("/v1/complaints", json=doc, headers=keys[doc["channel"]])

        return Stream(post, self.run, count).start()

    def close(self, amqp_url: str) -> None:
        for w in self.workers:
            w.stop()
        delete_topology(self.hub, amqp_url)
        self.hub.store.engine.dispose()


@pytest.fixture
def scene_factory(tmp_path: Path, amqp_url: str, postgres_url: str) -> Iterator[Any]:
    missing = [cmd for cmd in ("rabbitmqctl", "pg_ctlcluster") if shutil.which(cmd) is None]
    if missing:  # the services run elsewhere (a container, say): they cannot be restarted from here
        message = f"the fault suite restarts the services with {' and '.join(missing)}, not found"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    made: list[tuple[Scene, Receiver]] = []

    def make(respond: Any = None, **webhook_options: Any) -> Scene:
        receiver = Receiver(respond=respond).start()
        scene = Scene(tmp_path, amqp_url, postgres_url, receiver, **webhook_options)
        made.append((scene, receiver))
        return scene

    yield make
    for scene, receiver in made:
        scene.close(amqp_url)
        receiver.stop()


def test_rabbitmq_restarted_while_1000_complaints_stream_in_loses_and_duplicates_nothing(scene_factory) -> None:
    scene = scene_factory()
    scene.start("router"), scene.start("dispatcher")
    with TestClient(create_app(scene.hub)) as client:
        stream = scene.stream(client, 1000)
        stream.wait_until(300)
        before = len(stream.accepted)
        restart_rabbitmq()
        during = len(stream.accepted) - before
        stream.join()
        counts = audit(scene.hub, stream.accepted, scene.receiver, "rabbitmq restarted mid-stream")
    print(f"complaints accepted while the broker restarted: {during}")
    assert counts["accepted"] == 1000
    assert during > 0, "the API kept accepting complaints while the broker was down"


def test_kill_9_of_a_router_and_a_dispatcher_mid_stream_loses_and_duplicates_nothing(scene_factory) -> None:
    """Each worker is killed while it works through a backlog, with messages unacknowledged and
    webhooks in flight (the operator takes 50 ms to answer)."""
    def slow_operator(got: Received) -> int:
        time.sleep(0.05)
        return 204 if got.verified else 401

    scene = scene_factory(respond=slow_operator)
    with TestClient(create_app(scene.hub)) as client:
        stream = scene.stream(client, 400)
        stream.wait_until(150)  # an intake backlog, no router yet
        router = scene.start("router")
        killed_router_at = wait_for(lambda: count(scene.hub, "complaints", "status != 'received'") >= 20
                                    and count(scene.hub, "complaints", "status != 'received'"), timeout=60)
        router.kill9()
        scene.start("router")
        stream.wait_until(300)
        dispatcher = scene.start("dispatcher")
        killed_dispatcher_at = wait_for(lambda: count(scene.hub, "deliveries", "status = 'delivered'") >= 30
                                        and count(scene.hub, "deliveries", "status = 'delivered'"), timeout=60)
        dispatcher.kill9()
        scene.start("dispatcher")
        stream.join()
        counts = audit(scene.hub, stream.accepted, scene.receiver, "router and dispatcher killed -9")
    print(f"router killed after routing {killed_router_at}, dispatcher after delivering {killed_dispatcher_at}")
    assert counts["accepted"] == 400
    assert killed_router_at < 150, "the router was killed with a backlog left"


def test_sigterm_mid_stream_finishes_the_work_in_hand_so_nothing_arrives_twice(scene_factory) -> None:
    """Unlike kill -9, SIGTERM lets a worker finish and ack what it holds before it exits: the
    receivers see no duplicates at all."""
    def slow_operator(got: Received) -> int:
        time.sleep(0.05)
        return 204 if got.verified else 401

    scene = scene_factory(respond=slow_operator)
    router, dispatcher = scene.start("router"), scene.start("dispatcher")
    with TestClient(create_app(scene.hub)) as client:
        stream = scene.stream(client, 300)
        wait_for(lambda: count(scene.hub, "deliveries", "status = 'delivered'") >= 30, timeout=60)
        began = time.monotonic()
        assert dispatcher.stop() == 0
        dispatcher_took = time.monotonic() - began
        scene.start("dispatcher")
        stream.wait_until(200)
        assert router.stop() == 0
        scene.start("router")
        stream.join()
        counts = audit(scene.hub, stream.accepted, scene.receiver, "router and dispatcher sent SIGTERM")
    print(f"dispatcher exited {dispatcher_took:.1f} s after SIGTERM")
    assert counts["accepted"] == 300
    assert counts["duplicates_suppressed"] == {"department_queues": 0, "webhooks": 0}


def count(hub: Hub, table: str, where: str) -> int:
    import sqlalchemy as sa

    with hub.store.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one()


def test_operator_that_times_out_then_answers_500_and_429_then_recovers_gets_each_delivery_once(
        scene_factory) -> None:
    """From its first request the operator hangs past the hub's timeout for 3 s, answers 500 for
    3 s, 429 with Retry-After for 3 s, then recovers."""
    first: list[float] = []
    phases: Counter[str] = Counter()
    lock = threading.Lock()

    def misbehaving(got: Received) -> Any:
        with lock:
            first[:] = first or [time.monotonic()]
            elapsed = time.monotonic() - first[0]
            phase = "timeout" if elapsed < 3 else "500" if elapsed < 6 else "429" if elapsed < 9 else "recovered"
            phases[phase] += 1
        if phase == "timeout":
            time.sleep(1.5)  # longer than the hub waits: it retries, the operator may see it twice
        return {"500": 500, "429": (429, {"Retry-After": "1"})}.get(phase, 204)

    scene = scene_factory(respond=misbehaving, timeout=1)
    scene.start("router"), scene.start("dispatcher")
    with TestClient(create_app(scene.hub)) as client:
        stream = scene.stream(client, 150)
        stream.join()
        counts = audit(scene.hub, stream.accepted, scene.receiver, "operator timed out, 500, 429, recovered")
    print(f"operator answered by phase: {dict(phases)}")
    assert counts["accepted"] == 150
    assert all(phases[p] > 0 for p in ("timeout", "500", "429", "recovered")), phases


def test_invalid_oversized_and_non_json_intake_messages_are_dead_lettered_and_the_rest_delivered(
        scene_factory) -> None:
    scene = scene_factory()
    scene.start("router"), scene.start("dispatcher")
    bus = scene.hub.bus()
    poison = {
        "not-json": b"\x00\xff this is not json",
        "invalid": json.dumps({"type": "laporhub.intake.v1", "complaint": {"channel": "jaki"}}).encode(),
        "oversized": json.dumps({"type": "laporhub.intake.v1",
                                 "complaint": {"channel": "jaki", "text": "x" * 2_000_000}}).encode(),
    }
    with TestClient(create_app(scene.hub)) as client:
        stream = scene.stream(client, 200)
        stream.wait_until(50)
        for name, body in poison.items():
            bus.publish("intake", "complaint", body, message_id=f"poison-{name}")
        stream.join()
        counts = audit(scene.hub, stream.accepted, scene.receiver, "poison on the intake queue")
    bus.close()
    letters = wait_for(lambda: [d] if len(d := deadletter.list_(scene.hub.store)) == 3 else None)[0]
    reasons = " | ".join(d["reason"] for d in letters)
    assert "not JSON" in reasons and "complaint.text: is required" in reasons and "bytes" in reasons
    assert {d["stage"] for d in letters} == {"router"}
    assert counts["accepted"] == 200


def test_database_restart_under_load_loses_and_duplicates_nothing(scene_factory) -> None:
    scene = scene_factory()
    scene.start("router"), scene.start("dispatcher")
    with TestClient(create_app(scene.hub), raise_server_exceptions=False) as client:
        stream = scene.stream(client, 400)
        stream.wait_until(150)
        restart_postgresql()
        stream.join()
        counts = audit(scene.hub, stream.accepted, scene.receiver, "postgresql restarted mid-stream")
    assert counts["accepted"] == 400
