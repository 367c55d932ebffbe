"""What every `laporhub` command shares: settings and the hub from the command line, the actor
named in the audit, JSON output, and one way of reporting the hub's errors (exit code 2)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from hub.core.errors import LaporHubError
from hub.infra import logs
from hub.settings import secrets
from hub.settings.environment import Settings
from hub.settings.runtime import Hub


def settings_of(args: argparse.Namespace) -> Settings:
    return Settings.from_env(config_dir=getattr(args, "config", None))


def hub_of(args: argparse.Namespace) -> Hub:
    logs.configure()
    return Hub.create(settings_of(args))


def serving_hub(args: argparse.Namespace) -> Hub:
    """The hub for a long-running process: refuses (SecretsError, exit 2) while a webhook
    destination's secrets are unset, empty or shipped dev defaults (issue 11)."""
    hub = hub_of(args)
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
