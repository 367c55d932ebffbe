"""One-click actions from e-mail: a signed link (hub/core/actions.py) becomes a status update
through the same path as queue and webhook status (`status.apply`: lifecycle rules, re-routing,
the citizen told). Each link works once: its nonce is kept in `action_uses`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hub.aftercare import status
from hub.core import lifecycle
from hub.core.actions import ACTIONS, Claim, LinkRefused, Links
from hub.core.errors import FieldError, InvalidMessage
from hub.core.privacy import mask_text
from hub.infra.store import aware, deliveries, metadata, now
from hub.pipeline.context import links as hub_links
from hub.settings.runtime import Hub

action_uses = sa.Table(
    "action_uses", metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("delivery_id", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),  # the delivery's state it led to
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
)

MAX_NOTE = 5000
WIB = ZoneInfo("Asia/Jakarta")
STATUSES = {**ACTIONS, "transfer": "transferred"}
"""What a destination may do from a link (ACTIONS) or the portal (also transfer)."""


@dataclass(frozen=True)
class Opened:
    """A valid, unused link and what the action page shows about it."""

    claim: Claim
    delivery: Mapping[str, Any]
    complaint: Mapping[str, Any]
    destination_name: str
    language: str


def _language(hub: Hub, destination: str) -> str:
    reg = hub.config.registry
    lang = reg.get(destination).options.get("language") if destination in reg else None
    return lang if lang in ("id", "en") else "id"


def open_link(hub: Hub, token: str, links: Links | None = None) -> Opened:
    """Check the link: genuine, not expired, not used, for the delivery's current send."""
    links = links or hub_links(hub)
    claim = links.check(token)
    with hub.store.engine.connect() as conn:
        used = conn.execute(sa.select(action_uses).where(action_uses.c.nonce == claim.nonce)).mappings().first()
        row = conn.execute(sa.select(deliveries).where(deliveries.c.id == claim.delivery_id)).mappings().first()
    lang = _language(hub, claim.destination)
    if used is not None:
        at = aware(used["used_at"]).astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")
        raise LinkRefused("used", (f"Tautan ini sudah dipakai pada {at} ({used['action']})."
                                   if lang == "id" else f"This link was already used on {at} ({used['action']}).")
                          + (" Setiap tautan hanya berlaku sekali." if lang == "id" else " Each link works once."))
    if row is None or row["destination"] != claim.destination or row["complaint_id"] != claim.complaint_id:
        raise LinkRefused("malformed", "This link names a delivery that does not exist.")
    if claim.send < (row["sends"] or 1):
        raise LinkRefused("superseded", ("Aduan ini sudah dikirim ulang; gunakan tautan di e-mail terbaru."
                                         if lang == "id" else
                                         "This complaint was sent again since; use the links in the newest e-mail."))
    complaint = hub.store.complaint(claim.complaint_id) or {}
    reg = hub.config.registry
    name = reg.get(claim.destination).name if claim.destination in reg else claim.destination
    return Opened(claim, dict(row), complaint, name, lang)


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def update_from_form(claim: Claim, form: Mapping[str, Any]) -> dict[str, Any]:
    """The status update a link's form makes; InvalidMessage names each bad field."""
    return status_update(claim.action, claim.complaint_id, claim.delivery_id, claim.destination,
                         f"link:{claim.nonce}", form)


def status_update(action: str, complaint_id: str, delivery_id: str, destination: str, update_id: str,
                  form: Mapping[str, Any]) -> dict[str, Any]:
    """The status update one action makes (from a link's page or the portal): notes are required
    where the citizen needs them, a photo must be an http(s) link, free text is masked."""
    errors: list[FieldError] = []
    note, photo = _text(form, "note"), _text(form, "photo_url")
    reason, where = _text(form, "reason"), _text(form, "suggested_destination")
    if action not in STATUSES:
        raise InvalidMessage("action", [FieldError("action", f"must be one of {', '.join(STATUSES)}")])
    if photo and not photo.lower().startswith(("http://", "https://")):
        errors.append(FieldError("photo_url", "must be an http:// or https:// link"))
    if len(note) > MAX_NOTE or len(reason) > 2000:
        errors.append(FieldError("note" if len(note) > MAX_NOTE else "reason", "is too long"))
    update: dict[str, Any] = {"update_id": update_id, "complaint_id": complaint_id, "delivery_id": delivery_id,
                              "destination": destination, "status": STATUSES[action]}
    if action == "resolve":
        if not note:
            errors.append(FieldError("note", "say what was done (the citizen reads it)"))
        update["resolution_note"] = mask_text(note)
    elif action == "not_ours":
        if not reason:
            errors.append(FieldError("reason", "say why this is not yours"))
        update["reason"] = mask_text(reason)
        if where:
            update["suggested_destination"] = where
    elif action == "transfer":
        target = _text(form, "transfer_to")
        if not target:
            errors.append(FieldError("transfer_to", "name the destination that takes it over"))
        update["transfer_to"] = target
        if reason:
            update["reason"] = mask_text(reason)
    elif action == "progress" and not note:
        errors.append(FieldError("note", "say what is being done"))
    if note and action != "resolve":
        update["note"] = mask_text(note)
    if photo:
        update["photo_url"] = photo
    if errors:
        raise InvalidMessage("action", errors)
    return update


def perform(hub: Hub, token: str, form: Mapping[str, Any], at: datetime | None = None) -> status.Applied:
    """Apply the link's action once. Raises LinkRefused, InvalidMessage, IllegalTransition."""
    opened = open_link(hub, token)
    update = update_from_form(opened.claim, form)
    result = status.apply(hub, update, now=at)
    if result.duplicate:  # the same link raced in twice: the other request applied it
        raise LinkRefused("used", "This link was already used." if opened.language == "en"
                          else "Tautan ini sudah dipakai.")
    try:
        with hub.store.begin() as conn:
            conn.execute(action_uses.insert().values(nonce=opened.claim.nonce, delivery_id=opened.claim.delivery_id,
                                                     action=opened.claim.action, state=result.state,
                                                     used_at=at or now()))
    except IntegrityError:
        pass
    return result


def next_links(hub: Hub, claim: Claim, state: str) -> dict[str, str]:
    """Fresh links for what the delivery may do next (after an acknowledgement: progress,
    resolve, not ours), so the recipient goes on from the page without the e-mail."""
    links = hub_links(hub)
    allowed = set(lifecycle.allowed(state))
    return {a: links.url(links.token(claim.delivery_id, claim.complaint_id, claim.destination, a, claim.send))
            for a, s in ACTIONS.items() if s in allowed and not (a == "acknowledge" and state != "sent")}
