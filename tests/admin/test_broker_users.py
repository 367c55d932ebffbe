"""One broker identity per department, on the real RabbitMQ: `laporhub broker provision` makes a
user per queue destination (idempotently); department A cannot consume department B's queue
(ACCESS_REFUSED), cannot publish anywhere but the status exchange, cannot publish as B (the
broker checks user_id), and a status update A posts about B's destination is dead-lettered by
the status consumer with the reason. The users and queues made here are removed afterwards.

Through `rabbitmqctl` on this host, or the management API when LAPORHUB_TEST_BROKER_MANAGEMENT_URL
names one (with the broker URL's user)."""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote, urlparse

import pika
import pytest

from hub.admin import broker
from hub.aftercare.status import StatusConsumer
from hub.pipeline import deadletter
from tests.harness import delete_topology, make_hub, wait_for

pytestmark = pytest.mark.rabbitmq

A, B = "dinas-sda", "dinas-bina-marga"


def admin_for(amqp_url: str) -> broker.Administration:
    url = os.environ.get("LAPORHUB_TEST_BROKER_MANAGEMENT_URL")
    if url:
        parsed = urlparse(amqp_url)
        return broker.ManagementAPI(url, parsed.username or "guest", parsed.password or "guest")
    return broker.Rabbitmqctl()


def as_user(amqp_url: str, user: str, password: str) -> pika.BlockingConnection:
    parsed = urlparse(amqp_url)
    vhost = broker.vhost_of(amqp_url)
    return pika.BlockingConnection(pika.ConnectionParameters(
        parsed.hostname, parsed.port or 5672, vhost, pika.PlainCredentials(user, password)))


@pytest.fixture
def provisioned(amqp_url: str, tmp_path: Path, bus_prefix: str) -> Iterator[tuple[Any, dict[str, str]]]:
    hub = make_hub(amqp_url, f"sqlite:///{tmp_path / 'hub.db'}", bus_prefix)
    topo = hub.topology
    bus = hub.bus()
    bus.declare([topo.department_queue(d) for d in (A, B)])
    bus.close()
    admin = admin_for(amqp_url)
    try:
        made = broker.provision(amqp_url, topo, hub.config.registry, admin, only=[A, B])
        yield hub, {p.grant.destination: p.password for p in made}
    finally:
        for dest in (A, B):
            admin.delete_user(topo.user(dest))
        delete_topology(hub, amqp_url)
        hub.store.engine.dispose()


def test_provisioning_makes_one_user_per_queue_destination_and_is_idempotent(provisioned, amqp_url: str) -> None:
    hub, passwords = provisioned
    assert set(passwords) == {A, B} and all(passwords.values())
    again = broker.provision(amqp_url, hub.topology, hub.config.registry, admin_for(amqp_url), only=[A, B])
    assert [p.password for p in again] == [None, None], "existing users keep their passwords"
    every = broker.grants(hub.topology, hub.config.registry)
    assert len(every) == len({g.user for g in every}) > 15
    assert not any(g.destination.startswith(("pln", "pam-jaya")) for g in every), "webhook operators get no user"


def test_a_department_reads_its_own_queue_and_not_another_ones(provisioned, amqp_url: str) -> None:
    hub, passwords = provisioned
    conn = as_user(amqp_url, hub.topology.user(A), passwords[A])
    try:
        ch = conn.channel()
        ch.basic_consume(hub.topology.department_queue(A).name, lambda *a: None)  # its own: fine
        ch = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            ch.basic_consume(hub.topology.department_queue(B).name, lambda *a: None)
        assert refused.value.reply_code == 403 and "ACCESS_REFUSED" in refused.value.reply_text
        ch = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            ch.basic_publish(f"{hub.settings.bus_prefix}.departments", B, b"{}")
            ch.basic_get(hub.topology.department_queue(A).name)  # the refusal arrives on the next call
        assert refused.value.reply_code == 403
    finally:
        conn.close()


def test_a_department_cannot_post_status_as_another_and_what_it_posts_about_another_is_dead_lettered(
        provisioned, amqp_url: str) -> None:
    hub, passwords = provisioned
    status = f"{hub.settings.bus_prefix}.status"
    update = {"complaint_id": "c-nowhere", "destination": B, "status": "acknowledged", "update_id": str(uuid.uuid4())}
    conn = as_user(amqp_url, hub.topology.user(A), passwords[A])
    try:
        ch = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
            ch.basic_publish(status, "status", json.dumps(update),
                             pika.BasicProperties(user_id=hub.topology.user(B), message_id="as-b"))
            ch.basic_get(hub.topology.department_queue(A).name)
        assert refused.value.reply_code == 406 and "user_id" in refused.value.reply_text
        ch = conn.channel()
        ch.basic_publish(status, "status", json.dumps(update),
                         pika.BasicProperties(user_id=hub.topology.user(A), message_id="about-b"))
        ch.basic_publish(status, "status", json.dumps({**update, "update_id": str(uuid.uuid4())}),
                         pika.BasicProperties(message_id="anonymous"))
    finally:
        conn.close()
    own = as_user(amqp_url, hub.topology.user(B), passwords[B])
    try:
        own.channel().basic_publish(status, "status", json.dumps({**update, "update_id": str(uuid.uuid4())}),
                                    pika.BasicProperties(user_id=hub.topology.user(B), message_id="b-itself"))
    finally:
        own.close()

    stop = threading.Event()
    consumer = StatusConsumer(hub)
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        letters = wait_for(lambda: len(found := deadletter.list_(hub.store, stage="status")) == 3 and found, timeout=30)
    finally:
        stop.set()
        thread.join(10)
    reasons = " | ".join(d["reason"] for d in letters)
    assert f"broker user '{hub.topology.user(A)}' may not post status for destination '{B}'" in reasons
    assert "without user_id" in reasons
    # B speaking for itself passes the identity check (and then fails on the complaint, which does not exist)
    assert sum("c-nowhere" in d["reason"] and "broker user" not in d["reason"] for d in letters) == 1


def test_a_password_that_begins_with_a_dash_is_a_password_not_an_option(amqp_url: str, bus_prefix: str) -> None:
    """token_urlsafe begins with "-" one time in 64: rabbitmqctl must not read it as options (it
    did, and provisioning failed with "Invalid options for this command")."""
    admin = admin_for(amqp_url)
    user, password = f"{bus_prefix}.dash", "-Kbwg3pVj26lLMhkb0ucOVGGe9AiYRWs"
    try:
        admin.add_user(user, password)
        admin.set_permissions(broker.vhost_of(amqp_url), user, "^$", "^$", "^$")
        as_user(amqp_url, user, password).close()
        broker._reset(admin, user, "-" + password[1:][::-1])
        as_user(amqp_url, user, "-" + password[1:][::-1]).close()
    finally:
        admin.delete_user(user)
