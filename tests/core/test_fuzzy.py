"""Typo tolerance: vocabulary words misspelt are still matched, bounded so it stays cheap and
never "corrects" an everyday word."""

from __future__ import annotations

import pytest

from hub.core.fuzzy import TypoIndex
from tests.core.routing_helpers import route

VOCABULARY = ["berlubang", "selokan", "tersumbat", "puskesmas", "sampah", "bansos", "penerangan"]


@pytest.fixture()
def index() -> TypoIndex:
    return TypoIndex(VOCABULARY, known=["sampai", "penerbangan"], min_length=7, max_distance=1)


@pytest.mark.parametrize("typo, word", [
    ("berlubnag", "berlubang"),   # two letters swapped: one edit
    ("tersumbta", "tersumbat"),
    ("puskesmsa", "puskesmas"),
    ("penerngan", "penerangan"),  # a letter left out
    ("bansoss", "bansos"),        # one letter too many
])
def test_a_misspelt_vocabulary_word_is_corrected(index, typo, word):
    assert index.correct(typo) == word


@pytest.mark.parametrize("word", [
    "sampai",      # everyday word one letter from sampah
    "penerbangan",  # listed as known
    "lubang",      # too short to correct
    "berlobeng",   # two edits away
    "xerlubang",   # a different first letter
    "selokan",     # already a vocabulary word
])
def test_other_words_are_left_alone(index, word):
    assert index.correct(word) == word


def test_zero_distance_turns_it_off():
    assert TypoIndex(VOCABULARY, (), 7, 0).correct("berlubnag") == "berlubnag"


def test_a_corrected_typo_is_shown_in_the_evidence(hub_config):
    c, _ = route(hub_config, "jalan berlubnag parah di dpn pasar, udh banyak yg jatoh")
    assert c.category == "roads"
    assert c.evidence["corrections"] == {"berlubnag": "berlubang"}
