"""Which kota, kecamatan and kelurahan a coordinate lies in, from Jakarta's real boundaries.

The polygons (hub/core/data/boundaries/, CC BY-SA 4.0, see ATTRIBUTION.md there) are loaded once
into shapely STRtrees of prepared geometries, so a lookup is a bounding-box query plus one or two
prepared point-in-polygon tests. The data covers land only: a point at sea, on a pier or between
the Thousand Islands takes the nearest kecamatan within `NEAREST_M` metres, and nothing farther.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import shapely
from shapely.geometry import Point, shape
from shapely.ops import nearest_points
from shapely.strtree import STRtree

DATA = Path(__file__).resolve().parent / "data" / "boundaries"
NEAREST_M = 500.0
ATTRIBUTION = ("Kecamatan/kelurahan boundaries: PetaJakarta.org, SMART Infrastructure Facility, "
               "University of Wollongong (cognicity-schema), CC BY-SA 4.0, modified.")
_M_PER_DEG_LAT = 110_574.0


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class Place:
    """Where a coordinate lies; names are the Kemendagri spellings, codes the Kemendagri codes."""

    kota: str
    kecamatan: str
    kode_kecamatan: str
    kelurahan: str | None
    kode_kelurahan: str | None
    source: str  # "polygon" (inside it) or "nearest" (outside every polygon, within NEAREST_M)
    distance_m: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"kota": self.kota, "kecamatan": self.kecamatan, "kode_kecamatan": self.kode_kecamatan,
                "kelurahan": self.kelurahan, "kode_kelurahan": self.kode_kelurahan,
                "source": self.source, "distance_m": round(self.distance_m, 1)}


class _Layer:
    """One FeatureCollection as an STRtree of prepared geometries with their properties."""

    def __init__(self, features: list[Mapping[str, Any]]) -> None:
        self.props = [dict(f["properties"]) for f in features]
        self.geoms = [shape(f["geometry"]) for f in features]
        shapely.prepare(self.geoms)
        self.tree = STRtree(self.geoms)

    def containing(self, point: Point) -> int | None:
        for i in self.tree.query(point):
            if self.geoms[i].covers(point):
                return int(i)
        return None

    def nearest(self, point: Point, within_m: float) -> tuple[int, float] | None:
        within_deg = within_m / (_M_PER_DEG_LAT * max(math.cos(math.radians(point.y)), 0.5))
        hits = self.tree.query_nearest(point, max_distance=within_deg, all_matches=False)
        if not len(hits):
            return None
        i = int(hits[0])
        near = nearest_points(self.geoms[i], point)[0]
        metres = metres_between(point.x, point.y, near.x, near.y)
        return (i, metres) if metres <= within_m else None


class Boundaries:
    """Kecamatan polygons decide the kecamatan (and so the kota); kelurahan refine it."""

    def __init__(self, kecamatan: list[Mapping[str, Any]], kelurahan: list[Mapping[str, Any]]) -> None:
        self._kec = _Layer(kecamatan)
        self._kel = _Layer(kelurahan)
        self._centres = {p["kode_kecamatan"]: g.representative_point()
                         for p, g in zip(self._kec.props, self._kec.geoms)}

    @classmethod
    def from_files(cls, directory: Path = DATA) -> "Boundaries":
        kec = json.loads((directory / "kecamatan.geojson").read_text(encoding="utf-8"))
        kel = json.loads((directory / "kelurahan.geojson").read_text(encoding="utf-8"))
        return cls(kec["features"], kel["features"])

    @property
    def kecamatan(self) -> list[dict[str, Any]]:
        """Properties of every kecamatan (kota, kecamatan, kode_kecamatan, source_name…)."""
        return [dict(p) for p in self._kec.props]

    def locate(self, lon: float, lat: float) -> Place | None:
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        point = Point(lon, lat)
        i = self._kec.containing(point)
        source, distance = "polygon", 0.0
        if i is None:
            hit = self._kec.nearest(point, NEAREST_M)
            if hit is None:
                return None
            (i, distance), source = hit, "nearest"
        kec = self._kec.props[i]
        kelurahan = kode_kel = None
        j = self._kel.containing(point) if source == "polygon" else None
        if j is not None and self._kel.props[j]["kode_kecamatan"] == kec["kode_kecamatan"]:
            kel = self._kel.props[j]
            if kel.get("official", True):
                kelurahan, kode_kel = kel["kelurahan"], kel["kode_kelurahan"]
        return Place(kota=kec["kota"], kecamatan=kec["kecamatan"], kode_kecamatan=kec["kode_kecamatan"],
                     kelurahan=kelurahan, kode_kelurahan=kode_kel, source=source, distance_m=distance)

    def centre(self, kode_kecamatan: str) -> tuple[float, float] | None:
        """A point inside the kecamatan (lon, lat): where a complaint without coordinates is put."""
        p = self._centres.get(kode_kecamatan)
        return (p.x, p.y) if p is not None else None


@lru_cache(maxsize=1)
def jakarta() -> Boundaries:
    """The shipped boundaries, loaded once per process (about 0.2 s)."""
    return Boundaries.from_files()


def kecamatan_geojson() -> bytes:
    """The kecamatan FeatureCollection as shipped: the console's map base layer."""
    return (DATA / "kecamatan.geojson").read_bytes()


__all__ = ["ATTRIBUTION", "Boundaries", "NEAREST_M", "Place", "jakarta", "kecamatan_geojson", "metres_between"]
