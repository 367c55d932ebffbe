"""`laporhub` commands for personal data and secrets (issue 11): erase a reporter on request,
the transfer allow-list, and the secrets a production hub needs."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hub.admin import erasure
from hub.aftercare import transfers
from hub.cli.common import actor, hub_of, print_json
from hub.settings import secrets


def cmd_erase_reporter(args: argparse.Namespace) -> int:
    hub = hub_of(args)
    result = erasure.erase(hub.store, actor=actor(args), reason=args.reason, phone=args.phone,
                           email=args.email, complaint_ids=args.complaint or ())
    print_json(result)
    return 0 if result["erased"] or not result["unknown"] else 1


def cmd_transfers_list(args: argparse.Namespace) -> int:
    hub = hub_of(args)
    with hub.store.engine.connect() as conn:
        print_json(transfers.listing(conn))
    return 0


def cmd_transfers_allow(args: argparse.Namespace) -> int:
    hub = hub_of(args)
    unknown = [d for d in args.destination if d not in hub.config.registry]
    if unknown:
        print(f"error: unknown destination(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    with hub.store.begin() as conn:
        print_json(transfers.replace(conn, args.category, args.destination, actor=actor(args), reason=args.reason))
    return 0


def cmd_secrets_new_key(args: argparse.Namespace) -> int:
    print(secrets.new_key())
    return 0


def cmd_secrets_check(args: argparse.Namespace) -> int:
    hub = hub_of(args)
    found = secrets.problems(hub.config.registry, hub.settings)
    for line in found:
        print(line, file=sys.stderr)
    print(f"{len(found)} problem(s)" if found else "ok: every webhook destination has its own secrets")
    return 1 if found else 0


def add_commands(sub: Any) -> None:
    c = sub.add_parser("complaints", help="personal data in stored complaints").add_subparsers(
        dest="complaints_cmd", required=True)
    s = c.add_parser("erase-reporter", help="erase a reporter's personal data on request (UU PDP)")
    s.add_argument("--phone", help="every complaint whose reporter has this phone number")
    s.add_argument("--email", help="every complaint whose reporter has this e-mail address")
    s.add_argument("--complaint", action="append", help="a complaint id (repeatable)")
    s.add_argument("--reason", required=True, help="the request's reference; kept in the audit")
    s.add_argument("--actor", help="who asks (default: the login name)")
    s.set_defaults(fn=cmd_erase_reporter)

    t = sub.add_parser("transfers", help="where destinations may transfer complaints").add_subparsers(
        dest="transfers_cmd", required=True)
    t.add_parser("list", help="the allow-list by category").set_defaults(fn=cmd_transfers_list)
    s = t.add_parser("allow", help="set a category's allow-list (besides what the rules permit)")
    s.add_argument("category", help="a category id, or * for every category")
    s.add_argument("destination", nargs="*", help="destination ids (none clears the list)")
    s.add_argument("--reason", required=True)
    s.add_argument("--actor")
    s.set_defaults(fn=cmd_transfers_allow)

    k = sub.add_parser("secrets", help="webhook secrets and the key that seals them").add_subparsers(
        dest="secrets_cmd", required=True)
    k.add_parser("new-key", help="print a new LAPORHUB_SECRET_KEY (Fernet)").set_defaults(fn=cmd_secrets_new_key)
    k.add_parser("check", help="which webhook destinations still lack their own secrets").set_defaults(
        fn=cmd_secrets_check)
