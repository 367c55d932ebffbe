"""A RabbitMQ cluster that loses a node: three nodes of our own (tests/faults/cluster.py), every
hub queue a quorum queue replicated on all three, the hub given the nodes as a failover list.
The node the router and the dispatcher are connected to is killed with `kill -9` while 1,000
complaints stream in; afterwards every complaint reached every destination exactly once as a
deduplicating receiver sees it, and the counts are printed with the other fault scenarios'."""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from hub.cli.receiver import Receiver
from hub.http.app import create_app
from hub.settings.environment import Settings
from hub.settings.runtime import Hub
from tests.faults.fault_harness import Stream, Worker, audit, config_for, secrets
from tests.faults.cluster import Cluster, available
from tests.harness import key_headers, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.postgres, pytest.mark.timeout(600)]

FAST_WEBHOOKS = {"timeout": 2, "max_attempts": 40, "backoff_initial": 0.05, "backoff_max": 0.5}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Started once for the module (about 25 s), stopped and removed at its end."""
    why = available()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    with Cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


@dataclasses.dataclass
class On:
    """What a Worker needs of a hub: its settings (here with another broker URL list)."""

    settings: Settings


def test_node_killed_under_the_router_and_dispatcher_while_1000_complaints_stream_in(
        cluster: Cluster, tmp_path: Path, postgres_url: str) -> None:
    survivor, victim = cluster.nodes[0], cluster.nodes[1]
    receiver = Receiver().start()
    settings = Settings.from_env(broker_url=cluster.url_starting_at(survivor), database_url=postgres_url,
                                 config_dir=config_for(tmp_path, receiver, **FAST_WEBHOOKS),
                                 bus_prefix=f"fault-{uuid.uuid4().hex[:8]}",
                                 rate_limit="off")  # one channel streams 1,000, as the benchmark does
    hub = Hub.create(settings)
    receiver.secrets.update(secrets(hub))
    hub.bus().declare(hub.delivery_queues())
    # Replicated on every node, so losing one loses no message and no queue.
    for queue in (f"{settings.bus_prefix}.intake", f"{settings.bus_prefix}.delivery.dinas-bina-marga"):
        assert sorted(cluster.quorum_members(queue)) == sorted(n.name for n in cluster.nodes), queue

    # The workers are given the list starting at the victim, the API (and its relay) the survivor:
    # what the victim holds before the kill are the workers' connections.
    on_victim = On(dataclasses.replace(settings, broker_url=cluster.url_starting_at(victim)))
    workers = [Worker(kind, on_victim, tmp_path).wait_ready() for kind in ("router", "dispatcher")]  # type: ignore[arg-type]
    try:
        held = wait_for(lambda: len(cluster.connections_on(victim)) >= 2 and cluster.connections_on(victim),
                        timeout=30)
        with TestClient(create_app(hub)) as client:
            keys: dict[str, dict[str, str]] = {}

            def post(doc: dict[str, Any]) -> Any:
                if doc["channel"] not in keys:
                    keys[doc["channel"]] = key_headers(hub, "channel", doc["channel"])
                return client.post("/v1/complaints", json=doc, headers=keys[doc["channel"]])

            stream = Stream(post, uuid.uuid4().hex[:6], 1000).start()
            stream.wait_until(300)
            killed_at = len(stream.accepted)
            began = time.monotonic()
            cluster.kill9(victim)
            stream.join()
            # The audit reads the department queues through a node that is still up.
            counts = audit(dataclasses.replace(hub, settings=dataclasses.replace(settings, broker_url=survivor.url)),
                           stream.accepted, receiver, "rabbitmq cluster node killed -9 under router and dispatcher",
                           timeout=300)
        for worker in workers:
            assert worker.proc.poll() is None, f"{worker.kind} died with the node:\n{worker.tail()}"
        moved = [w.kind for w in workers if "bus.reconnecting" in w.log_path.read_text(errors="replace")]
    finally:
        for worker in workers:
            worker.stop()
        receiver.stop()
        hub.store.engine.dispose()
    print(f"cluster: killed {victim.name} holding {len(held)} worker connections after {killed_at} "
          f"complaints; workers that reconnected to another node: {moved}; "
          f"settled {time.monotonic() - began:.0f} s after the kill")
    assert counts["accepted"] == 1000
    assert killed_at < 1000, "the node was killed while complaints were still streaming in"
    assert sorted(moved) == ["dispatcher", "router"], "both workers lost their node and carried on"
