"""What every `laporhub` command shares: settings and the hub from the command line, the actor
named in the audit, JSON output, and one way of reporting the hub's errors (exit code 2)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from hub.cli import database
from hub.core.errors import LaporHubError, NotConfigured
from hub.infra import logs
from hub.settings import secrets
from hub.settings.environment import Settings
from hub.settings.runtime import Hub


def settings_of(args: argparse.Namespace, embedded: bool = False) -> Settings:
    """The environment's settings (and --config). Only `serve` and `demo` are `embedded`: any other
    command without LAPORHUB_DATABASE_URL is refused rather than given ./laporhub.db."""
    return Settings.from_env(embedded=embedded, config_dir=getattr(args, "config", None))


def hub_of(args: argparse.Namespace, embedded: bool = False, process: bool = False) -> Hub:
    """The hub, its store's schema checked (behind the migrations' head: refused, naming the
    command). A `process` (api, router, dispatcher, status, scheduler) also needs a real broker:
    on the in-process bus it would reach nobody outside itself."""
    settings = settings_of(args, embedded)
    logs.configure(settings.log_level)
    if process and settings.embedded:
        raise NotConfigured("LAPORHUB_BROKER_URL is not set: on the in-process bus this process would "
                            "reach nobody outside itself (amqp://user:password@host:5672/vhost, or "
                            "`laporhub serve` to run every process in one)")
    return Hub.create(settings, prepare=database.check)


def serving_hub(args: argparse.Namespace, embedded: bool = False, process: bool = False) -> Hub:
    """The hub for a long-running process: refuses (SecretsError, exit 2) while a webhook
    destination's secrets are unset, empty or shipped dev defaults (issue 11)."""
    hub = hub_of(args, embedded, process)
    secrets.check(hub.config.registry, hub.settings)
    return hub


def actor(args: argparse.Namespace) -> str:
    return f"cli:{getattr(args, 'actor', None) or getpass.getuser()}"


def print_json(doc: Any) -> None:
    print(json.dumps(doc, ensure_ascii=False, indent=2))


def handle_error(exc: LaporHubError) -> int:
    problems = getattr(exc, "problems", None)
    print(f"error: {exc}", file=sys.stderr)
    for p in problems or []:
        print(f"  {p}", file=sys.stderr)
    return 2
