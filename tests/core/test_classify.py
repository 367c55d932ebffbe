"""Specifications of the keyword classifier, against the real vocabulary in config/taxonomy.yaml.

The sample complaints in tests/data/classify_cases.yaml were written for these tests; none is
copied from real reports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from hub.core.areas import Areas
from hub.core.classify import CITIZEN_WEIGHT, Taxonomy, classify
from hub.core.text import bases, tokens

ROOT = Path(__file__).resolve().parents[2]
CASES = yaml.safe_load((ROOT / "tests" / "data" / "classify_cases.yaml").read_text(encoding="utf-8"))["cases"]
CATEGORY_IDS = ["roads", "street-lighting", "drainage-flooding", "waste", "pollution", "parks-trees",
                "traffic-parking", "public-order", "fire-rescue", "health", "education",
                "civil-registration", "social-welfare", "employment", "building-permits", "housing",
                "electricity", "water", "bus", "rail", "telecom-cables", "gas", "other"]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "taxonomy.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def taxonomy(hub_config: Any) -> Taxonomy:
    """As the hub loads it: with the lexicon, emergency cues, scope and gazetteer of config/."""
    return hub_config.taxonomy


@pytest.fixture(scope="module")
def areas() -> Areas:
    return Areas.from_config(yaml.safe_load((ROOT / "config" / "areas.yaml").read_text(encoding="utf-8")))


def run(taxonomy: Taxonomy, areas: Areas, text: str, title: str = "", **extra: Any):
    return classify({"title": title, "text": text, **extra}, taxonomy, areas)


# --- the sample complaints -------------------------------------------------------------------

def _case_id(case: dict[str, Any]) -> str:
    return f"{case['category']}:{(case['title'] or case['text'])[:30]}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_sample_complaint_gets_the_expected_category(case: dict[str, Any], taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, case["text"], case["title"])
    assert result.category == case["category"], result.evidence["scores"]
    assert 0 < result.confidence <= 1


@pytest.mark.parametrize("case", [c for c in CASES if "urgency" in c], ids=_case_id)
def test_sample_complaint_gets_the_expected_urgency(case: dict[str, Any], taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, case["text"], case["title"])
    assert result.urgency == case["urgency"], result.evidence["urgency_terms"]


def test_samples_cover_every_category_but_the_fallback() -> None:
    covered = {c["category"] for c in CASES}
    assert covered == set(CATEGORY_IDS) - {"other"}
    assert len(CASES) >= 70


# --- the vocabulary --------------------------------------------------------------------------

def test_category_ids_are_exactly_the_stable_ones(taxonomy: Taxonomy) -> None:
    assert taxonomy.category_ids == CATEGORY_IDS


def test_taxonomy_is_valid_against_its_schema(doc: dict[str, Any]) -> None:
    schema = json.loads((ROOT / "schemas" / "taxonomy.schema.json").read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(doc)) == []


# --- normalisation ---------------------------------------------------------------------------

@pytest.mark.parametrize("informal, standard", [
    ("jln", ["jalan"]), ("jl", ["jalan"]), ("gak", ["tidak"]), ("ga", ["tidak"]),
    ("nggak", ["tidak"]), ("tdk", ["tidak"]), ("bgt", ["banget"]), ("yg", ["yang"]),
    ("bpjstk", ["bpjs", "ketenagakerjaan"]), ("ijin", ["izin"]),
])
def test_informal_spellings_are_normalised(informal: str, standard: list[str], taxonomy: Taxonomy) -> None:
    assert taxonomy.words(informal) == standard


def test_elongated_letters_are_folded(taxonomy: Taxonomy) -> None:
    assert taxonomy.words("rusakkk bangeeet gaaak") == ["rusak", "banget", "tidak"]


def test_digits_are_not_folded_like_elongated_letters() -> None:
    assert tokens("Rp 1000") == ["rp", "1000"]


def test_reduplication_written_with_2_is_folded() -> None:
    assert tokens("lampunya mati2 terus") == ["lampunya", "mati", "terus"]


def test_case_accents_and_punctuation_do_not_matter() -> None:
    assert tokens("E-KTP, Café!") == ["e", "ktp", "cafe"]


def test_clitics_are_stripped_but_derivations_are_not() -> None:
    assert "sampah" in bases("sampahnya")
    assert "jalan" not in bases("berjalan")
    assert bases("nya") == ("nya",)


def test_abbreviated_street_words_match_road_terms(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "jln rusak parah dkt pasar")
    assert result.category == "roads"
    assert "jalan rusak" in result.evidence["matches"]["roads"]


def test_a_term_with_a_clitic_still_matches(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "trotoarnya hancur")
    assert "trotoar" in result.evidence["matches"]["roads"]


def test_prefix_terms_match_affixed_forms(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "aspalan depan rumah mengelupas")
    assert result.category == "roads"
    assert "aspal*" in result.evidence["matches"]["roads"]


# --- the citizen's choice against the text ---------------------------------------------------

def test_a_citizen_choice_with_no_text_evidence_wins(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "tolong segera ditindaklanjuti", category="housing")
    assert result.category == "housing"
    assert result.confidence > 0
    assert result.evidence["citizen_category"] == "housing"


def test_a_citizen_choice_breaks_a_close_call(taxonomy: Taxonomy, areas: Areas) -> None:
    text = "sampah dan pohon di taman"
    assert run(taxonomy, areas, text, category="parks-trees").category == "parks-trees"


def test_clear_text_overrides_a_wrong_citizen_choice(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "kebakaran gudang, damkar belum datang", category="education")
    assert result.category == "fire-rescue"
    assert result.evidence["scores"]["education"] == CITIZEN_WEIGHT


def test_an_unknown_citizen_category_is_ignored_but_recorded(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "pdam mati", category="not-a-category")
    assert result.category == "water"
    assert result.evidence["citizen_category"] == "not-a-category"


# --- weak evidence ---------------------------------------------------------------------------

def test_no_matching_term_gives_the_fallback_with_zero_confidence(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "selamat pagi, mau tanya saja", "Halo")
    assert (result.category, result.confidence) == ("other", 0.0)
    assert result.evidence["matches"] == {}


def test_an_empty_complaint_gives_the_fallback(taxonomy: Taxonomy, areas: Areas) -> None:
    result = classify({}, taxonomy, areas)
    assert (result.category, result.confidence, result.urgency) == ("other", 0.0, "normal")


def test_a_support_only_term_alone_does_not_decide(taxonomy: Taxonomy, areas: Areas) -> None:
    # "jalan" is in every address; on its own it says nothing about the road.
    result = run(taxonomy, areas, "saya tinggal di jalan mawar, mohon info")
    assert (result.category, result.confidence) == ("other", 0.0)
    assert result.evidence["matches"] == {"roads": ["jalan"]}


def test_confidence_is_lower_when_categories_compete(taxonomy: Taxonomy, areas: Areas) -> None:
    clear = run(taxonomy, areas, "sampah menumpuk di tps")
    mixed = run(taxonomy, areas, "sampah menumpuk di halte bus")
    assert clear.category == "waste"
    assert mixed.confidence < clear.confidence


def test_negative_terms_keep_a_train_from_being_a_fire(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "jadwal kereta api sering berubah")
    assert result.category == "rail"
    assert "-kereta api" in result.evidence["matches"]["fire-rescue"]
    assert result.urgency == "normal"


def test_a_speed_bump_is_not_the_police(taxonomy: Taxonomy, areas: Areas) -> None:
    assert run(taxonomy, areas, "polisi tidur terlalu tinggi, motor sering jatuh").category == "roads"


def test_employment_insurance_is_not_health_insurance(taxonomy: Taxonomy, areas: Areas) -> None:
    assert run(taxonomy, areas, "saldo bpjs ketenagakerjaan tidak bisa dicek").category == "employment"
    assert run(taxonomy, areas, "kartu bpjs tidak bisa dipakai berobat").category == "health"


# --- urgency ---------------------------------------------------------------------------------

def test_fire_is_an_emergency(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "rumah tetangga terbakar")
    assert result.urgency == "emergency"
    assert "terbakar" in result.evidence["urgency_terms"]


def test_flooding_is_urgent(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "kampung kami kebanjiran sejak subuh")
    assert result.urgency == "urgent"
    assert result.category == "drainage-flooding"


def test_emergency_outranks_urgent(taxonomy: Taxonomy, areas: Areas) -> None:
    assert run(taxonomy, areas, "banjir dan ada kabel korsleting, orang kesetrum").urgency == "emergency"


def test_an_ordinary_complaint_is_normal(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "ktp saya belum jadi")
    assert (result.urgency, result.evidence["urgency_terms"]) == ("normal", [])


# --- evidence and output ---------------------------------------------------------------------

def test_evidence_names_the_matched_terms(taxonomy: Taxonomy, areas: Areas) -> None:
    result = run(taxonomy, areas, "lampu jalan mati, jalan gelap", "PJU")
    assert result.category == "street-lighting"
    assert {"pju", "lampu jalan", "jalan gelap"} <= set(result.evidence["matches"]["street-lighting"])
    assert set(result.evidence) == {"matches", "urgency_terms", "citizen_category", "scores"}


def test_title_words_weigh_more_than_story_words(taxonomy: Taxonomy, areas: Areas) -> None:
    in_title = run(taxonomy, areas, "", "pohon")
    in_text = run(taxonomy, areas, "pohon")
    assert in_title.evidence["scores"]["parks-trees"] > in_text.evidence["scores"]["parks-trees"]


def test_a_term_counts_once_however_often_it_is_repeated(taxonomy: Taxonomy, areas: Areas) -> None:
    once = run(taxonomy, areas, "sampah")
    many = run(taxonomy, areas, "sampah sampah sampah sampah")
    assert once.evidence["scores"] == many.evidence["scores"]


def test_output_is_valid_against_the_classification_schema(taxonomy: Taxonomy, areas: Areas) -> None:
    schema = json.loads((ROOT / "schemas" / "classification.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    for case in CASES[:20] + [{"title": "", "text": ""}]:
        result = run(taxonomy, areas, case["text"], case["title"], category="roads")
        assert list(validator.iter_errors(result.as_dict())) == []


def test_classification_is_deterministic(taxonomy: Taxonomy, areas: Areas) -> None:
    text = "sampah di taman dan pohon tumbang"
    assert run(taxonomy, areas, text) == run(taxonomy, areas, text)
