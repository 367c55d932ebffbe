"""Settings from the environment. With none set, the hub runs embedded: in-process bus, SQLite."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hub.settings.files import DEFAULT_DIR


@dataclass(frozen=True)
class Settings:
    broker_url: str = "memory://localhost/"
    database_url: str = "sqlite:///laporhub.db"
    config_dir: Path = field(default=DEFAULT_DIR)
    bus_prefix: str = "laporhub"
    public_url: str = "http://127.0.0.1:8000"
    webhook_attempts: int = 5
    webhook_timeout: float = 10.0
    webhook_backoff_max: float = 30.0
    # Issue 4: after the quick in-process retries, delayed re-queues (seconds, jittered); empty
    # means dead-letter at once. An endpoint failing longer than `failing_after` raises an alert.
    webhook_schedule: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000)
    webhook_failing_after: float = 3600.0
    # How long a starting process waits for the database or broker before it gives up.
    startup_patience: float = 120.0
    # Seconds between AMQP heartbeats on every connection (RabbitMQ closes one after two missed).
    heartbeat: int = 30
    # A delivery never claimed, with no retry scheduled, is re-queued by the reconciler after this
    # many seconds untouched (its message was lost); an expired lease is taken over at once.
    reconcile_grace: float = 300.0
    # How long a dispatcher's claim on a delivery lasts unless renewed (renewed every third of it).
    lease_seconds: float = 60.0
    # Issue 11: requests per key ("<count>/<seconds>", or "off"); per channel where listed.
    rate_limit: str = "120/60"
    rate_limits: dict[str, str] = field(default_factory=dict)
    # Issue 11: networks webhook and Open311 targets may resolve to although private, loopback,
    # link-local or multicast (none by default; the demo and the tests allow 127.0.0.0/8).
    allow_private_targets: tuple[str, ...] = ()
    # Issue 14: e-mail destinations. SMTP server (smtp:// or smtps://), the From address, the
    # base of per-delivery Reply-To addresses (plus-addressing; empty: no Reply-To), the secret
    # that signs action links (empty: one kept in the store) and how long links work, and the
    # city mail gateway's whsec_ secret for POST /v1/inbound/email (empty: inbound mail refused).
    smtp_url: str = ""
    mail_from: str = "LaporHub <laporhub@localhost>"
    reply_address: str = ""
    link_secret: str = ""
    link_days: float = 30.0
    inbound_email_secret: str = ""

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        env = os.environ
        values: dict[str, object] = {
            "broker_url": env.get("LAPORHUB_BROKER_URL", cls.broker_url),
            "database_url": env.get("LAPORHUB_DATABASE_URL", cls.database_url),
            "config_dir": Path(env.get("LAPORHUB_CONFIG_DIR", str(DEFAULT_DIR))),
            "bus_prefix": env.get("LAPORHUB_BUS_PREFIX", cls.bus_prefix),
            "public_url": env.get("LAPORHUB_PUBLIC_URL", cls.public_url),
            "webhook_attempts": int(env.get("LAPORHUB_WEBHOOK_ATTEMPTS", cls.webhook_attempts)),
            "webhook_timeout": float(env.get("LAPORHUB_WEBHOOK_TIMEOUT", cls.webhook_timeout)),
            "webhook_backoff_max": float(env.get("LAPORHUB_WEBHOOK_BACKOFF_MAX", cls.webhook_backoff_max)),
        }
        if "LAPORHUB_WEBHOOK_SCHEDULE" in env:
            values["webhook_schedule"] = tuple(float(x) for x in env["LAPORHUB_WEBHOOK_SCHEDULE"].split(",") if x.strip())
        if "LAPORHUB_WEBHOOK_FAILING_AFTER" in env:
            values["webhook_failing_after"] = float(env["LAPORHUB_WEBHOOK_FAILING_AFTER"])
        if "LAPORHUB_HEARTBEAT" in env:
            values["heartbeat"] = int(env["LAPORHUB_HEARTBEAT"])
        if "LAPORHUB_LEASE_SECONDS" in env:
            values["lease_seconds"] = float(env["LAPORHUB_LEASE_SECONDS"])
        if "LAPORHUB_RECONCILE_GRACE" in env:
            values["reconcile_grace"] = float(env["LAPORHUB_RECONCILE_GRACE"])
        if env.get("LAPORHUB_ALLOW_PRIVATE_TARGETS", "").strip():
            values["allow_private_targets"] = tuple(
                x.strip() for x in env["LAPORHUB_ALLOW_PRIVATE_TARGETS"].split(",") if x.strip())
        for name, var in (("smtp_url", "LAPORHUB_SMTP_URL"), ("mail_from", "LAPORHUB_MAIL_FROM"),
                          ("reply_address", "LAPORHUB_REPLY_ADDRESS"), ("link_secret", "LAPORHUB_LINK_SECRET"),
                          ("inbound_email_secret", "LAPORHUB_INBOUND_EMAIL_SECRET")):
            if var in env:
                values[name] = env[var]
        if "LAPORHUB_LINK_DAYS" in env:
            values["link_days"] = float(env["LAPORHUB_LINK_DAYS"])
        if "LAPORHUB_STARTUP_PATIENCE" in env:
            values["startup_patience"] = float(env["LAPORHUB_STARTUP_PATIENCE"])
        if env.get("LAPORHUB_RATE_LIMIT"):
            values["rate_limit"] = env["LAPORHUB_RATE_LIMIT"]
        if env.get("LAPORHUB_RATE_LIMITS"):
            values["rate_limits"] = dict(item.strip().split("=", 1) for item in env["LAPORHUB_RATE_LIMITS"].split(",")
                                         if "=" in item)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
