"""Tools for the fault-injection suite: real `laporhub router`/`dispatcher` processes, service
restarts that always restore the service, a complaint stream, and the exactly-once audit."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pika
import yaml

from hub.cli.receiver import Receiver
from hub.settings.runtime import Hub
from tests.harness import ROOT, wait_for

REPORT: list[dict[str, Any]] = []  # every audit's counts, printed at the end of the run (conftest)

SAMPLES = [json.loads(line) for line in (ROOT / "config/samples/complaints.jsonl").read_text().splitlines()
           if line.strip()]


def complaint(n: int, run: str) -> dict[str, Any]:
    """The n-th complaint of a stream: the samples in turn, each with its own external_ref."""
    return {**SAMPLES[n % len(SAMPLES)], "external_ref": f"{run}-{n}"}


def config_for(tmp: Path, receiver: Receiver, **webhook_options: Any) -> Path:
    """A copy of the shipped configuration whose webhooks all go to `receiver`."""
    target = tmp / "config"
    shutil.copytree(ROOT / "config", target)
    path = target / "destinations.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dest in doc["destinations"]:
        if dest.get("adapter") == "webhook":
            dest["options"]["url"] = f"{receiver.url}/hooks/{dest['id']}"
            dest["options"].update(webhook_options)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    # The streams repeat sample complaints at the same places: with duplicate linking on (issue 13),
    # the repeats would be linked, not delivered, and a scenario about delivery would deliver few.
    # The worker processes read this file, so the in-process switch in conftest does not reach them.
    lifecycle = target / "lifecycle.yaml"
    policy = yaml.safe_load(lifecycle.read_text(encoding="utf-8"))
    policy["duplicates"] = {**(policy.get("duplicates") or {}), "enabled": False}
    lifecycle.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return target


def secrets(hub: Hub) -> dict[str, str]:
    return {d.id: d.options["secret"] for d in hub.config.registry if d.adapter == "webhook"}


class Worker:
    """`laporhub router` or `laporhub dispatcher` as a real process of its own."""

    def __init__(self, kind: str, hub: Hub, log_dir: Path, *args: str) -> None:
        self.kind = kind
        env = {**os.environ, "LAPORHUB_BROKER_URL": hub.settings.broker_url,
               "LAPORHUB_DATABASE_URL": hub.settings.database_url,
               "LAPORHUB_BUS_PREFIX": hub.settings.bus_prefix,
               "LAPORHUB_CONFIG_DIR": str(hub.settings.config_dir), "PYTHONUNBUFFERED": "1"}
        self.log_path = log_dir / f"{kind}-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "hub.cli.main", kind, *args], env=env, cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> "Worker":
        """Until the worker says it consumes (its log is unbuffered)."""
        wait_for(lambda: f'"{self.kind}.started"' in self.log_path.read_text(errors="replace")
                 or self.proc.poll() is not None, timeout=timeout, interval=0.1)
        assert self.proc.poll() is None, f"{self.kind} exited at start:\n{self.tail()}"
        return self

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int | None:
        """SIGTERM: finish the message in hand, then exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode

    def tail(self, n: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def restart_rabbitmq(down_for: float = 3.0) -> None:
    """Stop the broker application, keep it down for `down_for` seconds, start it again. Whatever
    happens, the broker is left running for the rest of the suite."""
    try:
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, timeout=180, capture_output=True)
        time.sleep(down_for)
    finally:
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=False, timeout=180, capture_output=True)
        if not wait_until_answers(5672, 30):
            subprocess.run(["rabbitmq-server", "-detached"], check=False, timeout=60, capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "await_startup"], check=False, timeout=180, capture_output=True)
        wait_for(lambda: answers(5672), timeout=120)


def wait_until_answers(port: int, timeout: float) -> bool:
    try:
        wait_for(lambda: answers(port), timeout=timeout, interval=0.5)
        return True
    except AssertionError:
        return False


def restart_postgresql() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    try:
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                       check=True, timeout=120, capture_output=True)
    finally:
        if not answers(5432):
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                           check=False, timeout=120, capture_output=True)
        wait_for(lambda: answers(5432), timeout=60)


@dataclass
class Stream:
    """Posts complaints through the API in a thread; keeps the ids of the accepted ones."""

    post: Callable[[dict[str, Any]], Any]
    run: str
    count: int
    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._go, daemon=True)

    def _go(self) -> None:
        for n in range(self.count):
            doc = complaint(n, self.run)
            for _ in range(100):
                try:
                    resp = self.post(doc)
                except Exception:  # noqa: BLE001 - the database may be restarting: try again
                    time.sleep(0.2)
                    continue
                if resp.status_code in (200, 201):
                    self.accepted.append(resp.json()["id"])
                    break
                if resp.status_code < 500:
                    self.refused.append(resp.text)
                    break
                time.sleep(0.2)

    def start(self) -> "Stream":
        self.thread.start()
        return self

    def wait_until(self, n: int, timeout: float = 120) -> None:
        wait_for(lambda: len(self.accepted) >= n or not self.thread.is_alive(), timeout=timeout)

    def join(self, timeout: float = 300) -> None:
        self.thread.join(timeout)


def drain_department_queues(hub: Hub) -> tuple[dict[str, int], int]:
    """Read every department queue as a deduplicating subscriber would: (delivery id -> times
    seen, messages read)."""
    url = hub.settings.broker_url
    conn = pika.BlockingConnection(pika.URLParameters(url[:-2] + "/%2F" if url.endswith("//") else url))
    seen: dict[str, int] = {}
    read = 0
    try:
        ch = conn.channel()
        for dest in hub.config.registry:
            if dest.adapter != "queue":
                continue
            name = hub.topology.department_queue(dest.id, dest.options.get("queue")).name
            try:
                ch.queue_declare(name, passive=True)
            except pika.exceptions.ChannelClosedByBroker:
                ch = conn.channel()
                continue
            while True:
                method, props, _ = ch.basic_get(name, auto_ack=True)
                if method is None:
                    break
                read += 1
                seen[props.message_id] = seen.get(props.message_id, 0) + 1
    finally:
        conn.close()
    return seen, read


def audit(hub: Hub, accepted: list[str], receiver: Receiver, label: str,
          timeout: float = 180) -> dict[str, Any]:
    """Wait until every accepted complaint is settled, then check that every delivery its rules
    named arrived exactly once as a deduplicating receiver sees it. Prints and returns the counts."""
    import sqlalchemy as sa

    from hub.infra.store import complaints, deliveries
    from hub.pipeline import deadletter

    def pending() -> int:
        with hub.store.engine.connect() as conn:
            unrouted = conn.execute(sa.select(sa.func.count()).select_from(complaints)
                                    .where(complaints.c.status.in_(["received", "routed"]))).scalar_one()
            waiting = conn.execute(sa.select(sa.func.count()).select_from(deliveries)
                                   .where(deliveries.c.status == "pending")).scalar_one()
        return unrouted + waiting

    try:
        wait_for(lambda: pending() == 0, timeout=timeout, interval=0.5)
    except AssertionError:
        raise AssertionError(f"{label}: not settled within {timeout}s: {stuck(hub)}") from None
    with hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(deliveries.c.id, deliveries.c.complaint_id, deliveries.c.status,
                                      deliveries.c.destination)).mappings().all()
    expected = {r["id"] for r in rows if r["complaint_id"] in set(accepted)}
    routed = {r["complaint_id"] for r in rows}
    queued: dict[str, int] = {}
    reads = 0

    def all_arrived() -> bool:
        nonlocal reads
        more, n = drain_department_queues(hub)
        for k, v in more.items():
            queued[k] = queued.get(k, 0) + v
        reads += n
        return expected <= set(queued) | {r.headers["webhook-id"] for r in receiver.received}

    try:
        wait_for(all_arrived, timeout=30, interval=0.5)
    except AssertionError:
        pass  # reported by the counts and the assertions below
    hooks = {r.headers["webhook-id"] for r in receiver.received}
    got = set(queued) | hooks
    counts = {
        "scenario": label,
        "accepted": len(set(accepted)),
        "deliveries_expected": len(expected),
        "delivered": len(got & expected),
        "duplicates_suppressed": {"department_queues": reads - len(queued), "webhooks": receiver.duplicates},
        "dead_lettered": dict(Counter(f"{d['stage']}: {d['reason'][:70]}" for d in deadletter.list_(hub.store))),
        "not_delivered": len(expected - got),
        "unexpected": len(got - expected),
    }
    print(f"\nfault suite: {json.dumps(counts, ensure_ascii=False)}")
    REPORT.append(counts)
    assert set(accepted) <= routed, "every accepted complaint was routed"
    assert {r["status"] for r in rows if r["id"] in expected} == {"delivered"}
    assert got == expected, f"missing {len(expected - got)}, unexpected {len(got - expected)}"
    return counts


def stuck(hub: Hub) -> dict[str, Any]:
    """What a timed-out audit was waiting for: complaints and deliveries by status, queue depths."""
    import sqlalchemy as sa

    from hub.infra.store import complaints, deliveries, outbox

    with hub.store.engine.connect() as conn:
        def by(table: sa.Table) -> dict[str, int]:
            return dict(conn.execute(sa.select(table.c.status, sa.func.count()).group_by(table.c.status)).all())

        found: dict[str, Any] = {"complaints": by(complaints), "deliveries": by(deliveries),
                                 "outbox_unsent": conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                                               .where(outbox.c.published_at.is_(None))).scalar_one()}
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name", "messages", "messages_unacknowledged",
                          "consumers"], capture_output=True, text=True, timeout=60).stdout
    found["queues"] = [line for line in out.splitlines()
                       if line.startswith(hub.settings.bus_prefix) and line.split()[1:3] != ["0", "0"]]
    return found
