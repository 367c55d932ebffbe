"""What adapters get from the hub (adapters import only hub.core, so the hub hands it to them):
one place builds it for the dispatcher and for test sends."""

from __future__ import annotations

import threading
from typing import Any

import adapters
from hub.core.actions import Links
from hub.infra import keyring
from hub.settings.runtime import Hub

_LINKS: dict[tuple[str, str, str, float], Links] = {}
_LOCK = threading.Lock()


def links(hub: Hub) -> Links:
    """The hub's action-link signer: LAPORHUB_LINK_SECRET, or the store's own secret."""
    s = hub.settings
    key = (hub.store.url, s.link_secret, s.public_url, s.link_days)
    with _LOCK:
        if key not in _LINKS:
            secret = s.link_secret or keyring.secret(hub.store, "action-links")
            _LINKS[key] = Links(secret, s.public_url, s.link_days * 86400)
        return _LINKS[key]


def adapter_context(hub: Hub, bus: Any) -> adapters.Context:
    taxonomy = hub.config.taxonomy
    return adapters.Context(bus, hub.settings, links=links(hub), policy=hub.config.policy,
                            category_names=taxonomy.names if taxonomy else {})
