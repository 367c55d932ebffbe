"""Issue 10: the ways one delivery was worked twice at once, or never. Each scenario runs real
processes against the machine's RabbitMQ (and PostgreSQL or SQLite) and an operator that logs
every request with its start and end; none of them stops or restarts a shared service.

- `serve` on SQLite, where two outbox relays used to publish the same row, with operators failing
  for their first seconds and then recovering;
- three dispatchers, a pause and a resume while an operator hangs past the AMQP heartbeat
  interval (the consuming thread used to wait for deliveries in hand and starve its heartbeats);
- a circuit breaker that opens and closes several times during a stream (an open circuit used to
  push a delivery's retry a year ahead with no message left to fire it).

Each ends with `tests.faults.exactly_once.audit`: no overlapping attempts per webhook-id, attempts
as the hub recorded and within the policy, nothing pending without a retry that will fire, and
every accepted complaint delivered exactly once with no duplicate.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import sqlalchemy as sa

from hub.admin.destinations import set_paused
from hub.infra.outbox import relay
from hub.settings.environment import Settings
from hub.settings.runtime import Hub
from tests.faults.fault_harness import Stream, Worker, config_for, secrets
from tests.faults.exactly_once import audit
from tests.faults.operator import Operator
from tests.harness import key_headers, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.rabbitmq, pytest.mark.timeout(600)]


class Scene:
    """A hub with its own prefix, store, configuration, operator and worker processes."""

    def __init__(self, tmp: Path, amqp_url: str, database_url: str, operator: Operator,
                 schedule: tuple[float, ...], env: dict[str, str], **webhook_options: Any) -> None:
        self.tmp, self.operator, self.schedule = tmp, operator, schedule
        self.webhook_options = webhook_options
        self.env = {"LAPORHUB_WEBHOOK_SCHEDULE": ",".join(str(s) for s in schedule), **env}
        os.environ.update(self.env)  # the worker processes inherit it (restored by the fixture)
        settings = Settings.from_env(broker_url=amqp_url, database_url=database_url,
                                     config_dir=config_for(tmp, operator, **webhook_options),  # type: ignore[arg-type]
                                     bus_prefix=f"fault-{uuid.uuid4().hex[:8]}")
        self.hub = Hub.create(settings)
        operator.secrets.update(secrets(self.hub))
        with self.hub.bus() as bus:
            bus.declare(self.hub.delivery_queues())
        self.workers: list[Worker] = []
        self.run = uuid.uuid4().hex[:6]
        self.keys: dict[str, dict[str, str]] = {}

    def start(self, kind: str, *args: str, ready: str | None = None) -> Worker:
        worker = Worker(kind, self.hub, self.tmp, *args)
        self.workers.append(worker)
        if ready:
            wait_for(lambda: ready in worker.log_path.read_text(errors="replace") or worker.proc.poll() is not None,
                     timeout=60, interval=0.1)
            assert worker.proc.poll() is None, worker.tail()
            return worker
        return worker.wait_ready()

    def headers(self, channel: str) -> dict[str, str]:
        if channel not in self.keys:
            self.keys[channel] = key_headers(self.hub, "channel", channel)
        return self.keys[channel]

    @property
    def quick_attempts(self) -> int:
        return int(self.webhook_options["max_attempts"])

    def announce(self) -> None:
        """Publish what the test changed (a pause, a resume) now, on a connection of its own."""
        with self.hub.bus() as bus:
            relay(self.hub.store, bus)

    def logs(self) -> str:
        return "\n".join(w.log_path.read_text(errors="replace") for w in self.workers)

    def close(self) -> None:
        for w in self.workers:
            w.stop()
        self.hub.delete_topology()
        self.hub.store.engine.dispose()


@pytest.fixture
def scenes(tmp_path: Path, amqp_url: str) -> Iterator[Any]:
    made: list[Scene] = []
    saved = dict(os.environ)

    def make(database_url: str, behave: Any, schedule: tuple[float, ...], env: dict[str, str] | None = None,
             **webhook_options: Any) -> Scene:
        operator = Operator(behave).start()
        scene = Scene(tmp_path, amqp_url, database_url, operator, schedule, env or {}, **webhook_options)
        made.append(scene)
        return scene

    yield make
    for scene in made:
        scene.close()
        scene.operator.stop()
    os.environ.clear()
    os.environ.update(saved)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).ok
    except requests.RequestException:
        return False


def circuit_reschedules(hub: Hub) -> int:
    from hub.infra.store import events

    with hub.store.engine.connect() as conn:
        data = conn.execute(sa.select(events.c.data).where(events.c.type == "delivery_retry_scheduled")).scalars()
        return sum(1 for d in data if str(d.get("reason", "")).startswith("circuit open"))


def test_serve_on_sqlite_with_operators_failing_then_recovering_delivers_each_once(scenes, tmp_path) -> None:
    """The embedded store under `laporhub serve` (API relay + router + dispatcher + retry poller
    in one process), operators answering 503 for their first 15 s: 40 complaints over 20 s."""
    scene = scenes(f"sqlite:///{tmp_path / 'serve.db'}",
                   lambda path, t: 503 if t < 15 else 204, schedule=(1, 2, 4, 8, 8, 8, 8, 8, 8),
                   timeout=2, max_attempts=2, backoff_initial=0.05, backoff_max=0.2,
                   circuit_threshold=3, circuit_cooldown=2)
    port = free_port()
    scene.start("serve", "--port", str(port), ready='"serve.started"')
    wait_for(lambda: healthy(f"http://127.0.0.1:{port}"), timeout=30, interval=0.2)

    def post(doc: dict[str, Any]) -> Any:
        time.sleep(0.5)
        return requests.post(f"http://127.0.0.1:{port}/v1/complaints", json=doc,
                             headers=scene.headers(doc["channel"]), timeout=10)

    stream = Stream(post, scene.run, 40).start()
    stream.join()
    counts = audit(scene.hub, scene.operator, stream.accepted, "serve on SQLite, operators failing then recovering",
                   quick_attempts=scene.quick_attempts, schedule=scene.schedule, timeout=150,
                   circuit_reschedules=circuit_reschedules(scene.hub))
    assert counts["accepted"] == 40
    assert "Connection reset" not in scene.logs()


def test_three_dispatchers_pause_and_resume_while_an_operator_hangs_past_the_heartbeat(
        scenes, postgres_url) -> None:
    """Heartbeats every 4 s; each webhook attempt hangs until the hub's 2 s timeout for the first
    30 s, so a delivery's quick retries take about 12 s. A department is paused and resumed
    while the hanging deliveries are in hand."""
    scene = scenes(postgres_url, lambda path, t: ("hang", 10.0) if t < 30 else 204,
                   schedule=(2, 4, 8, 12, 16, 20), env={"LAPORHUB_HEARTBEAT": "4"},
                   timeout=2, max_attempts=5, backoff_initial=0.2, backoff_max=0.5)
    scene.start("router")
    for _ in range(3):
        scene.start("dispatcher")
    department = next(d.id for d in scene.hub.config.registry if d.adapter == "queue")
    with _api(scene) as api:
        stream = Stream(lambda doc: api.post("/v1/complaints", json=doc, headers=scene.headers(doc["channel"])),
                        scene.run, 60).start()
        wait_for(lambda: len(scene.operator.requests) >= 1 or None, timeout=60)
        time.sleep(3)  # webhooks in hand, each hanging
        set_paused(scene.hub, department, True, actor="test", reason="fault scenario: pause")
        scene.announce()
        time.sleep(12)
        set_paused(scene.hub, department, False, actor="test", reason="fault scenario: resume")
        scene.announce()
        stream.join()
        counts = audit(scene.hub, scene.operator, stream.accepted,
                       "3 dispatchers, pause/resume, operator hanging past the heartbeat",
                       quick_attempts=scene.quick_attempts, schedule=scene.schedule, timeout=240,
                       heartbeat_losses=scene.logs().count("missed heartbeats")
                       + scene.logs().count("bus.reconnecting"))
    assert counts["accepted"] == 60


def test_a_circuit_that_opens_and_closes_several_times_during_a_stream_strands_nothing(
        scenes, postgres_url) -> None:
    """Operators answer 503 for 4 s and 204 for 4 s, over and over, while 150 complaints arrive
    over about 25 s; the breaker opens at the first failed delivery and lets a trial through
    after 3 s, so every operator's circuit opens and closes over and over. The cooldown is longer
    than the first retry (1 s) plus the trip back through the store and the broker, so a failed
    delivery's retry finds its circuit still open and is put off, on a slow machine too (with
    1.5 s, a run where every retry took over 0.5 s to come back put none off)."""
    scene = scenes(postgres_url, lambda path, t: 503 if (t % 8) < 4 else 204,
                   schedule=(1, 2, 3, 5, 8, 13, 21),
                   timeout=2, max_attempts=2, backoff_initial=0.05, backoff_max=0.2,
                   circuit_threshold=1, circuit_cooldown=3)
    scene.start("router")
    scene.start("dispatcher"), scene.start("dispatcher")
    with _api(scene) as api:
        def post(doc: dict[str, Any]) -> Any:
            time.sleep(0.15)
            return api.post("/v1/complaints", json=doc, headers=scene.headers(doc["channel"]))

        stream = Stream(post, scene.run, 150).start()
        stream.join()
        counts = audit(scene.hub, scene.operator, stream.accepted, "circuit opening and closing during a stream",
                       quick_attempts=scene.quick_attempts, schedule=scene.schedule, timeout=240,
                       circuit_reschedules=circuit_reschedules(scene.hub),
                       circuit_opened=scene.logs().count("circuit.opened"))
    cycles = {int(r.start - scene.operator.first) // 8 for r in scene.operator.requests}  # type: ignore[operator]
    assert counts["accepted"] == 150
    assert counts["circuit_reschedules"] > 0, "deliveries were put off while a circuit was open"
    assert counts["circuit_opened"] >= 3 and len(cycles) >= 3, \
        f"circuits opened {counts['circuit_opened']} times over {len(cycles)} operator cycles"


def _api(scene: Scene) -> Any:
    from fastapi.testclient import TestClient

    from hub.http.app import create_app

    return TestClient(create_app(scene.hub))

