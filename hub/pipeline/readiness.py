"""Is this process able to work: the store and the broker answer. Served as /readyz by the API
and, on their metrics port, by the router, dispatcher, status consumer and scheduler."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from kombu import Connection

from hub.settings.runtime import Hub


def store_answers(hub: Hub) -> str | None:
    """None when the store answers, else why not."""
    try:
        with hub.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"store unreachable: {exc.__class__.__name__}: {str(exc)[:200]}"
    return None


def broker_answers(hub: Hub) -> str | None:
    if not hub.settings.broker_url.startswith("amqp"):
        return None
    try:
        with Connection(hub.settings.broker_url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"broker unreachable: {exc.__class__.__name__}: {str(exc)[:200]}"
    return None


def readiness(hub: Hub) -> tuple[bool, dict[str, Any]]:
    """(ready, the /readyz body naming what is unreachable)."""
    problems = {"store": store_answers(hub), "broker": broker_answers(hub)}
    failing = {k: v for k, v in problems.items() if v}
    if failing:
        return False, {"status": "unavailable", "checks": failing}
    return True, {"status": "ok", "checks": {"store": "ok", "broker": "ok"}}
