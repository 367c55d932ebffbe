"""Places named in the text: kecamatan, kelurahan, main streets and well-known places -> city.

Used when the location fields do not place a complaint ("jln di kec. cilandak rusak" goes to the
South Jakarta office, not to the provincial department). Pure: the names come from
`config/gazetteer.yaml` (built from the boundary data by scripts/build_gazetteer.py) and the city
names and aliases of `config/areas.yaml`. Kept apart from hub/core/areas.py, which places
coordinates and address fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from hub.core.areas import Area
from hub.core.text import fold

_WORD = re.compile(r"[a-z0-9]+")
MAX_WORDS = 5
"""Longest name, in words, that is looked for."""


@dataclass(frozen=True)
class Place:
    name: str
    city: str
    kecamatan: str | None
    kind: str  # city, kecamatan, kelurahan, street, place
    needs: str | None = None  # "street" (after jalan/jl) or "prefix" (after kel/kec)


def _key(name: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(name)))


class Gazetteer:
    def __init__(self, places: Iterable[Place], prefixes: Iterable[str], street_words: Iterable[str]) -> None:
        self._index: dict[tuple[str, ...], Place] = {}
        for place in places:
            key = _key(place.name)
            if not key:
                continue
            self._index.setdefault(key, place)
            if len(key) > 1:  # people write Kalideres and Kali Deres, Pulogadung and Pulo Gadung
                self._index.setdefault(("".join(key),), place)
        self._starts = {key[0] for key in self._index}
        self.prefixes = {_key(p) for p in prefixes}
        self.street_words = {_key(s) for s in street_words}

    @classmethod
    def from_config(cls, doc: Mapping[str, Any] | None, cities: Iterable[tuple[str, Iterable[str]]] = ()) -> "Gazetteer":
        """`cities`: (city id, its names and aliases) from areas.yaml."""
        doc = doc or {}
        prefix_only = {_key(n) for n in doc.get("prefix_only", ())}
        places: list[Place] = []
        for city, names in cities:
            places += [Place(n, city, None, "city") for n in names]
        for city, entry in (doc.get("cities") or {}).items():
            for kec, k in (entry.get("kecamatan") or {}).items():
                places += [Place(n, city, kec, "kecamatan") for n in k.get("names", ())]
                places += [Place(n, city, kec, "kelurahan", "prefix" if _key(n) in prefix_only else None)
                           for n in k.get("kelurahan", ())]
            places += [Place(s["name"], city, s.get("kecamatan"), "street", "street") for s in entry.get("streets", ())]
            places += [Place(p["name"], city, p.get("kecamatan"), "place") for p in entry.get("places", ())]
        # kecamatan before kelurahan before streets: the first registration of a name wins
        order = {"city": 0, "kecamatan": 1, "kelurahan": 2, "place": 3, "street": 4}
        return cls(sorted(places, key=lambda p: order[p.kind]), doc.get("prefixes", ()), doc.get("street_words", ()))

    def find(self, text: str) -> Place | None:
        """The first place named in `text` (longest name at each position)."""
        words = _WORD.findall(fold(text or ""))
        for i in range(len(words)):
            if words[i] not in self._starts:
                continue
            for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
                place = self._index.get(tuple(words[i:i + n]))
                if place and self._allowed(place, words, i):
                    return place
        return None

    def _allowed(self, place: Place, words: list[str], i: int) -> bool:
        if place.needs is None:
            return True
        before = {tuple(words[max(0, i - k):i]) for k in (1, 2)}
        wanted = self.street_words if place.needs == "street" else self.prefixes
        return bool(before & wanted)

    def locate(self, location: Mapping[str, Any] | None, *texts: str) -> tuple[Area | None, str | None]:
        """Area from the location's kelurahan/address, else from the texts; and the name that placed it."""
        loc = location or {}
        for field, source in (("kelurahan", "address"), ("address", "address"), ("kecamatan", "address")):
            place = self.find(loc.get(field) or "")
            if place:
                return Area(place.city, place.kecamatan, source), f"{place.name} ({place.kind}, from {field})"
        for text in texts:
            place = self.find(text)
            if place:
                return Area(place.city, place.kecamatan, "text"), f"{place.name} ({place.kind})"
        return None, None
