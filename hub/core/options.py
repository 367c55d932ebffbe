"""Destination options, declared rather than read ad hoc: each adapter publishes a JSON Schema of
its own options (`options_schema`), and the options the dispatcher itself reads (pool size,
circuit breaker, rate limit) are declared here, allowed on every destination. Options are checked
against the two together, so an unknown option or a wrong type is named by its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from jsonschema import Draft202012Validator

from hub.core.errors import FieldError, InvalidMessage

DISPATCH_OPTIONS: dict[str, Any] = {
    "concurrency": {"type": "integer", "minimum": 1,
                    "description": "deliveries to this destination at once, per dispatcher (default 4; channels 1)"},
    "circuit_threshold": {"type": "integer", "minimum": 1,
                          "description": "failed deliveries in a row that open the circuit (default 5)"},
    "circuit_cooldown": {"type": "number", "minimum": 0,
                         "description": "seconds the circuit stays open before one trial (default 30)"},
    "rate_per_second": {"type": "number", "exclusiveMinimum": 0,
                        "description": "at most this many requests a second, per dispatcher (default: no limit)"},
}


@dataclass(frozen=True)
class DispatchOptions:
    concurrency: int | None = None
    circuit_threshold: int = 5
    circuit_cooldown: float = 30.0
    rate_per_second: float | None = None


def schema_for(own: Mapping[str, Any]) -> dict[str, Any]:
    """An adapter's options schema with the dispatcher's options added; nothing else allowed."""
    return {**own, "type": "object", "additionalProperties": False,
            "properties": {**own.get("properties", {}), **DISPATCH_OPTIONS}}


def check(adapter: str, own: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The options if they fit the adapter's schema; InvalidMessage naming each bad field if not."""
    errors = [FieldError("options" + "".join(f".{p}" for p in e.absolute_path)
                         + (f".{_extra(e.message)}" if e.validator == "additionalProperties" else ""),
                         e.message)
              for e in Draft202012Validator(schema_for(own)).iter_errors(dict(options))]
    if errors:
        raise InvalidMessage(f"{adapter} options", errors)
    return dict(options)


def _extra(message: str) -> str:
    """The first unexpected property named in a jsonschema additionalProperties message."""
    return message.split("'")[1] if "'" in message else "?"


def dispatch(options: Mapping[str, Any]) -> DispatchOptions:
    d = DispatchOptions()
    return DispatchOptions(
        concurrency=int(options["concurrency"]) if "concurrency" in options else d.concurrency,
        circuit_threshold=int(options.get("circuit_threshold", d.circuit_threshold)),
        circuit_cooldown=float(options.get("circuit_cooldown", d.circuit_cooldown)),
        rate_per_second=float(options["rate_per_second"]) if options.get("rate_per_second") else None)
