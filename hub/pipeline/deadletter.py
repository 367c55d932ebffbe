"""Dead letters: what could not be processed, parked with the stage and reason, never dropped.

Each dead letter is recorded in the store (for `laporhub dead` and /v1/admin/dead-letters) and
announced on the `<prefix>.dead` queue, both in the caller's transaction through the outbox.
A replay re-publishes the original to its stage's input, once.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.core.errors import FieldError, LaporHubError
from hub.infra import outbox
from hub.infra.metrics import DEAD_LETTERS
from hub.infra.store import Store, complaints, deliveries, iso, metadata, new_id, now

# Where a stage's input comes from: (exchange, routing key or None for the original key).
INPUTS: dict[str, tuple[str, str | None]] = {
    "router": ("intake", "complaint"),
    "intake": ("intake", "complaint"),
    "dispatcher": ("delivery", None),
    "status": ("status", "status"),
}


dead_letters = sa.Table(
    "dead_letters", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, index=True),  # stage + what failed
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("complaint_id", sa.String(64), index=True),
    sa.Column("delivery_id", sa.String(64)),
    sa.Column("destination", sa.String(128)),
    sa.Column("original", sa.Text, nullable=False),
    sa.Column("original_routing_key", sa.String(256)),
    sa.Column("status", sa.String(16), nullable=False),  # dead, replayed
    sa.Column("dead_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("replayed_at", sa.DateTime(timezone=True)),
)


class DeadLetterNotFound(LaporHubError):
    def __init__(self, dead_letter_id: str) -> None:
        super().__init__(f"no dead letter {dead_letter_id!r}; `laporhub dead list` shows them")
        self.dead_letter_id = dead_letter_id


def document(stage: str, reason: str, original: bytes | str, *, errors: list[FieldError] | None = None,
             complaint_id: str | None = None, delivery_id: str | None = None,
             destination: str | None = None, routing_key: str | None = None) -> dict[str, Any]:
    raw = original if isinstance(original, bytes) else original.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "replace")
    exact = text.encode() == raw and "\x00" not in text
    doc = {
        "stage": stage,
        "reason": reason.replace("\x00", "\ufffd"),
        "errors": [e.as_dict() for e in errors or []],
        "complaint_id": complaint_id,
        "delivery_id": delivery_id,
        "destination": destination,
        # Stores refuse NUL in text (PostgreSQL): the text shows U+FFFD, the exact bytes go along.
        "original": text.replace("\x00", "\ufffd"),
        "original_routing_key": routing_key,
        "dead_at": now().isoformat().replace("+00:00", "Z"),
    }
    if not exact:
        doc["original_base64"] = base64.b64encode(raw).decode()
    return doc


def _key(doc: Mapping[str, Any]) -> str:
    """What failed: the same delivery, or the same original body, at the same stage."""
    what = doc.get("delivery_id") or hashlib.sha256(doc["original"].encode()).hexdigest()[:32]
    return f"{doc['stage']}:{what}"


def enqueue(store: Store, conn: Connection, doc: dict[str, Any]) -> str:
    """Record a dead letter and queue its announcement within the caller's transaction.

    Idempotent: the same failure processed twice (a redelivery) stays one dead letter while it
    has not been replayed. Returns the outbox message id.
    """
    key = _key(doc)
    existing = conn.execute(sa.select(dead_letters.c.id).where(
        dead_letters.c.key == key, dead_letters.c.status == "dead")).scalar()
    if existing:
        return f"dead:{existing}"
    dead_id = new_id("dl")
    doc = {"id": dead_id, **doc}
    conn.execute(dead_letters.insert().values(
        id=dead_id, key=key, stage=doc["stage"], reason=doc["reason"], errors=doc["errors"],
        complaint_id=doc["complaint_id"], delivery_id=doc["delivery_id"], destination=doc["destination"],
        original=doc["original"], original_routing_key=doc["original_routing_key"], status="dead",
        dead_at=now()))
    message_id = f"dead:{dead_id}"
    DEAD_LETTERS.labels(doc["stage"]).inc()
    outbox.enqueue(conn, message_id, "dead", doc["stage"], doc,
                   headers={"x-laporhub-stage": doc["stage"], "x-laporhub-reason": doc["reason"][:500]})
    return message_id


def _view(row: Mapping[str, Any], full: bool = True) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "stage", "reason", "complaint_id", "delivery_id", "destination",
                               "original_routing_key", "status")}
    out.update(dead_at=iso(row["dead_at"]), replayed_at=iso(row["replayed_at"]))
    if full:
        out.update(errors=row["errors"], original=row["original"])
    return out


def list_(store: Store, *, stage: str | None = None, status: str | None = "dead",
          limit: int = 100) -> list[dict[str, Any]]:
    q = sa.select(dead_letters).order_by(dead_letters.c.dead_at.desc()).limit(limit)
    if stage:
        q = q.where(dead_letters.c.stage == stage)
    if status:
        q = q.where(dead_letters.c.status == status)
    with store.engine.connect() as conn:
        return [_view(r, full=False) for r in conn.execute(q).mappings()]


def show(store: Store, dead_letter_id: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(dead_letters).where(dead_letters.c.id == dead_letter_id)).mappings().first()
    if row is None:
        raise DeadLetterNotFound(dead_letter_id)
    return _view(row)


def replay(store: Store, dead_letter_id: str) -> dict[str, Any]:
    """Send the original back to its stage's input; a second replay of the same letter does nothing.

    A dead delivery becomes pending again, so the dispatcher makes it (with the same delivery id,
    which operators deduplicate on). Returns {"id", "replayed": bool, "message_id"}.
    """
    with store.begin() as conn:
        q = sa.select(dead_letters).where(dead_letters.c.id == dead_letter_id)
        if store.dialect == "postgresql":
            q = q.with_for_update()
        row = conn.execute(q).mappings().first()
        if row is None:
            raise DeadLetterNotFound(dead_letter_id)
        return replay_row(store, conn, row)


def replay_row(store: Store, conn: Connection, row: Mapping[str, Any], actor: str = "admin") -> dict[str, Any]:
    """`replay` in the caller's transaction, for a dead-letter row it has read (and locked)."""
    dead_letter_id = row["id"]
    message_id = f"replay:{dead_letter_id}"
    if row["status"] == "replayed":
        return {"id": dead_letter_id, "replayed": False, "message_id": message_id,
                "detail": f"already replayed at {iso(row['replayed_at'])}"}
    exchange, key = INPUTS[row["stage"]]
    routing_key = key or row["original_routing_key"] or row["destination"]
    if row["delivery_id"]:
        _reopen_delivery(store, conn, row["delivery_id"], dead_letter_id, actor)
    outbox.enqueue(conn, message_id, exchange, routing_key, row["original"],
                   headers={"x-laporhub-replay-of": dead_letter_id})
    conn.execute(dead_letters.update().where(dead_letters.c.id == dead_letter_id)
                 .values(status="replayed", replayed_at=now()))
    return {"id": dead_letter_id, "replayed": True, "message_id": message_id,
            "detail": f"re-published to {exchange} with routing key {routing_key}"}


def _reopen_delivery(store: Store, conn: Connection, delivery_id: str, dead_letter_id: str,
                     actor: str = "admin") -> None:
    row = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()
    if row is None or row["status"] != "dead":
        return
    store.update_delivery(conn, delivery_id, status="pending", last_error=None)
    store.add_event(conn, row["complaint_id"], "delivery_replayed",
                    {"destination": row["destination"], "dead_letter_id": dead_letter_id},
                    actor=actor, delivery_id_=delivery_id)
    conn.execute(complaints.update().where(complaints.c.id == row["complaint_id"])
                 .values(status="routed", updated_at=now()))


def purge(store: Store, *, stage: str | None = None, status: str | None = None) -> int:
    """Forget dead letters (all, or one stage's, or only replayed ones); returns how many."""
    q = dead_letters.delete()
    if stage:
        q = q.where(dead_letters.c.stage == stage)
    if status:
        q = q.where(dead_letters.c.status == status)
    with store.begin() as conn:
        return conn.execute(q).rowcount


def from_broker(body: bytes | str, headers: Mapping[str, Any], message_id: str | None,
                prefix: str) -> dict[str, Any]:
    """A dead letter for a message the broker gave up on after its delivery limit.

    Such a message never reached the end of a worker's handler (the worker crashed or hung on
    it each time), so the reason comes from the broker's x-death header.
    """
    deaths = headers.get("x-death") or [{}]
    first = deaths[0] if isinstance(deaths, list) and deaths else {}
    queue = str(first.get("queue", "")).removeprefix(f"{prefix}.")
    stage = "dispatcher" if queue.startswith("delivery.") else "router" if queue == "intake" else "status"
    why = str(headers.get("x-first-death-reason") or first.get("reason") or "delivery_limit")
    keys = first.get("routing-keys") or [None]
    delivery = None
    if stage == "dispatcher":
        try:
            delivery = json.loads(body).get("delivery_id")
        except (ValueError, AttributeError, UnicodeDecodeError):
            delivery = None
    reason = (f"the broker dead-lettered it from {first.get('queue', 'its queue')} ({why}): "
              f"delivered {first.get('count', 'many')} times without being processed - a worker "
              "crashed or hung on it each time")
    return document(stage, reason, body, delivery_id=delivery or None,
                    destination=queue.removeprefix("delivery.") if stage == "dispatcher" else None,
                    routing_key=keys[0])


def count(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(dead_letters)
                            .where(dead_letters.c.status == "dead")).scalar_one()
