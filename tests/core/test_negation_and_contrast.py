"""Negation and contrast: "X, not Y" and "Y is fine, but X" are about X. Complaints written for
these tests in the way Jakarta writes on JAKI."""

from __future__ import annotations

import pytest

from tests.core.routing_helpers import route


@pytest.mark.parametrize("text, category", [
    ("bukan sampahnya yg masalah, tp gotnya mampet jd air meluap ke jalan", "drainage-flooding"),
    ("itu bukan kabel pln ya min, itu kabel internet yg menjuntai di gang", "telecom-cables"),
    ("bukan lampu jalan yang mati, lampu lalu lintas di perempatan yang mati total", "traffic-parking"),
    ("kagak ada kebakaran, cuma kabel telkom putus nyangkut di jalan", "telecom-cables"),
    ("not the bus, the problem is the broken sidewalk, people trip every day", "roads"),
])
def test_a_negated_topic_does_not_decide(hub_config, text, category):
    c, _ = route(hub_config, text)
    assert c.category == category, c.evidence
    assert c.evidence.get("negated") or c.evidence.get("cues")


@pytest.mark.parametrize("text, category", [
    ("busnya sih tepat waktu, tapi halte transjakarta atapnya bocor pas ujan", "bus"),
    ("air pam lancar kok, yg bermasalah saluran got depan rumah mampet", "drainage-flooding"),
    ("gurunya baik2 aja, tp jalan depan sekolah rusak parah berlubang", "roads"),
    ("listrik di rumah aman, yang mati lampu penerangan jalan umum di gang", "street-lighting"),
    ("pln udh dateng benerin listrik, tp pohon yg dahannya nimpa kabel belum dipangkas", "parks-trees"),
])
def test_what_is_said_to_be_fine_is_background(hub_config, text, category):
    c, _ = route(hub_config, text)
    assert c.category == category, c.evidence
    assert any("background" in cue for cue in c.evidence["cues"])


def test_the_complaint_after_a_thank_you_decides_across_sentences(hub_config):
    text = ("ibu saya berobat di puskesmas kemarin, pelayanan ok. pulangnya dia jatuh gara2 jalan "
            "depan puskesmas berlubang, tolong ditambal")
    c, d = route(hub_config, text, location={"kota": "Jakarta Selatan"})
    assert c.category == "roads", c.evidence
    assert d.destinations == ["sudin-bina-marga-jakarta-selatan"]


def test_a_sentence_opening_with_but_makes_the_one_before_background(hub_config):
    text = ("i take the mrt every day and it is great. but the trash near the station exit is never "
            "collected, it smells")
    c, _ = route(hub_config, text)
    assert c.category == "waste", c.evidence


def test_the_title_follows_how_the_story_counts_its_word(hub_config):
    c, _ = route(hub_config, "sekolahnya ga narik pungutan, cuma jalan menuju sekolah berlubang parah",
                 title="sekolah")
    assert c.category == "roads", c.evidence


def test_absence_is_still_a_complaint_about_the_thing_missing(hub_config):
    c, _ = route(hub_config, "di gang kami ga ada lampu jalan sama sekali, gelap gulita tiap malam")
    assert c.category == "street-lighting", c.evidence


def test_a_negated_flood_is_not_urgent(hub_config):
    c, _ = route(hub_config, "ga banjir kok, cuma jalannya ambles sedalem 30cm", title="banjir")
    assert (c.category, c.urgency) == ("roads", "normal"), c.evidence


def test_a_past_flood_told_as_background_is_not_urgent(hub_config):
    c, _ = route(hub_config, "dulu pernah banjir di sini tp sekarang udh aman. sekarang lampu jalan mati semua")
    assert (c.category, c.urgency) == ("street-lighting", "normal"), c.evidence


def test_a_landmark_does_not_pull_the_complaint_to_its_owner(hub_config):
    c, d = route(hub_config, "jalan depan rumah sakit berlubang gede, motor pada oleng", location={"kota": "Jakarta Pusat"})
    assert c.category == "roads", c.evidence
    assert d.destinations == ["sudin-bina-marga-jakarta-pusat"]
    c, _ = route(hub_config, "got di depan puskesmas mampet, air meluap ke halaman puskesmas")
    assert c.category == "drainage-flooding", c.evidence
