"""What adapters get from the hub (adapters import only hub.core, so the hub hands it to them):
one place builds it for the dispatcher and for test sends."""

from __future__ import annotations

import threading
from typing import Any

import structlog

import adapters
from hub.core.actions import Links
from hub.infra import keyring
from hub.settings import secrets
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.pipeline.context")

_LINKS: dict[tuple[str, str, str, float], Links] = {}
_LOCK = threading.Lock()


def links(hub: Hub) -> Links:
    """The hub's action-link signer: LAPORHUB_LINK_SECRET, or the store's own secret (sealed at
    rest). Never a destination's webhook secret: a link key signs links only."""
    s = hub.settings
    key = (hub.store.url, s.link_secret, s.public_url, s.link_days)
    with _LOCK:
        if key not in _LINKS:
            secret = s.link_secret or secrets.unseal(keyring.secret(hub.store, "action-links", seal=secrets.seal))
            if secrets.reused(secret, hub.config.registry):
                raise secrets.SecretsError("LAPORHUB_LINK_SECRET is also a destination's webhook secret: "
                                           "action links need a key of their own")
            _LINKS[key] = Links(secret, s.public_url, s.link_days * 86400)
        return _LINKS[key]


def adapter_context(hub: Hub, bus: Any) -> adapters.Context:
    taxonomy = hub.config.taxonomy
    try:
        signer: Links | None = links(hub)
    except secrets.SecretsError as exc:
        # Only adapters that write links (e-mail) need it; they refuse without one.
        log.error("action_links.refused", reason=str(exc))
        signer = None
    return adapters.Context(bus, hub.settings, links=signer, policy=hub.config.policy,
                            category_names=taxonomy.names if taxonomy else {})
