"""A whole hub in the test process: store, bus, router and dispatcher threads, API client."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from fastapi.testclient import TestClient

from hub.cli.processes import workers
from hub.cli.receiver import Receiver
from hub.http.app import create_app
from hub.infra.store import delivery_id, now
from hub.pipeline.intake import accept
from hub.pipeline.routing import route
from hub.settings.environment import Settings
from hub.settings.runtime import Hub

ROOT = Path(__file__).resolve().parent.parent


def make_hub(broker_url: str, database_url: str, prefix: str = "laporhub", **settings: Any) -> Hub:
    settings.setdefault("webhook_schedule", ())  # dead-letter after the quick retries unless asked
    return Hub.create(Settings.from_env(broker_url=broker_url, database_url=database_url,
                                        config_dir=ROOT / "config", bus_prefix=prefix,
                                        webhook_backoff_max=0.2, **settings))


def point_webhooks_at(hub: Hub, receiver: Receiver, **options: Any) -> None:
    """Every webhook destination posts to `receiver`, under a path ending in its id."""
    for dest in list(hub.config.registry):
        if dest.adapter == "webhook":
            hub.config.registry.update_options(dest.id, url=f"{receiver.url}/hooks/{dest.id}",
                                               backoff_initial=0.05, **options)
            receiver.secrets[dest.id] = dest.options["secret"]


def key_headers(hub: Hub, role: str, scope: str | None = None, name: str | None = None) -> dict[str, str]:
    """A new API key with this role (and scope), as request headers."""
    from hub.admin import keys

    issued = keys.create(hub.store, name or f"test {role} {scope or ''}".strip(), role, scope,
                         actor="test", reason="test fixture")
    return {"authorization": f"Bearer {issued.secret}"}


@contextmanager
def running(hub: Hub, channel: str = "jaki") -> Iterator[TestClient]:
    """API (with its outbox relay), one router and one dispatcher. The client carries a key of
    the given channel, so it submits and reads that channel's complaints."""
    with workers(hub), TestClient(create_app(hub), headers=key_headers(hub, "channel", channel)) as client:
        yield client


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def settled(hub: Hub, complaint_id: str) -> dict[str, Any] | None:
    """The complaint once routed and every delivery has an outcome."""
    view = hub.store.complaint(complaint_id)
    if view and view["deliveries"] and all(d["status"] != "pending" for d in view["deliveries"]):
        return view
    return None


def delete_topology(hub: Hub, amqp_url: str) -> None:
    """Remove every queue and exchange a test declared on the shared broker."""
    hub.delete_topology()


def delivered(hub: Hub, complaint: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A complaint accepted, routed and delivered to each of its destinations, with no bus and no
    worker: the stages' own functions (`accept`, `route`), and each delivery recorded as the
    dispatcher records a success. Returns the complaint id and {destination: delivery id}."""
    cid = accept(hub.store, complaint).complaint_id
    route(hub, cid, complaint)
    return cid, {d["destination"]: mark_delivered(hub, cid, d["destination"])
                 for d in hub.store.deliveries_of(cid) if d["status"] == "pending"}


def mark_delivered(hub: Hub, complaint_id: str, destination: str) -> str:
    """Record the complaint's delivery to `destination` as delivered (as the dispatcher does on a
    2xx or a confirmed publish) and settle the complaint; returns the delivery id."""
    did = delivery_id(complaint_id, destination)
    with hub.store.begin() as conn:
        hub.store.update_delivery(conn, did, status="delivered", delivered_at=now(), attempts=1)
        hub.store.add_event(conn, complaint_id, "delivered", {"destination": destination, "detail": "test"},
                            delivery_id_=did)
        hub.store.settle_complaint(conn, complaint_id)
    return did
