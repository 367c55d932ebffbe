"""Placing a complaint in one of Jakarta's six cities (and a kecamatan) from address or coordinates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hub.core.areas import Area, matches, point_in_polygon
from hub.core.text import slug

AREAS_YAML = Path(__file__).resolve().parents[2] / "config" / "areas.yaml"


def at(lat: float, lon: float) -> dict[str, float]:
    return {"latitude": lat, "longitude": lon}


@pytest.mark.parametrize("place, lat, lon, city", [
    ("Monas", -6.1754, 106.8272, "jakarta-pusat"),
    ("Tanjung Priok port", -6.104, 106.88, "jakarta-utara"),
    ("Kebon Jeruk", -6.19, 106.77, "jakarta-barat"),
    ("Blok M", -6.244, 106.798, "jakarta-selatan"),
    ("Jatinegara", -6.225, 106.87, "jakarta-timur"),
    ("Cakung", -6.18, 106.95, "jakarta-timur"),
    ("Pulau Pramuka", -5.745, 106.613, "kepulauan-seribu"),
])
def test_coordinate_is_placed_in_its_city(areas, place, lat, lon, city):
    assert areas.locate(at(lat, lon)) == Area(city, None, "coordinates")


@pytest.mark.parametrize("place, lat, lon", [
    ("Bogor", -6.595, 106.8),
    ("Tangerang", -6.178, 106.63),
    ("Depok", -6.40, 106.82),
    ("Null Island", 0.0, 0.0),
])
def test_coordinate_outside_jakarta_is_not_placed(areas, place, lat, lon):
    assert areas.locate(at(lat, lon)) is None


def test_no_location_is_not_placed(areas):
    assert areas.locate(None) is None
    assert areas.locate({}) is None
    assert areas.locate({"address": "Jl. Sudirman"}) is None


def test_address_parts_win_over_coordinates(areas):
    # Coordinates at Monas (Jakarta Pusat), but the citizen wrote Jakarta Selatan.
    loc = {**at(-6.1754, 106.8272), "kota": "Jakarta Selatan"}
    assert areas.locate(loc) == Area("jakarta-selatan", None, "address")


def test_kecamatan_in_the_address_wins_over_coordinates(areas):
    loc = {**at(-6.1754, 106.8272), "kecamatan": "Cilandak"}
    assert areas.locate(loc) == Area("jakarta-selatan", "cilandak", "address")


def test_unrecognised_address_falls_back_to_coordinates(areas):
    loc = {**at(-6.244, 106.798), "kota": "Kota Antah Berantah"}
    assert areas.locate(loc) == Area("jakarta-selatan", None, "coordinates")


@pytest.mark.parametrize("kota", [
    "Jakarta Selatan", "jakarta selatan", "JAKARTA SELATAN", "Kota Adm. Jakarta Selatan",
    "Kota Administrasi Jakarta Selatan", "Kotamadya Jakarta Selatan", "Kota Jakarta Selatan",
    "jaksel", "Jaksel", "South Jakarta", "jakarta-selatan",
])
def test_city_spellings_resolve(areas, kota):
    assert areas.locate({"kota": kota}) == Area("jakarta-selatan", None, "address")


def test_regency_spelling_resolves_to_kepulauan_seribu(areas):
    assert areas.locate({"kota": "Kab. Adm. Kepulauan Seribu"}).city == "kepulauan-seribu"
    assert areas.locate({"kota": "Kabupaten Administrasi Kepulauan Seribu"}).city == "kepulauan-seribu"
    assert areas.locate({"kota": "Pulau Seribu"}).city == "kepulauan-seribu"


@pytest.mark.parametrize("kecamatan", ["Cilandak", "cilandak", "kec. cilandak", "Kec. Cilandak",
                                       "Kecamatan Cilandak", "KECAMATAN CILANDAK"])
def test_kecamatan_spellings_resolve(areas, kecamatan):
    assert areas.locate({"kecamatan": kecamatan, "kota": "Jakarta Selatan"}) == \
        Area("jakarta-selatan", "cilandak", "address")


def test_kecamatan_alone_places_the_city(areas):
    assert areas.locate({"kecamatan": "Tambora"}) == Area("jakarta-barat", "tambora", "address")
    assert areas.locate({"kecamatan": "Kebayoran Baru"}) == Area("jakarta-selatan", "kebayoran-baru", "address")


def test_kecamatan_in_another_city_than_the_kota_keeps_only_the_city(areas):
    # Tambora is in Jakarta Barat; a citizen writing Jakarta Selatan gets the city, not a wrong kecamatan.
    assert areas.locate({"kecamatan": "Tambora", "kota": "Jakarta Selatan"}) == Area("jakarta-selatan", None, "address")


def test_kecamatan_named_like_a_city_is_placed_in_that_kecamatan(areas):
    assert areas.locate({"kecamatan": "Tanjung Priok"}) == Area("jakarta-utara", "tanjung-priok", "address")


def _listed_kecamatan():
    doc = yaml.safe_load(AREAS_YAML.read_text(encoding="utf-8"))
    return [(c["id"], k) for c in doc["cities"] for k in c["kecamatan"]]


def test_config_lists_every_jakarta_kecamatan():
    # 42 in the five cities (8 + 6 + 8 + 10 + 10) and 2 in Kepulauan Seribu.
    assert len(_listed_kecamatan()) == 44


@pytest.mark.parametrize("city, kecamatan", _listed_kecamatan(), ids=lambda v: slug(v))
def test_every_listed_kecamatan_maps_to_its_city(areas, city, kecamatan):
    assert areas.locate({"kecamatan": kecamatan}) == Area(city, slug(kecamatan), "address")
    assert areas.known(f"{city}/{slug(kecamatan)}")


def test_known_accepts_cities_and_city_kecamatan_pairs_only(areas):
    assert areas.known("jakarta-timur")
    assert areas.known("jakarta-selatan/cilandak")
    assert not areas.known("jakarta-barat/cilandak")
    assert not areas.known("bekasi")
    assert not areas.known("Jakarta Selatan")


def test_area_refs_match_city_and_kecamatan():
    cilandak = Area("jakarta-selatan", "cilandak", "address")
    assert matches(cilandak, ["jakarta-selatan"])
    assert matches(cilandak, ["jakarta-utara", "jakarta-selatan/cilandak"])
    assert not matches(cilandak, ["jakarta-selatan/tebet"])
    assert not matches(Area("jakarta-selatan", None, "coordinates"), ["jakarta-selatan/cilandak"])
    assert not matches(None, ["jakarta-selatan"])


SQUARE = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]


@pytest.mark.parametrize("lon, lat", [(5, 5), (0.1, 0.1), (9.9, 9.9), (1, 9)])
def test_point_in_polygon_inside_a_square(lon, lat):
    assert point_in_polygon(lon, lat, SQUARE)


@pytest.mark.parametrize("lon, lat", [(-1, 5), (11, 5), (5, -1), (5, 11), (20, 20), (-5, -5)])
def test_point_in_polygon_outside_a_square(lon, lat):
    assert not point_in_polygon(lon, lat, SQUARE)


def test_point_in_polygon_accepts_a_closed_ring():
    closed = SQUARE + [SQUARE[0]]
    assert point_in_polygon(5, 5, closed)
    assert not point_in_polygon(15, 5, closed)


def test_point_in_polygon_takes_longitude_first():
    tall = [(0.0, 0.0), (1.0, 0.0), (1.0, 10.0), (0.0, 10.0)]
    assert point_in_polygon(0.5, 5.0, tall)
    assert not point_in_polygon(5.0, 0.5, tall)


def test_point_in_polygon_handles_a_concave_ring():
    # An L shape: the notch at the top right is outside.
    ell = [(0, 0), (10, 0), (10, 5), (5, 5), (5, 10), (0, 10)]
    assert point_in_polygon(2, 8, ell)
    assert point_in_polygon(8, 2, ell)
    assert not point_in_polygon(8, 8, ell)
