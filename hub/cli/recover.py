"""`laporhub recover` and `laporhub attempts`: the portal's Svix-style tools from a shell, for an
administrator after a destination's outage."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import Any

from hub.cli.common import actor, hub_of, print_json
from hub.core.errors import FieldError, InvalidMessage
from hub.infra.outbox import relay
from hub.pipeline import attempts, recover


def _since(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidMessage("arguments", [FieldError("--since", f"{text!r} is not an ISO 8601 time")]) from None
    return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)


def cmd_recover(args: argparse.Namespace) -> int:
    hub = hub_of(args)
    dest = hub.config.registry.get(args.destination).id
    since = _since(args.since)
    found = recover.preview(hub.store, dest, since)
    for d in found["deliveries"]:
        print(f"{d['failed_at']}  {d['status']:<8} {d['id']}  {d['last_error'] or ''}")
    print(f"{found['count']} failed deliveries of {dest} since {found['since']} "
          f"({found['dead']} dead, {found['failing']} waiting for a retry)", file=sys.stderr)
    if not args.yes or not found["count"]:
        if found["count"]:
            print("re-send them with --yes (and --reason)", file=sys.stderr)
        return 0
    done = recover.recover(hub.store, dest, since, actor=actor(args), reason=args.reason, expected=found["count"])
    with hub.bus() as bus:
        relay(hub.store, bus, message_ids=done.pop("message_ids"))
    print_json(done)
    return 0


def cmd_attempts(args: argparse.Namespace) -> int:
    hub = hub_of(args)
    for a in attempts.log(hub.store, hub.config.registry.get(args.destination).id, args.limit):
        took = f"{a['duration_ms']:.0f} ms" if a["duration_ms"] is not None else "-"
        print(f"{a['at']}  {a['outcome']:<9} {a['status_code'] or '-':<4} {took:>8}  {a['delivery_id']}  "
              f"{(a['response'] or a['detail']).splitlines()[0][:80] if (a['response'] or a['detail']) else ''}")
    return 0


def add_commands(sub: Any) -> None:
    s = sub.add_parser("recover", help="re-send a destination's failed deliveries since a time (Svix-style)")
    s.add_argument("destination")
    s.add_argument("--since", required=True, help="ISO 8601, e.g. 2026-12-07T02:00:00+07:00")
    s.add_argument("--yes", action="store_true", help="re-send them (without it: only count and list)")
    s.add_argument("--reason", default="recover after the destination's outage", help="kept in the audit")
    s.set_defaults(fn=cmd_recover)
    s = sub.add_parser("attempts", help="a destination's attempt log: time, outcome, HTTP status, duration, answer")
    s.add_argument("destination")
    s.add_argument("--limit", type=int, default=50)
    s.set_defaults(fn=cmd_attempts)
