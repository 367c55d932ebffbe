"""Dead letters: what could not be processed, parked with the stage and reason, never dropped."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from hub.errors import FieldError
from hub.store import Store, new_id, now


def document(stage: str, reason: str, original: bytes | str, *, errors: list[FieldError] | None = None,
             complaint_id: str | None = None, delivery_id: str | None = None,
             destination: str | None = None, routing_key: str | None = None) -> dict[str, Any]:
    text = original.decode("utf-8", "replace") if isinstance(original, bytes) else original
    return {
        "stage": stage,
        "reason": reason,
        "errors": [e.as_dict() for e in errors or []],
        "complaint_id": complaint_id,
        "delivery_id": delivery_id,
        "destination": destination,
        "original": text,
        "original_routing_key": routing_key,
        "dead_at": now().isoformat().replace("+00:00", "Z"),
    }


def enqueue(store: Store, conn: Connection, doc: dict[str, Any]) -> str:
    """Put a dead letter in the outbox within the caller's transaction; returns its message id."""
    message_id = f"dead:{doc.get('delivery_id') or new_id('m')}"
    store.enqueue(conn, message_id, "dead", doc["stage"], doc,
                  headers={"x-laporhub-stage": doc["stage"], "x-laporhub-reason": doc["reason"][:500]})
    return message_id
