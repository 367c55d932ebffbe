"""Placing a complaint in a city and kecamatan, from its address parts or its coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from hub.core.text import fold, slug


@dataclass(frozen=True)
class City:
    id: str
    name: str
    kecamatan: dict[str, str]  # kecamatan id -> name
    boundary: tuple[tuple[float, float], ...]  # (lon, lat)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Area:
    city: str
    kecamatan: str | None
    source: str  # "address" or "coordinates"

    def as_dict(self) -> dict[str, Any]:
        return {"city": self.city, "kecamatan": self.kecamatan, "source": self.source}


def point_in_polygon(lon: float, lat: float, ring: Iterable[tuple[float, float]]) -> bool:
    """Even-odd ray casting; a ring of (lon, lat) points, closed or not."""
    pts = list(ring)
    inside = False
    j = len(pts) - 1
    for i in range(len(pts)):
        xi, yi = pts[i]
        xj, yj = pts[j]
        if (yi > lat) != (yj > lat):
            x_cross = (xj - xi) * (lat - yi) / (yj - yi) + xi
            if lon < x_cross:
                inside = not inside
        j = i
    return inside


def _name_key(value: str) -> str:
    """Address parts as people write them: `Kota Adm. Jakarta Selatan`, `kec. cilandak`."""
    key = slug(value)
    for prefix in ("kota-administrasi-", "kota-adm-", "kotamadya-", "kota-", "kabupaten-administrasi-",
                   "kab-adm-", "kabupaten-", "kab-", "kecamatan-", "kec-"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key


@dataclass
class Areas:
    cities: list[City]
    _by_name: dict[str, str] = field(default_factory=dict, repr=False)
    _kecamatan: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for city in self.cities:
            for name in (city.id, city.name, *city.aliases):
                self._by_name[_name_key(name)] = city.id
            for kec_id in city.kecamatan:
                self._kecamatan[kec_id] = (city.id, kec_id)

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> "Areas":
        cities = [
            City(
                id=c["id"],
                name=c["name"],
                kecamatan={slug(k): k for k in c["kecamatan"]},
                boundary=tuple((float(p[0]), float(p[1])) for p in c["boundary"]),
                aliases=tuple(c.get("aliases", ())),
            )
            for c in doc["cities"]
        ]
        return cls(cities)

    @property
    def city_ids(self) -> list[str]:
        return [c.id for c in self.cities]

    def city(self, city_id: str) -> City:
        return next(c for c in self.cities if c.id == city_id)

    def locate(self, location: Mapping[str, Any] | None) -> Area | None:
        """Address parts first (what the citizen said), then coordinates."""
        if not location:
            return None
        kota = location.get("kota")
        kec = location.get("kecamatan")
        city_id = self._by_name.get(_name_key(kota)) if kota else None
        kec_id = _name_key(kec) if kec else None
        if kec_id and kec_id in self._kecamatan:
            owner, _ = self._kecamatan[kec_id]
            if city_id is None or city_id == owner:
                return Area(owner, kec_id, "address")
        if city_id:
            return Area(city_id, None, "address")
        lat, lon = location.get("latitude"), location.get("longitude")
        if lat is not None and lon is not None:
            for city in self.cities:
                if point_in_polygon(float(lon), float(lat), city.boundary):
                    return Area(city.id, None, "coordinates")
        return None

    def known(self, area_ref: str) -> bool:
        """Is `area_ref` a city id or a `city/kecamatan` id pair?"""
        city, _, kec = area_ref.partition("/")
        if city not in self.city_ids:
            return False
        return not kec or kec in self.city(city).kecamatan


def matches(area: Area | None, refs: Iterable[str]) -> bool:
    if area is None:
        return False
    for ref in refs:
        city, _, kec = ref.partition("/")
        if city == area.city and (not kec or kec == area.kecamatan):
            return True
    return False


__all__ = ["Area", "Areas", "City", "fold", "matches", "point_in_polygon"]
