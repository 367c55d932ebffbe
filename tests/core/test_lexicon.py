"""The lexicon: how Jakarta writes (slang, abbreviations, programme names) read before matching,
editable in config/lexicon.yaml and checked against its schema like the taxonomy."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hub.core.lexicon import Lexicon
from hub.settings import files
from tests.core.routing_helpers import route

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lexicon(hub_config) -> Lexicon:
    return hub_config.taxonomy.lexicon


@pytest.mark.parametrize("written, read", [
    ("gue", ["saya"]), ("udh", ["sudah"]), ("kagak", ["tidak"]), ("jln", ["jalan"]), ("kmrn", ["kemarin"]),
    ("bgt", ["banget"]), ("kesetrum", ["tersetrum"]), ("kebakar", ["terbakar"]), ("asepnya", ["asap"]),
    ("ngalir", ["mengalir"]), ("rusakkk", ["rusak"]), ("gpp", ["tidak", "apa", "apa"]),
])
def test_slang_and_abbreviations_are_read_as_standard_words(lexicon, written, read):
    assert lexicon.words(written) == read


@pytest.mark.parametrize("text, category", [
    ("kjp anak gue blm cair2 udh bulan ke 3", "education"),
    ("kjmu gue tiba2 dicabut padahal masih kuliah aktif", "education"),
    ("klj nenek gue udh 4 bulan ga masuk ke rekening", "social-welfare"),
    ("pkh gue dicoret padahal masih ga mampu", "social-welfare"),
    ("bpnt bulan ini isinya cuma beras 5kg", "social-welfare"),
    ("ppdb jalur zonasi kacau, rumah deket malah ga keterima", "education"),
    ("bansos sembako di rt kami dipotong ketua rt", "social-welfare"),
    ("kartu lansia jakarta bapak saya diblokir", "social-welfare"),
])
def test_programme_abbreviations_are_recognised(hub_config, text, category):
    c, _ = route(hub_config, text)
    assert c.category == category, c.evidence


def test_negation_by_tidak_covers_the_next_word_and_bukan_a_noun_phrase(lexicon):
    reading = lexicon.read("saya tidak mendapat kjp, bukan kabel pln yang putus")
    flags = {w.text: w.negated for w in reading.words}
    assert flags["mendapat"] and not flags["kjp"]
    assert flags["kabel"] and flags["pln"]


def test_absence_cancels_only_emergency_cues(lexicon):
    words = {w.text: w for w in lexicon.read("ga ada lampu jalan").words}
    assert words["lampu"].absent and not words["lampu"].negated


def test_a_negated_background_phrase_is_a_complaint(lexicon):
    assert [w.kind for w in lexicon.read("jalan ini ga aman buat pejalan kaki").words][0] != "background"
    assert [w.kind for w in lexicon.read("jalan ini aman kok").words][0] == "background"


def test_a_landmark_ends_where_the_problem_starts(lexicon):
    words = {w.text: w for w in lexicon.read("got depan puskesmas mampet").words}
    assert words["puskesmas"].landmark and not words["mampet"].landmark


def test_the_lexicon_is_checked_against_its_schema(tmp_path):
    for name in (ROOT / "config").glob("*.yaml"):
        (tmp_path / name.name).write_text(name.read_text(encoding="utf-8"), encoding="utf-8")
    doc = yaml.safe_load((tmp_path / "lexicon.yaml").read_text(encoding="utf-8"))
    doc["normalise"]["Gue Banget"] = "saya"
    doc["weights"]["landmark"] = 3
    (tmp_path / "lexicon.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    cfg, problems = files.load(tmp_path, strict=False)
    assert cfg is not None  # the hub still runs: without the lexicon it matches the taxonomy alone
    found = {(p.file, p.path) for p in problems if p.severity == "error"}
    assert ("lexicon.yaml", "weights.landmark") in found
    assert any(f == "lexicon.yaml" and path.startswith("normalise") for f, path in found)


def test_the_hub_loads_without_the_reading_aids(tmp_path):
    for name in ("taxonomy", "areas", "destinations", "rules", "lifecycle"):
        (tmp_path / f"{name}.yaml").write_text((ROOT / "config" / f"{name}.yaml").read_text(encoding="utf-8"))
    cfg, problems = files.load(tmp_path, strict=True)
    assert cfg is not None and cfg.taxonomy.detector is None and cfg.taxonomy.model is None
    assert {p.file for p in problems if p.severity == "warning"} >= {"lexicon.yaml", "emergency.yaml"}
