"""Cost of placing coordinates and of finding a complaint's original (CPU only, no services).

    python bench/places.py [--repeat N]

- boundary lookup: microseconds per `Boundaries.locate` (kecamatan + kelurahan, STRtree of prepared
  polygons) and per `Areas.locate` (the same plus the mapping to configured ids), on points
  spread over Jakarta's land and a share at sea (the nearest-polygon fallback);
- duplicate search: microseconds per `find_original` against 100 and 1,000 open complaints of one
  category (what the router pays per complaint when a week of one category is open).
bench/run.py runs this as one of its stages. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.core.boundaries import jakarta  # noqa: E402
from hub.core.duplicates import LinkPolicy, Report, find_original  # noqa: E402
from hub.settings import files  # noqa: E402


def best_of(fn, items: list, repeat: int) -> float:
    """Microseconds per item, best of three timed passes."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeat):
            for item in items:
                fn(item)
        best = min(best, (time.perf_counter() - started) / (repeat * len(items)))
    return 1e6 * best


def measure(repeat: int = 5) -> dict[str, float]:
    rnd = random.Random(13)
    started = time.perf_counter()
    city = jakarta()
    load_ms = 1e3 * (time.perf_counter() - started)
    cfg, _ = files.load(ROOT / "config")
    points = [(rnd.uniform(106.70, 106.97), rnd.uniform(-6.36, -6.10)) for _ in range(2000)]
    inside = sum(1 for lon, lat in points if city.locate(lon, lat))
    out = {"boundary_load_ms": round(load_ms, 1), "points": len(points), "placed": inside,
           "boundaries_locate_us": round(best_of(lambda p: city.locate(*p), points, repeat), 1),
           "areas_locate_us": round(best_of(lambda p: cfg.areas.locate({"longitude": p[0], "latitude": p[1]}),
                                            points, repeat), 1)}
    t0 = datetime(2026, 3, 2, tzinfo=timezone.utc)
    text = "Jalan berlubang besar di dekat pasar, sudah dua minggu tidak diperbaiki, bahaya untuk motor"
    for size in (100, 1000):
        open_ = [Report(f"o{i}", "roads", t0 + timedelta(minutes=i), f"{text} {i}", *points[i % len(points)])
                 for i in range(size)]
        new = [Report(f"n{i}", "roads", t0 + timedelta(days=1), f"{text} baru {i}", *points[-1 - i]) for i in range(20)]
        out[f"find_original_{size}_open_us"] = round(best_of(lambda r: find_original(r, open_, LinkPolicy()), new,
                                                              max(1, repeat // 2)), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    print(json.dumps(measure(parser.parse_args().repeat)))


if __name__ == "__main__":
    main()
