"""LaporHub soak run: the whole hub as separate processes on the machine's RabbitMQ and PostgreSQL,
under a steady stream of complaints, with an operator whose endpoint flaps and a department
consuming its queues. Not part of CI (it runs for minutes); see issue 10.

    python bench/soak.py [--minutes 15] [--rate 10] [--interval 60] [--quiet 100]

Processes: `laporhub api`, two `router`s, two `dispatcher`s, `status` and `scheduler`. PLN's
endpoint answers 503 every other minute (`--flap`); every other operator answers 204. A
department consumer reads every department queue and acks, as a department would.

After the load, the hub is left idle for `--quiet` seconds (longer than two heartbeat intervals:
an idle connection that stops sending heartbeats is closed by RabbitMQ then), and a last burst
follows, so publishing after a quiet spell is exercised too. Then it waits for every delivery to
settle and prints, per interval, each process's resident memory, open file descriptors and
database connections, and at the end one JSON object: accepted, expected deliveries, delivered
(deduplicated), duplicates, stranded (pending with no retry that will fire), dead, and the
connection trouble found in the processes' logs. Exit status 1 if anything was stranded or
duplicated, or a connection was reset.

Everything it makes (database, queues, files) is removed at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.admin import keys  # noqa: E402
from hub.cli.receiver import Received, Receiver  # noqa: E402
from hub.infra.store import complaints, deliveries, outbox  # noqa: E402
from hub.pipeline.retry import delivery_retries  # noqa: E402
from hub.settings.environment import Settings  # noqa: E402
from hub.settings.runtime import Hub  # noqa: E402

AMQP = os.environ.get("LAPORHUB_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
PG = os.environ.get("LAPORHUB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SAMPLES = [json.loads(x) for x in (ROOT / "config/samples/complaints.jsonl").read_text().splitlines() if x.strip()]
AMQP_PORT = urlparse(AMQP).port or 5672
PG_PORT = urlparse(PG.replace("+psycopg", "")).port or 5432
FLAPPING = "pln-uid-jakarta-raya"
TROUBLE = ("Connection reset", "missed heartbeats", "outbox.relay_failed", "retry.requeue_failed",
           "bus.reconnecting", "Traceback")
STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"# [{time.monotonic() - STARTED:7.1f}s] {message}", flush=True)


# -- the world around the hub: a flapping operator, a department, channels ----------------------

class Operator:
    """Every operator's endpoint; PLN's answers 503 in every other `flap`-second window."""

    def __init__(self, flap: float) -> None:
        self.flap = flap
        self.accepted: Counter[str] = Counter()  # webhook-id -> 2xx answers (deliveries only)
        self.refused = 0
        self._lock = threading.Lock()
        self.receiver = Receiver(respond=self.respond).start()

    def respond(self, got: Received) -> int:
        if not got.verified:
            return 401
        if got.path.endswith(f"/{FLAPPING}") and int((time.monotonic() - STARTED) / self.flap) % 2 == 1:
            with self._lock:
                self.refused += 1
            return 503
        wid = got.headers.get("webhook-id", "")
        if wid.startswith("d-"):
            with self._lock:
                self.accepted[wid] += 1
        return 204


class Department(threading.Thread):
    """Consumes every department queue and acks each message, counting message ids."""

    def __init__(self, hub: Hub) -> None:
        super().__init__(name="department", daemon=True)
        self.hub, self.stop = hub, threading.Event()
        self.seen: Counter[str] = Counter()

    def run(self) -> None:
        queues = [self.hub.topology.department_queue(d.id, d.options.get("queue"))
                  for d in self.hub.config.registry if d.adapter == "queue"]

        def got(message: Any) -> None:
            self.seen[message.properties.get("message_id", "")] += 1
            message.ack()

        with self.hub.bus() as bus:
            bus.consume(queues, got, stop=self.stop, prefetch=200)


class Channels:
    """Posts complaints to the API at a steady rate, from a few threads, each with its channel's key."""

    def __init__(self, hub: Hub, url: str) -> None:
        self.url, self.run = url, uuid.uuid4().hex[:6]
        self.headers = {c: {"authorization": "Bearer " + keys.create(hub.store, f"soak {c}", "channel", c,
                                                                      actor="soak", reason="soak run").secret}
                        for c in {s["channel"] for s in SAMPLES}}
        self.accepted: list[str] = []
        self.failed: Counter[str] = Counter()
        self.sent = 0
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(8, thread_name_prefix="channel")

    def _post(self, n: int) -> None:
        doc = {**SAMPLES[n % len(SAMPLES)], "external_ref": f"{self.run}-{n}"}
        session = getattr(self._local, "session", None) or requests.Session()
        self._local.session = session
        for _ in range(30):
            try:
                resp = session.post(f"{self.url}/v1/complaints", json=doc, headers=self.headers[doc["channel"]],
                                    timeout=30)
            except requests.RequestException as exc:
                self.failed[type(exc).__name__] += 1
                time.sleep(1)
                continue
            if resp.status_code in (200, 201):
                self.accepted.append(resp.json()["id"])
                return
            self.failed[f"HTTP {resp.status_code}"] += 1
            if resp.status_code < 500:
                return
            time.sleep(1)

    def stream(self, rate: float, seconds: float, tick: Any = None) -> None:
        """Offer `rate` complaints a second for `seconds`; `tick()` runs about every second."""
        began, last_tick = time.monotonic(), 0.0
        while (elapsed := time.monotonic() - began) < seconds:
            due = int(elapsed * rate)
            while self.sent < due:
                self._pool.submit(self._post, self.sent)
                self.sent += 1
            if tick and elapsed - last_tick >= 1:
                last_tick = elapsed
                tick()
            time.sleep(min(0.05, 1 / rate))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


# -- resources of a process, from /proc -----------------------------------------------------------

def _tcp_remote_ports() -> dict[str, int]:
    """Socket inode -> remote port, for every TCP socket on the machine."""
    out: dict[str, int] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            out[parts[9]] = int(parts[2].rsplit(":", 1)[1], 16)
    return out


def resources(pid: int, ports: dict[str, int]) -> dict[str, float]:
    """Resident memory (MiB), open file descriptors, and connections to PostgreSQL and RabbitMQ."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
        fds = os.listdir(f"/proc/{pid}/fd")
    except (OSError, AttributeError):
        return {"rss_mib": 0, "fds": 0, "db": 0, "amqp": 0}
    remote: Counter[int] = Counter()
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            remote[ports.get(target[8:-1], 0)] += 1
    return {"rss_mib": round(rss, 1), "fds": len(fds), "db": remote[PG_PORT], "amqp": remote[AMQP_PORT]}


# -- the hub as processes -------------------------------------------------------------------------

class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.db = f"laporhub_soak_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{self.db}"'))
        self.tmp = Path(tempfile.mkdtemp(prefix="laporhub-soak-"))
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.hub: Hub | None = None
        self.operator = Operator(args.flap)
        shutil.copytree(ROOT / "config", self.tmp / "config")
        path = self.tmp / "config/destinations.yaml"
        doc = yaml.safe_load(path.read_text())
        for d in doc["destinations"]:
            if d.get("adapter") == "webhook":
                d["options"].update(url=f"{self.operator.receiver.url}/hooks/{d['id']}", timeout=5, max_attempts=3,
                                    backoff_max=2)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True))
        self.env = {"LAPORHUB_BROKER_URL": AMQP, "LAPORHUB_DATABASE_URL": PG.rsplit("/", 1)[0] + f"/{self.db}",
                    "LAPORHUB_BUS_PREFIX": f"soak-{uuid.uuid4().hex[:6]}", "LAPORHUB_CONFIG_DIR": str(self.tmp / "config"),
                    "LAPORHUB_WEBHOOK_SCHEDULE": args.schedule, "PYTHONUNBUFFERED": "1"}
        settings = Settings.from_env(broker_url=self.env["LAPORHUB_BROKER_URL"],
                                     database_url=self.env["LAPORHUB_DATABASE_URL"],
                                     config_dir=self.tmp / "config", bus_prefix=self.env["LAPORHUB_BUS_PREFIX"])
        self.hub = Hub.create(settings)
        self.operator.receiver.secrets.update({d.id: d.options["secret"] for d in self.hub.config.registry
                                               if d.adapter == "webhook"})
        with self.hub.bus() as bus:
            bus.declare(self.hub.delivery_queues())

    def start(self, kind: str, *args: str) -> None:
        log = open(self.tmp / f"{kind}-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "hub.cli.main", kind, *args], env={**os.environ, **self.env},
                                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append((f"{kind}-{len(self.procs)}", proc))

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 20) -> str:
        return "\n".join((self.tmp / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])

    def scalar(self, query: Any) -> Any:
        assert self.hub is not None
        with self.hub.store.engine.connect() as c:
            return c.execute(query).scalar()

    def figures(self, accepted: list[str]) -> dict[str, Any]:
        """Where the hub stands now, from its store."""
        pending = self.scalar(sa.select(sa.func.count()).select_from(deliveries).where(deliveries.c.status == "pending"))
        unrouted = self.scalar(sa.select(sa.func.count()).select_from(complaints)
                               .where(complaints.c.status == "received"))
        backlog = self.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
        return {"accepted": len(accepted), "unrouted": unrouted, "pending": pending,
                "stranded": self.stranded(), "outbox": backlog,
                "delivered_seen": len(self.operator.accepted) + len(self.department.seen)}

    def stranded(self) -> int:
        """Pending deliveries with no retry that will fire in time: none scheduled and untouched for
        ten minutes, a retry overdue by a minute, or one due beyond the schedule's longest step."""
        longest = max(float(x) for x in self.args.schedule.split(","))
        q = sa.text("""
            SELECT count(*) FROM deliveries d LEFT JOIN delivery_retries r ON r.delivery_id = d.id
            WHERE d.status = 'pending' AND (
                (r.delivery_id IS NULL AND d.updated_at < now() - interval '10 minutes')
             OR r.due_at < now() - interval '1 minute'
             OR r.due_at > now() + make_interval(secs => :far))""").bindparams(far=longest * 1.5 + 600)
        return int(self.scalar(q))

    def report(self, label: str, accepted: list[str], trend: list[dict[str, Any]]) -> None:
        ports = _tcp_remote_ports()
        row: dict[str, Any] = {"at_s": round(time.monotonic() - STARTED), "phase": label, **self.figures(accepted),
                               "processes": {name: resources(p.pid, ports) for name, p in self.procs},
                               "soak": resources(os.getpid(), ports)}
        trend.append(row)
        procs = "  ".join(f"{n}:{r['rss_mib']:.0f}M/{r['fds']}fd/{r['db']}db" for n, r in row["processes"].items())
        say(f"{label}: accepted {row['accepted']}, pending {row['pending']}, stranded {row['stranded']}, "
            f"outbox {row['outbox']} | {procs}")

    def trouble(self) -> dict[str, int]:
        text = "\n".join(p.read_text(errors="replace") for p in self.tmp.glob("*.log"))
        return {t: text.count(t) for t in TROUBLE if t in text}

    def close(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        keep = self.args.logs
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            for log in self.tmp.glob("*.log"):
                shutil.copy(log, Path(keep) / log.name)
        if self.hub is not None:
            self.hub.store.engine.dispose()
            try:
                self.hub.delete_topology()
            except Exception as exc:  # noqa: BLE001 - reported; the rest is still cleaned up
                say(f"could not delete the topology: {exc!r}")
        with self.admin.connect() as c:
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
                      {"d": self.db})
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db}"'))
        self.admin.dispose()
        self.operator.receiver.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def go(self) -> int:
        args = self.args
        assert self.hub is not None
        port = args.port
        self.start("api", "--port", str(port))
        for kind in ("router", "router", "dispatcher", "dispatcher", "status"):
            self.start(kind)
        self.start("scheduler", "--interval", "30")
        self.department = Department(self.hub)
        self.department.start()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            self.check_alive()
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not answer within 60 s")
            time.sleep(0.3)
        time.sleep(3)  # routers and dispatchers connect
        channels = Channels(self.hub, url)
        trend: list[dict[str, Any]] = []
        last = [time.monotonic()]

        def tick() -> None:
            self.check_alive()
            if time.monotonic() - last[0] >= args.interval:
                last[0] = time.monotonic()
                self.report("load", channels.accepted, trend)

        say(f"load: {args.rate}/s for {args.minutes} min; {FLAPPING} answers 503 every other {args.flap:.0f} s")
        channels.stream(args.rate, args.minutes * 60, tick)
        say(f"quiet for {args.quiet:.0f} s")
        quiet_end = time.monotonic() + args.quiet
        while time.monotonic() < quiet_end:
            time.sleep(1)
            tick()
        say("a last burst after the quiet spell")
        channels.stream(args.rate, 10, tick)
        channels.close()
        say(f"settling (up to {args.settle:.0f} s)")
        settle_end = time.monotonic() + args.settle
        while time.monotonic() < settle_end:
            tick()
            f = self.figures(channels.accepted)
            if f["pending"] == 0 and f["unrouted"] == 0 and f["outbox"] == 0:
                break
            time.sleep(1)
        time.sleep(3)  # the department's last acks
        self.report("end", channels.accepted, trend)
        return self.verdict(channels, trend)

    def verdict(self, channels: Channels, trend: list[dict[str, Any]]) -> int:
        ours = set(channels.accepted)
        with self.hub.store.engine.connect() as c:  # type: ignore[union-attr]
            rows = c.execute(sa.select(deliveries.c.id, deliveries.c.complaint_id, deliveries.c.status)).all()
            far = c.execute(sa.select(sa.func.count()).select_from(delivery_retries)).scalar_one()
        expected = {r.id for r in rows if r.complaint_id in ours}
        seen = Counter(self.operator.accepted) + Counter(self.department.seen)
        statuses = Counter(r.status for r in rows if r.complaint_id in ours)
        result = {
            "minutes": self.args.minutes, "rate": self.args.rate,
            "offered": channels.sent, "accepted": len(ours), "post_failures": dict(channels.failed),
            "expected": len(expected), "delivered": len(expected & set(seen)),
            "duplicates": sum(n - 1 for k, n in seen.items() if k in expected),
            "unexpected": len(set(seen) - expected),
            "stranded": self.stranded(),
            "still_pending": statuses.get("pending", 0), "dead": statuses.get("dead", 0),
            "retries_waiting": far, "flapping_503s": self.operator.refused,
            "log_trouble": self.trouble(),
            "resources_first_last": {name: [trend[0]["processes"][name], trend[-1]["processes"][name]]
                                     for name, _ in self.procs} if trend else {},
        }
        say("resource trend per interval (RSS MiB / fds / DB connections):")
        for name, _ in self.procs:
            say(f"  {name:<13} " + "  ".join(f"{t['processes'][name]['rss_mib']:.0f}/{t['processes'][name]['fds']}"
                                              f"/{t['processes'][name]['db']}" for t in trend))
        print(json.dumps(result, ensure_ascii=False), flush=True)
        bad = (result["stranded"] or result["still_pending"] or result["duplicates"] or result["delivered"] != result["expected"]
               or result["dead"] or any(k in result["log_trouble"] for k in TROUBLE[:4]))
        return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=15.0, help="minutes of load")
    p.add_argument("--rate", type=float, default=10.0, help="complaints offered per second")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between resource reports")
    p.add_argument("--quiet", type=float, default=100.0, help="idle seconds after the load, before a last burst")
    p.add_argument("--settle", type=float, default=600.0, help="longest wait for every delivery to settle")
    p.add_argument("--flap", type=float, default=60.0, help="PLN answers 503 in every other window this long")
    p.add_argument("--schedule", default="5,15,30,60,60,60,60,60",
                   help="LAPORHUB_WEBHOOK_SCHEDULE for the run (seconds between long retries)")
    p.add_argument("--port", type=int, default=18431, help="the API's port")
    p.add_argument("--logs", help="copy the processes' logs to this directory at the end")
    args = p.parse_args(argv)
    logging.getLogger("amqp").setLevel(logging.ERROR)  # the department's channel closing at the end
    soak = Soak(args)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        return soak.go()
    finally:
        soak.close()


if __name__ == "__main__":
    sys.exit(main())
