"""One broker identity per department (`laporhub broker provision`): a RabbitMQ user per queue
destination that may read only its own queue and publish only to the status exchange, where
it must say who it is (AMQP user_id, which RabbitMQ checks against the login).

Two ways to reach the broker's user administration: its management HTTP API (a broker of its
own elsewhere), or `rabbitmqctl` on the broker's host (no plugin needed)."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import requests
from kombu import Connection

from hub.core.errors import BrokerAdminError
from hub.core.destinations import Registry
from hub.infra.bus import Topology


class Administration(Protocol):
    def users(self) -> set[str]: ...
    def add_user(self, name: str, password: str) -> None: ...
    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None: ...
    def delete_user(self, name: str) -> None: ...


@dataclass
class ManagementAPI:
    """RabbitMQ's management plugin over HTTP, e.g. http://broker:15672 with an administrator."""

    url: str
    user: str
    password: str
    session: Any = None
    timeout: float = 10.0

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        http = self.session or requests
        answer = http.request(method, f"{self.url.rstrip('/')}/api/{path}", json=body,
                              auth=(self.user, self.password), timeout=self.timeout)
        if answer.status_code >= 400 and not (method == "DELETE" and answer.status_code == 404):
            raise BrokerAdminError(f"{method} /api/{path}: HTTP {answer.status_code} {answer.text[:200]}")
        return answer.json() if answer.content and method == "GET" else None

    def users(self) -> set[str]:
        return {u["name"] for u in self._call("GET", "users")}

    def add_user(self, name: str, password: str) -> None:
        self._call("PUT", f"users/{quote(name, safe='')}", {"password": password, "tags": ""})

    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        self._call("PUT", f"permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
                   {"configure": configure, "write": write, "read": read})

    def delete_user(self, name: str) -> None:
        self._call("DELETE", f"users/{quote(name, safe='')}")


@dataclass
class Rabbitmqctl:
    """`rabbitmqctl` on the broker's host (the command may carry -n NODE, and `env` a HOME with
    the node's Erlang cookie)."""

    command: tuple[str, ...] = ("rabbitmqctl",)
    env: dict[str, str] | None = None

    def _run(self, *args: str) -> str:
        done = subprocess.run([*self.command, "-q", *args], capture_output=True, text=True, timeout=120, env=self.env)
        if done.returncode != 0:
            raise BrokerAdminError(f"rabbitmqctl {args[0]}: {(done.stderr or done.stdout).strip()[:300]}")
        return done.stdout

    def users(self) -> set[str]:
        return {u["user"] for u in json.loads(self._run("list_users", "--formatter", "json") or "[]")}

    def add_user(self, name: str, password: str) -> None:
        # `--`: a generated password may begin with "-" (token_urlsafe), which rabbitmqctl would
        # otherwise read as options and refuse.
        self._run("add_user", "--", name, password)

    def set_permissions(self, vhost: str, user: str, configure: str, write: str, read: str) -> None:
        self._run("set_permissions", "-p", vhost, user, configure, write, read)

    def delete_user(self, name: str) -> None:
        try:
            self._run("delete_user", name)
        except BrokerAdminError as exc:
            if "does not exist" not in str(exc) and "no_such_user" not in str(exc):
                raise


@dataclass(frozen=True)
class Grant:
    """What one department's user may do (RabbitMQ permission patterns, per vhost)."""

    destination: str
    user: str
    queue: str
    configure: str
    write: str
    read: str


@dataclass(frozen=True)
class Provisioned:
    grant: Grant
    password: str | None  # only for a user made now (shown once); None when it existed


def grants(topo: Topology, registry: Registry) -> list[Grant]:
    """A user per queue destination: read its own queue, write only to the status exchange,
    configure nothing (it consumes a queue the hub declared)."""
    status = f"^{re.escape(topo.exchange('status').name)}$"
    found = []
    for dest in registry:
        if dest.adapter != "queue":
            continue
        queue = topo.department_queue(dest.id, dest.options.get("queue")).name
        found.append(Grant(dest.id, topo.user(dest.id), queue, "^$", status, f"^{re.escape(queue)}$"))
    return found


def vhost_of(broker_url: str) -> str:
    with Connection(broker_url.split(";")[0]) as conn:
        return conn.virtual_host or "/"


def provision(broker_url: str, topo: Topology, registry: Registry, admin: Administration,
              only: list[str] | None = None, reset: bool = False) -> list[Provisioned]:
    """Idempotent: a missing user is made with a new password (returned once), an existing one
    keeps its password (unless `reset`) and gets its permissions set again."""
    vhost = vhost_of(broker_url)
    existing = admin.users()
    done = []
    for grant in grants(topo, registry):
        if only and grant.destination not in only:
            continue
        password = None
        if grant.user not in existing or reset:
            password = secrets.token_urlsafe(24)
            admin.add_user(grant.user, password) if grant.user not in existing else _reset(admin, grant.user, password)
        admin.set_permissions(vhost, grant.user, grant.configure, grant.write, grant.read)
        done.append(Provisioned(grant, password))
    return done


def _reset(admin: Administration, user: str, password: str) -> None:
    if isinstance(admin, Rabbitmqctl):
        admin._run("change_password", "--", user, password)
    else:
        admin.add_user(user, password)  # PUT /api/users/{name} replaces the password
