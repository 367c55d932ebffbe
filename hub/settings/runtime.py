"""Wiring: settings, configuration and store, shared by every process of the hub."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import structlog
import tenacity

from hub.infra.bus import EXCHANGES, Bus, Topology, is_transient
from hub.infra.store import Prepare, Store, create_tables
from hub.settings import files as config_mod
from hub.settings import live, versions
from hub.settings.environment import Settings
from hub.settings.files import HubConfig

log = structlog.get_logger("hub.settings.runtime")


@dataclass
class Hub:
    settings: Settings
    config: HubConfig
    store: Store
    # -- administration (issue 5): `base` is config/ as loaded; `config` is what runs now (the
    # published routing version, destinations' live settings), swapped whole by `refresh`.
    base: HubConfig | None = None
    live: object | None = None
    paused: frozenset[str] = frozenset()
    _refreshing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, settings: Settings | None = None, prepare: Prepare = create_tables) -> "Hub":
        """Settings, configuration and store; `prepare` readies the store's schema (made here by
        default; `laporhub` processes check it is at the migrations' head)."""

        settings = settings or Settings.from_env()
        cfg, _ = config_mod.load(settings.config_dir)
        assert cfg is not None
        for attempt in tenacity.Retrying(
                retry=tenacity.retry_if_exception(is_transient), reraise=True,
                wait=tenacity.wait_exponential(multiplier=0.25, max=5),
                stop=tenacity.stop_after_delay(settings.startup_patience),
                before_sleep=lambda state: log.warning("hub.waiting_for_store",
                                                       error=repr(state.outcome.exception())[:300])):
            with attempt:
                hub = cls(settings, cfg, Store(settings.database_url, prepare), base=cfg)
                try:
                    versions.seed(hub.store, cfg.documents["rules"])
                    hub.refresh(force=True)
                except Exception:
                    hub.store.engine.dispose()
                    raise
        return hub

    def refresh(self, force: bool = False) -> bool:
        """Load the published routing version and destination settings if they changed.
        Returns whether anything was swapped. Decisions in flight keep the snapshot they took."""

        with self._refreshing:
            if not force and not live.stale(self.live, self.store):
                return False
            snap = live.build(self.base or self.config, self.store)
            changed = self.live is None or snap.generation != self.live.generation or force
            self.config, self.paused, self.live = snap.config, snap.paused, snap
            return changed

    @property
    def topology(self) -> Topology:
        return Topology(self.settings.bus_prefix)

    def bus(self) -> Bus:
        """A new connection; each thread or process takes its own."""
        return Bus(self.settings.broker_url, self.topology, heartbeat=self.settings.heartbeat)

    def delete_topology(self) -> None:
        """Remove every queue and exchange this hub declares (tests and benchmarks clean up)."""
        from kombu import Connection


        topo = self.topology
        registry = self.config.registry
        queues = [q.name for q in topo.core_queues()] + [topo.delivery(d.id).name for d in registry]
        queues += [topo.department_queue(d.id, d.options.get("queue")).name for d in registry
                   if d.adapter == "queue"]
        with Connection(self.settings.broker_url) as conn:
            ch = conn.channel()
            for name in queues:
                ch.queue_delete(name)
            for name in EXCHANGES:
                ch.exchange_delete(f"{topo.prefix}.{name}")
            ch.close()

    def delivery_queues(self) -> list:
        return [self.topology.delivery(d.id) for d in self.config.registry]
