"""Coordinates land in the right kota, kecamatan and kelurahan of Jakarta's real boundaries."""

from __future__ import annotations

import math

import pytest

from hub.core.boundaries import NEAREST_M, Boundaries, jakarta, metres_between

# Well-known places (lat, lon) and where they officially are.
PLACES = [
    ("Monas", -6.1754, 106.8272, "Jakarta Pusat", "Gambir"),
    ("Gelora Bung Karno", -6.2186, 106.8019, "Jakarta Pusat", "Tanah Abang"),
    ("Tebet station", -6.2262, 106.8583, "Jakarta Selatan", "Tebet"),
    ("Blok M", -6.2443, 106.7996, "Jakarta Selatan", "Kebayoran Baru"),
    ("Kota Tua / Fatahillah", -6.1352, 106.8133, "Jakarta Barat", "Taman Sari"),
    ("Halim airport", -6.2655, 106.8909, "Jakarta Timur", "Makasar"),
    ("Ragunan zoo", -6.3125, 106.8202, "Jakarta Selatan", "Pasar Minggu"),
    ("Taman Mini", -6.3025, 106.8952, "Jakarta Timur", "Cipayung"),
    ("Ancol", -6.1223, 106.8420, "Jakarta Utara", "Pademangan"),
    ("Pulau Pramuka", -5.7453, 106.6137, "Kepulauan Seribu", "Kepulauan Seribu Utara"),
    ("Pulau Untung Jawa", -5.9768, 106.7063, "Kepulauan Seribu", "Kepulauan Seribu Selatan"),
]


@pytest.fixture(scope="module")
def city() -> Boundaries:
    return jakarta()


@pytest.mark.parametrize("name,lat,lon,kota,kecamatan", PLACES, ids=[p[0] for p in PLACES])
def test_well_known_places_land_in_their_kecamatan(city, name, lat, lon, kota, kecamatan):
    place = city.locate(lon, lat)
    assert place is not None, name
    assert (place.kota, place.kecamatan, place.source) == (kota, kecamatan, "polygon")


def test_kelurahan_refines_the_kecamatan(city):
    assert city.locate(106.7996, -6.2443).kelurahan == "Melawai"
    assert city.locate(106.7996, -6.2443).kode_kelurahan == "31.74.07.1001"
    assert city.locate(106.8019, -6.2186).kelurahan == "Gelora"
    # Taman Mini has its own polygon in the source, but it is no kelurahan: none is claimed.
    tmii = city.locate(106.8952, -6.3025)
    assert tmii.kecamatan == "Cipayung" and tmii.kelurahan is None


def test_a_point_just_offshore_takes_the_nearest_kecamatan_and_says_so(city):
    place = city.locate(106.8420, -6.119)
    assert place.kecamatan == "Pademangan" and place.source == "nearest"
    assert 150 < place.distance_m < NEAREST_M
    assert place.kelurahan is None


@pytest.mark.parametrize("lon,lat", [(106.8420, -6.10), (106.80, -6.60), (0.0, 0.0),
                                     (math.nan, -6.2), (106.8, math.inf)])
def test_far_outside_jakarta_or_not_a_number_is_nowhere(city, lon, lat):
    assert city.locate(lon, lat) is None


def test_every_kecamatan_has_a_centre_inside_itself(city):
    kecamatan = city.kecamatan
    assert len(kecamatan) == 44
    for props in kecamatan:
        lon, lat = city.centre(props["kode_kecamatan"])
        assert city.locate(lon, lat).kode_kecamatan == props["kode_kecamatan"]
    assert city.centre("99.99.99") is None


def test_metres_between_matches_a_known_distance():
    # Monas to Bundaran HI is about 2.2 km.
    assert metres_between(106.8272, -6.1754, 106.8230, -6.1950) == pytest.approx(2220, rel=0.05)
    assert metres_between(106.8, -6.2, 106.8, -6.2) == 0.0
