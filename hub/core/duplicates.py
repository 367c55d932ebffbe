"""Is a new complaint the same problem as an open one, and do many complaints form an incident?

Pure functions over plain records, so the pipeline, the bench and the tests share one definition.

Two ways to be the same problem, both only within one category and a time window after the
original was received:
- **distance**: the two points are within `distance_m` (50 m by default, as FixMyStreet). A
  complaint without coordinates is put at its kecamatan's centre; two complaints that are *both*
  at a centre say nothing about where the problem is, so they need the text test instead.
- **text**: near-identical text, measured as the Jaccard similarity of the sets of character
  4-grams of the normalised words (`hub.core.text.tokens`: slang and elongation undone). Chosen over
  TF-IDF cosine because it needs no corpus statistics that drift as complaints arrive, and it is
  robust to the typos and spacing of forwarded messages; chosen over MinHash because MinHash only
  *estimates* this Jaccard to scale to millions of pairs, while the candidates here are the few
  open complaints of one category in one window, so the exact value costs less. Short texts
  ("jalan rusak") are too common to mean the same pothole, so texts under `text_min_chars` never
  match on text alone, and two texts at known points farther apart than `text_distance_m` are
  different places whatever they say.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from hub.core.boundaries import metres_between
from hub.core.text import tokens


@dataclass(frozen=True)
class LinkPolicy:
    enabled: bool = True
    distance_m: float = 50.0
    window: timedelta = timedelta(days=7)
    text_similarity: float = 0.7
    text_min_chars: int = 40
    text_distance_m: float = 1000.0
    incident_size: int = 5
    incident_window: timedelta = timedelta(hours=3)

    @classmethod
    def from_config(cls, doc: Mapping[str, Any] | None) -> "LinkPolicy":
        doc = doc or {}
        base = cls()
        return cls(
            enabled=bool(doc.get("enabled", True)),
            distance_m=float(doc.get("distance_m", base.distance_m)),
            window=timedelta(hours=float(doc.get("window_hours", base.window.total_seconds() / 3600))),
            text_similarity=float(doc.get("text_similarity", base.text_similarity)),
            text_min_chars=int(doc.get("text_min_chars", base.text_min_chars)),
            text_distance_m=float(doc.get("text_distance_m", base.text_distance_m)),
            incident_size=int(doc.get("incident_size", base.incident_size)),
            incident_window=timedelta(hours=float(doc.get("incident_window_hours",
                                                          base.incident_window.total_seconds() / 3600))),
        )


@dataclass(frozen=True)
class Report:
    """What linking needs to know about one complaint."""

    id: str
    category: str
    received_at: datetime
    text: str
    lon: float | None = None  # the citizen's coordinates, when given
    lat: float | None = None
    kecamatan: str | None = None  # an area key; complaints are grouped into incidents by it
    centre: tuple[float, float] | None = None  # (lon, lat) of the kecamatan, when known

    @property
    def exact(self) -> bool:
        return self.lon is not None and self.lat is not None

    @property
    def position(self) -> tuple[float, float] | None:
        return (self.lon, self.lat) if self.exact else self.centre  # type: ignore[return-value]


@dataclass(frozen=True)
class Link:
    original: str
    method: str  # "distance" or "text"
    distance_m: float | None
    similarity: float

    def as_dict(self) -> dict[str, Any]:
        return {"original": self.original, "method": self.method,
                "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
                "similarity": round(self.similarity, 3)}


@lru_cache(maxsize=8192)
def shingles(text: str, size: int = 4) -> frozenset[str]:
    """The text's character 4-grams (cached: a router compares one text with many open ones)."""
    joined = " ".join(tokens(text))
    if len(joined) <= size:
        return frozenset([joined]) if joined else frozenset()
    return frozenset(joined[i:i + size] for i in range(len(joined) - size + 1))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' character 4-grams (1.0 for the same words)."""
    sa, sb = shingles(a), shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def distance(a: Report, b: Report) -> float | None:
    pa, pb = a.position, b.position
    if pa is None or pb is None:
        return None
    return metres_between(pa[0], pa[1], pb[0], pb[1])


def find_original(new: Report, open_reports: Iterable[Report], policy: LinkPolicy = LinkPolicy()) -> Link | None:
    """The open complaint `new` repeats, if any: the nearest by distance, else the most similar text.

    `open_reports` are the open originals (not themselves duplicates); the caller narrows them to
    the category and window for speed, but they are checked again here.
    """
    if not policy.enabled:
        return None
    best: tuple[tuple[int, float], Link] | None = None
    long_enough = len(new.text.strip()) >= policy.text_min_chars
    for old in open_reports:
        if old.id == new.id or old.category != new.category:
            continue
        age = new.received_at - old.received_at
        if age < timedelta(0) or age > policy.window:
            continue
        metres = distance(new, old)
        located = new.exact or old.exact
        if metres is not None and located and metres <= policy.distance_m:
            candidate = (0, metres), Link(old.id, "distance", metres, similarity(new.text, old.text))
        else:
            if not long_enough or len(old.text.strip()) < policy.text_min_chars:
                continue
            if metres is not None and located and metres > policy.text_distance_m:
                continue
            score = similarity(new.text, old.text)
            if score < policy.text_similarity:
                continue
            candidate = (1, -score), Link(old.id, "text", metres if located else None, score)
        if best is None or candidate[0] < best[0]:
            best = candidate
    return best[1] if best else None


def incident_members(new: Report, recent: Iterable[Report], policy: LinkPolicy = LinkPolicy()) -> list[str]:
    """Ids of the complaints of `new`'s category and kecamatan in the incident window ending at it
    (`new` included, oldest first) when there are at least `incident_size`; otherwise []."""
    if new.kecamatan is None or not policy.enabled:
        return []
    since = new.received_at - policy.incident_window
    members = sorted((r for r in recent if r.id != new.id and r.category == new.category
                      and r.kecamatan == new.kecamatan and since <= r.received_at <= new.received_at),
                     key=lambda r: r.received_at)
    ids = [r.id for r in members] + [new.id]
    return ids if len(ids) >= policy.incident_size else []


__all__ = ["Link", "LinkPolicy", "Report", "distance", "find_original", "incident_members", "shingles", "similarity"]
