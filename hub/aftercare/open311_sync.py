"""Status back from destinations that run their own Open311 server (the `open311` adapter):
pulled by the scheduler, or pushed to /open311/v2/servicerequestupdates, and turned into
ordinary status updates (hub/aftercare/status.py) so every rule about updates applies."""

from __future__ import annotations

import hmac
from typing import Any, Mapping

import requests
import sqlalchemy as sa
import structlog

from hub.aftercare import status
from hub.core import lifecycle, targets
from hub.infra.store import deliveries
from hub.settings.runtime import Hub

log = structlog.get_logger("hub.aftercare.open311_sync")

# FixMyStreet's Open311 update statuses -> LaporHub status updates.
STATUS_MAP = {"open": "acknowledged", "investigating": "in_progress", "in_progress": "in_progress",
              "action_scheduled": "in_progress", "fixed": "resolved", "closed": "resolved",
              "not_councils_responsibility": "rejected", "duplicate": "resolved", "internal_referral": "transferred"}


def to_update(delivery: Mapping[str, Any], remote: Mapping[str, Any], update_id: str) -> dict[str, Any] | None:
    """A status update for this delivery from one remote request's state, or None if nothing new."""
    wanted = STATUS_MAP.get(str(remote.get("status", "")).lower())
    if wanted is None or wanted == delivery["state"] or wanted not in lifecycle.allowed(delivery["state"]):
        return None
    note = remote.get("status_notes") or remote.get("description") or ""
    update: dict[str, Any] = {"update_id": update_id, "complaint_id": delivery["complaint_id"],
                              "destination": delivery["destination"], "status": wanted}
    if note:
        update["note"] = note
    if wanted == "resolved":
        update["resolution_note"] = note or "closed by the destination's Open311 system"
    if wanted == "rejected":
        update["reason"] = note or "not our responsibility"
    if wanted == "transferred":
        return None  # an internal referral names no destination LaporHub knows: wait for a final status
    return update


def pull(hub: Hub, destination_id: str, session: requests.Session | None = None) -> list[status.Applied]:
    dest = hub.config.registry.get(destination_id)
    with hub.store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(deliveries).where(
            deliveries.c.destination == destination_id, deliveries.c.remote_ref.is_not(None),
            deliveries.c.state.not_in(tuple(lifecycle.DONE)))).mappings()]
    if not rows:
        return []
    by_ref = {r["remote_ref"]: r for r in rows}
    params = {"service_request_id": ",".join(by_ref)}
    if dest.options.get("api_key"):
        params["api_key"] = dest.options["api_key"]
    if dest.options.get("jurisdiction_id"):
        params["jurisdiction_id"] = dest.options["jurisdiction_id"]
    http = session or requests
    url = f"{dest.options['endpoint'].rstrip('/')}/requests.json"
    targets.check(url, targets.networks(hub.settings.allow_private_targets))
    resp = http.get(url, params=params, timeout=30, allow_redirects=False)
    resp.raise_for_status()
    applied = []
    for remote in resp.json():
        d = by_ref.get(str(remote.get("service_request_id")))
        if d is None:
            continue
        uid = f"open311:{d['remote_ref']}:{remote.get('status')}:{remote.get('updated_datetime') or ''}"
        update = to_update(d, remote, uid)
        if update:
            applied.append(status.apply(hub, update))
    return applied


def pull_all(hub: Hub) -> list[status.Applied]:
    out: list[status.Applied] = []
    for dest in hub.config.registry:
        if dest.adapter == "open311":
            try:
                out += pull(hub, dest.id)
            except Exception as exc:  # noqa: BLE001 - one unreachable back-end must not stop the others
                log.warning("open311.pull_failed", destination=dest.id, error=str(exc))
    return out


def push(hub: Hub, form: Mapping[str, str]) -> status.Applied | None:
    """FixMyStreet-style update push: api_key names the destination; service_request_id is its own id."""
    key = form.get("api_key")
    # The destination's inbound key (callback_api_key), never the api_key the hub sends with (issue 11).
    dest = next((d for d in hub.config.registry if d.adapter == "open311" and key
                 and d.options.get("callback_api_key") and hmac.compare_digest(str(d.options["callback_api_key"]), key)), None)
    if dest is None:
        raise PermissionError("api_key does not belong to an Open311 destination")
    with hub.store.engine.connect() as conn:
        d = conn.execute(sa.select(deliveries).where(deliveries.c.destination == dest.id,
                                                     deliveries.c.remote_ref == form.get("service_request_id", ""))).mappings().first()
    if d is None:
        raise LookupError(f"no delivery to {dest.id} with service_request_id {form.get('service_request_id')!r}")
    update = to_update(dict(d), {"status": form.get("status"), "status_notes": form.get("description")},
                       f"open311-push:{form.get('update_id') or form.get('updated_datetime')}")
    return status.apply(hub, update) if update else None
