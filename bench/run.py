"""LaporHub benchmark on the machine's RabbitMQ and PostgreSQL.

    python bench/run.py [--quick]

Measures routing throughput (intake queue -> delivery queues, persistent and confirmed) for 1, 2
and 4 `laporhub router` processes beside a bare pass-through on the same broker; latency from
POST /v1/complaints answering to the department queue and to a webhook receiver at a steady
offered load; rule evaluation time for 10 to 10,000 rules; webhook deliveries per second with
and without one endpoint that takes 2 s to answer; peak memory per process. Prints a table and,
as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import amqp
import requests
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.areas import Area  # noqa: E402
from hub.classify import Classification, classify  # noqa: E402
from hub.receiver import Receiver  # noqa: E402
from hub.rules import RuleSet, decide  # noqa: E402
from hub.runtime import Hub  # noqa: E402
from hub.settings import Settings  # noqa: E402

AMQP = os.environ.get("LAPORHUB_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PG = os.environ.get("LAPORHUB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SAMPLES = [json.loads(x) for x in (ROOT / "config/samples/complaints.jsonl").read_text().splitlines() if x.strip()]


def complaint(n: int, run: str) -> dict[str, Any]:
    return {**SAMPLES[n % len(SAMPLES)], "external_ref": f"{run}-{n}"}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Env:
    """A fresh database, bus prefix and configuration (webhooks to a local receiver)."""

    def __init__(self, receiver: Receiver) -> None:
        self.db = f"laporhub_bench_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{self.db}"'))
        self.tmp = Path(tempfile.mkdtemp(prefix="laporhub-bench-"))
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
                                          config_dir=self.tmp / "config", bus_prefix=f"bench-{uuid.uuid4().hex[:6]}")
        self.hub = Hub.create(self.settings)
        self.hub.bus().declare(self.hub.delivery_queues())
        self.procs: list[subprocess.Popen] = []
        self.peak_kb: dict[str, int] = {}

    def start(self, kind: str, *args: str) -> subprocess.Popen:
        env = {**os.environ, "LAPORHUB_BROKER_URL": self.settings.broker_url,
               "LAPORHUB_DATABASE_URL": self.settings.database_url,
               "LAPORHUB_BUS_PREFIX": self.settings.bus_prefix, "LAPORHUB_CONFIG_DIR": str(self.settings.config_dir)}
        proc = subprocess.Popen([sys.executable, "-m", "hub.cli", kind, *args], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc.kind = kind  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for p in self.procs:
            kb = peak_rss_kb(p.pid)
            self.peak_kb[p.kind] = max(self.peak_kb.get(p.kind, 0), kb)  # type: ignore[attr-defined]
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()

    def scalar(self, sql: str) -> int:
        with self.hub.store.engine.connect() as c:
            return c.execute(sa.text(sql)).scalar_one()

    def close(self) -> None:
        self.stop_all()
        self.hub.delete_topology()
        self.hub.store.engine.dispose()
        with self.admin.connect() as c:
            c.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.db}'"))
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db}"'))
        shutil.rmtree(self.tmp, ignore_errors=True)


def peak_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_until(predicate: Any, timeout: float, interval: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False


# -- routing throughput ------------------------------------------------------------------------

def amqp_connect() -> amqp.Connection:
    conn = amqp.Connection(host="127.0.0.1:5672", userid="guest", password="guest", virtual_host="/")
    conn.connect()
    return conn


def publish_pipelined(conn: amqp.Connection, exchange: str, key: str, bodies: list[tuple[str, bytes]]) -> None:
    ch = conn.channel()
    ch.confirm_select()
    acked = {"upto": 0}
    ch.events["basic_ack"].add(lambda tag, multiple: acked.__setitem__("upto", max(acked["upto"], tag)))
    for mid, body in bodies:
        ch.basic_publish(amqp.Message(body, delivery_mode=2, message_id=mid, content_type="application/json"),
                         exchange=exchange, routing_key=key)
    while acked["upto"] < len(bodies):
        conn.drain_events(timeout=10)
    ch.close()


def bare_pass_through(n: int) -> float:
    """Consume from A, re-publish persistent to B with pipelined confirms, ack after confirm."""
    prefix = f"bench-bare-{uuid.uuid4().hex[:6]}"
    conn = amqp_connect()
    setup = conn.channel()
    for q in ("a", "b"):
        setup.queue_declare(f"{prefix}.{q}", durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
    publish_pipelined(conn, "", f"{prefix}.a", [(str(i), json.dumps(complaint(i, "bare")).encode()) for i in range(n)])
    consume, out = conn.channel(), conn.channel()
    out.confirm_select()
    state = {"acked": 0, "inbox": []}
    out.events["basic_ack"].add(lambda tag, multiple: state.__setitem__("acked", max(state["acked"], tag)))
    consume.basic_qos(0, 500, False)
    consume.basic_consume(f"{prefix}.a", callback=state["inbox"].append)
    published = moved = 0
    started = time.perf_counter()
    while moved < n:
        try:
            conn.drain_events(timeout=0.01)
        except TimeoutError:
            pass
        except OSError:
            pass
        batch, state["inbox"] = state["inbox"], []
        if not batch:
            continue
        for m in batch:
            out.basic_publish(amqp.Message(m.body, delivery_mode=2, message_id=m.properties.get("message_id")),
                              exchange="", routing_key=f"{prefix}.b")
        published += len(batch)
        while state["acked"] < published:
            conn.drain_events(timeout=10)
        consume.basic_ack(batch[-1].delivery_tag, multiple=True)
        moved += len(batch)
    elapsed = time.perf_counter() - started
    for q in ("a", "b"):
        setup.queue_delete(f"{prefix}.{q}")
    conn.close()
    return n / elapsed


def hub_routing(receiver: Receiver, routers: int, n: int) -> float:
    """Complaints already accepted in the store; their intake messages published at once; time until
    every one is routed and its deliveries confirmed on the delivery queues."""
    env = Env(receiver)
    try:
        from hub.intake import accept

        run = uuid.uuid4().hex[:6]
        ids = [accept(env.hub.store, complaint(i, run)).complaint_id for i in range(n)]
        with env.hub.store.begin() as c:
            c.execute(sa.text("UPDATE outbox SET published_at = now()"))  # no API relay here
        for _ in range(routers):
            env.start("router")
        time.sleep(4)  # imports, connections, consumers
        conn = amqp_connect()
        bodies = [(f"intake:{cid}", json.dumps({"type": "laporhub.intake.v1", "complaint_id": cid,
                                                "complaint": complaint(i, run)}).encode())
                  for i, cid in enumerate(ids)]
        started = time.perf_counter()
        publish_pipelined(conn, f"{env.settings.bus_prefix}.intake", "complaint", bodies)
        conn.close()
        done = wait_until(lambda: env.scalar("SELECT count(*) FROM complaints WHERE status = 'received'") == 0
                          and env.scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0,
                          timeout=600, interval=0.05)
        elapsed = time.perf_counter() - started
        if not done:
            raise RuntimeError("routing did not finish")
        return n / elapsed
    finally:
        env.close()
        PEAK.update({f"router": max(PEAK.get("router", 0), env.peak_kb.get("router", 0))})


# -- latency -------------------------------------------------------------------------------------

def latency(receiver: Receiver, rate: float, seconds: float) -> dict[str, float]:
    from hub.processes import ApiServer

    env = Env(receiver)
    arrivals: dict[str, float] = {}

    def record(got: Any) -> int:
        arrivals.setdefault(got.json["complaint_id"], time.perf_counter())
        return 204
    receiver.respond = record
    try:
        env.start("router"), env.start("dispatcher")
        api = ApiServer(env.hub, port=0).start()
        stop = threading.Event()
        queue_arrivals: dict[str, float] = {}

        def consume_departments() -> None:
            conn = amqp_connect()
            ch = conn.channel()
            for d in env.hub.config.registry:
                if d.adapter == "queue":
                    q = env.hub.topology.department_queue(d.id, d.options.get("queue"))
                    ch.queue_declare(q.name, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
                    ch.basic_consume(q.name, no_ack=True, callback=lambda m: queue_arrivals.setdefault(
                        json.loads(m.body)["complaint_id"], time.perf_counter()))
            while not stop.is_set():
                try:
                    conn.drain_events(timeout=0.2)
                except (TimeoutError, OSError):
                    pass
            conn.close()

        t = threading.Thread(target=consume_departments, daemon=True)
        t.start()
        time.sleep(4)
        session = requests.Session()
        answered: dict[str, float] = {}
        url = f"http://127.0.0.1:{api.port}/v1/complaints"
        run = uuid.uuid4().hex[:6]
        started = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            due = started + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            resp = session.post(url, json=complaint(i, run))
            answered[resp.json()["id"]] = time.perf_counter()
        achieved = total / (time.perf_counter() - started)
        wait_until(lambda: len(set(queue_arrivals) | set(arrivals)) >= len(answered), timeout=60)
        stop.set()
        api.stop()
        q = [1000 * (queue_arrivals[c] - answered[c]) for c in answered if c in queue_arrivals]
        w = [1000 * (arrivals[c] - answered[c]) for c in answered if c in arrivals]
        return {"offered_per_s": rate, "achieved_per_s": achieved,
                "queue_p50": percentile(q, 50), "queue_p95": percentile(q, 95), "queue_p99": percentile(q, 99),
                "webhook_p50": percentile(w, 50), "webhook_p95": percentile(w, 95), "webhook_p99": percentile(w, 99),
                "p99_ms": percentile(q + w, 99)}
    finally:
        receiver.respond = None
        env.close()
        for k, v in env.peak_kb.items():
            PEAK[k] = max(PEAK.get(k, 0), v)


# -- rules ---------------------------------------------------------------------------------------

def rules_cost(repeat: int) -> dict[int, float]:
    """Microseconds per decide() for rule sets of 10 to 10,000 rules (a rule per category and
    kecamatan, the shape a city-wide rule set grows into), the shipped destinations as targets."""
    hub = Hub.create(Settings.from_env(config_dir=ROOT / "config", database_url="sqlite://"))
    cfg = hub.config
    cats = sorted(cfg.taxonomy.category_ids)
    classified = [(c, classify(c, cfg.taxonomy, cfg.areas)) for c in SAMPLES]
    out: dict[int, float] = {}
    for size in (10, 100, 1000, 10_000):
        rules = [{"id": f"r{i}", "when": {"category": [cats[i % len(cats)]],
                                         "area": [f"jakarta-utara/k{i}"]}, "send_to": ["triage"]}
                 for i in range(size - 1)]
        rules.append({"id": "catch-all", "send_to": ["triage"]})
        rs = RuleSet.from_config({"version": str(size), "triage": "triage", "rules": rules})
        decide(*classified[0], rs, cfg.registry, cfg.taxonomy)  # builds the index
        started = time.perf_counter()
        for _ in range(repeat):
            for doc, c in classified:
                decide(doc, c, rs, cfg.registry, cfg.taxonomy)
        out[size] = 1e6 * (time.perf_counter() - started) / (repeat * len(classified))
    return out


# -- webhook throughput ----------------------------------------------------------------------------

def webhook_rate(receiver: Receiver, n: int, slow: str | None) -> float:
    """Deliveries per second to the fast endpoints, with `slow` (if given) taking 2 s per answer."""
    from hub.outbox import relay
    from hub.router import route
    from hub.intake import accept

    env = Env(receiver)
    receiver.respond = (lambda got: (time.sleep(2), 204)[1] if slow and got.path.endswith(slow) else 204)
    try:
        run = uuid.uuid4().hex[:6]
        webhook_samples = [s for s in SAMPLES if s["text"] and any(
            k in s["text"].lower() for k in ("listrik", "air", "pam", "bus", "gas", "internet"))] or SAMPLES
        for i in range(n):
            cid = accept(env.hub.store, {**webhook_samples[i % len(webhook_samples)], "external_ref": f"{run}-{i}"}).complaint_id
            route(env.hub, cid)
        bus = env.hub.bus()
        while relay(env.hub.store, bus, limit=500):
            pass
        bus.close()
        fast = ("SELECT count(*) FROM deliveries WHERE adapter = 'webhook'"
                + (f" AND destination <> '{slow}'" if slow else ""))
        total = env.scalar(fast)
        started = time.perf_counter()
        env.start("dispatcher")
        wait_until(lambda: env.scalar(fast + " AND status = 'pending'") == 0, timeout=600, interval=0.05)
        return total / (time.perf_counter() - started)
    finally:
        receiver.respond = None
        env.close()
        PEAK["dispatcher"] = max(PEAK.get("dispatcher", 0), env.peak_kb.get("dispatcher", 0))


PEAK: dict[str, int] = {}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller runs: under a minute")
    args = p.parse_args()
    quick = args.quick
    n = 600 if quick else 3000
    receiver = Receiver().start()

    rows: list[tuple[str, str]] = []
    bare = bare_pass_through(n * 3)
    rows.append(("bare pass-through (msg/s)", f"{bare:,.0f}"))
    hub_rates = {}
    for routers in ((1, 2) if quick else (1, 2, 4)):
        hub_rates[routers] = hub_routing(receiver, routers, n)
        rows.append((f"hub routing, {routers} router(s) (complaints/s)", f"{hub_rates[routers]:,.0f}"))
    best = max(hub_rates.values())
    rows.append(("hub / bare (best)", f"{best / bare:.2f}"))
    lat = latency(receiver, 200.0, 4 if quick else 15)
    rows.append((f"latency at {lat['offered_per_s']:.0f}/s offered ({lat['achieved_per_s']:.0f}/s achieved): "
                 "to department queue p50/p95/p99 (ms)",
                 f"{lat['queue_p50']:.1f} / {lat['queue_p95']:.1f} / {lat['queue_p99']:.1f}"))
    rows.append(("  to webhook receiver p50/p95/p99 (ms)",
                 f"{lat['webhook_p50']:.1f} / {lat['webhook_p95']:.1f} / {lat['webhook_p99']:.1f}"))
    rules = rules_cost(20 if quick else 200)
    for size, us in rules.items():
        rows.append((f"rule evaluation, {size:,} rules (us/complaint)", f"{us:,.1f}"))
    hooks = 150 if quick else 600
    fast_only = webhook_rate(receiver, hooks, None)
    with_slow = webhook_rate(receiver, hooks, "pgn")
    cost = max(0.0, 1 - with_slow / fast_only)
    rows.append(("webhook deliveries/s, all endpoints fast", f"{fast_only:,.0f}"))
    rows.append(("webhook deliveries/s to the others, one endpoint taking 2 s", f"{with_slow:,.0f}"))
    for kind, kb in sorted(PEAK.items()):
        rows.append((f"peak memory, {kind} process (MiB)", f"{kb / 1024:,.0f}"))
    receiver.stop()

    width = max(len(r[0]) for r in rows)
    print(f"LaporHub benchmark ({'quick' if quick else 'full'}) on {platform.node()}: {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, RabbitMQ and PostgreSQL on the same machine")
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>20}")
    result = {"hub_per_s": round(best, 1), "bare_per_s": round(bare, 1), "ratio": round(best / bare, 3),
              "p99_ms": round(lat["p99_ms"], 1), "rules_10k_over_10": round(rules[10_000] / rules[10], 2),
              "slow_endpoint_cost": round(cost, 3),
              "hub_per_s_by_routers": {str(k): round(v, 1) for k, v in hub_rates.items()},
              "latency_ms": {k: round(v, 1) for k, v in lat.items()},
              "rules_us": {str(k): round(v, 1) for k, v in rules.items()},
              "webhooks_per_s": {"fast": round(fast_only, 1), "with_slow_endpoint": round(with_slow, 1)},
              "peak_rss_mib": {k: round(v / 1024, 1) for k, v in PEAK.items()}, "quick": quick}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
