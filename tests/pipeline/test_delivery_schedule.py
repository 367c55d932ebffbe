"""Webhook delivery at operator scale: the long retry schedule by delayed re-queue, Retry-After,
HTTP 410 disabling, the failing-endpoint alert, the circuit breaker and the rate limit. (The
schedule's arithmetic is in tests/core/test_retries.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from hub.cli.receiver import Receiver
from hub.pipeline import retry
from hub.pipeline.guard import CircuitBreaker, RateLimit
from hub.settings.runtime import Hub
from tests.harness import make_hub, point_webhooks_at, running, settled, wait_for

POWER = {"channel": "jaki", "text": "Listrik padam total sejak subuh, PLN belum datang. Token listrik penuh tapi tetap mati lampu.",
         "location": {"latitude": -6.2297, "longitude": 106.9005}}


def test_circuit_opens_after_failures_in_a_row_lets_one_trial_through_and_closes_on_success() -> None:
    t = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: t[0])
    for _ in range(3):
        assert breaker.allow()
        breaker.failure()
    assert not breaker.allow() and breaker.remaining() == 10
    t[0] = 10
    assert breaker.allow() and not breaker.allow()  # one trial only
    breaker.failure()
    assert not breaker.allow()
    t[0] = 20
    assert breaker.allow()
    breaker.success()
    assert breaker.allow() and breaker.allow()


def test_rate_limit_spaces_requests_to_the_rate() -> None:
    t = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        t[0] += s

    limit = RateLimit(2, clock=lambda: t[0], sleep=sleep)
    for _ in range(4):
        limit.acquire()
    assert t[0] == pytest.approx(1.0)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = make_hub("memory://localhost/", f"sqlite:///{tmp_path / 'hub.db'}", "schedule",
                   webhook_schedule=(0.2, 0.2, 0.2, 0.2), webhook_failing_after=0.0)
    yield hub
    hub.store.engine.dispose()


def test_operator_down_for_a_while_gets_the_delivery_once_by_delayed_requeue(hub: Hub) -> None:
    calls: list[int] = []

    def down_then_up(_: Any) -> int:
        calls.append(1)
        return 503 if len(calls) <= 3 else 204

    with Receiver(respond=down_then_up) as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver, max_attempts=1)
        cid = client.post("/v1/complaints", json={**POWER, "external_ref": "S-1"}).json()["id"]
        view = wait_for(lambda: settled(hub, cid))
    assert len(calls) == 4 and len(receiver.received) == 1
    [d] = view["deliveries"]
    assert d["status"] == "delivered" and d["attempts"] == 4
    types = [e["type"] for e in view["timeline"]]
    assert types.count("delivery_retry_scheduled") == 3
    assert "endpoint_failing" in types, "failing_after=0: the first failure raises the alert"
    assert retry.waiting(hub.store) == 0
    [endpoint] = retry.states(hub.store)
    assert endpoint["status"] == "ok" and endpoint["failing_since"] is None, "the success ended the failing spell"


def test_http_410_disables_the_endpoint_and_later_deliveries_are_dead_lettered_without_a_call(hub: Hub) -> None:
    with Receiver(respond=lambda _: 410) as receiver, running(hub) as client:
        point_webhooks_at(hub, receiver)
        first = client.post("/v1/complaints", json={**POWER, "external_ref": "G-1"}).json()["id"]
        wait_for(lambda: settled(hub, first))
        second = client.post("/v1/complaints", json={**POWER, "external_ref": "G-2"}).json()["id"]
        view = wait_for(lambda: settled(hub, second))
    assert len(receiver.received) == 0
    [d] = view["deliveries"]
    assert d["status"] == "dead" and "is disabled" in d["last_error"] and "HTTP 410" in d["last_error"]
    assert retry.disabled_reason(hub.store, "pln-uid-jakarta-raya")
    retry.enable(hub.store, "pln-uid-jakarta-raya")
    assert retry.disabled_reason(hub.store, "pln-uid-jakarta-raya") is None
