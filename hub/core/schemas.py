"""Validation of every boundary-crossing message against the JSON Schemas in `schemas/`."""

from __future__ import annotations

import importlib.resources
import json
from functools import cache
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from hub.core import privacy
from hub.core.errors import FieldError, InvalidMessage

# schemas/ as package data (hub/defaults/schemas), found the same in a checkout and an installed wheel.
SCHEMA_DIR = Path(str(importlib.resources.files("hub").joinpath("defaults", "schemas")))
BASE_URI = "https://laporhub.org/schemas/"


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


def names() -> list[str]:
    return sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.schema.json"))


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        schema(name), registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def field_path(error: ValidationError) -> str:
    """A dotted path such as `location.latitude` or `attachments[2]`; `$` for the whole message."""
    parts: list[str] = []
    for part in error.absolute_path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    path = "".join(parts)
    # A missing required property is reported on its parent; name the property itself.
    if error.validator == "required" and isinstance(error.instance, dict):
        for prop in error.validator_value:
            if prop not in error.instance:
                return f"{path}.{prop}" if path else prop
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            return f"{path}.{extra[0]}" if path else extra[0]
    return path or "$"


def _reason(error: ValidationError) -> str:
    """Why the field is wrong, without echoing what was sent: a value may be a citizen's text,
    NIK or phone number (issue 11), and error bodies and logs must not carry it."""
    if error.validator == "required":
        return "is required"
    if error.validator == "additionalProperties":
        return "is not an allowed field"
    message = error.message
    if not isinstance(error.instance, (int, float)) or isinstance(error.instance, bool):
        shown = repr(error.instance)
        if message.startswith(shown):
            message = "the value" + message[len(shown):]
        else:
            message = message.replace(shown, "the value")
    return privacy.mask_text(message)


def errors(name: str, instance: Any) -> list[FieldError]:
    """Every schema violation in `instance`, as field errors sorted by path."""
    return _field_errors(validator(name), instance)


def errors_against(schema_doc: Mapping[str, Any], instance: Any) -> list[FieldError]:
    """`errors` for a schema built in code (e.g. an adapter's options schema with the dispatcher's
    options added), its `$ref`s resolved within it and against `schemas/`."""
    checker = Draft202012Validator(dict(schema_doc), registry=_registry(),
                                   format_checker=Draft202012Validator.FORMAT_CHECKER)
    return _field_errors(checker, instance)


def _field_errors(checker: Draft202012Validator, instance: Any) -> list[FieldError]:
    found = []
    for err in checker.iter_errors(instance):
        # oneOf/anyOf failures are clearer when reported by their deepest cause.
        leaf = min(err.context, key=lambda e: len(e.absolute_path) * -1) if err.context else err
        found.append(FieldError(field_path(leaf), _reason(leaf)))
    first_per_field: dict[str, FieldError] = {}
    for e in found:
        first_per_field.setdefault(e.field, e)
    return sorted(first_per_field.values(), key=lambda e: e.field)


def validate(name: str, instance: Any) -> Any:
    """Return `instance` if it satisfies schema `name`, else raise InvalidMessage naming each field."""
    found = errors(name, instance)
    if found:
        raise InvalidMessage(name, found)
    return instance
