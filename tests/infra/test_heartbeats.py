"""Idle AMQP connections keep their heartbeats (issue 10): a relay that publishes a burst, then
nothing for longer than two heartbeat intervals, publishes its next burst on the same connection
instead of failing with "Connection reset by peer"."""

from __future__ import annotations

import time
import uuid

import pytest
from kombu import Connection

from hub.infra.bus import EXCHANGES, Bus, Topology

pytestmark = pytest.mark.rabbitmq


def test_a_publishing_connection_idle_past_two_heartbeats_still_publishes(amqp_url: str) -> None:
    topology = Topology(f"test-beat-{uuid.uuid4().hex[:8]}")
    bus = Bus(amqp_url, topology, heartbeat=3)
    message = {"exchange": "intake", "routing_key": "complaint", "body": "{}", "headers": {}}
    try:
        assert bus.publish_many([{**message, "message_id": "before"}]) == [True]
        pipeline_connection = bus._pipeline.connection
        time.sleep(10)  # RabbitMQ closes a connection that misses two heartbeats (6 s here)
        assert bus.publish_many([{**message, "message_id": "after"}]) == [True]
        assert bus._pipeline.connection is pipeline_connection, "the same connection, never reset"
    finally:
        bus.close()
        with Connection(amqp_url) as conn:
            channel = conn.channel()
            for queue in topology.core_queues():
                channel.queue_delete(queue.name)
            for name in EXCHANGES:
                channel.exchange_delete(f"{topology.prefix}.{name}")
