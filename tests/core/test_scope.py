"""Not the province's business: private, national and non-Jakarta matters go to the triage desk
with a reason saying why. Complaints written for these tests."""

from __future__ import annotations

import pytest

from tests.core.routing_helpers import route


@pytest.mark.parametrize("text, matter, why", [
    ("jalan tol dalam kota banyak lubang, ban mobil gue pecah", "toll-road", "toll operator"),
    ("sinyal telkomsel ilang total di rumah gue udh seminggu", "mobile-network", "mobile operators"),
    ("kampus swasta gue naikin ukt seenaknya tanpa pemberitahuan", "private-campus", "LLDIKTI"),
    ("aplikasi mobile jkn error ga bisa ganti faskes", "bpjs", "BPJS"),
    ("motor gue dicolong di parkiran kos semalem", "crime", "police"),
    ("leasing narik motor gue di jalan pake debt collector", "private-business", "consumer protection"),
    ("bikin paspor di kantor imigrasi antri dari subuh", "national-service", "Imigrasi"),
    ("sampah di perumahan gue di bekasi ga diangkut seminggu", "outside-jakarta", "outside DKI Jakarta"),
])
def test_out_of_scope_goes_to_triage_with_the_reason(hub_config, text, matter, why):
    c, d = route(hub_config, text)
    assert d.destinations == ["triage"]
    assert d.targets[0].rule_id == "out-of-scope"
    assert c.evidence["out_of_scope"]["matter"] == matter
    assert why in d.reason


def test_a_toll_road_mentioned_as_fine_keeps_the_complaint_in_scope(hub_config):
    c, d = route(hub_config, "jalan tol ga macet, yg macet itu jalan arteri bawahnya gara2 angkot ngetem",
                 location={"kota": "Jakarta Timur"})
    assert "out_of_scope" not in c.evidence
    assert d.destinations == ["sudin-perhubungan-jakarta-timur"]


def test_an_employer_not_registering_workers_with_bpjs_is_the_labour_offices(hub_config):
    c, d = route(hub_config, "gaji lancar, tp perusahaan ga daftarin karyawan ke bpjs ketenagakerjaan",
                 location={"kota": "Jakarta Barat"})
    assert d.destinations == ["sudin-nakertransgi-jakarta-barat"], c.evidence


def test_a_place_outside_jakarta_in_the_text_is_ignored_when_the_fields_place_it_in_jakarta(hub_config):
    c, d = route(hub_config, "jalan rusak parah di komplek, kontraktornya dari bekasi", location={"kota": "Jakarta Timur"})
    assert d.destinations == ["sudin-bina-marga-jakarta-timur"], c.evidence


def test_an_emergency_is_never_triaged_for_scope(hub_config):
    c, d = route(hub_config, "mobil kebakaran di jalan tol dalam kota, apinya gede, sopirnya kejepit")
    assert c.urgency == "emergency"
    assert {"dinas-gulkarmat", "pusdalops-bpbd"} <= set(d.destinations)
    assert "triage" not in d.destinations
