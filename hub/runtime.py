"""Wiring: settings, configuration and store, shared by every process of the hub."""

from __future__ import annotations

from dataclasses import dataclass

from hub import config as config_mod
from hub.bus import Bus, Topology
from hub.config import HubConfig
from hub.settings import Settings
from hub.store import Store


@dataclass
class Hub:
    settings: Settings
    config: HubConfig
    store: Store

    @classmethod
    def create(cls, settings: Settings | None = None) -> "Hub":
        settings = settings or Settings.from_env()
        cfg, _ = config_mod.load(settings.config_dir)
        assert cfg is not None
        return cls(settings, cfg, Store(settings.database_url))

    @property
    def topology(self) -> Topology:
        return Topology(self.settings.bus_prefix)

    def bus(self) -> Bus:
        """A new connection; each thread or process takes its own."""
        return Bus(self.settings.broker_url, self.topology)

    def delivery_queues(self) -> list:
        return [self.topology.delivery(d.id) for d in self.config.registry]
