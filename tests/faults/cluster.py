"""A three-node RabbitMQ cluster of our own, started as ordinary processes beside the machine's
broker (which is left alone): own node names, ports, data directories and Erlang cookie.

What matters when doing this on a Debian RabbitMQ is in ../shared/notes/rabbitmq-cluster.md: the
scripts in /usr/lib/rabbitmq/bin run as the caller (the /usr/sbin wrappers switch to the
`rabbitmq` user and its cookie), each node needs its own env and config files so the machine's
(node name, 5672 listener) are not read, and `rabbitmqctl wait <pidfile>` is how to wait.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SCRIPTS = Path(os.environ.get("LAPORHUB_RABBITMQ_SCRIPTS", "/usr/lib/rabbitmq/bin"))


def available() -> str | None:
    """Why a cluster cannot be started here, or None when it can."""
    for script in ("rabbitmq-server", "rabbitmqctl"):
        if not (SCRIPTS / script).exists():
            return f"{SCRIPTS / script} not found (RabbitMQ's own scripts, Debian package rabbitmq-server)"
    return None


def free_ports(n: int) -> list[int]:
    """n ports nothing listens on now (the kernel's choice, then released)."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


@dataclass
class Node:
    name: str  # e.g. lh1-3f2a@localhost
    amqp_port: int
    dist_port: int
    management_port: int | None
    home: Path

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}//"

    @property
    def pid_file(self) -> Path:
        return self.home / "node.pid"

    def pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


@dataclass
class Cluster:
    """`with Cluster(tmp) as cluster:` starts and joins three nodes; leaving stops them all."""

    base: Path
    size: int = 3
    management: bool = False  # the HTTP API on the first node (its port: nodes[0].management_port)
    nodes: list[Node] = field(default_factory=list)
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def __post_init__(self) -> None:
        self.base = Path(self.base) / f"rabbit-{self.tag}"
        self.home = self.base / "home"  # holds the cluster's own Erlang cookie
        ports = free_ports(self.size * 3)
        for i in range(self.size):
            self.nodes.append(Node(f"lh{i + 1}-{self.tag}@localhost", ports[3 * i], ports[3 * i + 1],
                                   ports[3 * i + 2] if self.management and i == 0 else None,
                                   self.base / f"node{i + 1}"))

    # -- environment -----------------------------------------------------------------------

    def env(self, node: Node) -> dict[str, str]:
        """Everything that points a node (and rabbitmqctl talking to it) away from the machine's
        broker: node name, ports, files, cookie."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        return {**keep, "HOME": str(self.home),
                "RABBITMQ_NODENAME": node.name, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(node.amqp_port), "RABBITMQ_DIST_PORT": str(node.dist_port),
                "RABBITMQ_CONF_ENV_FILE": str(node.home / "rabbitmq-env.conf"),
                "RABBITMQ_CONFIG_FILE": str(node.home / "rabbitmq.conf"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(node.home / "advanced.config"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(node.home / "enabled_plugins"),
                "RABBITMQ_MNESIA_BASE": str(node.home / "mnesia"),
                "RABBITMQ_LOG_BASE": str(node.home / "log"),
                "RABBITMQ_PID_FILE": str(node.pid_file),
                "ERL_EPMD_ADDRESS": "127.0.0.1"}

    def _write_files(self, node: Node) -> None:
        (node.home / "mnesia").mkdir(parents=True, exist_ok=True)
        (node.home / "log").mkdir(exist_ok=True)
        (node.home / "rabbitmq-env.conf").write_text("")
        conf = [f"listeners.tcp.default = 127.0.0.1:{node.amqp_port}",
                "loopback_users.guest = true",
                # The test machine's disk may be fuller than RabbitMQ's 50 MB default alarm allows
                # for three more nodes; memory likewise is shared with the machine's services.
                "disk_free_limit.absolute = 10MB",
                "vm_memory_high_watermark.relative = 0.2"]
        if node.management_port:
            conf += [f"management.tcp.port = {node.management_port}", "management.tcp.ip = 127.0.0.1"]
        (node.home / "rabbitmq.conf").write_text("\n".join(conf) + "\n")
        (node.home / "advanced.config").write_text("[].\n")
        plugins = "[rabbitmq_management]." if node.management_port else "[]."
        (node.home / "enabled_plugins").write_text(plugins + "\n")

    def ctl(self, node: Node, *args: str, timeout: float = 120, check: bool = True) -> str:
        done = subprocess.run([str(SCRIPTS / "rabbitmqctl"), "-n", node.name, "-q", *args],
                              env=self.env(node), capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {node.name}: {done.stderr or done.stdout}")
        return done.stdout

    # -- life ------------------------------------------------------------------------------

    def start(self) -> "Cluster":
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(uuid.uuid4().hex.upper())
        cookie.chmod(0o400)
        try:
            for node in self.nodes:
                self._write_files(node)
                self.start_node(node)
            for node in self.nodes[1:]:
                self.ctl(node, "stop_app")
                self.ctl(node, "join_cluster", self.nodes[0].name)
                self.ctl(node, "start_app")
            running = self.ctl(self.nodes[0], "cluster_status", "--formatter", "json")
            missing = [n.name for n in self.nodes if n.name not in running]
            if missing:
                raise RuntimeError(f"nodes not in the cluster: {missing}")
        except BaseException:
            self.stop()
            raise
        return self

    def start_node(self, node: Node) -> None:
        """Start (or restart) one node and wait until it runs."""
        def raise_limits() -> None:  # the machine's broker runs with 1,024 open files: not enough
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

        subprocess.run([str(SCRIPTS / "rabbitmq-server"), "-detached"], env=self.env(node), check=True,
                       timeout=60, capture_output=True, preexec_fn=raise_limits)
        deadline = time.monotonic() + 30
        while not node.pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.ctl(node, "wait", str(node.pid_file), "--timeout", "120", timeout=150)

    def kill9(self, node: Node) -> None:
        """The node dies at once, as on a power cut: no goodbye to its clients or its peers."""
        pid = node.pid()
        assert pid is not None, f"{node.name} has no pid file"
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while node.alive() and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop every node still running, all at once (kill what does not stop in a minute),
        then remove the files."""
        stopping = [subprocess.Popen([str(SCRIPTS / "rabbitmqctl"), "-n", node.name, "-q", "stop", str(node.pid_file)],
                                     env=self.env(node), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for node in self.nodes if node.alive()]
        for proc in stopping:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for node in self.nodes:
            if node.alive():
                os.kill(node.pid() or 0, signal.SIGKILL)
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what clients use ------------------------------------------------------------------

    @property
    def failover_url(self) -> str:
        """Every node, `;`-separated: kombu tries them in turn and moves on when one is gone."""
        return ";".join(n.url for n in self.nodes)

    def url_starting_at(self, node: Node) -> str:
        """The failover list beginning with `node`, so a client connects there first."""
        i = self.nodes.index(node)
        return ";".join(n.url for n in self.nodes[i:] + self.nodes[:i])

    def connections_on(self, node: Node) -> list[str]:
        """Names of the client connections a running node holds (its `list_connections`)."""
        return [line for line in self.ctl(node, "list_connections", "name").splitlines() if line.strip()]

    def quorum_members(self, queue: str, vhost: str = "/") -> list[str]:
        """The nodes a quorum queue is replicated on."""
        for node in self.nodes:
            if node.alive():
                out = self.ctl(node, "list_queues", "-p", vhost, "name", "type", "members", "--formatter", "json")
                for row in json.loads(out):
                    if row["name"] == queue:
                        return list(row["members"])
                return []
        return []
