"""`laporhub broker provision`: a RabbitMQ user per department (hub/admin/broker.py), through the
management HTTP API when its address is given, else `rabbitmqctl` on this host."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from kombu import Connection

from hub.admin import broker
from hub.cli.common import settings_of
from hub.core.errors import NotConfigured
from hub.infra.bus import Topology
from hub.settings import files


def admin_of(args: argparse.Namespace, broker_url: str) -> broker.Administration:
    url = args.management_url or os.environ.get("LAPORHUB_BROKER_MANAGEMENT_URL")
    if not url:
        return broker.Rabbitmqctl()
    with Connection(broker_url.split(";")[0]) as conn:  # the hub's own user, unless told otherwise
        user, password = conn.userid, conn.password
    return broker.ManagementAPI(url, os.environ.get("LAPORHUB_BROKER_MANAGEMENT_USER") or user,
                                os.environ.get("LAPORHUB_BROKER_MANAGEMENT_PASSWORD") or password)


def cmd_provision(args: argparse.Namespace) -> int:
    settings = settings_of(args, embedded=True)
    if settings.embedded:
        raise NotConfigured("LAPORHUB_BROKER_URL is not set: there is no broker to make users on")
    cfg, _ = files.load(settings.config_dir)
    assert cfg is not None
    done = broker.provision(settings.broker_url, Topology(settings.bus_prefix), cfg.registry,
                            admin_of(args, settings.broker_url), args.destination, args.reset_password)
    if args.json:
        print(json.dumps([{"destination": p.grant.destination, "user": p.grant.user, "queue": p.grant.queue,
                           "password": p.password} for p in done], indent=2))
        return 0
    for p in done:
        made = f"made, password (shown once): {p.password}" if p.password else "exists, password unchanged"
        print(f"{p.grant.user:<50} reads {p.grant.queue}; {made}")
    print(f"{len(done)} department users; each may read only its queue and publish only to "
          f"{settings.bus_prefix}.status, with user_id set to itself", file=sys.stderr)
    return 0


def add_commands(sub: Any) -> None:
    b = sub.add_parser("broker", help="broker users: one per department").add_subparsers(dest="broker_cmd", required=True)
    s = b.add_parser("provision", help="make (idempotently) a RabbitMQ user per queue destination")
    s.add_argument("--management-url", help="RabbitMQ management API (default $LAPORHUB_BROKER_MANAGEMENT_URL; "
                                            "without it: rabbitmqctl on this host)")
    s.add_argument("--destination", action="append", help="only these destinations (repeatable)")
    s.add_argument("--reset-password", action="store_true", help="give existing users a new password too")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_provision)
