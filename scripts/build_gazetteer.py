"""Build config/gazetteer.yaml from the kecamatan/kelurahan boundary data plus main streets.

Usage: python scripts/build_gazetteer.py [BOUNDARY_DIR] > config/gazetteer.yaml

Only the names are taken (facts, CC BY-SA 4.0 data, attributed in the output); the streets and
places below were listed for LaporHub from general knowledge of Jakarta. Re-run it when the
boundary data changes; hand edits to the output are fine (the hub only reads the YAML).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CITY = {"Jakarta Pusat": "jakarta-pusat", "Jakarta Utara": "jakarta-utara", "Jakarta Barat": "jakarta-barat",
        "Jakarta Selatan": "jakarta-selatan", "Jakarta Timur": "jakarta-timur", "Kepulauan Seribu": "kepulauan-seribu"}

COMMON_WORDS = ["Baru", "Gunung", "Pulo", "Jati", "Kenari", "Rambutan", "Karet", "Gelora", "Dukuh", "Tengah", "Setu",
                "Kramat", "Guntur", "Galur", "Kartini", "Bangka", "Selong", "Serdang", "Gedong", "Kamal", "Bintaro",
                "Cibubur", "Kapuk", "Tugu", "Pekayon", "Munjul", "Ceger", "Kalibaru"]
"""Kelurahan whose name is an everyday word or also a place outside Jakarta: they count only after
kel/kelurahan/kec/kecamatan."""

# (city, kecamatan or None, name): main streets, counted after jalan/jl/jln.
STREETS = {
    "jakarta-pusat": [("menteng", "Thamrin"), ("menteng", "MH Thamrin"), ("gambir", "Medan Merdeka"), ("gambir", "Juanda"),
                      ("gambir", "Veteran"), ("senen", "Salemba"), ("senen", "Salemba Raya"), ("senen", "Kramat Raya"),
                      ("menteng", "Cikini Raya"), ("menteng", "Diponegoro"), ("senen", "Senen Raya"),
                      ("cempaka-putih", "Letjen Suprapto"), ("kemayoran", "Benyamin Sueb"), ("tanah-abang", "KH Mas Mansyur"),
                      ("tanah-abang", "Mas Mansyur"), ("menteng", "Kebon Sirih"), ("menteng", "Wahid Hasyim"),
                      ("gambir", "Abdul Muis"), ("tanah-abang", "Jatibaru"), ("sawah-besar", "Gunung Sahari")],
    "jakarta-selatan": [("cilandak", "Fatmawati"), ("cilandak", "TB Simatupang"), ("setiabudi", "Rasuna Said"),
                        ("setiabudi", "HR Rasuna Said"), ("mampang-prapatan", "Gatot Subroto"), ("mampang-prapatan", "Kapten Tendean"),
                        ("mampang-prapatan", "Warung Buncit"), ("mampang-prapatan", "Mampang Prapatan Raya"), ("cilandak", "Antasari"),
                        ("kebayoran-baru", "Wolter Monginsidi"), ("kebayoran-baru", "Senopati"), ("kebayoran-baru", "Panglima Polim"),
                        ("kebayoran-baru", "Radio Dalam"), ("kebayoran-lama", "Ciledug Raya"), ("pasar-minggu", "Pejaten Raya"),
                        ("pasar-minggu", "Ragunan"), ("mampang-prapatan", "Kemang Raya"), ("tebet", "Casablanca"), ("tebet", "Supomo"),
                        ("tebet", "Abdullah Syafei"), ("jagakarsa", "Lenteng Agung Raya"), ("jagakarsa", "Moh Kahfi"),
                        ("jagakarsa", "Muhammad Kahfi"), ("kebayoran-lama", "Arteri Pondok Indah"), ("setiabudi", "Prof Dr Satrio"),
                        ("setiabudi", "Satrio"), ("pancoran", "Pasar Minggu Raya")],
    "jakarta-timur": [("jatinegara", "DI Panjaitan"), ("jatinegara", "Ahmad Yani"), ("jatinegara", "Otista"),
                      ("jatinegara", "Otto Iskandardinata"), ("duren-sawit", "Kalimalang"), ("kramat-jati", "Raya Bogor"),
                      ("pulo-gadung", "Pemuda"), ("cakung", "Bekasi Raya"), ("matraman", "Matraman Raya"), ("matraman", "Pramuka"),
                      ("jatinegara", "Jatinegara Barat"), ("jatinegara", "Basuki Rahmat"), ("kramat-jati", "Dewi Sartika"),
                      ("kramat-jati", "Raya Condet"), ("duren-sawit", "Pahlawan Revolusi"), ("duren-sawit", "Radin Inten"),
                      ("pulo-gadung", "Perintis Kemerdekaan"), ("cipayung", "Raya Hankam"), ("pasar-rebo", "Raya Kalisari")],
    "jakarta-barat": [("grogol-petamburan", "Daan Mogot"), ("grogol-petamburan", "S Parman"), ("grogol-petamburan", "Kyai Tapa"),
                      ("kebon-jeruk", "Panjang"), ("kebon-jeruk", "Kebon Jeruk Raya"), ("taman-sari", "Gajah Mada"),
                      ("tambora", "Tubagus Angke"), ("grogol-petamburan", "Latumenten"), ("kembangan", "Meruya Ilir"),
                      ("kembangan", "Puri Kencana"), ("kalideres", "Peta Selatan"), ("cengkareng", "Kamal Raya"),
                      ("cengkareng", "Kapuk Raya"), ("palmerah", "Palmerah Barat"), ("palmerah", "Palmerah Utara"),
                      ("palmerah", "Kemanggisan Raya"), ("grogol-petamburan", "Tanjung Duren Raya"), ("cengkareng", "Lingkar Luar Barat")],
    "jakarta-utara": [("tanjung-priok", "Yos Sudarso"), ("tanjung-priok", "RE Martadinata"), ("penjaringan", "Pluit Raya"),
                      ("kelapa-gading", "Boulevard Kelapa Gading"), ("koja", "Plumpang"), ("cilincing", "Cilincing Raya"),
                      ("tanjung-priok", "Danau Sunter"), ("pademangan", "Pademangan Raya"), ("tanjung-priok", "Enggano"),
                      ("penjaringan", "Bandengan"), ("penjaringan", "Muara Baru"), ("penjaringan", "Muara Karang"),
                      ("koja", "Kramat Jaya"), ("cilincing", "Marunda Raya"), ("tanjung-priok", "Sunter Permai")],
}

# (city, kecamatan or None, name): well-known places, counted wherever they are written.
PLACES = {
    "jakarta-pusat": [("gambir", "Monas"), ("menteng", "Bundaran HI"), ("tanah-abang", "GBK"), ("tanah-abang", "Gelora Bung Karno"),
                      ("tanah-abang", "Pasar Tanah Abang"), ("senen", "Pasar Senen"), ("senen", "Simpang Senen"),
                      ("gambir", "Stasiun Gambir"), ("kemayoran", "JIExpo")],
    "jakarta-selatan": [("kebayoran-baru", "Blok M"), ("mampang-prapatan", "Kemang"), ("kebayoran-baru", "SCBD"),
                        ("cilandak", "Lebak Bulus"), ("kebayoran-lama", "Pondok Indah"),
                        ("tebet", "Stasiun Tebet")],
    "jakarta-timur": [("cipayung", "TMII"), ("cipayung", "Taman Mini"), ("ciracas", "Kampung Rambutan"),
                      ("cakung", "Terminal Pulogebang"), ("jatinegara", "Stasiun Jatinegara"), ("pulo-gadung", "Rawamangun"),
                      ("kramat-jati", "Condet"), ("kramat-jati", "Pasar Induk")],
    "jakarta-barat": [("taman-sari", "Kota Tua"), ("grogol-petamburan", "Grogol"), ("cengkareng", "Rawa Buaya"),
                      ("kembangan", "Puri Indah"), ("tambora", "Pasar Pagi")],
    "jakarta-utara": [("penjaringan", "Sunda Kelapa"), ("penjaringan", "Muara Angke"), ("penjaringan", "Pantai Indah Kapuk"),
                      ("penjaringan", "PIK"), ("tanjung-priok", "Pelabuhan Tanjung Priok"), ("tanjung-priok", "Priok"),
                      ("pademangan", "Ancol"), ("tanjung-priok", "Sunter"), ("kelapa-gading", "Kelapa Gading")],
    "kepulauan-seribu": [("kepulauan-seribu-utara", "Pulau Pramuka"), ("kepulauan-seribu-selatan", "Pulau Tidung"),
                         ("kepulauan-seribu-selatan", "Pulau Pari"), ("kepulauan-seribu-selatan", "Pulau Untung Jawa"),
                         ("kepulauan-seribu-utara", "Pulau Harapan"), ("kepulauan-seribu-utara", "Pulau Kelapa"),
                         ("kepulauan-seribu-utara", "Pulau Panggang"), (None, "Pulau Seribu"), (None, "Kepulauan Seribu")],
}


def compact(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data" / "jakarta-boundaries"
    areas = yaml.safe_load((ROOT / "config" / "areas.yaml").read_text(encoding="utf-8"))
    # areas.yaml spells kecamatan the everyday way (Palmerah); the boundary data the Kemendagri way (Pal Merah)
    kec_id = {compact(k): re.sub(r"[^a-z0-9]+", "-", k.lower()).strip("-") for c in areas["cities"] for k in c["kecamatan"]}
    cities: dict[str, dict] = defaultdict(lambda: {"kecamatan": {}, "streets": [], "places": []})
    for feat in json.loads((src / "kelurahan.geojson").read_text(encoding="utf-8"))["features"]:
        p = feat["properties"]
        if not p.get("official", True):
            continue
        kid = kec_id[compact(p["kecamatan"])]
        entry = cities[CITY[p["kota"]]]["kecamatan"].setdefault(kid, {"names": [p["kecamatan"]], "kelurahan": []})
        entry["kelurahan"].append(p["kelurahan"])
    for c in areas["cities"]:
        for k in c["kecamatan"]:
            entry = cities[c["id"]]["kecamatan"][kec_id[compact(k)]]
            if k not in entry["names"]:
                entry["names"].append(k)
    for city, rows in STREETS.items():
        cities[city]["streets"] = [{"name": n, "kecamatan": k} for k, n in rows]
    for city, rows in PLACES.items():
        cities[city]["places"] = [{"name": n, "kecamatan": k} if k else {"name": n} for k, n in rows]
    out = {
        "version": "2026.12.03-1",
        "source": "DKI Jakarta kecamatan/kelurahan names (PetaJakarta.org cognicity-schema, CC BY-SA 4.0; JfrAziz/idn, MIT) plus streets and places listed for LaporHub",
        "prefixes": ["kel", "kelurahan", "kec", "kecamatan", "kampung", "desa"],
        "street_words": ["jalan", "jl", "jln", "jalan raya", "jl raya"],
        "prefix_only": COMMON_WORDS,
        "cities": {c: {"kecamatan": dict(sorted(v["kecamatan"].items())), "streets": v["streets"], "places": v["places"]}
                   for c, v in sorted(cities.items())},
    }
    header = (
        "# Places named in complaint texts -> city and kecamatan (hub/core/gazetteer.py). Used when the\n"
        "# location fields do not place a complaint. Generated by scripts/build_gazetteer.py; edit freely.\n"
        "#\n"
        "# Kecamatan and kelurahan names: DKI Jakarta administrative boundaries (see\n"
        "# ../shared/data/jakarta-boundaries/README.md). Kecamatan/kelurahan boundaries: PetaJakarta.org,\n"
        "# SMART Infrastructure Facility, University of Wollongong (cognicity-schema), CC BY-SA 4.0, modified;\n"
        "# Kepulauan Seribu from JfrAziz/idn (MIT). Only the names are used here.\n"
        "# Streets and places: listed for LaporHub. A street counts after one of `street_words`; a name in\n"
        "# `prefix_only` (an everyday word, or a place also outside Jakarta) only after one of `prefixes`.\n"
    )
    sys.stdout.write(header + yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=110))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
