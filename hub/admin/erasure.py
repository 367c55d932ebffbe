"""Erasing a reporter's personal data on request (UU PDP No. 27/2022, the data subject's right to
erasure): `laporhub complaints erase-reporter` and POST /v1/admin/erasures.

The complaints stay (the city still has to fix the pothole, and the audit trail stays whole), but
the reporter's contact is removed, identifiers in the complaint's free text are masked, and every
copy the hub keeps of the original is rewritten the same way: the intake and delivery messages in
the outbox, dead letters, the status updates' bodies, and replies e-mailed about the complaint
(their raw message is dropped: a reply quotes the delivery and may add what it learnt). Each erasure is audited (who, why, which
complaints), without the erased data.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.aftercare.inbound import inbound_mail
from hub.aftercare.status import status_updates
from hub.core import privacy
from hub.core.errors import LaporHubError
from hub.infra.store import Store, complaints, events, outbox
from hub.pipeline.deadletter import dead_letters
from hub.settings import audit


class ErasureError(LaporHubError):
    """An erasure request that names no one, or no reason."""


def _digits(value: str) -> str:
    d = "".join(ch for ch in value if ch.isdigit())
    return "62" + d[1:] if d.startswith("0") else d


def _matches(reporter: dict[str, Any], phone: str | None, email: str | None) -> bool:
    if phone and reporter.get("phone") and _digits(reporter["phone"]) == _digits(phone):
        return True
    return bool(email and str(reporter.get("email", "")).lower() == email.lower())


def find(store: Store, *, phone: str | None = None, email: str | None = None) -> list[str]:
    """Ids of the complaints whose reporter has this phone number or e-mail address."""
    found = []
    with store.engine.connect() as conn:
        for cid, body in conn.execute(sa.select(complaints.c.id, complaints.c.body)):
            if _matches((body or {}).get("reporter") or {}, phone, email):
                found.append(cid)
    return found


def scrub(doc: Any) -> Any:
    """A stored message or complaint without any reporter and with free text masked."""
    if isinstance(doc, dict):
        return {k: privacy.mask_value(v) if k in ("text", "title", "address", "note", "description") and
                isinstance(v, str) else scrub(v) for k, v in doc.items() if k != "reporter"}
    if isinstance(doc, list):
        return [scrub(v) for v in doc]
    return doc


def _scrub_text(text: str) -> str:
    try:
        return json.dumps(scrub(json.loads(text)), ensure_ascii=False)
    except ValueError:
        return privacy.mask_text(text)


def _erase_one(conn: Connection, cid: str) -> None:
    body = conn.execute(sa.select(complaints.c.body).where(complaints.c.id == cid)).scalar_one()
    conn.execute(complaints.update().where(complaints.c.id == cid).values(body=scrub(body)))
    for row in conn.execute(sa.select(events.c.id, events.c.data).where(events.c.complaint_id == cid)).all():
        conn.execute(events.update().where(events.c.id == row.id).values(data=scrub(row.data)))
    for row in conn.execute(sa.select(outbox.c.id, outbox.c.body).where(outbox.c.body.contains(cid))).all():
        conn.execute(outbox.update().where(outbox.c.id == row.id).values(body=_scrub_text(row.body)))
    for row in conn.execute(sa.select(dead_letters.c.id, dead_letters.c.original)
                            .where(dead_letters.c.original.contains(cid))).all():
        conn.execute(dead_letters.update().where(dead_letters.c.id == row.id)
                     .values(original=_scrub_text(row.original)))
    for row in conn.execute(sa.select(status_updates.c.id, status_updates.c.body)
                            .where(status_updates.c.complaint_id == cid)).all():
        conn.execute(status_updates.update().where(status_updates.c.id == row.id).values(body=scrub(row.body)))
    for row in conn.execute(sa.select(inbound_mail.c.id, inbound_mail.c.subject)
                            .where(inbound_mail.c.complaint_id == cid)).all():
        conn.execute(inbound_mail.update().where(inbound_mail.c.id == row.id)
                     .values(raw="", subject=privacy.mask_text(row.subject or "") or None))


def erase(store: Store, *, actor: str, reason: str, phone: str | None = None, email: str | None = None,
          complaint_ids: Iterable[str] = ()) -> dict[str, Any]:
    """Erase the reporter of these complaints (or of every complaint with this phone or e-mail)."""
    if not reason or not reason.strip():
        raise ErasureError("a reason is required (e.g. the request's reference)")
    ids = sorted(set(complaint_ids) | set(find(store, phone=phone, email=email) if (phone or email) else ()))
    if not ids and not (phone or email or complaint_ids):
        raise ErasureError("name the reporter: a phone number, an e-mail address or complaint ids")
    with store.begin() as conn:
        known = set(conn.execute(sa.select(complaints.c.id).where(complaints.c.id.in_(ids))).scalars())
        for cid in sorted(known):
            _erase_one(conn, cid)
            store.add_event(conn, cid, "reporter_erased", {"reason": reason}, actor=actor)
        audit.record(conn, actor, "reporter.erase", "reporter", reason, None,
                     {"complaints": sorted(known), "by": "phone" if phone else "email" if email else "ids"})
    return {"erased": sorted(known), "unknown": sorted(set(ids) - known)}
