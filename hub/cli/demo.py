"""`laporhub demo`: the hub's main job end to end on the embedded default.

Starts the hub (in-process bus, a fresh SQLite file), a local webhook receiver standing in for
the operators, submits the sample complaints over HTTP, and prints where each went and why.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

import requests

from hub.admin import keys
from hub.cli.processes import ApiServer, workers
from hub.cli.receiver import Receiver
from hub.settings.environment import Settings
from hub.settings.files import DEFAULT_DIR
from hub.settings.runtime import Hub

SAMPLES = DEFAULT_DIR / "samples" / "complaints.jsonl"
DEMO_RECEIVER = "http://127.0.0.1:8765"


def _point_operators_at(hub: Hub, receiver: Receiver) -> None:
    """Operators' default URLs point at port 8765; use the port the receiver actually got."""
    registry = hub.config.registry
    for dest in list(registry):
        url = dest.options.get("url", "")
        if dest.adapter == "webhook" and url.startswith(DEMO_RECEIVER):
            registry.update_options(dest.id, url=receiver.url + url[len(DEMO_RECEIVER):])
            receiver.secrets[dest.id] = dest.options["secret"]


def _wait_until_settled(hub: Hub, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        views = [hub.store.complaint(i) for i in ids]
        if all(v and v["deliveries"] and all(d["status"] != "pending" for d in v["deliveries"]) for v in views):
            return
        time.sleep(0.1)


def _row(view: dict[str, Any]) -> list[str]:
    c = view["classification"] or {}
    area = c.get("area") or {}
    text = view["complaint"].get("title") or view["complaint"]["text"]
    outcome = ", ".join(f"{d['destination']}:{d['status']}" for d in view["deliveries"])
    rules = sorted({d["rule_id"] for d in view["deliveries"]})
    return [view["complaint"].get("external_ref", view["id"])[:10], text[:28],
            f"{c.get('category')} {c.get('confidence', 0):.2f}", area.get("city") or "-",
            c.get("urgency", "-"), ",".join(rules), outcome]


def run(out: TextIO, samples: Path = SAMPLES, timeout: float = 30.0) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="laporhub-demo-"))
    settings = Settings.from_env(broker_url="memory://localhost/", database_url=f"sqlite:///{workdir / 'demo.db'}",
                                 webhook_backoff_max=1.0)
    hub = Hub.create(settings)
    with Receiver() as receiver, workers(hub):
        _point_operators_at(hub, receiver)
        api = ApiServer(hub, port=0).start()
        base = f"http://127.0.0.1:{api.port}"
        print(f"LaporHub demo: API on {base}, operators' webhooks on {receiver.url}, store {workdir / 'demo.db'}",
              file=out)
        ids = []
        channel_keys: dict[str, str] = {}
        for line in samples.read_text(encoding="utf-8").splitlines():
            if line.strip():
                complaint = json.loads(line)
                channel = complaint["channel"]
                if channel not in channel_keys:  # each citizen channel submits with its own key
                    channel_keys[channel] = keys.create(hub.store, f"demo {channel}", "channel", channel,
                                                        actor="demo", reason="demo channel").secret
                resp = requests.post(f"{base}/v1/complaints", json=complaint, timeout=10,
                                     headers={"authorization": f"Bearer {channel_keys[channel]}"})
                resp.raise_for_status()
                ids.append(resp.json()["id"])
        _wait_until_settled(hub, ids, timeout)
        views = [hub.store.complaint(i) for i in ids]
        api.stop()
    header = ["ref", "complaint", "category", "city", "urgency", "rule", "destination:outcome"]
    rows = [header] + [_row(v) for v in views]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1], file=out)
    print(file=out)
    print("Why (routing reason per delivery):", file=out)
    for v in views:
        for d in v["deliveries"]:
            print(f"  {v['complaint'].get('external_ref')} -> {d['destination']}: {d['reason']}", file=out)
    verified = sum(1 for r in receiver.received if r.verified)
    delivered = sum(1 for v in views for d in v["deliveries"] if d["status"] == "delivered")
    total = sum(len(v["deliveries"]) for v in views)
    print(f"\n{len(views)} complaints, {delivered}/{total} deliveries made; the operators' receiver "
          f"got {len(receiver.received)} webhooks, {verified} with valid signatures.", file=out)
    print("The demo's hub has stopped. To look around yourself, run `LAPORHUB_ALLOW_DEV_SECRETS=1 "
          "laporhub serve` (the shipped dev secrets are refused otherwise) and open "
          "http://127.0.0.1:8000/admin (complaints and their timelines, rules, destinations).", file=out)
    return 0 if delivered == total else 1
