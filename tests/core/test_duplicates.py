"""The same problem reported twice is one problem; many reports in one place at once are an incident."""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hub.core.boundaries import jakarta
from hub.core.duplicates import LinkPolicy, Report, find_original, incident_members, similarity

pytestmark = pytest.mark.linking

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
MONAS = (106.8272, -6.1754)
POTHOLE = "Jalan berlubang besar di dekat Monas, sudah dua minggu tidak diperbaiki dan bahaya untuk motor."


def at(lon_lat, metres_north: float = 0.0):
    return lon_lat[0], lon_lat[1] + metres_north / 110_574.0


def report(rid: str, *, category: str = "roads", hours: float = 0.0, where=MONAS, north: float = 0.0,
           text: str = POTHOLE, kecamatan: str | None = "31.71.01", exact: bool = True) -> Report:
    lon, lat = at(where, north)
    return Report(id=rid, category=category, received_at=T0 + timedelta(hours=hours), text=text,
                  lon=lon if exact else None, lat=lat if exact else None, kecamatan=kecamatan,
                  centre=jakarta().centre(kecamatan) if kecamatan else None)


def test_same_category_within_50_m_links_to_the_open_original():
    link = find_original(report("b", hours=2, north=40, text="lubang di jalan"), [report("a")])
    assert link.original == "a" and link.method == "distance"
    assert link.distance_m == pytest.approx(40, abs=1)


@pytest.mark.parametrize("change", [
    {"north": 60},                 # the next pothole down the road
    {"category": "street-lighting"},  # same spot, another problem
    {"hours": 7 * 24 + 1},         # after the window
    {"hours": -1},                 # older than the "original"
])
def test_what_is_not_the_same_problem(change):
    assert find_original(report("b", text="beda kalimat sama sekali", **change), [report("a")]) is None


def test_the_distance_and_window_are_configurable():
    policy = LinkPolicy.from_config({"distance_m": 100, "window_hours": 1})
    assert find_original(report("b", north=80, hours=0.5, text="x"), [report("a")], policy).original == "a"
    assert find_original(report("b", north=80, hours=2, text="x"), [report("a")], policy) is None


def test_the_nearest_open_original_wins():
    olds = [report("far", north=45), report("near", north=10)]
    assert find_original(report("new", hours=1, text="x"), olds).original == "near"


def test_a_forwarded_text_links_without_coordinates():
    forwarded = POTHOLE.replace("besar", "besr").replace(", ", " ,  ")
    assert similarity(POTHOLE, forwarded) > 0.8
    link = find_original(report("b", hours=3, text=forwarded, exact=False), [report("a", exact=False)])
    assert link.original == "a" and link.method == "text" and link.distance_m is None


def test_short_generic_texts_never_link_on_text_alone():
    a, b = report("a", text="Jalan rusak.", exact=False), report("b", hours=1, text="Jalan rusak.", exact=False)
    assert find_original(b, [a]) is None


def test_the_same_text_far_away_is_another_place():
    far = report("b", hours=1, north=2000)
    assert find_original(far, [report("a")]) is None


def test_without_coordinates_the_kecamatan_centre_stands_in():
    lon, lat = jakarta().centre("31.71.01")
    near_centre = Report(id="a", category="roads", received_at=T0, text="x", lon=lon, lat=lat + 20 / 110_574)
    vague = report("b", hours=1, text="y", exact=False)
    assert find_original(vague, [near_centre]).method == "distance"


def test_five_complaints_of_one_category_in_one_kecamatan_within_three_hours_are_an_incident():
    floods = [report(f"f{i}", category="drainage-flooding", hours=i * 0.5, north=i * 300, text=f"banjir {i}")
              for i in range(5)]
    assert incident_members(floods[-1], floods[:-1]) == ["f0", "f1", "f2", "f3", "f4"]
    assert incident_members(floods[3], floods[:3]) == []  # four are not yet an incident
    elsewhere = report("x", category="drainage-flooding", hours=2, kecamatan="31.71.02")
    assert incident_members(elsewhere, floods) == []
    later = report("late", category="drainage-flooding", hours=6, text="banjir")
    assert incident_members(later, floods) == []  # the window has moved on


def _evaluate():
    path = Path(__file__).resolve().parents[2] / "bench" / "linking_eval.py"
    spec = importlib.util.spec_from_file_location("linking_eval", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.evaluate(module.load())


def test_linking_on_the_labelled_set_is_precise_and_finds_most_duplicates():
    """tests/data/linking_set.jsonl: synthetic reports around real places (bench/linking_set.py)."""
    result = _evaluate()
    assert result["reports"] > 200 and result["duplicates"] > 80
    assert result["precision"] >= 0.95, result["wrong"]
    assert result["recall"] >= 0.75
