"""The destination registry: who can receive a complaint, and how `{city}` templates resolve."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from hub.core import schemas
from hub.core.areas import Area, Areas
from hub.core.errors import FieldError, UnknownDestination
from hub.core.options import DispatchOptions, dispatch, schema_for


@dataclass(frozen=True)
class Destination:
    id: str
    name: str
    kind: str
    adapter: str
    options: Mapping[str, Any] = field(default_factory=dict)
    reporter_fields: tuple[str, ...] = ()  # the reporter's contact fields it may receive (issue 11)
    parent: str | None = None
    city: str | None = None
    sector: str = "government"  # government, state-owned or private: the border hand-offs cross

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "adapter": self.adapter,
                "parent": self.parent, "city": self.city, "sector": self.sector}


@dataclass(frozen=True)
class Resolution:
    """A `send_to` entry resolved for one complaint, and how."""

    destination: Destination
    note: str


class Registry:
    """Every destination, with templates expanded once per city."""

    def __init__(self, destinations: Iterable[Destination], templates: Mapping[str, str]) -> None:
        self._by_id = {d.id: d for d in destinations}
        self.templates = dict(templates)  # template id -> parent id

    @classmethod
    def from_config(cls, doc: Mapping[str, Any], areas: Areas) -> "Registry":
        plain = [from_document(d) for d in doc.get("destinations", [])]
        expanded: list[Destination] = []
        templates: dict[str, str] = {}
        for t in doc.get("templates", []):
            templates[t["id"]] = t["parent"]
            for city in areas.cities:
                if t.get("cities") and city.id not in t["cities"]:
                    continue
                fill = {"city": city.id, "city_name": city.name}
                expanded.append(from_document(
                    {**t, "id": t["id"].format(**fill), "name": t["name"].format(**fill)},
                    parent=t["parent"], city=city.id,
                ))
        return cls(plain + expanded, templates)

    def __contains__(self, destination_id: object) -> bool:
        return destination_id in self._by_id

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, destination_id: str) -> Destination:
        try:
            return self._by_id[destination_id]
        except KeyError:
            raise UnknownDestination(destination_id) from None

    def update_options(self, destination_id: str, **options: Any) -> Destination:
        """Change a destination's adapter options in place (e.g. a webhook URL); returns it."""
        dest = self.get(destination_id)
        self._by_id[destination_id] = replace(dest, options={**dest.options, **options})
        return self._by_id[destination_id]

    def is_reference(self, ref: str) -> bool:
        """Can `ref` appear in a rule's send_to: a destination id or a template id?"""
        return ref in self._by_id or ref in self.templates

    def resolve(self, ref: str, area: Area | None) -> Resolution:
        """`sudin-bina-marga-{city}` -> the office of the complaint's city, or its parent."""
        if ref not in self.templates:
            return Resolution(self.get(ref), "")
        if area is not None:
            concrete = ref.format(city=area.city)
            if concrete in self._by_id:
                return Resolution(self._by_id[concrete], f"the office for {area.city}")
        parent = self.templates[ref]
        why = "city unknown" if area is None else f"no office for {area.city}"
        return Resolution(self.get(parent), f"{why}, so the provincial department")


def reporter_fields(doc: Mapping[str, Any]) -> tuple[str, ...]:
    """`reporter_fields: [phone]`, or the older `share_reporter_contact: true` (all of them)."""
    if "reporter_fields" in doc:
        return tuple(f for f in ("name", "email", "phone") if f in (doc.get("reporter_fields") or ()))
    return ("name", "email", "phone") if doc.get("share_reporter_contact") else ()


def from_document(doc: Mapping[str, Any], parent: str | None = None, city: str | None = None) -> Destination:
    """A destination from its definition (config/destinations.yaml, or a live setting)."""
    return Destination(
        id=doc["id"],
        name=doc["name"],
        kind=doc["kind"],
        adapter=doc["adapter"],
        options=dict(doc.get("options") or {}),
        reporter_fields=reporter_fields(doc),
        parent=parent,
        city=city,
        sector=doc.get("sector") or "government",
    )


def dispatch_options(dest: Destination) -> DispatchOptions:
    """The options the dispatcher reads for this destination (declared in hub/core/options.py)."""
    return dispatch(dest.options)


def options_errors(adapter: str, options: Mapping[str, Any]) -> list[FieldError]:
    """An adapter's options checked before it is built (at config load, on PUT), where the adapter
    publishes its options schema as `schemas/<adapter>-options.schema.json` (the email adapter
    does): the same schema its `options_schema` is, with the dispatcher's options added as
    `hub.core.options.check` adds them. Fields are named `options.<field>`."""
    name = f"{adapter}-options"
    if name not in schemas.names():
        return []
    return [FieldError(f"options.{e.field}" if e.field != "$" else "options", e.reason)
            for e in schemas.errors_against(schema_for(schemas.schema(name)), dict(options))]
