"""Fields the admin API and the portal read from request bodies the same way: a bad one is a 422
naming it, never a 500."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hub.core.errors import FieldError, InvalidMessage


def hours(body: dict[str, Any], name: str, default: float, most: float = 720) -> float:
    """A number of hours from the body: finite, 0 to `most`."""
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= most:
        raise InvalidMessage("request", [FieldError(name, f"must be a number of hours from 0 to {most:g}")])
    return float(value)


def reason(body: dict[str, Any]) -> str:
    """Why a person made a change: required, for the audit."""
    value = body.get("reason")
    if not isinstance(value, str) or not value.strip():
        raise InvalidMessage("request", [FieldError("reason", "is required: say why, for the audit")])
    return value.strip()


def since(value: Any, name: str = "since") -> datetime:
    """An ISO 8601 time, in UTC as the store keeps times (SQLite compares them as text)."""
    if not value:
        raise InvalidMessage("request", [FieldError(name, "is required: an ISO 8601 time, e.g. 2026-12-07T02:00:00+07:00")])
    if not isinstance(value, str):
        raise InvalidMessage("request", [FieldError(name, "must be an ISO 8601 time as a string")])
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidMessage("request", [FieldError(name, f"{value!r} is not an ISO 8601 time")]) from None
    return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
