"""Settings from the environment (pydantic-settings): every `LAPORHUB_*` variable typed and
checked, a bad value named. An empty variable counts as unset, as in a compose file's `VAR=`.

With nothing set, `laporhub serve` and `laporhub demo` run embedded (in-process bus, SQLite in
the current directory); every other command that needs the store refuses to guess one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

from hub.core.errors import ConfigProblem, NotConfigured, SettingsError
from hub.settings.files import DEFAULT_DIR

EMBEDDED_DATABASE = "sqlite:///laporhub.db"
IN_PROCESS_BUS = "memory://localhost/"


class Environment(BaseSettings):
    """The variables as read; `Settings` is what the hub runs with."""

    model_config = SettingsConfigDict(env_prefix="LAPORHUB_", env_ignore_empty=True, extra="ignore")

    broker_url: str | None = None
    database_url: str | None = None
    config_dir: Path | None = None
    bus_prefix: str = "laporhub"
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    webhook_attempts: int = 5
    webhook_timeout: float = 10.0
    webhook_backoff_max: float = 30.0
    webhook_schedule: Annotated[tuple[float, ...], NoDecode] = (5, 300, 1800, 7200, 18000, 36000)
    webhook_failing_after: float = 3600.0
    startup_patience: float = 120.0
    heartbeat: int = 30
    lease_seconds: float = 60.0
    reconcile_grace: float = 300.0
    rate_limit: str = "120/60"
    rate_limits: Annotated[dict[str, str], NoDecode] = {}
    allow_private_targets: Annotated[tuple[str, ...], NoDecode] = ()
    smtp_url: str = ""
    mail_from: str = "LaporHub <laporhub@localhost>"
    reply_address: str = ""
    link_secret: str = ""
    link_days: float = 30.0
    inbound_email_secret: str = ""

    @field_validator("webhook_schedule", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """`5,300,1800` (seconds); an explicit empty list means dead-letter after the quick retries."""
        if isinstance(value, str):
            return tuple(float(x) for x in value.split(",") if x.strip())
        return value

    @field_validator("allow_private_targets", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        """`127.0.0.0/8,10.20.0.0/16`."""
        if isinstance(value, str):
            return tuple(x.strip() for x in value.split(",") if x.strip())
        return value

    @field_validator("rate_limits", mode="before")
    @classmethod
    def _per_channel(cls, value: Any) -> Any:
        """`jaki=600/60,web=60/60`: a channel's own allowance."""
        if isinstance(value, str):
            pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
            bad = [item for item in pairs if len(item) != 2 or not item[0].strip()]
            if bad:
                raise ValueError("must be channel=<count>/<seconds>, comma-separated")
            return {k.strip(): v.strip() for k, v in pairs}
        return value


@dataclass(frozen=True)
class Settings:
    broker_url: str = IN_PROCESS_BUS
    database_url: str = EMBEDDED_DATABASE
    config_dir: Path = field(default=DEFAULT_DIR)
    bus_prefix: str = "laporhub"
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
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
    def from_env(cls, *, embedded: bool = True, **overrides: object) -> "Settings":
        """Read the environment; keyword overrides (not None) win. Without `embedded`, an unset
        LAPORHUB_DATABASE_URL is an error instead of ./laporhub.db."""
        try:
            env = Environment()
        except ValidationError as exc:
            raise SettingsError([ConfigProblem("environment", f"LAPORHUB_{str(e['loc'][0]).upper()}", e["msg"])
                                 for e in exc.errors()]) from None
        values = {k: v for k, v in env.model_dump().items() if v is not None}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "database_url" not in values and not embedded:
            raise NotConfigured("LAPORHUB_DATABASE_URL is not set: this command needs the hub's store "
                                "(e.g. postgresql+psycopg://user@host/laporhub). Only `laporhub serve` "
                                "and `laporhub demo` run without one, on ./laporhub.db.")
        if "config_dir" in values:
            values["config_dir"] = Path(values["config_dir"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    @property
    def embedded(self) -> bool:
        """Running on the in-process bus: nothing outside this process can reach its queues."""
        return self.broker_url.startswith("memory")
