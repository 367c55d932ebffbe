"""A hub whose configuration adds e-mail destinations, as a kelurahan office joins: one entry in
destinations.yaml (adapter: email) and a rule that sends to it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from hub.settings.environment import Settings
from hub.settings.runtime import Hub
from tests.harness import ROOT

KELURAHAN = {"id": "kelurahan-cilandak-timur", "name": "Kelurahan Cilandak Timur", "kind": "city-office",
             "adapter": "email", "options": {"to": "kel.cilandaktimur@jakarta.go.id"}}
PASAR = {"id": "kelurahan-pasar-minggu", "name": "Kelurahan Pasar Minggu", "kind": "city-office",
         "adapter": "email", "options": {"to": "kel.pasarminggu@jakarta.go.id", "language": "en"},
         "reporter_fields": ["phone"]}  # it may call the reporter back (issue 11)
RULES = [{"id": "waste-cilandak", "description": "Waste in Cilandak goes to the kelurahan office by e-mail.",
          "when": {"category": ["waste"], "area": ["jakarta-selatan/cilandak"]},
          "send_to": ["kelurahan-cilandak-timur"]},
         {"id": "waste-pasar-minggu", "when": {"category": ["waste"], "area": ["jakarta-selatan/pasar-minggu"]},
          "send_to": ["kelurahan-pasar-minggu"]}]
INBOUND_SECRET = "whsec_ZGV2LW9ubHktaW5ib3VuZC1nYXRld2F5LXNlY3JldA=="

WASTE = {"channel": "jaki", "title": "Sampah menumpuk",
         "text": "Sampah menumpuk di pinggir jalan sudah seminggu, bau sekali. Hubungi saya 0812-3456-7890.",
         "location": {"kota": "Jakarta Selatan", "kecamatan": "Cilandak", "kelurahan": "Cilandak Timur",
                      "address": "Jl. Kenanga 5", "latitude": -6.2921, "longitude": 106.8104}}


def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target)
    dests = yaml.safe_load((target / "destinations.yaml").read_text())
    dests["destinations"] += [KELURAHAN, PASAR]
    (target / "destinations.yaml").write_text(yaml.safe_dump(dests, allow_unicode=True, sort_keys=False))
    rules = yaml.safe_load((target / "rules.yaml").read_text())
    rules["rules"][1:1] = RULES
    (target / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True, sort_keys=False))
    return target


def email_hub(tmp_path: Path, database_url: str, prefix: str, smtp_url: str, public_url: str,
              broker_url: str = "memory://localhost/", **settings: Any) -> Hub:
    settings.setdefault("webhook_schedule", ())
    return Hub.create(Settings.from_env(
        broker_url=broker_url, database_url=database_url, config_dir=config_dir(tmp_path), bus_prefix=prefix,
        webhook_backoff_max=0.2, public_url=public_url, smtp_url=smtp_url,
        mail_from="LaporHub DKI <laporhub@jakarta.go.id>", reply_address="balas@laporhub.jakarta.go.id",
        inbound_email_secret=INBOUND_SECRET, **settings))


def close(hub: Hub) -> None:
    """Remove what the hub declared on a shared broker, and its connections."""
    if hub.settings.broker_url.startswith("amqp"):
        hub.delete_topology()
    hub.store.engine.dispose()
