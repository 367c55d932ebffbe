"""Routing rules: which destinations a classified complaint goes to, and why.

Classifications are built by hand, so these tests specify the rules, not the classifier's tuning.
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.core.areas import Area
from hub.core.classify import Classification
from hub.core.destinations import Registry
from hub.core.rules import Decision, RuleSet, check, decide


def classified(category: str, *, confidence: float = 0.9, city: str | None = None,
               kecamatan: str | None = None, urgency: str = "normal") -> Classification:
    area = Area(city, kecamatan, "address") if city else None
    return Classification(category=category, confidence=confidence, area=area, urgency=urgency, evidence={})


def complaint(text: str = "ada masalah di sini", *, title: str = "", channel: str = "jaki") -> dict[str, Any]:
    return {"text": text, "title": title, "channel": channel}


def ruleset(*rules: dict[str, Any], min_confidence: float = 0.3, triage: str = "triage") -> RuleSet:
    return RuleSet.from_config({"version": "test-7", "triage": triage, "min_confidence": min_confidence,
                                "rules": list(rules)})


@pytest.fixture
def route(hub_config, taxonomy):
    """decide() with the shipped registry and taxonomy; the shipped rule set unless one is given."""
    def _route(c: Classification, text: str = "ada masalah di sini", *, rules: RuleSet | None = None,
               title: str = "", channel: str = "jaki") -> Decision:
        return decide(complaint(text, title=title, channel=channel), c, rules or hub_config.ruleset,
                      hub_config.registry, taxonomy)
    return _route


# --- order, stop and recipient lists ---------------------------------------------------------

def test_first_matching_rule_decides_and_later_rules_are_not_consulted(route):
    rules = ruleset({"id": "roads-first", "when": {"category": ["roads"]}, "send_to": ["dinas-bina-marga"]},
                    {"id": "roads-second", "when": {"category": ["roads"]}, "send_to": ["dinas-sda"]})
    d = route(classified("roads"), rules=rules)
    assert d.destinations == ["dinas-bina-marga"]
    assert d.matched_rules == ("roads-first",)


def test_rule_order_not_specificity_decides(route):
    rules = ruleset({"id": "any-roads", "when": {"category": ["roads"]}, "send_to": ["dinas-bina-marga"]},
                    {"id": "roads-in-selatan", "when": {"category": ["roads"], "area": ["jakarta-selatan"]},
                     "send_to": ["dinas-sda"]})
    assert route(classified("roads", city="jakarta-selatan"), rules=rules).destinations == ["dinas-bina-marga"]


def test_non_stopping_rule_adds_a_copy_and_later_rules_still_decide(route):
    d = route(classified("fire-rescue", city="jakarta-barat", urgency="emergency"))
    assert d.destinations == ["sudin-gulkarmat-jakarta-barat", "pusdalops-bpbd"]
    assert d.matched_rules == ("emergency-copy-bpbd", "fire-rescue")
    assert [t.rule_id for t in d.targets] == ["emergency-copy-bpbd", "emergency-copy-bpbd"]


def test_emergency_copy_is_not_made_for_normal_urgency(route):
    d = route(classified("fire-rescue", city="jakarta-barat", urgency="normal"))
    assert d.destinations == ["sudin-gulkarmat-jakarta-barat"]
    assert d.matched_rules == ("fire-rescue",)


def test_destination_chosen_by_two_rules_is_listed_once_under_the_first_rule(route):
    d = route(classified("drainage-flooding", city="jakarta-utara", urgency="emergency"))
    assert d.destinations == ["sudin-gulkarmat-jakarta-utara", "pusdalops-bpbd", "sudin-sda-jakarta-utara"]
    assert d.targets[0].rule_id == "emergency-copy-bpbd"
    assert d.matched_rules == ("emergency-copy-bpbd", "flooding-urgent")


def test_copy_from_a_non_stopping_rule_alone_is_delivered_without_a_triage_fallback(route):
    rules = ruleset({"id": "copy", "when": {"urgency": ["emergency"]}, "send_to": ["pusdalops-bpbd"], "stop": False})
    d = route(classified("roads", urgency="emergency"), rules=rules)
    assert d.destinations == ["pusdalops-bpbd"]
    assert d.matched_rules == ("copy",)


def test_one_rule_sends_to_a_recipient_list(route):
    d = route(classified("bus", city="jakarta-timur"))
    assert d.destinations == ["transjakarta", "sudin-perhubungan-jakarta-timur"]
    assert {t.rule_id for t in d.targets} == {"bus"}


# --- {city} templates ------------------------------------------------------------------------

def test_template_resolves_to_the_office_of_the_complaints_city(route):
    d = route(classified("roads", city="jakarta-selatan", kecamatan="cilandak"))
    assert d.destinations == ["sudin-bina-marga-jakarta-selatan"]
    assert "the office for jakarta-selatan" in d.targets[0].reason


@pytest.mark.parametrize("city", ["jakarta-pusat", "jakarta-utara", "jakarta-barat", "jakarta-selatan",
                                  "jakarta-timur", "kepulauan-seribu"])
def test_template_resolves_for_every_city(route, city):
    assert route(classified("health", city=city)).destinations == [f"sudin-kesehatan-{city}"]


def test_template_falls_back_to_the_parent_department_when_city_is_unknown(route):
    d = route(classified("roads", city=None))
    assert d.destinations == ["dinas-bina-marga"]
    assert "city unknown" in d.targets[0].reason
    assert "provincial department" in d.targets[0].reason


def test_recipient_list_with_unknown_city_keeps_operator_and_uses_parent_department(route):
    assert route(classified("bus")).destinations == ["transjakarta", "dinas-perhubungan"]


def test_template_without_an_office_in_the_city_goes_to_the_parent(hub_config, areas, taxonomy):
    doc = {"destinations": [{"id": "triage", "name": "Triage", "kind": "triage", "adapter": "queue"},
                            {"id": "dinas-x", "name": "Dinas X", "kind": "department", "adapter": "queue"}],
           "templates": [{"id": "sudin-x-{city}", "name": "Sudin X {city_name}", "kind": "city-office",
                          "adapter": "queue", "parent": "dinas-x", "cities": ["jakarta-pusat"]}]}
    registry = Registry.from_config(doc, areas)
    assert "sudin-x-jakarta-pusat" in registry and "sudin-x-jakarta-utara" not in registry
    rules = ruleset({"id": "x", "when": {"category": ["roads"]}, "send_to": ["sudin-x-{city}"]})
    in_pusat = decide(complaint(), classified("roads", city="jakarta-pusat"), rules, registry, taxonomy)
    in_utara = decide(complaint(), classified("roads", city="jakarta-utara"), rules, registry, taxonomy)
    assert in_pusat.destinations == ["sudin-x-jakarta-pusat"]
    assert in_utara.destinations == ["dinas-x"]
    assert "no office for jakarta-utara" in in_utara.targets[0].reason


# --- conditions ------------------------------------------------------------------------------

def test_rail_complaint_mentioning_mrt_goes_to_mrt_jakarta(route):
    d = route(classified("rail"), "Kereta MRT berhenti lama di stasiun Blok M, AC mati")
    assert d.destinations == ["mrt-jakarta"]
    assert d.matched_rules == ("rail-mrt",)


def test_keyword_in_the_title_counts(route):
    assert route(classified("rail"), "keretanya berhenti lama", title="LRT macet").destinations == ["lrt-jakarta"]


def test_rail_complaint_without_mrt_or_lrt_goes_to_kai_commuter(route):
    d = route(classified("rail"), "KRL dari Bogor telat satu jam, gerbong penuh sesak")
    assert d.destinations == ["kai-commuter"]


def test_keywords_match_whole_words_not_substrings(route):
    assert route(classified("rail"), "kartu smart untuk naik kereta ditolak").destinations == ["kai-commuter"]


def test_keyword_phrase_of_several_words_matches(route):
    assert route(classified("gas"), "stok gas melon kosong di pangkalan").destinations == ["pertamina-lpg"]
    assert route(classified("gas"), "pipa gas bocor di depan rumah").destinations == ["pgn"]


def test_area_condition_on_a_city(route):
    rules = ruleset({"id": "utara", "when": {"area": ["jakarta-utara"]}, "send_to": ["dinas-sda"]},
                    {"id": "rest", "send_to": ["triage"]})
    assert route(classified("roads", city="jakarta-utara", kecamatan="koja"), rules=rules).destinations == ["dinas-sda"]
    assert route(classified("roads", city="jakarta-utara"), rules=rules).destinations == ["dinas-sda"]
    assert route(classified("roads", city="jakarta-barat"), rules=rules).destinations == ["triage"]


def test_area_condition_on_a_kecamatan(route):
    rules = ruleset({"id": "cilandak", "when": {"area": ["jakarta-selatan/cilandak"]}, "send_to": ["dinas-sda"]},
                    {"id": "rest", "send_to": ["triage"]})
    assert route(classified("roads", city="jakarta-selatan", kecamatan="cilandak"), rules=rules).destinations == ["dinas-sda"]
    assert route(classified("roads", city="jakarta-selatan", kecamatan="tebet"), rules=rules).destinations == ["triage"]
    # Only the city is known: it cannot be said to be in Cilandak.
    assert route(classified("roads", city="jakarta-selatan"), rules=rules).destinations == ["triage"]


def test_area_condition_never_matches_an_unlocated_complaint(route):
    rules = ruleset({"id": "utara", "when": {"area": ["jakarta-utara"]}, "send_to": ["dinas-sda"]})
    d = route(classified("roads", city=None), rules=rules)
    assert d.destinations == ["triage"]


def test_channel_condition(route):
    rules = ruleset({"id": "open311", "when": {"channel": ["open311"]}, "send_to": ["dinas-sda"]},
                    {"id": "rest", "send_to": ["triage"]})
    assert route(classified("roads"), channel="open311", rules=rules).destinations == ["dinas-sda"]
    assert route(classified("roads"), channel="jaki", rules=rules).destinations == ["triage"]


def test_urgency_condition(route):
    rules = ruleset({"id": "hot", "when": {"urgency": ["urgent", "emergency"]}, "send_to": ["pusdalops-bpbd"]},
                    {"id": "rest", "send_to": ["triage"]})
    assert route(classified("roads", urgency="urgent"), rules=rules).destinations == ["pusdalops-bpbd"]
    assert route(classified("roads", urgency="emergency"), rules=rules).destinations == ["pusdalops-bpbd"]
    assert route(classified("roads", urgency="normal"), rules=rules).destinations == ["triage"]


def test_all_conditions_of_a_rule_must_hold(route):
    rules = ruleset({"id": "both", "when": {"category": ["roads"], "area": ["jakarta-pusat"]},
                     "send_to": ["dinas-bina-marga"]})
    assert route(classified("roads", city="jakarta-pusat"), rules=rules).destinations == ["dinas-bina-marga"]
    assert route(classified("roads", city="jakarta-barat"), rules=rules).destinations == ["triage"]
    assert route(classified("waste", city="jakarta-pusat"), rules=rules).destinations == ["triage"]


# --- triage ----------------------------------------------------------------------------------

def test_no_matching_rule_falls_back_to_triage_with_a_reason(route):
    rules = ruleset({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["dinas-bina-marga"]})
    d = route(classified("water"), rules=rules)
    assert d.destinations == ["triage"]
    assert d.targets[0].rule_id == "fallback"
    assert "no rule matched category water" in d.reason


def test_low_confidence_goes_to_triage_even_when_a_rule_would_match(route):
    d = route(classified("roads", confidence=0.12, city="jakarta-selatan"))
    assert d.destinations == ["triage"]
    assert d.targets[0].rule_id == "low-confidence"
    assert d.matched_rules == ()
    assert "0.12" in d.reason and "below 0.30" in d.reason


def test_uncertain_emergency_still_reaches_bpbd_beside_triage(route):
    d = route(classified("roads", confidence=0.1, city="jakarta-selatan", urgency="emergency"))
    assert d.destinations == ["triage", "sudin-gulkarmat-jakarta-selatan", "pusdalops-bpbd"]
    assert d.targets[0].rule_id == "low-confidence"
    assert d.matched_rules == ("emergency-copy-bpbd",)


def test_confidence_exactly_at_the_minimum_is_routed(route):
    rules = ruleset({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["dinas-bina-marga"]},
                    min_confidence=0.5)
    assert route(classified("roads", confidence=0.5), rules=rules).destinations == ["dinas-bina-marga"]
    assert route(classified("roads", confidence=0.49), rules=rules).destinations == ["triage"]


def test_other_category_goes_to_triage_by_the_shipped_rules(route):
    d = route(classified("other"))
    assert d.destinations == ["triage"]
    assert d.matched_rules == ("other",)


# --- explainability --------------------------------------------------------------------------

@pytest.mark.parametrize("c", [
    classified("roads", city="jakarta-selatan"),
    classified("roads"),
    classified("fire-rescue", city="jakarta-pusat", urgency="emergency"),
    classified("bus", city="jakarta-barat"),
    classified("water", confidence=0.05),
    classified("other"),
], ids=["city-office", "parent", "accumulated", "recipient-list", "low-confidence", "other"])
def test_every_decision_carries_rule_id_ruleset_version_and_reason(route, hub_config, c):
    d = route(c)
    assert d.ruleset_version == hub_config.ruleset.version
    assert d.reason.strip()
    assert d.targets
    for t in d.targets:
        assert t.rule_id and t.reason.strip()
        assert t.destination in hub_config.registry
    doc = d.as_dict()
    assert doc["ruleset_version"] == hub_config.ruleset.version
    assert [t["destination"] for t in doc["targets"]] == d.destinations


def test_reason_names_the_rule_and_its_conditions(route):
    d = route(classified("roads", city="jakarta-selatan"))
    reason = d.targets[0].reason
    assert reason.startswith("rule roads:")
    assert "category in [roads, street-lighting]" in reason
    assert "sudin-bina-marga-jakarta-selatan by rule roads" in d.reason


def test_decision_records_the_version_of_the_rule_set_used(route):
    rules = ruleset({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["dinas-bina-marga"]})
    assert route(classified("roads"), rules=rules).ruleset_version == "test-7"


# --- check() ---------------------------------------------------------------------------------

@pytest.fixture
def checked(hub_config, taxonomy):
    def _check(rules: RuleSet):
        return check(rules, hub_config.registry, taxonomy, hub_config.areas.known)
    return _check


CATCH_ALL = {"id": "catch-all", "send_to": ["triage"]}


def test_shipped_rules_have_no_problems(checked, hub_config):
    assert checked(hub_config.ruleset) == []


def test_check_reports_unknown_destination_with_its_path(checked):
    problems = checked(ruleset({"id": "roads", "when": {"category": ["roads"]},
                                "send_to": ["dinas-bina-marga", "dinas-jalan-tol"]}, CATCH_ALL))
    assert [(p.file, p.path) for p in problems] == [("rules.yaml", "rules[0].send_to[1]")]
    assert "dinas-jalan-tol" in problems[0].message
    assert problems[0].severity == "error"


def test_check_accepts_templates_but_not_unknown_templates(checked):
    ok = ruleset({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["sudin-bina-marga-{city}"]}, CATCH_ALL)
    bad = ruleset({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["sudin-jalan-tol-{city}"]}, CATCH_ALL)
    assert checked(ok) == []
    assert [p.path for p in checked(bad)] == ["rules[0].send_to[0]"]


def test_check_reports_unknown_triage_destination(checked):
    problems = checked(ruleset(CATCH_ALL, triage="meja-triase"))
    assert any(p.path == "triage" and "meja-triase" in p.message for p in problems)


def test_check_reports_unknown_category_with_its_path(checked):
    problems = checked(ruleset({"id": "roads", "when": {"category": ["roads", "potholes"]},
                                "send_to": ["dinas-bina-marga"]}, CATCH_ALL))
    assert [p.path for p in problems] == ["rules[0].when.category[1]"]
    assert "potholes" in problems[0].message


def test_check_reports_unknown_area_with_its_path(checked):
    problems = checked(ruleset({"id": "a", "when": {"area": ["jakarta-selatan/cilandak", "jakarta-selatan/gambir",
                                                             "bekasi"]}, "send_to": ["dinas-sda"]}, CATCH_ALL))
    assert [p.path for p in problems] == ["rules[0].when.area[1]", "rules[0].when.area[2]"]


def test_check_reports_categories_no_rule_reaches(checked, taxonomy):
    problems = checked(ruleset({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["dinas-bina-marga"]}))
    unreached = {p.message.split("'")[1] for p in problems if "no rule reaches" in p.message}
    assert unreached == set(taxonomy.category_ids) - {"roads"}
    assert all(p.path == "rules" for p in problems)


def test_a_stopping_catch_all_rule_reaches_every_category(checked):
    problems = checked(ruleset({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["dinas-bina-marga"]},
                               CATCH_ALL))
    assert not [p for p in problems if "no rule reaches" in p.message]


def test_check_reports_a_rule_shadowed_by_an_earlier_broader_rule(checked):
    problems = checked(ruleset(
        {"id": "roads", "when": {"category": ["roads", "street-lighting"]}, "send_to": ["dinas-bina-marga"]},
        {"id": "roads-selatan", "when": {"category": ["roads"], "area": ["jakarta-selatan"]},
         "send_to": ["sudin-bina-marga-{city}"]},
        CATCH_ALL))
    assert [p.path for p in problems] == ["rules[1]"]
    assert "roads-selatan" in problems[0].message and "rules[0]" in problems[0].message
    assert problems[0].severity == "error"


def test_a_city_condition_shadows_a_later_kecamatan_condition(checked):
    problems = checked(ruleset(
        {"id": "selatan", "when": {"area": ["jakarta-selatan"]}, "send_to": ["dinas-sda"]},
        {"id": "cilandak", "when": {"area": ["jakarta-selatan/cilandak"]}, "send_to": ["dinas-lh"]},
        CATCH_ALL))
    assert [p.path for p in problems] == ["rules[1]"]


def test_a_catch_all_shadows_every_rule_after_it(checked):
    problems = checked(ruleset(CATCH_ALL, {"id": "roads", "when": {"category": ["roads"]},
                                           "send_to": ["dinas-bina-marga"]}))
    assert [p.path for p in problems] == ["rules[1]"]


def test_narrower_or_non_stopping_earlier_rules_do_not_shadow(checked):
    problems = checked(ruleset(
        {"id": "copy", "when": {"urgency": ["emergency"]}, "send_to": ["pusdalops-bpbd"], "stop": False},
        {"id": "rail-mrt", "when": {"category": ["rail"], "keywords": ["mrt"]}, "send_to": ["mrt-jakarta"]},
        {"id": "rail", "when": {"category": ["rail"]}, "send_to": ["kai-commuter"]},
        {"id": "kecamatan", "when": {"area": ["jakarta-selatan/cilandak"]}, "send_to": ["dinas-lh"]},
        {"id": "city", "when": {"area": ["jakarta-selatan"]}, "send_to": ["dinas-sda"]},
        CATCH_ALL))
    assert problems == []


def test_check_reports_duplicate_rule_ids(checked):
    problems = checked(ruleset({"id": "roads", "when": {"category": ["roads"]}, "send_to": ["dinas-bina-marga"]},
                               {"id": "roads", "when": {"category": ["waste"]}, "send_to": ["dinas-lh"]},
                               CATCH_ALL))
    assert [p.path for p in problems] == ["rules[1].id"]
    assert "duplicate" in problems[0].message and "roads" in problems[0].message


def test_check_names_the_file_it_was_given(hub_config, taxonomy):
    rules = ruleset({"id": "r", "send_to": ["nowhere"]})
    problems = check(rules, hub_config.registry, taxonomy, hub_config.areas.known, file="rules.staging.yaml")
    assert {p.file for p in problems} == {"rules.staging.yaml"}
