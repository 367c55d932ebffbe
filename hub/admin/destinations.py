"""Destinations managed live: add or edit, pause and resume, rotate a webhook secret with an
overlap window, send a test delivery, and see each destination's health.

Every change is one transaction with its audit record and a control broadcast, so dispatchers
pick it up within seconds. Secrets are never shown or audited in full.
"""

from __future__ import annotations

import base64
import re
import secrets as secrets_mod
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Mapping

import sqlalchemy as sa

import adapters
from hub.core import privacy, schemas, targets
from hub.core.classify import classify
from hub.core.destinations import Destination, options_errors
from hub.core.errors import Conflict, FieldError, InvalidMessage, LaporHubError
from hub.core.rules import Target
from hub.infra.store import deliveries, iso, now
from hub.pipeline import attempts as attempt_log
from hub.pipeline.context import adapter_context
from hub.settings import audit, control, live, secrets
from hub.settings.live import destination_settings

if TYPE_CHECKING:
    from hub.settings.runtime import Hub
from hub.pipeline.reconcile import overdue
from hub.pipeline.routing import delivery_message

TEST_COMPLAINT = {"channel": "laporhub-test", "external_ref": "test-delivery",
                  "title": "[TEST] LaporHub test delivery",
                  "text": "[TEST] Pesan uji dari LaporHub; abaikan. A test delivery from LaporHub; ignore it.",
                  "location": {"kota": "Jakarta Pusat"}}


class DestinationError(Conflict):
    """A destination change that cannot be made as asked."""


def _row(conn: sa.Connection, dest_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(destination_settings).where(destination_settings.c.id == dest_id)).mappings().first()
    return dict(row) if row else None


def _write(conn: sa.Connection, dest_id: str, **values: Any) -> None:
    if _row(conn, dest_id) is None:
        conn.execute(destination_settings.insert().values(
            id=dest_id, paused=values.pop("paused", False), old_secrets=values.pop("old_secrets", []),
            updated_at=now(), **values))
    else:
        conn.execute(destination_settings.update().where(destination_settings.c.id == dest_id)
                     .values(updated_at=now(), **values))


def _shown(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if doc is None else {**doc, "options": live.redact(doc.get("options") or {})}


def _changed(hub: "Hub", conn: sa.Connection, actor: str, action: str, dest_id: str, reason: str,
             before: Any, after: Any) -> None:
    if not reason or not reason.strip():
        raise DestinationError("a reason is required for every change to a destination")
    generation = audit.record(conn, actor, action, dest_id, reason, before, after)
    control.announce(hub.store, conn, generation, "destination.changed", destination=dest_id)


def check_document(doc: Any) -> dict[str, Any]:
    """A destination definition, checked against the same schema as config/destinations.yaml."""
    found = schemas.errors("destinations", {"destinations": [doc]})
    if found:
        raise InvalidMessage("destination", [FieldError(e.field.removeprefix("destinations[0]").lstrip(".") or "$",
                                                        e.reason) for e in found])
    try:
        adapters.load(doc["adapter"])
    except LaporHubError as exc:
        raise InvalidMessage("destination", [FieldError("adapter", str(exc))]) from None
    if doc["adapter"] == "webhook" and not (doc.get("options") or {}).get("url"):
        raise InvalidMessage("destination", [FieldError("options.url", "a webhook destination needs a url")])
    found = options_errors(doc["adapter"], doc.get("options") or {})
    if found:
        raise InvalidMessage("destination", found)
    return dict(doc)


def check_target(doc: Mapping[str, Any], allowed: tuple[str, ...] = ()) -> None:
    """A webhook url or Open311 endpoint must not reach the hub's own networks (issue 11)."""
    options = doc.get("options") or {}
    for field in ("url", "endpoint"):
        if isinstance(options.get(field), str) and doc.get("adapter") in ("webhook", "open311"):
            try:
                targets.check(options[field], targets.networks(allowed))
            except targets.TargetRefused as exc:
                raise InvalidMessage("destination", [FieldError(f"options.{field}", str(exc))]) from None


def put(hub: "Hub", doc: Any, *, actor: str, reason: str) -> dict[str, Any]:
    """Add a destination, or replace one's definition (a secret left out keeps the current one)."""
    doc = check_document(doc)
    current = hub.config.registry.get(doc["id"]) if doc["id"] in hub.config.registry else None
    options = dict(doc.get("options") or {})
    for option in ("secret", "callback_secret"):
        if current and option not in options and option in current.options:
            options[option] = _primary(current, option)
        if doc["adapter"] == "webhook" and not options.get(option):
            options[option] = new_secret()
    doc["options"] = options
    check_target(doc, hub.settings.allow_private_targets)
    with hub.store.begin() as conn:
        # Stored sealed (Fernet, LAPORHUB_SECRET_KEY): secrets, api keys, passwords (issue 11).
        _write(conn, doc["id"], document={**doc, "options": secrets.seal_options(options)})
        _changed(hub, conn, actor, "destination.add" if current is None else "destination.edit", doc["id"],
                 reason, _shown(live.as_document(current)) if current else None, _shown(doc))
    hub.refresh(force=True)
    return describe(hub, doc["id"])


def _primary(dest: Destination, option: str = "secret") -> str:
    secret = dest.options.get(option)
    return secret[0] if isinstance(secret, list) else secret


def set_paused(hub: "Hub", dest_id: str, paused: bool, *, actor: str, reason: str) -> dict[str, Any]:
    hub.config.registry.get(dest_id)
    with hub.store.begin() as conn:
        row = _row(conn, dest_id)
        was = bool(row and row["paused"])
        if was == paused:
            raise DestinationError(f"{dest_id} is already {'paused' if paused else 'running'}")
        _write(conn, dest_id, paused=paused)
        _changed(hub, conn, actor, "destination.pause" if paused else "destination.resume", dest_id, reason,
                 {"paused": was}, {"paused": paused})
    hub.refresh(force=True)
    return describe(hub, dest_id)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets_mod.token_bytes(24)).decode()


def rotate_secret(hub: "Hub", dest_id: str, *, actor: str, reason: str, overlap_hours: float = 24.0,
                  secret: str | None = None, option: str = "secret") -> dict[str, Any]:
    """A new signing secret (`option` "secret") or callback secret ("callback_secret") at once.
    During the overlap (0 for none) the old signing secret keeps signing too, so the operator can
    switch its verification without losing a delivery (Standard Webhooks allows several
    signatures in one header); an old callback secret keeps verifying. Returns the new secret:
    the only time it is shown."""
    if option not in ("secret", "callback_secret"):
        raise DestinationError("option must be secret (signing what the hub sends) or callback_secret")
    dest = hub.config.registry.get(dest_id)
    if dest.adapter != "webhook":
        raise DestinationError(f"{dest_id} receives by {dest.adapter}; only webhooks have a secret")
    if overlap_hours < 0:
        raise DestinationError("overlap_hours cannot be negative")
    secret = secret or new_secret()
    if not secret.startswith("whsec_"):
        raise DestinationError("a webhook secret starts with whsec_ (Standard Webhooks)")
    old = _primary(dest, option)
    until = now() + timedelta(hours=overlap_hours)
    with hub.store.begin() as conn:
        row = _row(conn, dest_id)
        doc = (row or {}).get("document") or live.as_document(dest)
        doc = {**doc, "options": secrets.seal_options({**doc.get("options", {}), option: secret})}
        olds = [s for s in (row or {}).get("old_secrets") or []]
        if overlap_hours > 0 and old:
            olds.append({"secret": secrets.seal(old), "option": option, "until": until.isoformat()})
        _write(conn, dest_id, document=doc, old_secrets=olds)
        _changed(hub, conn, actor, "destination.rotate_secret", dest_id, reason,
                 {option: privacy.SECRET_MASK},
                 {option: privacy.SECRET_MASK, "old_secret_signs_until": iso(until) if overlap_hours > 0 else None})
    hub.refresh(force=True)
    return {"destination": dest_id, "option": option, "secret": secret,
            "old_secret_signs_until": iso(until) if overlap_hours > 0 else None}


def _status_code(attempts: list[adapters.Attempt]) -> int | None:
    """The HTTP status of the last attempt, if it got one."""
    found = re.match(r"HTTP (\d{3})", attempts[-1].detail) if attempts else None
    return int(found.group(1)) if found else None


def health(hub: "Hub", dest_id: str, bus: Any = None) -> dict[str, Any]:
    """Last success, last error, pending deliveries (and how many of them are overdue: past their
    schedule with nothing in flight) and the broker queue's depth."""
    with hub.store.engine.connect() as conn:
        last_ok = conn.execute(sa.select(sa.func.max(deliveries.c.delivered_at))
                               .where(deliveries.c.destination == dest_id)).scalar()
        last_err = conn.execute(sa.select(deliveries.c.last_error, deliveries.c.updated_at, deliveries.c.id)
                                .where(deliveries.c.destination == dest_id, deliveries.c.last_error.is_not(None))
                                .order_by(deliveries.c.updated_at.desc()).limit(1)).mappings().first()
        pending = conn.execute(sa.select(sa.func.count()).select_from(deliveries).where(
            deliveries.c.destination == dest_id, deliveries.c.status == "pending")).scalar_one()
        dead = conn.execute(sa.select(sa.func.count()).select_from(deliveries).where(
            deliveries.c.destination == dest_id, deliveries.c.status == "dead")).scalar_one()
        late = overdue(hub.store, hub.paused, grace=hub.settings.reconcile_grace).where(
            deliveries.c.destination == dest_id).subquery()
        stranded = conn.execute(sa.select(sa.func.count()).select_from(late)).scalar_one()
    depth = None
    if bus is not None:
        try:
            queue = hub.topology.delivery(dest_id)
            depth = queue(bus.connection.default_channel).queue_declare(passive=True).message_count
        except Exception:  # noqa: BLE001 - not declared yet, or broker away: unknown
            depth = None
    return {"last_success": iso(last_ok),
            "last_error": ({"reason": last_err["last_error"], "at": iso(last_err["updated_at"]),
                            "delivery_id": last_err["id"]} if last_err else None),
            "pending": pending, "dead": dead, "queue_depth": depth,
            # pending past their schedule with nothing in flight (the reconciler re-queues them)
            "overdue": stranded,
            "circuit": circuit_state(hub, dest_id)}


def circuit_state(hub: "Hub", dest_id: str) -> str | None:
    """The circuit breaker's state where the hub has one (None: not in this version)."""
    finder = getattr(hub, "circuit_state", None)
    return finder(dest_id) if callable(finder) else None


def describe(hub: "Hub", dest_id: str, bus: Any = None, with_health: bool = False) -> dict[str, Any]:
    dest = hub.config.registry.get(dest_id)
    with hub.store.engine.connect() as conn:
        row = _row(conn, dest_id)
    out = {**dest.as_dict(), "options": live.redact(dest.options),
           "reporter_fields": list(dest.reporter_fields),
           "paused": dest_id in hub.paused, "edited": bool(row and row["document"]),
           "secret_overlap": [{"until": s["until"]} for s in (row or {}).get("old_secrets") or []
                              if s["until"] > now().isoformat()]}
    if with_health:
        out["health"] = health(hub, dest_id, bus)
    return out


def test_delivery(hub: "Hub", dest_id: str, bus: Any, *, actor: str) -> dict[str, Any]:
    """Send a clearly marked test message through the destination's adapter, once, now."""
    dest = hub.config.registry.get(dest_id)
    cfg = hub.config
    c = classify(TEST_COMPLAINT, cfg.taxonomy, cfg.areas)

    did = f"d-test-{uuid.uuid4()}"
    message = delivery_message("c-test", TEST_COMPLAINT, schemas.validate("classification", c.as_dict()),
                               Target(dest.id, "test-delivery", f"test delivery requested by {actor}"),
                               dest, cfg.ruleset.version, did, hub.settings.public_url)
    kind = adapters.load(dest.adapter)
    # Tried once: an adapter with quick retries of its own (max_attempts, see hub/core/retries.py)
    # makes one attempt; the others (queue, open311, email) take no such option and try once anyway.
    once = {"max_attempts": 1} if "max_attempts" in kind.options_schema.get("properties", {}) else {}
    adapter = kind(Destination(**{**dest.__dict__, "options": {**dest.options, **once}}),
                   adapter_context(hub, bus))
    # The outcome and the status code only: never the target's answer body (issue 11).
    try:
        receipt = adapter.deliver(message)
        tries = receipt.attempts
        answer = {"outcome": "delivered", "status": _status_code(tries), "attempts": len(tries)}
    except adapters.Failed as exc:
        tries = exc.attempts
        answer = {"outcome": "failed", "status": _status_code(tries), "attempts": len(tries),
                  "detail": privacy.redact_urls_in(exc.reason)}
    except (LaporHubError, ValueError, KeyError) as exc:
        tries = []
        answer = {"outcome": "failed", "status": None, "attempts": 0, "detail": privacy.redact_urls_in(str(exc))}
    finally:
        adapter.close()
    with hub.store.begin() as conn:
        attempt_log.record(conn, dest_id, did, tries)  # the endpoint's attempt log shows test sends too
    return {"destination": dest_id, "delivery_id": did, **answer}
