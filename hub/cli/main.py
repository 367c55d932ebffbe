"""The `laporhub` command."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterator

from hub.aftercare import inbound, open311_sync, scheduler
from hub.aftercare.status import StatusConsumer
from hub.cli import broker as broker_cli
from hub.cli import classifier as classifier_cli
from hub.cli import database, demo
from hub.cli import privacy as privacy_cli
from hub.cli import reports as reports_cli
from hub.cli.admin import add_commands, bootstrap_admin
from hub.cli.common import handle_error
from hub.cli.common import hub_of as _hub
from hub.cli.common import serving_hub as _serving_hub
from hub.cli.common import settings_of as _settings
from hub.cli.mailgate import add_commands as mailgate_commands
from hub.cli.processes import address, run_api, run_worker, serve, stop_on_signals
from hub.cli.recover import add_commands as recover_commands
from hub.core import schemas
from hub.core import why
from hub.core.classify import classify
from hub.core.errors import ConfigError, InvalidMessage, LaporHubError
from hub.core.rules import decide
from hub.infra import logs
from hub.infra.bus import Topology
from hub.infra.outbox import relay
from hub.pipeline import attempts, backlog, deadletter, retry
from hub.pipeline.deadletter import INPUTS
from hub.pipeline.dispatcher import Dispatcher
from hub.pipeline.routing import Router
from hub.settings import files as config_mod


def _load_config(args: argparse.Namespace):
    cfg, _ = config_mod.load(args.config)
    return cfg


def read_batch(path: Path) -> Iterator[dict[str, Any]]:
    """A CSV with title and text columns, or JSON lines of complaints."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                yield {"title": row.get("title") or "", "text": row.get("text") or "", "channel": "batch",
                       **({"id": row["id"]} if row.get("id") else {})}
    else:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise LaporHubError(f"{path}:{n}: not valid JSON: {exc}") from None


def cmd_classify(args: argparse.Namespace) -> int:
    if args.file == "train":
        return classifier_cli.cmd_train(args)

    cfg = _load_config(args)
    for item in read_batch(Path(args.file)):
        result = classify(item, cfg.taxonomy, cfg.areas).as_dict()
        out = {k: result[k] for k in ("category", "confidence", "area", "urgency", "evidence")}
        if "id" in item or "external_ref" in item:
            out = {"id": item.get("id", item.get("external_ref")), **out}
        print(json.dumps(out, ensure_ascii=False))
    return 0


def cmd_rules_check(args: argparse.Namespace) -> int:
    cfg, problems = config_mod.load(args.config, strict=False)
    for p in problems:
        print(p, file=sys.stderr if p.severity == "error" else sys.stdout)
    errors = [p for p in problems if p.severity == "error"]
    if cfg is not None and not errors:
        print(f"ok: {len(cfg.ruleset.rules)} rules (version {cfg.ruleset.version}), "
              f"{len(cfg.registry)} destinations, {len(cfg.taxonomy.category_ids)} categories, "
              f"{len(cfg.areas.cities)} cities")
    return 1 if errors else 0


def cmd_rules_explain(args: argparse.Namespace) -> int:
    cfg = _load_config(args)
    complaint = json.loads(Path(args.file).read_text(encoding="utf-8"))
    schemas.validate("complaint", complaint)
    c = classify(complaint, cfg.taxonomy, cfg.areas)
    decision = decide(complaint, c, cfg.ruleset, cfg.registry, cfg.taxonomy)
    if args.json:
        print(json.dumps({"classification": c.as_dict(), "decision": decision.as_dict()}, ensure_ascii=False, indent=2))
        return 0
    area = c.area.as_dict() if c.area else None
    print(f"category:   {c.category} (confidence {c.confidence:.2f})")
    print(f"area:       {area['city'] + (' / ' + area['kecamatan'] if area['kecamatan'] else '') + ' from ' + area['source'] if area else 'unknown'}")
    print(f"urgency:    {c.urgency}")
    for line in why.lines(c):
        print(f"  {line['label'] + ':':<18}{line['text']}")
    print(f"rule set:   {decision.ruleset_version}; matched rules: {', '.join(decision.matched_rules) or 'none'}")
    for t in decision.targets:
        name = cfg.registry.get(t.destination).name
        print(f"send to:    {t.destination} ({name})\n            because {t.reason}")
    return 0


def cmd_subscribe(args: argparse.Namespace) -> int:
    """Show a department consuming its own queue, acking each message after printing it."""
    import socket

    from kombu import Connection, Consumer


    settings = _settings(args)
    cfg = _load_config(args)
    dest = cfg.registry.get(args.destination)
    if dest.adapter != "queue":
        raise LaporHubError(f"{dest.id} receives by {dest.adapter}, not by queue")
    queue = Topology(settings.bus_prefix).department_queue(dest.id, dest.options.get("queue"))
    seen = 0
    with Connection(settings.broker_url) as conn:
        queue(conn.default_channel).declare()

        def show(message: Any) -> None:
            nonlocal seen
            doc = json.loads(message.body)
            c = doc["classification"]
            print(json.dumps({"delivery_id": doc["delivery_id"], "complaint_id": doc["complaint_id"],
                              "category": c["category"], "urgency": c["urgency"],
                              "text": doc["complaint"]["text"][:200], "reason": doc["routing"]["reason"]},
                             ensure_ascii=False), flush=True)
            message.ack()
            seen += 1

        print(f"consuming {queue.name} on {conn.as_uri()} (Ctrl-C to stop)", file=sys.stderr)
        with Consumer(conn, queues=[queue], on_message=show, accept=None):
            try:
                while args.count is None or seen < args.count:
                    try:
                        conn.drain_events(timeout=args.timeout)
                    except socket.timeout:
                        if args.count is not None:
                            break
            except KeyboardInterrupt:
                pass
    return 0


def cmd_api(args: argparse.Namespace) -> int:
    run_api(_serving_hub(args, process=True), args.host, args.port)
    return 0


def cmd_router(args: argparse.Namespace) -> int:
    hub = _serving_hub(args, process=True)
    _serve_metrics(hub, args)
    run_worker(Router(hub))
    return 0


def cmd_dispatcher(args: argparse.Namespace) -> int:
    hub = _serving_hub(args, process=True)
    _serve_metrics(hub, args)
    run_worker(Dispatcher(hub, destinations=args.destination or None))
    return 0


def _serve_metrics(hub: Any, args: argparse.Namespace) -> None:
    if getattr(args, "metrics_port", None):

        backlog.serve(hub, args.metrics_port)


def cmd_serve(args: argparse.Namespace) -> int:
    hub = _serving_hub(args, embedded=True)
    bootstrap_admin(hub, url=f"{address(args.host, args.port)}/admin")
    serve(hub, args.host, args.port, sla_interval=None if args.no_scheduler else args.sla_interval)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    logs.configure("WARNING")
    # The demo runs on the shipped dev secrets and posts to a receiver on this machine.
    os.environ.setdefault("LAPORHUB_ALLOW_DEV_SECRETS", "1")
    os.environ.setdefault("LAPORHUB_ALLOW_PRIVATE_TARGETS", "127.0.0.0/8")
    return demo.run(sys.stdout)


# -- closing the loop: status consumer, SLA scheduler, hand-offs report -------------------------

def cmd_status(args: argparse.Namespace) -> int:
    hub = _serving_hub(args, process=True)
    _serve_metrics(hub, args)
    run_worker(StatusConsumer(hub))  # type: ignore[arg-type]
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    import threading


    hub = _serving_hub(args, process=not args.once)
    if args.once:
        with hub.bus() as bus:
            bus.declare(hub.delivery_queues())
            for b in scheduler.tick(hub, bus=bus):
                print(json.dumps(b.as_dict(), ensure_ascii=False))
        return 0
    stop = threading.Event()
    stop_on_signals(stop)
    _serve_metrics(hub, args)
    scheduler.run(hub, stop, interval=args.interval,
                  extra=[lambda: open311_sync.pull_all(hub), lambda: attempts.prune(hub.store),
                         lambda: inbound.prune(hub.store)])
    return 0


def add_lifecycle_commands(sub: Any) -> None:
    s = sub.add_parser("status", help="consume status updates from departments (the status queue)")
    s.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics and /readyz on this port")
    s.set_defaults(fn=cmd_status)
    s = sub.add_parser("scheduler", help="find SLA breaches and escalate each once per level; pull Open311 statuses")
    s.add_argument("--interval", type=float, default=60.0, help="seconds between passes")
    s.add_argument("--once", action="store_true", help="one pass, print what was escalated, exit")
    s.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics and /readyz on this port")
    s.set_defaults(fn=cmd_scheduler)
    reports_cli.add_commands(sub)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="laporhub", description="Routing and integration hub for citizen complaints.")
    p.add_argument("--config", help="configuration directory (default: $LAPORHUB_CONFIG_DIR, else the defaults shipped with the hub)")
    p.add_argument("--version", action="version", version=f"laporhub {version('laporhub')}")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("demo", help="run the hub end to end on sample complaints and show where each went").set_defaults(fn=cmd_demo)
    s = sub.add_parser("serve", help="API, router, dispatcher, status consumer and SLA scheduler in one process")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--no-scheduler", action="store_true",
                   help="do not run the SLA scheduler here (run `laporhub scheduler` elsewhere)")
    s.add_argument("--sla-interval", type=float, default=60.0, help="seconds between SLA scheduler passes")
    s.set_defaults(fn=cmd_serve)
    s = sub.add_parser("api", help="the HTTP API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(fn=cmd_api)
    s = sub.add_parser("router", help="consume intake, classify, route")
    s.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    s.set_defaults(fn=cmd_router)
    s = sub.add_parser("dispatcher", help="deliver through adapters")
    s.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    s.add_argument("--destination", action="append", help="only these destinations (repeatable)")
    s.set_defaults(fn=cmd_dispatcher)

    s = sub.add_parser("classify", help="classify a batch (CSV with title,text or JSON lines); "
                                        "`classify train` retrains the learned model from the store")
    s.add_argument("file", help="the batch, or `train`")
    classifier_cli.add_train_arguments(s)
    s.set_defaults(fn=cmd_classify)

    rules = sub.add_parser("rules", help="check or explain the routing rules").add_subparsers(dest="rules_cmd", required=True)
    rules.add_parser("check", help="validate the configuration; non-zero exit on errors").set_defaults(fn=cmd_rules_check)
    s = rules.add_parser("explain", help="where a complaint (JSON file) would go and why")
    s.add_argument("file")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_rules_explain)

    s = sub.add_parser("subscribe", help="consume a department's queue and print what arrives")
    s.add_argument("destination")
    s.add_argument("--count", type=int, help="stop after this many messages")
    s.add_argument("--timeout", type=float, default=5.0, help="with --count: give up after this many idle seconds")
    s.set_defaults(fn=cmd_subscribe)
    add_lifecycle_commands(sub)


    add_commands(sub)
    classifier_cli.add_commands(sub)
    privacy_cli.add_commands(sub)
    add_operations_commands(sub)
    recover_commands(sub)
    mailgate_commands(sub)
    database.add_commands(sub)
    broker_cli.add_commands(sub)
    return p


# -- operations (issue 4): dead letters, worker metrics -------------------------------------------

def cmd_dead(args: argparse.Namespace) -> int:
    hub = _hub(args)
    if args.dead_cmd == "list":
        rows = deadletter.list_(hub.store, stage=args.stage,
                                status=None if args.status == "all" else args.status, limit=args.limit)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        for r in [] if args.json else rows:
            print(f"{r['id']}  {r['dead_at']}  {r['stage']:<10} {r['status']:<8} "
                  f"{r['destination'] or r['complaint_id'] or '-'}  {r['reason'][:100]}")
        if not args.json:
            print(f"{len(rows)} dead letter(s)", file=sys.stderr)
    elif args.dead_cmd == "show":
        print(json.dumps(deadletter.show(hub.store, args.id), ensure_ascii=False, indent=2))
    elif args.dead_cmd == "replay":
        for dead_id in args.id:
            result = deadletter.replay(hub.store, dead_id)
            print(f"{dead_id}: {'replayed' if result['replayed'] else 'not replayed'}: {result['detail']}")
        _publish_now(hub)
    elif args.dead_cmd == "purge":
        if not args.yes:
            raise LaporHubError("purge forgets dead letters for good; add --yes to confirm")
        print(f"purged {deadletter.purge(hub.store, stage=args.stage, status=args.status)} dead letter(s)")
    return 0


def _publish_now(hub: Any) -> None:
    """Relay the outbox now; if the broker is down, any running API's relay publishes later."""

    try:
        with hub.bus() as bus:
            relay(hub.store, bus)
    except Exception as exc:  # noqa: BLE001 - the replay is committed either way
        print(f"note: not published yet ({exc}); a running `laporhub api` relays it", file=sys.stderr)


def cmd_endpoints(args: argparse.Namespace) -> int:
    hub = _hub(args)
    if args.endpoints_cmd == "enable":
        hub.config.registry.get(args.destination)
        retry.enable(hub.store, args.destination)
        print(f"{args.destination}: enabled")
        return 0
    for s in retry.states(hub.store):
        print(f"{s['destination']:<32} {s['status']:<9} since {s['failing_since'] or '-'}  {s['reason'] or ''}")
    print(f"{retry.waiting(hub.store)} delivery(ies) waiting for a retry", file=sys.stderr)
    return 0


def add_operations_commands(sub: Any) -> None:
    ep = sub.add_parser("endpoints", help="endpoints failing or disabled; re-enable one").add_subparsers(
        dest="endpoints_cmd", required=True)
    ep.add_parser("list", help="endpoints not in good health").set_defaults(fn=cmd_endpoints)
    s = ep.add_parser("enable", help="re-enable an endpoint disabled after HTTP 410")
    s.add_argument("destination")
    s.set_defaults(fn=cmd_endpoints)

    dead = sub.add_parser("dead", help="dead letters: list, show, replay, purge").add_subparsers(
        dest="dead_cmd", required=True)
    s = dead.add_parser("list", help="dead letters, newest first")
    s.add_argument("--stage", choices=list(INPUTS))
    s.add_argument("--status", default="dead", choices=["dead", "replayed", "all"])
    s.add_argument("--limit", type=int, default=100)
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_dead)
    s = dead.add_parser("show", help="one dead letter with its reason and original body")
    s.add_argument("id")
    s.set_defaults(fn=cmd_dead)
    s = dead.add_parser("replay", help="send originals back to their stage's input (idempotent)")
    s.add_argument("id", nargs="+")
    s.set_defaults(fn=cmd_dead)
    s = dead.add_parser("purge", help="forget dead letters")
    s.add_argument("--stage", choices=list(INPUTS))
    s.add_argument("--status", choices=["dead", "replayed"])
    s.add_argument("--yes", action="store_true", help="really purge")
    s.set_defaults(fn=cmd_dead)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    except InvalidMessage as exc:
        print(f"error: {exc.schema} is not valid:", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e.field}: {e.reason}", file=sys.stderr)
        return 2
    except LaporHubError as exc:

        return handle_error(exc)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
