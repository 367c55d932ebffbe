"""Placing a complaint in one of Jakarta's six cities (and a kecamatan) from address or coordinates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hub.core.areas import Area, matches
from hub.core.text import slug

AREAS_YAML = Path(__file__).resolve().parents[2] / "config" / "areas.yaml"


def at(lat: float, lon: float) -> dict[str, float]:
    return {"latitude": lat, "longitude": lon}


@pytest.mark.parametrize("place, lat, lon, city, kecamatan", [
    ("Monas", -6.1754, 106.8272, "jakarta-pusat", "gambir"),
    ("Gelora Bung Karno", -6.2186, 106.8019, "jakarta-pusat", "tanah-abang"),
    ("Tebet station", -6.2262, 106.8583, "jakarta-selatan", "tebet"),
    ("Blok M", -6.2443, 106.7996, "jakarta-selatan", "kebayoran-baru"),
    ("Kota Tua", -6.1352, 106.8133, "jakarta-barat", "taman-sari"),
    ("Halim airport", -6.2655, 106.8909, "jakarta-timur", "makasar"),
    ("Ragunan", -6.3125, 106.8202, "jakarta-selatan", "pasar-minggu"),
    ("Taman Mini", -6.3025, 106.8952, "jakarta-timur", "cipayung"),
    ("Ancol", -6.1223, 106.8420, "jakarta-utara", "pademangan"),
    # Tanjung Priok port is in Kelurahan Ancol's polygon in the source data (see ATTRIBUTION.md).
    ("Tanjung Priok port", -6.104, 106.88, "jakarta-utara", "pademangan"),
    ("Kebon Jeruk", -6.19, 106.77, "jakarta-barat", "kebon-jeruk"),
    ("Jatinegara station", -6.2150, 106.8705, "jakarta-timur", "jatinegara"),
    ("Cakung", -6.18, 106.95, "jakarta-timur", "cakung"),
    ("Pulau Pramuka", -5.745, 106.613, "kepulauan-seribu", "kepulauan-seribu-utara"),
])
def test_well_known_places_get_their_city_and_kecamatan_from_coordinates(areas, place, lat, lon, city, kecamatan):
    found = areas.locate(at(lat, lon))
    assert (found.city, found.kecamatan, found.source) == (city, kecamatan, "coordinates")


@pytest.mark.parametrize("city, kecamatan, kode", [
    ("jakarta-barat", "palmerah", "31.73.07"),      # Kemendagri: Pal Merah
    ("jakarta-timur", "kramat-jati", "31.75.04"),   # Kramatjati
    ("jakarta-timur", "pulo-gadung", "31.75.02"),   # Pulogadung
    ("jakarta-barat", "kalideres", "31.73.06"),     # source: KALI DERES
    ("jakarta-selatan", "setiabudi", "31.74.02"),   # source: SETIA BUDI
])
def test_kemendagri_spellings_map_to_the_configured_kecamatan(areas, city, kecamatan, kode):
    assert areas.kode(Area(city, kecamatan, "address")) == kode


def test_every_configured_kecamatan_has_a_boundary(areas):
    for city in areas.cities:
        for kec in city.kecamatan:
            centre = areas.centre(Area(city.id, kec, "address"))
            assert centre is not None, kec
            assert areas.locate(at(centre[1], centre[0])) == Area(city.id, kec, "coordinates",
                                                                  areas.locate(at(centre[1], centre[0])).kelurahan)


def test_the_kelurahan_comes_with_coordinates(areas):
    assert areas.locate(at(-6.2443, 106.7996)).kelurahan == "Melawai"
    assert areas.locate(at(-6.2443, 106.7996)).as_dict()["kelurahan"] == "Melawai"
    assert "kelurahan" not in Area("jakarta-selatan", None, "address").as_dict()


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
    loc = {**at(-6.2443, 106.7996), "kota": "Kota Antah Berantah"}
    assert areas.locate(loc) == Area("jakarta-selatan", "kebayoran-baru", "coordinates", "Melawai")


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



def test_rules_can_match_a_kecamatan_found_from_coordinates(areas):
    blok_m = areas.locate(at(-6.2443, 106.7996))
    assert matches(blok_m, ["jakarta-selatan/kebayoran-baru"])
    assert not matches(blok_m, ["jakarta-selatan/cilandak"])
