"""Placing a complaint in a city and kecamatan, from its address parts or its coordinates.

Address parts are what the citizen said and win. Coordinates are placed with Jakarta's real
kecamatan/kelurahan boundaries (hub/core/boundaries.py); the kecamatan found there gives the
city, so a point is never in a kecamatan of another city."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from hub.core.boundaries import Boundaries, jakarta
from hub.core.text import fold, slug


@dataclass(frozen=True)
class City:
    id: str
    name: str
    kecamatan: dict[str, str]  # kecamatan id -> name
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Area:
    city: str
    kecamatan: str | None
    source: str  # "address" or "coordinates"
    kelurahan: str | None = None  # official name, from coordinates only

    def as_dict(self) -> dict[str, Any]:
        out = {"city": self.city, "kecamatan": self.kecamatan, "source": self.source}
        if self.kelurahan:
            out["kelurahan"] = self.kelurahan
        return out


def _compact(value: str) -> str:
    """`Pal Merah`, `Palmerah` and `pal-merah` are one kecamatan (Kemendagri vs everyday spelling)."""
    return slug(value).replace("-", "")


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
    boundaries: Boundaries | None = field(default=None, repr=False)
    _by_code: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        compact: dict[str, tuple[str, str]] = {}
        for city in self.cities:
            for name in (city.id, city.name, *city.aliases):
                self._by_name[_name_key(name)] = city.id
            for kec_id in city.kecamatan:
                self._kecamatan[kec_id] = (city.id, kec_id)
                compact[_compact(kec_id)] = (city.id, kec_id)
        if self.boundaries is None:
            self.boundaries = jakarta()
        for props in self.boundaries.kecamatan:
            for name in (props["kecamatan"], props.get("source_name") or ""):
                if _compact(name) in compact:
                    self._by_code[props["kode_kecamatan"]] = compact[_compact(name)]

    @classmethod
    def from_config(cls, doc: Mapping[str, Any]) -> "Areas":
        cities = [
            City(
                id=c["id"],
                name=c["name"],
                kecamatan={slug(k): k for k in c["kecamatan"]},
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
        if lat is None or lon is None or self.boundaries is None:
            return None
        place = self.boundaries.locate(float(lon), float(lat))
        owner = self._by_code.get(place.kode_kecamatan) if place else None
        if owner is None:
            return None
        return Area(owner[0], owner[1], "coordinates", place.kelurahan if place else None)

    def kode(self, area: Area | None) -> str | None:
        """The Kemendagri code of the area's kecamatan, if it has one."""
        if area is None or area.kecamatan is None:
            return None
        return next((code for code, key in self._by_code.items() if key == (area.city, area.kecamatan)), None)

    def centre(self, area: Area | None) -> tuple[float, float] | None:
        """A point inside the area's kecamatan (lon, lat): where a complaint without coordinates is put."""
        code = self.kode(area)
        return self.boundaries.centre(code) if code and self.boundaries else None

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


__all__ = ["Area", "Areas", "City", "fold", "matches"]
