"""LaporHub benchmark on the machine's RabbitMQ and PostgreSQL.

    python bench/run.py [--quick]

Measures routing throughput (intake queue -> delivery queues, persistent and confirmed) for 1, 2
and 4 `laporhub router` processes beside a bare pass-through on the same broker; latency from
POST /v1/complaints answering to the department queue and to a webhook receiver at a steady
offered load; rule evaluation time for 10 to 10,000 rules; webhook deliveries per second with
and without one endpoint that takes 2 s to answer; peak memory per process. Prints progress
lines (starting with #) as it goes, then a table and, as its last line, one JSON object.

Every stage has its own database and bus prefix, removed when it ends (also on Ctrl-C or
SIGTERM). A stage that fails (the broker restarting under it, say) is tried once more; one that
fails again is reported in the JSON's `errors` and its figures are null.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from contextlib import closing
from datetime import timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import amqp
import requests
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.infra import logs  # noqa: E402
from hub.cli.receiver import Received, Receiver  # noqa: E402
from hub.core.classify import classify  # noqa: E402
from hub.core.rules import RuleSet, decide  # noqa: E402
from hub.settings.environment import Settings  # noqa: E402
from hub.settings.runtime import Hub  # noqa: E402
from places import measure as places_cost  # noqa: E402  (bench/places.py, beside this script)

AMQP = os.environ.get("LAPORHUB_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PG = os.environ.get("LAPORHUB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SAMPLES = [json.loads(x) for x in (ROOT / "config/samples/complaints.jsonl").read_text().splitlines() if x.strip()]
STARTED = time.perf_counter()
PEAK_KB: dict[str, int] = {}


def say(message: str) -> None:
    """Progress, as it happens (the table and the JSON come at the end)."""
    print(f"# [{time.perf_counter() - STARTED:6.1f}s] {message}", flush=True)


def complaint(n: int, run: str, samples: list[dict[str, Any]] = SAMPLES) -> dict[str, Any]:
    return {**samples[n % len(samples)], "external_ref": f"{run}-{n}"}


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def note_peak(kind: str, kb: int) -> None:
    PEAK_KB[kind] = max(PEAK_KB.get(kind, 0), kb)


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def service_pids() -> dict[str, list[int]]:
    """PostgreSQL's and RabbitMQ's processes on this machine (shared: the figures include any
    other load on them)."""
    found: dict[str, list[int]] = {"postgresql": [], "rabbitmq": []}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm == "postgres":
            found["postgresql"].append(int(entry.name))
        elif comm.startswith("beam"):
            found["rabbitmq"].append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds used by groups of processes between start and stop, and the wall time."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = {**groups, **service_pids()}
        self.before = {g: {p: cpu_of(p) for p in pids} for g, pids in self.groups.items()}
        self.started = time.perf_counter()

    def stop(self) -> dict[str, float]:
        used = {g: sum(max(0.0, cpu_of(p) - b) for p, b in pids.items()) for g, pids in self.before.items()}
        # PostgreSQL starts a backend per new connection: count those too
        for g, pids in service_pids().items():
            used[g] += sum(cpu_of(p) for p in pids if p not in self.before.get(g, {}))
        used["wall"] = time.perf_counter() - self.started
        return used


# -- the broker, spoken to directly -------------------------------------------------------------

def amqp_connect() -> amqp.Connection:
    from urllib.parse import unquote, urlparse

    url = urlparse(AMQP)
    vhost = unquote(url.path[1:]) if len(url.path) > 1 else "/"
    conn = amqp.Connection(host=f"{url.hostname or '127.0.0.1'}:{url.port or 5672}",
                           userid=unquote(url.username or "guest"), password=unquote(url.password or "guest"),
                           virtual_host=vhost or "/", connect_timeout=5)
    conn.connect()
    return conn


def queue_counts(conn: amqp.Connection, name: str) -> tuple[int, int]:
    """(ready messages, consumers) of a queue; (0, 0) when it does not exist."""
    ch = conn.channel()
    try:
        _, messages, consumers = ch.queue_declare(name, passive=True)
        return messages, consumers
    except amqp.exceptions.NotFound:
        return 0, 0
    finally:
        if ch.is_open:
            ch.close()


def publish_confirmed(conn: amqp.Connection, exchange: str, key: str, bodies: Iterable[tuple[str, bytes]],
                      window: int = 1000) -> int:
    """Persistent, with publisher confirms pipelined `window` deep; returns how many."""
    ch = conn.channel()
    ch.confirm_select()
    state = {"acked": 0, "nacked": 0}

    def on_ack(tag: int, multiple: bool) -> None:
        state["acked"] = max(state["acked"], tag)

    def on_nack(tag: int, multiple: bool) -> None:
        state["nacked"] += 1
    ch.events["basic_ack"].add(on_ack)
    ch.events["basic_nack"].add(on_nack)
    sent = 0
    for mid, body in bodies:
        ch.basic_publish(amqp.Message(body, delivery_mode=2, message_id=mid, content_type="application/json"),
                         exchange=exchange, routing_key=key)
        sent += 1
        while sent - state["acked"] >= window:
            conn.drain_events(timeout=30)
    while state["acked"] < sent:
        conn.drain_events(timeout=30)
    ch.close()
    if state["nacked"]:
        raise RuntimeError(f"the broker refused {state['nacked']} messages")
    return sent


# -- a hub of its own per stage -------------------------------------------------------------------

class Env:
    """A fresh database, bus prefix and configuration (webhooks to a local receiver); the hub's
    processes run as `python -m hub.cli ...` children, their logs kept for a failed stage."""

    def __init__(self, receiver: Receiver) -> None:
        self.db = f"laporhub_bench_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{self.db}"'))
        self.tmp = Path(tempfile.mkdtemp(prefix="laporhub-bench-"))
        self.hub: Hub | None = None
        self.procs: list[subprocess.Popen] = []
        try:
            shutil.copytree(ROOT / "config", self.tmp / "config")
            path = self.tmp / "config/destinations.yaml"
            doc = yaml.safe_load(path.read_text())
            for d in doc["destinations"]:
                if d.get("adapter") == "webhook":
                    d["options"].update(url=f"{receiver.url}/hooks/{d['id']}", timeout=10, max_attempts=3)
            path.write_text(yaml.safe_dump(doc, allow_unicode=True))
            receiver.secrets.update({d["id"]: d["options"]["secret"] for d in doc["destinations"]
                                     if d.get("adapter") == "webhook"})
            self.settings = Settings.from_env(broker_url=AMQP, database_url=PG.rsplit("/", 1)[0] + f"/{self.db}",
                                              config_dir=self.tmp / "config",
                                              bus_prefix=f"bench-{uuid.uuid4().hex[:6]}",
                                              rate_limit="off")  # a load test is not abuse
            self.hub = Hub.create(self.settings)
            with self.hub.bus() as bus:
                bus.declare(self.hub.delivery_queues())
        except BaseException:
            self.close()
            raise

    def start(self, kind: str, *args: str) -> subprocess.Popen:
        env = {**os.environ, "LAPORHUB_BROKER_URL": self.settings.broker_url,
               "LAPORHUB_DATABASE_URL": self.settings.database_url,
               "LAPORHUB_BUS_PREFIX": self.settings.bus_prefix, "LAPORHUB_CONFIG_DIR": str(self.settings.config_dir),
               "PYTHONUNBUFFERED": "1"}
        log = open(self.tmp / f"{kind}-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "hub.cli.main", kind, *args], env=env, cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        proc.kind = kind  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def check_alive(self) -> None:
        for p in self.procs:
            if p.poll() is not None:
                raise RuntimeError(f"{p.kind} process exited with {p.returncode}:\n{self.log_tail(p)}")  # type: ignore[attr-defined]

    def alive(self) -> bool:
        """True, or raises (with its log) if a process of the stage has died."""
        self.check_alive()
        return True

    def log_tail(self, proc: subprocess.Popen, lines: int = 15) -> str:
        path = self.tmp / f"{proc.kind}-{self.procs.index(proc)}.log"  # type: ignore[attr-defined]
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_consumers(self, queue: str, count: int, timeout: float = 60) -> None:
        """Until `count` processes consume `queue` (imports and connections done)."""
        conn = amqp_connect()
        try:
            def ready() -> bool:
                self.check_alive()
                return queue_counts(conn, queue)[1] >= count
            if not wait_until(ready, timeout, 0.2):
                raise RuntimeError(f"{queue} has fewer than {count} consumers after {timeout:.0f}s")
        finally:
            conn.close()

    def stop_all(self) -> None:
        for p in self.procs:
            note_peak(p.kind, peak_rss_kb(p.pid))  # type: ignore[attr-defined]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.procs.clear()

    def scalar(self, sql: str, **params: Any) -> Any:
        assert self.hub is not None
        with self.hub.store.engine.connect() as c:
            return c.execute(sa.text(sql), params).scalar()

    def close(self) -> None:
        """Stop the processes, remove the queues, exchanges, database and files; every step is
        tried even if one before it failed, and the first failure is raised at the end."""
        failure: BaseException | None = None
        for step in (self.stop_all, self._keep_logs, self._delete_topology, self._drop_database,
                     lambda: shutil.rmtree(self.tmp, ignore_errors=True)):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - raised below, once the rest is cleaned up
                failure = failure or exc
        if failure is not None:
            raise failure

    def _keep_logs(self) -> None:
        """With LAPORHUB_BENCH_LOGS=dir, the processes' logs are copied there."""
        keep = os.environ.get("LAPORHUB_BENCH_LOGS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for log in self.tmp.glob("*.log"):
                shutil.copy(log, Path(keep) / f"{self.tmp.name}-{log.name}")

    def _delete_topology(self) -> None:
        """Tried a few times: the shared broker may be restarting (a fault-injection run)."""
        if self.hub is None:
            return
        self.hub.store.engine.dispose()
        for attempt in range(4):
            try:
                self.hub.delete_topology()
                return
            except Exception:  # noqa: BLE001 - kombu and amqp raise many kinds
                if attempt == 3:
                    raise
                time.sleep(3)

    def _drop_database(self) -> None:
        """Tried a few times: a fault-injection run on the same server may end any connection."""
        for attempt in range(4):
            try:
                with self.admin.connect() as c:
                    c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                              {"d": self.db})
                    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db}"'))
                break
            except sa.exc.OperationalError:
                if attempt == 3:
                    raise
                self.admin.dispose()
                time.sleep(1)
        self.admin.dispose()


# -- routing throughput ------------------------------------------------------------------------

def accept_all(hub: Hub, docs: list[dict[str, Any]], threads: int = 4) -> list[str]:
    """Complaint ids, in order, of `docs` accepted into the store as the API would (setup, not
    measured: a few threads, so a full run does not spend minutes here)."""
    from concurrent.futures import ThreadPoolExecutor

    from hub.pipeline.intake import accept

    with ThreadPoolExecutor(threads) as pool:
        return [a.complaint_id for a in pool.map(lambda d: accept(hub.store, d), docs)]


def bare_pass_through(n: int, repeats: int = 1) -> float:
    """The broker's own ceiling for the router's job, in one process: consume from A, re-publish
    each message persistent to B with pipelined confirms, ack on A after B confirmed, nothing
    else. Messages per second (the median of `repeats` runs)."""
    rates = sorted(_bare_once(n) for _ in range(repeats))
    return rates[len(rates) // 2]


def _bare_once(n: int) -> float:
    prefix = f"bench-bare-{uuid.uuid4().hex[:6]}"
    queues = (f"{prefix}.a", f"{prefix}.b")
    conn = amqp_connect()
    setup = conn.channel()
    try:
        for q in queues:
            setup.queue_declare(q, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        run = uuid.uuid4().hex[:6]
        publish_confirmed(conn, "", queues[0], ((str(i), json.dumps(complaint(i, run)).encode()) for i in range(n)))
        consume, out = conn.channel(), conn.channel()
        out.confirm_select()
        state = {"acked": 0}
        inbox: list[amqp.Message] = []
        out.events["basic_ack"].add(lambda tag, multiple: state.__setitem__("acked", max(state["acked"], tag)))
        consume.basic_qos(0, 500, False)
        consume.basic_consume(queues[0], callback=inbox.append)
        published = moved = 0
        meter = CpuMeter({"bench": [os.getpid()]})
        started = time.perf_counter()
        while moved < n:
            if not inbox:
                try:
                    conn.drain_events(timeout=5)
                except socket.timeout:
                    raise RuntimeError(f"bare pass-through stalled after {moved} of {n} messages") from None
                continue
            batch = inbox[:]
            del inbox[:]  # the consumer's callback appends to this same list
            for m in batch:
                out.basic_publish(amqp.Message(m.body, delivery_mode=2, message_id=m.properties.get("message_id"),
                                               content_type="application/json"),
                                  exchange="", routing_key=queues[1])
            published += len(batch)
            while state["acked"] < published:
                conn.drain_events(timeout=30)
            consume.basic_ack(batch[-1].delivery_tag, multiple=True)
            moved += len(batch)
        elapsed = time.perf_counter() - started
        cpu = meter.stop()
        say(f"bare pass-through: {n} messages in {elapsed:.2f}s = {n / elapsed:,.0f}/s; CPU ms per message: "
            + ", ".join(f"{g} {1000 * v / n:.2f}" for g, v in cpu.items() if g != "wall"))
        consume.close()  # before the queue goes, or the broker cancels the consumer under us
        out.close()
        return n / elapsed
    finally:
        try:
            for q in queues:
                setup.queue_delete(q)
        finally:
            conn.close()


def hub_routing(receiver: Receiver, router_counts: tuple[int, ...], n: int) -> dict[int, dict[str, float]]:
    """For each router count (routers added as it grows): `n` complaints already accepted in the
    store have their intake messages published at once; the time until every one is routed
    and its deliveries are confirmed on the delivery queues."""
    from hub.pipeline.intake import intake_message

    env = Env(receiver)
    assert env.hub is not None
    out: dict[int, dict[str, float]] = {}
    try:
        run = uuid.uuid4().hex[:6]
        say(f"routing: accepting {n * len(router_counts)} complaints into the store")
        docs = [complaint(i, run) for i in range(n * len(router_counts))]
        pairs = list(zip(accept_all(env.hub, docs), docs))
        batches = [pairs[b * n:(b + 1) * n] for b in range(len(router_counts))]
        with env.hub.store.begin() as c:
            c.execute(sa.text("UPDATE outbox SET published_at = now()"))  # no API relay here: we publish
        intake = env.hub.topology.intake.name
        exchange = f"{env.settings.bus_prefix}.intake"
        for batch, routers in zip(batches, router_counts):
            while len(env.procs) < routers:
                env.start("router")
            env.wait_consumers(intake, routers)
            time.sleep(0.5)
            bodies = [(f"intake:{cid}", json.dumps(intake_message(cid, doc), ensure_ascii=False).encode())
                      for cid, doc in batch]
            conn = amqp_connect()
            meter = CpuMeter({"routers": [p.pid for p in env.procs], "bench": [os.getpid()]})
            wall, started = time.time(), time.perf_counter()
            try:
                publish_confirmed(conn, exchange, "complaint", bodies)
            finally:
                conn.close()

            ids = [cid for cid, _ in batch]

            def done() -> bool:
                env.check_alive()
                return (env.scalar("SELECT count(*) FROM complaints WHERE status = 'received' AND id = ANY(:ids)",
                                   ids=ids) == 0
                        and env.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0)
            if not wait_until(done, timeout=max(60.0, n / 10), interval=0.1):
                raise RuntimeError(f"routing with {routers} router(s) did not finish:\n"
                                   + "\n".join(env.log_tail(p) for p in env.procs))
            polled = time.perf_counter() - started
            cpu = meter.stop()
            with env.hub.store.engine.connect() as c:
                last = c.execute(sa.text(
                    "SELECT max(o.published_at) FROM outbox o JOIN deliveries d ON o.message_id = 'delivery:' || d.id"
                    " WHERE d.complaint_id = ANY(:ids)"), {"ids": ids}).scalar()
                deliveries = c.execute(sa.text("SELECT count(*) FROM deliveries WHERE complaint_id = ANY(:ids)"),
                                       {"ids": ids}).scalar()
            elapsed = polled
            if last is not None:
                stamp = (last if last.tzinfo else last.replace(tzinfo=timezone.utc)).timestamp()
                elapsed = min(polled, max(stamp - wall, 1e-3))
            out[routers] = {"complaints_per_s": n / elapsed, "deliveries_per_s": deliveries / elapsed,
                            "seconds": elapsed,
                            **{f"cpu_ms_per_complaint_{g}": 1000 * v / n for g, v in cpu.items() if g != "wall"},
                            "cores_busy": sum(v for g, v in cpu.items() if g != "wall") / cpu["wall"]}
            say(f"routing: {routers} router(s): {n} complaints ({deliveries} deliveries) in {elapsed:.2f}s = "
                f"{n / elapsed:,.0f} complaints/s; CPU ms per complaint: "
                + ", ".join(f"{g} {1000 * v / n:.1f}" for g, v in cpu.items() if g != "wall"))
        return out
    finally:
        env.close()


# -- latency -------------------------------------------------------------------------------------

def routes_of(hub: Hub) -> list[list[tuple[str, str]]]:
    """Per sample: its deliveries' (destination, adapter)."""
    cfg = hub.config
    out = []
    for doc in SAMPLES:
        d = decide(doc, classify(doc, cfg.taxonomy, cfg.areas), cfg.ruleset, cfg.registry, cfg.taxonomy)
        out.append([(t.destination, cfg.registry.get(t.destination).adapter) for t in d.targets])
    return out


def latency(receiver: Receiver, loads: list[tuple[float, float]], warmup: float) -> list[dict[str, Any]]:
    """Open-loop load, for each (POSTs per second, seconds) in `loads`, on one API, router and
    dispatcher process; per delivery, the time from the API's answer to the message sitting in
    its department queue or reaching the webhook receiver."""
    from hub.admin import keys

    env = Env(receiver)
    assert env.hub is not None
    hub = env.hub
    arrivals: dict[tuple[str, str], float] = {}
    stop = threading.Event()

    def record(got: Received) -> int:
        doc = got.json
        arrivals.setdefault((doc["complaint_id"], doc["destination"]), time.perf_counter())
        return 204

    def on_department_message(m: amqp.Message) -> None:
        doc = json.loads(m.body)
        arrivals.setdefault((doc["complaint_id"], doc["destination"]), time.perf_counter())
    receiver.respond = record
    conn: amqp.Connection | None = None
    consumer: threading.Thread | None = None
    try:
        routes = routes_of(hub)
        queue_dests = sorted({d for r in routes for d, a in r if a == "queue"})
        conn = amqp_connect()
        ch = conn.channel()
        for dest_id in queue_dests:
            d = hub.config.registry.get(dest_id)
            q = hub.topology.department_queue(d.id, d.options.get("queue"))
            ch.queue_declare(q.name, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
            ch.basic_consume(q.name, no_ack=True, callback=on_department_message)

        def consume_departments() -> None:
            assert conn is not None
            while not stop.is_set():
                try:
                    conn.drain_events(timeout=0.2)
                except socket.timeout:
                    pass
                except OSError as exc:  # the broker went away: what is missing is reported as missing
                    say(f"latency: department queue consumer stopped: {exc!r}")
                    return
        consumer = threading.Thread(target=consume_departments, name="departments", daemon=True)
        consumer.start()

        channels = sorted({s["channel"] for s in SAMPLES})
        auth = {c: f"Bearer {keys.create(hub.store, f'bench {c}', 'channel', c, actor='bench').secret}"
                for c in channels}
        port = free_port()
        for kind, args in (("api", ("--port", str(port))), ("router", ()), ("dispatcher", ())):
            env.start(kind, *args)
        env.wait_consumers(hub.topology.intake.name, 1)
        env.wait_consumers(hub.topology.delivery(queue_dests[0]).name, 1)
        url = f"http://127.0.0.1:{port}"
        if not wait_until(lambda: env.alive() and _answers(f"{url}/healthz"), 30, 0.2):
            raise RuntimeError("the API did not start")
        results = []
        for rate, seconds in loads:
            results.append(_load_step(env, url, auth, routes, arrivals, rate, seconds, warmup))
        return results
    finally:
        stop.set()
        receiver.respond = None
        if consumer is not None:
            consumer.join(5)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - the broker may be gone; the queues go with the env
                pass
        env.close()


def _load_step(env: Env, url: str, auth: dict[str, str], routes: list[list[tuple[str, str]]],
               arrivals: dict[tuple[str, str], float], rate: float, seconds: float,
               warmup: float) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    warm = int(rate * warmup)
    total = warm + int(rate * seconds)
    answered: dict[str, tuple[float, int]] = {}
    failures: list[str] = []
    counter = itertools.count()
    started = time.perf_counter() + 0.2

    def send() -> None:
        session = requests.Session()
        while True:
            i = next(counter)
            if i >= total:
                return
            pause = started + i / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            doc = complaint(i, run)
            try:
                resp = session.post(f"{url}/v1/complaints", json=doc, timeout=30,
                                    headers={"authorization": auth[doc["channel"]]})
                at = time.perf_counter()
                resp.raise_for_status()
                answered[resp.json()["id"]] = (at, i)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                failures.append(repr(exc)[:200])

    say(f"latency: {total} POSTs at {rate:.0f}/s ({warmup:.0f}s warm-up, then {seconds:.0f}s measured)")
    meter = CpuMeter({p.kind: [p.pid] for p in env.procs})  # type: ignore[attr-defined]
    senders = [threading.Thread(target=send, name=f"send-{k}", daemon=True) for k in range(16)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    sent_for = time.perf_counter() - started
    expected = {(cid, dest): adapter for cid, (_, i) in answered.items()
                for dest, adapter in routes[i % len(SAMPLES)]}
    wait_until(lambda: env.alive() and all(k in arrivals for k in expected), timeout=max(60.0, len(expected) / 20),
               interval=0.05)
    cpu = meter.stop()
    measured = {k: a for k, a in expected.items() if answered[k[0]][1] >= warm}
    q = [1000 * (arrivals[k] - answered[k[0]][0]) for k, a in measured.items() if a == "queue" and k in arrivals]
    w = [1000 * (arrivals[k] - answered[k[0]][0]) for k, a in measured.items() if a == "webhook" and k in arrivals]
    missing = sum(1 for k in measured if k not in arrivals)
    result: dict[str, Any] = {
        "offered_per_s": rate, "achieved_per_s": len(answered) / sent_for, "posts": total,
        "post_failures": len(failures), "deliveries_measured": len(measured), "missing": missing,
        **{f"queue_p{p}": percentile(q, p) for p in (50, 95, 99)}, "queue_max": max(q, default=None),
        **{f"webhook_p{p}": percentile(w, p) for p in (50, 95, 99)}, "webhook_max": max(w, default=None),
        "cpu_ms_per_complaint": {g: round(1000 * v / max(1, len(answered)), 2) for g, v in cpu.items() if g != "wall"},
        "cores_busy": round(sum(v for g, v in cpu.items() if g != "wall") / cpu["wall"], 2),
    }
    p99s = [v for v in (result["queue_p99"], result["webhook_p99"]) if v is not None]
    result["p99_ms"] = max(p99s) if p99s else None
    if failures:
        say(f"latency: {len(failures)} POSTs failed, e.g. {failures[0]}")
    say(f"latency: {rate:.0f}/s offered, {result['achieved_per_s']:.0f}/s achieved: p50/p99 to queue "
        f"{_ms(result['queue_p50'])}/{_ms(result['queue_p99'])} ms, to webhook {_ms(result['webhook_p50'])}/"
        f"{_ms(result['webhook_p99'])} ms; {missing} deliveries missing; CPU ms per complaint: "
        + ", ".join(f"{g} {v:.1f}" for g, v in result["cpu_ms_per_complaint"].items())
        + f" ({result['cores_busy']:.2f} cores busy)")
    return result


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


# -- rules ---------------------------------------------------------------------------------------

def rules_cost(repeat: int) -> dict[str, dict[int, float]]:
    """Microseconds per decide() for rule sets of 10 to 10,000 rules, on the sample complaints.

    `indexed`: the shape a city-wide rule set grows into, every rule naming a category and an
    area (a city or a kecamatan; every fourth also a keyword) and not stopping, so every
    candidate is tried; the shipped rules at the end. The index rules out all rules but those
    for the complaint's category and area (8 to 18 of 10,000 for the samples).
    `keywords_only`: rules that name only keywords, which no index rules out (the worst case).
    """
    hub = Hub.create(Settings.from_env(config_dir=ROOT / "config", database_url="sqlite://"))
    cfg = hub.config
    cats = sorted(cfg.taxonomy.category_ids)
    refs = [ref for city in cfg.areas.cities for ref in (city.id, *(f"{city.id}/{k}" for k in city.kecamatan))]
    shipped = [{"id": r.id, "send_to": list(r.send_to), "when": {k: list(v) for k, v in r.when.items()},
                "stop": r.stop} for r in cfg.ruleset.rules]
    dests = [d.id for d in cfg.registry if d.kind in ("department", "operator")]
    classified = [(c, classify(c, cfg.taxonomy, cfg.areas)) for c in SAMPLES]
    out: dict[str, dict[int, float]] = {"indexed": {}, "keywords_only": {}}
    for shape in out:
        for size in (10, 100, 1000, 10_000):
            extra = max(0, size - len(shipped))
            if shape == "indexed":
                generated = [{"id": f"g{i}", "send_to": [dests[i % len(dests)]], "stop": False,
                              "when": {"category": [cats[i % len(cats)]],
                                       "area": [refs[(i // len(cats)) % len(refs)]],
                                       **({"keywords": [f"kata{i}"]} if i % 4 == 0 else {})}}
                             for i in range(extra)]
            else:
                generated = [{"id": f"g{i}", "send_to": [dests[i % len(dests)]], "when": {"keywords": [f"kata{i}"]}}
                             for i in range(extra)]
            rules = (generated + shipped)[-size:] if size < len(shipped) else generated + shipped
            rs = RuleSet.from_config({"version": str(size), "triage": cfg.ruleset.triage, "rules": rules})
            for doc, c in classified:  # builds the index; warms caches
                decide(doc, c, rs, cfg.registry, cfg.taxonomy)
            reps = repeat if shape == "indexed" else max(1, repeat * 10 // size)
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                for _ in range(reps):
                    for doc, c in classified:
                        decide(doc, c, rs, cfg.registry, cfg.taxonomy)
                best = min(best, (time.perf_counter() - started) / (reps * len(classified)))
            out[shape][size] = 1e6 * best
    return out


# -- webhook throughput ----------------------------------------------------------------------------

def webhook_rates(receiver: Receiver, n: int, slow: str) -> dict[str, float]:
    """Webhook deliveries per second to every endpoint but `slow`, from `n` complaints that reach
    operators: first with all endpoints fast, then with `slow` taking 2 s per answer. One
    dispatcher process (after a short warm-up: connections, adapters)."""
    from concurrent.futures import ThreadPoolExecutor

    from hub.infra.outbox import relay
    from hub.pipeline.routing import route

    env = Env(receiver)
    assert env.hub is not None
    hub = env.hub
    got: dict[str, float] = {}
    slow_now = threading.Event()

    def respond(item: Received) -> int:
        if slow_now.is_set() and item.path.endswith(f"/{slow}"):
            time.sleep(2)
        got.setdefault(item.json["delivery_id"], time.perf_counter())
        return 204
    receiver.respond = respond
    try:
        routes = routes_of(hub)
        samples = [s for s, r in zip(SAMPLES, routes) if any(a == "webhook" for _, a in r)]
        run = uuid.uuid4().hex[:6]
        warm = max(len(samples), n // 10)
        say(f"webhooks: routing {warm + 2 * n} complaints in the store ({len(samples)} samples that reach operators)")
        ids = accept_all(hub, [complaint(i, run, samples) for i in range(warm + 2 * n)])
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda cid: route(hub, cid), ids))
        with hub.store.engine.connect() as c:
            rows = c.execute(sa.text("SELECT id, complaint_id, destination FROM deliveries WHERE adapter = 'webhook'")).all()
        by_complaint: dict[str, list[tuple[str, str]]] = {}
        for did, cid, dest in rows:
            by_complaint.setdefault(cid, []).append((did, dest))
        env.start("dispatcher")
        env.wait_consumers(hub.topology.delivery(slow).name, 1)
        result: dict[str, float] = {}
        for label, part in (("warm-up", ids[:warm]), ("fast", ids[warm:warm + n]),
                            ("with_slow_endpoint", ids[warm + n:])):
            if label == "with_slow_endpoint":
                slow_now.set()
            mine = [d for cid in part for d in by_complaint.get(cid, [])]
            others = {did for did, dest in mine if dest != slow}
            bus = hub.bus()
            started = time.perf_counter()
            try:
                wanted = [f"delivery:{did}" for did, _ in mine]
                for k in range(0, len(wanted), 500):
                    relay(hub.store, bus, limit=500, message_ids=wanted[k:k + 500])
            finally:
                bus.close()
            if not wait_until(lambda: env.alive() and others <= got.keys(), timeout=max(60.0, n / 5), interval=0.05):
                raise RuntimeError(f"webhooks ({label}): {len(others - got.keys())} of {len(others)} never arrived")
            if label == "warm-up":
                wait_until(lambda: {did for did, _ in mine} <= got.keys(), timeout=30, interval=0.05)
                continue
            elapsed = max(got[d] for d in others) - started
            result[label] = len(others) / elapsed
            say(f"webhooks: {label}: {len(others)} deliveries to the other endpoints in {elapsed:.2f}s = "
                f"{result[label]:,.0f}/s")
        return result
    finally:
        receiver.respond = None
        env.close()


# -- the whole run -----------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"host": platform.node(), "cores": os.cpu_count(), "python": platform.python_version(),
                            "platform": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        info["memory_gib"] = round(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024, 1)
    except (OSError, IndexError, ValueError):
        pass
    try:
        conn = amqp_connect()
        info["rabbitmq"] = conn.server_properties.get("version")
        conn.close()
    except Exception:  # noqa: BLE001 - informative only
        pass
    try:
        engine = sa.create_engine(PG)
        with engine.connect() as c:
            info["postgresql"] = c.execute(sa.text("SHOW server_version")).scalar()
        engine.dispose()
    except Exception:  # noqa: BLE001 - informative only
        pass
    return info


def stage(name: str, errors: dict[str, str], fn: Callable[..., Any], *args: Any) -> Any:
    """Run a stage; once more if it fails (the shared broker may restart under it)."""
    for attempt in (1, 2):
        say(f"{name}: starting" + (" (second try)" if attempt == 2 else ""))
        try:
            return fn(*args)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - reported, and the other stages still run
            say(f"{name}: failed: {exc!r}"[:600])
            if os.environ.get("LAPORHUB_BENCH_TRACE"):
                traceback.print_exc()
            errors[name] = repr(exc)[:500]
            time.sleep(3)
    return None


def interrupted(*_: object) -> None:
    """SIGTERM as Ctrl-C: every stage's `finally` removes its database, queues and processes."""
    raise KeyboardInterrupt


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller runs: about a minute")
    args = p.parse_args()
    quick = args.quick
    signal.signal(signal.SIGTERM, interrupted)

    info = machine()
    load_before = os.getloadavg()
    say(f"{'quick' if quick else 'full'} run on {info.get('cores')} cores, RabbitMQ {info.get('rabbitmq')}, "
        f"PostgreSQL {info.get('postgresql')}; load average {load_before[0]:.2f}")
    logs.configure("WARNING")  # the hub's INFO lines from this process would drown the progress lines
    receiver = Receiver().start()
    errors: dict[str, str] = {}
    loads = [(25.0, 4.0), (TARGET_RATE, 3.0)] if quick else [(25.0, 15.0), (50.0, 15.0), (100.0, 8.0), (TARGET_RATE, 8.0)]
    try:
        bare = stage("bare pass-through", errors, bare_pass_through, 5000 if quick else 10000, 1 if quick else 3)
        routing = stage("hub routing", errors, hub_routing, receiver, (1, 2, 4), 200 if quick else 1000) or {}
        steps = stage("latency", errors, latency, receiver, loads, 1.0 if quick else 2.0) or []
        rules = stage("rules", errors, rules_cost, 10 if quick else 50) or {}
        if rules:
            say("rules: " + ", ".join(f"{k:,}: {v:.1f} us" for k, v in rules["indexed"].items()))
        places = stage("places", errors, places_cost, 2 if quick else 5) or {}
        if places:
            say("places (us per lookup; per duplicate search): " + json.dumps(places))
        hooks = stage("webhooks", errors, webhook_rates, receiver, 300 if quick else 800, "pgn") or {}
    finally:
        receiver.stop()
    note_peak("bench (this process)", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    report(quick, info, load_before, bare, routing, steps, rules, hooks, errors)
    return 0 if not errors else 1


TARGET_RATE = 200.0


def report(quick: bool, info: dict[str, Any], load_before: tuple[float, ...], bare: float | None,
           routing: dict[int, dict[str, float]], steps: list[dict[str, Any]], rules: dict[str, dict[int, float]],
           hooks: dict[str, float], errors: dict[str, str]) -> None:
    """The table, then the JSON line (last)."""
    best = max((r["complaints_per_s"] for r in routing.values()), default=None)
    ratio = best / bare if best and bare else None
    fast, slowed = hooks.get("fast"), hooks.get("with_slow_endpoint")
    cost = max(0.0, 1 - slowed / fast) if fast and slowed else None
    idx = rules.get("indexed", {})
    rules_ratio = idx[10_000] / idx[10] if len(idx) == 4 else None
    at_target = next((s for s in steps if s["offered_per_s"] == TARGET_RATE), {})
    meeting = [s["offered_per_s"] for s in steps
               if s["p99_ms"] is not None and s["p99_ms"] < 50 and s["achieved_per_s"] >= 0.95 * s["offered_per_s"]]
    load_after = os.getloadavg()

    def fmt(v: float | None, spec: str = ",.0f") -> str:
        return "-" if v is None else format(v, spec)
    rows: list[tuple[str, str]] = [("bare pass-through, 1 process (msg/s)", fmt(bare))]
    for k, r in routing.items():
        rows.append((f"hub routing, {k} router process(es) (complaints/s; deliveries/s)",
                     f"{fmt(r['complaints_per_s'])}; {fmt(r['deliveries_per_s'])}"))
        rows.append(("  CPU ms per complaint: routers / PostgreSQL / RabbitMQ (cores busy)",
                     f"{r['cpu_ms_per_complaint_routers']:.1f} / {r['cpu_ms_per_complaint_postgresql']:.1f} / "
                     f"{r['cpu_ms_per_complaint_rabbitmq']:.1f} ({r['cores_busy']:.1f})"))
    rows.append(("hub / bare (best router count)  [target >= 0.5]", fmt(ratio, ".3f")))
    for s in steps:
        rows.append((f"latency at {s['offered_per_s']:.0f}/s offered ({s['achieved_per_s']:.0f}/s achieved), "
                     "p50/p95/p99 ms: to department queue",
                     " / ".join(fmt(s[f'queue_p{p}'], '.0f') for p in (50, 95, 99))))
        rows.append(("  to webhook receiver", " / ".join(fmt(s[f'webhook_p{p}'], '.0f') for p in (50, 95, 99))))
        rows.append(("  CPU ms per complaint, all processes and services (cores busy)",
                     f"{sum(s['cpu_ms_per_complaint'].values()):.0f} ({s['cores_busy']:.1f})"))
    rows.append((f"p99 at {TARGET_RATE:.0f}/s offered, worse of the two  [target < 50 ms]",
                 fmt(at_target.get("p99_ms"), ",.0f")))
    rows.append(("highest offered rate carried with p99 < 50 ms (per s)", fmt(max(meeting, default=None))))
    for size, us in idx.items():
        rows.append((f"rule evaluation, {size:,} rules (us/complaint; keyword-only rules)",
                     f"{us:,.1f}; {rules['keywords_only'][size]:,.1f}"))
    rows.append(("10,000 rules / 10 rules  [target <= 3]", fmt(rules_ratio, ".2f")))
    rows.append(("webhook deliveries/s, all endpoints fast", fmt(fast)))
    rows.append(("webhook deliveries/s to the others, one endpoint taking 2 s", fmt(slowed)))
    rows.append(("  slowdown of the others  [target < 10%]", "-" if cost is None else f"{100 * cost:.1f}%"))
    for kind, kb in sorted(PEAK_KB.items()):
        rows.append((f"peak memory (VmHWM), {kind} (MiB)", f"{kb / 1024:,.0f}"))
    width = max(len(r[0]) for r in rows)
    print(f"LaporHub benchmark ({'quick' if quick else 'full'}) on {info['host']}: {info['cores']} cores, "
          f"Python {info['python']}, RabbitMQ {info.get('rabbitmq')} and PostgreSQL {info.get('postgresql')} "
          f"on the same machine; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>22}")
    if errors:
        print("  failed stages: " + "; ".join(f"{k}: {v[:200]}" for k, v in errors.items()))

    def r(v: float | None, digits: int = 1) -> float | None:
        return None if v is None else round(v, digits)
    result = {
        "hub_per_s": r(best), "bare_per_s": r(bare), "ratio": r(ratio, 3), "p99_ms": r(at_target.get("p99_ms")),
        "rules_10k_over_10": r(rules_ratio, 2), "slow_endpoint_cost": r(cost, 3),
        "targets_met": {"ratio": ratio is not None and ratio >= 0.5,
                        "p99_ms": bool(at_target) and at_target["p99_ms"] is not None and at_target["p99_ms"] < 50
                        and at_target["achieved_per_s"] >= 0.95 * TARGET_RATE,
                        "rules_10k_over_10": rules_ratio is not None and rules_ratio <= 3,
                        "slow_endpoint_cost": cost is not None and cost < 0.1},
        "hub_by_routers": {str(k): {kk: r(vv, 2) for kk, vv in v.items()} for k, v in routing.items()},
        "latency": [{k: (r(v) if isinstance(v, float) else v) for k, v in s.items()} for s in steps],
        "max_rate_p99_under_50ms": max(meeting, default=None),
        "rules_us": {shape: {str(k): r(v, 2) for k, v in sizes.items()} for shape, sizes in rules.items()},
        "webhooks_per_s": {k: r(v) for k, v in hooks.items()},
        "peak_rss_mib": {k: round(v / 1024, 1) for k, v in PEAK_KB.items()},
        "machine": {**info, "loadavg_before": round(load_before[0], 2), "loadavg_after": round(load_after[0], 2)},
        "quick": quick, "seconds": round(time.perf_counter() - STARTED, 1), "errors": errors,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
