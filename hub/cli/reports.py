"""`laporhub report ...`: reports for administrators on the command line (the console's pages
show the same numbers through /v1/admin/reports/...)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hub.aftercare import handoffs
from hub.cli.common import hub_of
from hub.infra.store import now


def cmd_report_handoffs(args: argparse.Namespace) -> int:
    hub = hub_of(args)
    reg = hub.config.registry
    try:
        since = handoffs.parse_since(args.since, now())
        until = handoffs.parse_since(args.until, now())
    except ValueError as exc:
        print(f"laporhub: --since/--until: {exc} (a date, an ISO time, or a span like 7d, 12h, 4w)", file=sys.stderr)
        return 2
    doc = handoffs.report(hub.store, lambda d: reg.get(d).sector if d in reg else "government", since, until)
    if args.csv:
        sys.stdout.write(handoffs.to_csv(doc))
    else:
        print(json.dumps(doc, ensure_ascii=False, indent=2) if args.json else handoffs.render(doc))
    return 0


def add_commands(sub: Any) -> None:
    report = sub.add_parser("report", help="reports for administrators").add_subparsers(dest="report_cmd", required=True)
    s = report.add_parser("handoffs", help="rejections and transfers by (from, to) and category, median time lost")
    s.add_argument("--since", help="only hand-offs since: 2026-03-01, an ISO time, or 7d, 12h, 4w back")
    s.add_argument("--until", help="only hand-offs before this")
    out = s.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--csv", action="store_true", help="one row per (from, to) pair, with sectors and complaint ids")
    s.set_defaults(fn=cmd_report_handoffs)
