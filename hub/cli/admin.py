"""`laporhub keys …`, `laporhub routing …` and `laporhub changes`: administration from a shell,
working on the store directly (the same store the API uses; set LAPORHUB_DATABASE_URL)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from hub.admin import keys
from hub.admin.keys import ROLES
from hub.cli.common import actor as _actor
from hub.cli.common import hub_of as _hub
from hub.cli.common import print_json as _print
from hub.infra.outbox import relay
from hub.settings import audit, versions, workers
from hub.settings.versions import errors_of


def bootstrap_admin(hub: Any, url: str = "http://<host>:<port>/admin", out: TextIO = sys.stdout,
                    actor: str = "laporhub serve", path: Path | None = None) -> str | None:
    """On a store with no admin key, make one so a fresh hub can be signed into (the console at
    `url`). The key goes to a file only its owner can read (LAPORHUB_FIRST_KEY_FILE, default
    ./laporhub-first-admin-key), never to stdout, which ends up in logs (issue 11); stdout says where."""
    if keys.any_admin(hub.store):
        return None
    issued = keys.create(hub.store, "first administrator", "admin", actor=actor,
                         reason="bootstrap: the store had no admin key")
    path = path or Path(os.environ.get("LAPORHUB_FIRST_KEY_FILE") or "laporhub-first-admin-key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(issued.secret + "\n")
    os.chmod(path, 0o600)
    print(f"\n  No administrator key existed, so one was made and written to {path.resolve()}\n"
          f"  (readable only by you). Sign in at {url} with it, make personal keys\n"
          "  (Keys page or `laporhub keys create`), revoke this one and delete the file.\n", file=out, flush=True)
    return issued.secret


def cmd_keys_bootstrap(args: argparse.Namespace) -> int:
    """The first administrator key, once (compose's one-shot `bootstrap` service)."""
    hub = _hub(args)
    if bootstrap_admin(hub, f"{hub.settings.public_url.rstrip('/')}/admin", actor="laporhub keys bootstrap") is None:
        print("an administrator key exists already: none made", file=sys.stderr)
    return 0


# -- keys --------------------------------------------------------------------------------------

def cmd_keys_create(args: argparse.Namespace) -> int:
    issued = keys.create(_hub(args).store, args.name, args.role, args.scope, actor=_actor(args),
                         reason=args.reason or "created with laporhub keys create")
    print(f"created key {issued.id} ({issued.role}{' for ' + issued.scope if issued.scope else ''}, "
          f"{issued.name}). Store it now; it is not shown again:", file=sys.stderr)
    print(issued.secret)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    for k in keys.listing(_hub(args).store, include_revoked=args.all):
        state = f"revoked {k['revoked_at']}" if k["revoked_at"] else "active"
        print(f"{k['id']}  {k['role']:<11} {k['scope'] or '-':<28} {state:<8} {k['name']}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    issued = keys.rotate(_hub(args).store, args.id, actor=_actor(args), reason=args.reason)
    print(f"key {args.id} is revoked; its replacement is {issued.id}. Store it now:", file=sys.stderr)
    print(issued.secret)
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    keys.revoke(_hub(args).store, args.id, actor=_actor(args), reason=args.reason)
    print(f"key {args.id} revoked")
    return 0


# -- routing versions --------------------------------------------------------------------------

def _problems_out(problems: list[Any]) -> int:
    for p in problems:
        print(p, file=sys.stderr if p.severity == "error" else sys.stdout)
    return 1 if errors_of(problems) else 0


def cmd_routing_list(args: argparse.Namespace) -> int:
    listing = versions.listing(_hub(args).store)
    for v in listing["versions"]:
        print(f"{v['label']:<6} {v['status']:<9} {v['rules']:>3} rules  {v['created_at']}  "
              f"{v['created_by']}  {v['note']}")
    return 0


def cmd_routing_show(args: argparse.Namespace) -> int:
    print(versions.get(_hub(args).store, args.version)["yaml"], end="")
    return 0


def _read(path: str) -> Any:
    doc, problems = versions.parse(Path(path).read_text(encoding="utf-8"))
    if problems:
        raise versions.RoutingError(f"{path} is not valid YAML", problems)
    return doc


def cmd_routing_validate(args: argparse.Namespace) -> int:
    hub = _hub(args)
    doc = _read(args.file) if args.file else versions.get(hub.store, args.version)["document"]
    _, problems = versions.validate(doc, hub.config)
    code = _problems_out(problems)
    if not code:
        print("ok: no errors")
    return code


def cmd_routing_draft(args: argparse.Namespace) -> int:
    hub = _hub(args)
    vid = versions.save_draft(hub.store, _read(args.file), actor=_actor(args), note=args.note or "",
                              draft_id=args.replace)
    print(f"saved draft {versions.label(vid)} (id {vid})")
    _, problems = versions.validate(versions.get(hub.store, vid)["document"], hub.config)
    return _problems_out(problems)


def cmd_routing_preview(args: argparse.Namespace) -> int:
    hub = _hub(args)
    ruleset, problems = versions.validate(versions.get(hub.store, args.version)["document"], hub.config)
    if ruleset is None or versions.errors_of(problems):
        return _problems_out(problems)
    report = versions.preview(hub.store, hub.config, ruleset, limit=args.limit)
    if args.json:
        _print(report)
        return 0
    print(f"{report['changed']} of {report['examined']} recent complaints would go elsewhere under "
          f"{report['draft']} (published: {report['published']})")
    for m in report["moves"]:
        print(f"  {m['count']:>5}  {', '.join(m['from'])} -> {', '.join(m['to'])}")
        for x in m["examples"]:
            print(f"           e.g. {x['id']} {x['title'][:60]!r}")
    for r in report["by_rule"]:
        if r["changed"] or r["before"] != r["after"]:
            print(f"  rule {r['rule_id']}: matched {r['before']} before, {r['after']} after, {r['changed']} changed")
    return 0


def _announce(hub: Any, generation: int) -> None:
    """Publish the control message now (the API's relay would, a few seconds later)."""

    try:
        with hub.bus() as bus:
            relay(hub.store, bus, message_ids=[f"control:{generation}"])
    except Exception as exc:  # noqa: BLE001 - workers also poll the store
        print(f"warning: broadcast not sent ({exc}); workers pick the change up from the store "
              "within seconds", file=sys.stderr)


def cmd_routing_publish(args: argparse.Namespace, rollback: bool = False) -> int:
    hub = _hub(args)
    out = versions.publish(hub.store, args.version, hub.config, actor=_actor(args), reason=args.reason,
                           rollback=rollback)
    _announce(hub, out["generation"])
    print(f"published {out['label']} (was r{out['previous']})")
    return 0


def cmd_routing_rollback(args: argparse.Namespace) -> int:
    return cmd_routing_publish(args, rollback=True)


def cmd_routing_routers(args: argparse.Namespace) -> int:
    for w in workers.listing(_hub(args).store):
        print(f"{w['kind']:<10} {w['id']:<40} {w['routing_version'] or '-':<6} seen {w['seen_at']}"
              f"{'  (silent)' if w['stale'] else ''}")
    return 0


def cmd_changes(args: argparse.Namespace) -> int:
    for c in reversed(audit.changes(_hub(args).store, args.limit, args.target)):
        print(f"{c['at']}  {c['actor']:<36} {c['action']:<26} {c['target']:<24} {c['reason']}")
    return 0


def add_commands(sub: Any) -> None:
    """Add the administration commands to the `laporhub` parser."""

    keys = sub.add_parser("keys", help="API keys: create, list, rotate, revoke").add_subparsers(dest="keys_cmd", required=True)
    s = keys.add_parser("create", help="make a key and print it (the only time it is shown)")
    s.add_argument("--role", required=True, choices=list(ROLES), help="; ".join(f"{k}: {v}" for k, v in ROLES.items()))
    s.add_argument("--name", required=True, help="who or what uses the key")
    s.add_argument("--scope", help="the channel id (channel keys) or destination id (destination keys)")
    s.add_argument("--reason", help="kept in the audit")
    s.set_defaults(fn=cmd_keys_create)
    keys.add_parser("bootstrap", help="make the first administrator key if there is none, and print it once"
                    ).set_defaults(fn=cmd_keys_bootstrap)
    s = keys.add_parser("list", help="keys (never the keys themselves)")
    s.add_argument("--all", action="store_true", help="include revoked keys")
    s.set_defaults(fn=cmd_keys_list)
    for name, fn, what in (("rotate", cmd_keys_rotate, "replace a key (the old one stops working)"),
                           ("revoke", cmd_keys_revoke, "revoke a key")):
        s = keys.add_parser(name, help=what)
        s.add_argument("id")
        s.add_argument("--reason", required=True, help="kept in the audit")
        s.set_defaults(fn=fn)

    routing = sub.add_parser("routing", help="versioned routing rules in the store").add_subparsers(dest="routing_cmd", required=True)
    routing.add_parser("list", help="every version and its status").set_defaults(fn=cmd_routing_list)
    s = routing.add_parser("show", help="a version as YAML")
    s.add_argument("version", type=int)
    s.set_defaults(fn=cmd_routing_show)
    s = routing.add_parser("validate", help="the checks of `rules check`, on a file or a stored version")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--file")
    g.add_argument("--version", type=int)
    s.set_defaults(fn=cmd_routing_validate)
    s = routing.add_parser("draft", help="save a rules YAML file as a new draft")
    s.add_argument("file")
    s.add_argument("--note")
    s.add_argument("--replace", type=int, help="change this unpublished draft instead")
    s.set_defaults(fn=cmd_routing_draft)
    s = routing.add_parser("preview", help="which recent complaints a version would send elsewhere")
    s.add_argument("version", type=int)
    s.add_argument("--limit", type=int, default=1000)
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_routing_preview)
    for name, fn, what in (("publish", cmd_routing_publish, "publish a version to every router"),
                           ("rollback", cmd_routing_rollback, "publish an earlier version again")):
        s = routing.add_parser(name, help=what)
        s.add_argument("version", type=int)
        s.add_argument("--reason", required=True, help="kept in the audit")
        s.set_defaults(fn=fn)
    routing.add_parser("routers", help="running routers and dispatchers, and the version each runs").set_defaults(fn=cmd_routing_routers)

    s = sub.add_parser("changes", help="the audit of administrative changes")
    s.add_argument("--limit", type=int, default=50)
    s.add_argument("--target")
    s.set_defaults(fn=cmd_changes)

