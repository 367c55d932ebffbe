"""Places named only in the text give the city (and kecamatan) when the location fields do not.
The gazetteer in config/ is built from the boundary data's names plus main streets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hub.core.gazetteer import Gazetteer
from tests.core.routing_helpers import route

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.mark.parametrize("text, city, kecamatan", [
    ("jln di kec. cilandak deket pasar rusak parah lubangnya dalem", "jakarta-selatan", "cilandak"),
    ("sampah numpuk di pinggir kali di kelurahan kampung melayu udh seminggu", "jakarta-timur", "jatinegara"),
    ("lampu jalan di jl. daan mogot arah kalideres mati semua", "jakarta-barat", "grogol-petamburan"),
    ("sampah di dermaga pulau pramuka numpuk, bau sampe ke homestay", "kepulauan-seribu", "kepulauan-seribu-utara"),
    ("jalan rusak di rawamangun deket kampus, aspalnya bergelombang", "jakarta-timur", "pulo-gadung"),
    ("parkir liar di sekitar blok m bikin jalan sempit", "jakarta-selatan", "kebayoran-baru"),
    ("genangan di underpass jl. yos sudarso arah priok ga surut", "jakarta-utara", "tanjung-priok"),
])
def test_a_place_in_the_text_gives_the_city_office(hub_config, text, city, kecamatan):
    c, d = route(hub_config, text)
    assert (c.area.city, c.area.kecamatan, c.area.source) == (city, kecamatan, "text"), c.evidence
    assert all(city in dest for dest in d.destinations if dest.startswith(("sudin-", "satpol-pp-")))
    assert c.evidence["place"]


def test_location_fields_come_before_the_text(hub_config):
    c, _ = route(hub_config, "jalan rusak di rawamangun", location={"kota": "Jakarta Selatan"})
    assert (c.area.city, c.area.source) == ("jakarta-selatan", "address")


def test_a_kelurahan_in_the_location_fields_is_placed(hub_config):
    c, _ = route(hub_config, "lift rusun mati lagi", location={"kelurahan": "Marunda"})
    assert (c.area.city, c.area.kecamatan) == ("jakarta-utara", "cilincing")


@pytest.fixture(scope="module")
def gazetteer(hub_config) -> Gazetteer:
    return hub_config.taxonomy.gazetteer


def test_everyday_words_that_are_kelurahan_names_need_a_prefix(gazetteer):
    assert gazetteer.find("jalan baru diaspal sudah rusak lagi") is None
    place = gazetteer.find("jalan di kel. baru rusak")
    assert (place.city, place.kecamatan) == ("jakarta-timur", "pasar-rebo")


def test_a_street_counts_only_after_jalan(gazetteer):
    assert gazetteer.find("tolong pemuda karang taruna diajak kerja bakti") is None
    assert gazetteer.find("macet di jl pemuda tiap pagi").city == "jakarta-timur"


def test_names_written_together_or_apart_both_count(gazetteer):
    assert gazetteer.find("banjir di pulogadung").kecamatan == "pulo-gadung"
    assert gazetteer.find("banjir di pulo gadung").kecamatan == "pulo-gadung"


def test_city_names_and_aliases_from_areas_count(gazetteer):
    assert gazetteer.find("kampus swasta di jakarta pusat").city == "jakarta-pusat"
    assert gazetteer.find("jalan rusak di jaksel").city == "jakarta-selatan"


def test_the_gazetteer_holds_every_kecamatan_and_kelurahan_of_the_boundary_data():
    doc = yaml.safe_load((CONFIG / "gazetteer.yaml").read_text(encoding="utf-8"))
    kecamatan = [k for city in doc["cities"].values() for k in city["kecamatan"].values()]
    assert len(kecamatan) == 44
    assert sum(len(k["kelurahan"]) for k in kecamatan) == 267
    areas = yaml.safe_load((CONFIG / "areas.yaml").read_text(encoding="utf-8"))
    assert set(doc["cities"]) == {c["id"] for c in areas["cities"]}
